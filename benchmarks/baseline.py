"""Speed of behaviour baselines (``security.detect.baseline``) on the synthetic plant.

What ``Baselines.observe`` adds to the ingest loop, measured as the loop runs it: the plant's
lines (generated once, beforehand) go through parse → normalize → enrich, once without and
once with ``observe`` on every event; the difference in CPU time (``time.process_time``, so
other processes on a busy machine do not count), divided by the events, is the cost per
event, cache misses included. The two runs alternate ``--repeat`` times and the fastest of
each kind counts. The clock is also read when the simulated time passes the learning period
plus a day (every subject mature): the steady state that matters.

    python benchmarks/baseline.py [--days 15] [--learning-days 7] [--seed 7] [--repeat 2]
                                  [--memory]

Prints µs per event in the learning period and in the steady state, the share of events
scored in full, alerts, model refreshes and, with ``--memory``, the memory the baselines
hold (tracemalloc, a separate slower run). Figures are for comparison between runs on one
machine, never asserted in tests; the budget is 5 µs per event (docs/baselines.md).
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from cyberqms.demo.detection_quality import PARSER_FORMAT, plant_enricher, plant_sources
from cyberqms.demo.plant import build_plant, generate
from cyberqms.security.detect.baseline import BaselineConfig, Baselines
from cyberqms.security.detect.ocsf import normalize
from cyberqms.security.detect.parsers import ParseError, parse_line

START: Final = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
DAY_MS: Final = 86_400_000


def _pass(lines: list[tuple[int, str, Any, Any]], steady_from: int, learning_days: float,
          *, baselines: bool) -> tuple[float, float, Baselines]:
    """CPU seconds of the loop before and after ``steady_from`` (ms)."""
    plant = build_plant()
    enrich = plant_enricher(plant).enrich
    model = Baselines(BaselineConfig(learning_days=learning_days))
    observe = model.observe
    clock = time.process_time
    began = clock()
    split = None
    for ms, line, fmt, source in lines:
        if split is None and ms >= steady_from:
            split = clock()
        try:
            event = enrich(normalize(parse_line(line, fmt), source=source))
        except ParseError:
            continue
        if baselines:
            observe(event)
    ended = clock()
    split = ended if split is None else split
    return split - began, ended - split, model


def _memory(lines: list[tuple[int, str, Any, Any]], learning_days: float) -> float:
    """MiB held by the baselines after the run (tracemalloc)."""
    plant = build_plant()
    enrich = plant_enricher(plant).enrich
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    model = Baselines(BaselineConfig(learning_days=learning_days))
    for _, line, fmt, source in lines:
        try:
            event = enrich(normalize(parse_line(line, fmt), source=source))
        except ParseError:
            continue
        model.observe(event)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    held = sum(
        stat.size_diff for stat in after.compare_to(before, "filename")
        if "/security/detect/baseline/" in stat.traceback[0].filename
        or "/river/" in stat.traceback[0].filename
    )
    return held / 2**20


def measure(seed: str, days: float, learning_days: float, *, repeat: int = 2,
            memory: bool = False) -> dict[str, Any]:
    plant = build_plant()
    sources = plant_sources(plant)
    run = generate(seed, START, timedelta(days=days), plant=plant)
    lines = [(e.ms, e.line, PARSER_FORMAT[e.format], sources[e.source]) for e in run]
    start_ms = int(START.timestamp() * 1000)
    steady_from = start_ms + int((learning_days + 1) * DAY_MS)
    n_learning = sum(1 for line in lines if line[0] < steady_from)
    n_steady = len(lines) - n_learning
    best: dict[bool, list[float]] = {False: [1e9, 1e9], True: [1e9, 1e9]}
    model = None
    for _ in range(repeat):
        for with_baselines in (False, True):
            before, after, model = _pass(lines, steady_from, learning_days,
                                         baselines=with_baselines)
            best[with_baselines][0] = min(best[with_baselines][0], before)
            best[with_baselines][1] = min(best[with_baselines][1], after)
    assert model is not None
    figures = model.figures()
    result: dict[str, Any] = {
        "events": len(lines),
        "pipeline_us": (best[False][0] + best[False][1]) / len(lines) * 1e6,
        "learning_us": (best[True][0] - best[False][0]) / max(1, n_learning) * 1e6,
        "steady_us": (best[True][1] - best[False][1]) / max(1, n_steady) * 1e6,
        "all_us": (sum(best[True]) - sum(best[False])) / len(lines) * 1e6,
        **figures,
    }
    if memory:
        result["memory_mib"] = _memory(lines, learning_days)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", default="7")
    parser.add_argument("--days", type=float, default=15)
    parser.add_argument("--learning-days", type=float, default=7)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--memory", action="store_true",
                        help="also measure the memory held (tracemalloc: much slower)")
    args = parser.parse_args(argv)
    r = measure(args.seed, args.days, args.learning_days, repeat=args.repeat,
                memory=args.memory)
    events = int(r["events"])
    print(f"Behaviour baselines on the synthetic plant, seed {args.seed}: {args.days:g} "
          f"simulated days, learning period {args.learning_days:g} days, {events:,} events; "
          f"fastest of {args.repeat} runs with and without baselines")
    print()
    print("| Phase | µs per event added by observe |")
    print("|---|---:|")
    print(f"| learning period and its last day | {r['learning_us']:.2f} |")
    print(f"| steady state (every subject past learning) | {r['steady_us']:.2f} |")
    print(f"| whole run | {r['all_us']:.2f} |")
    print()
    candidates = int(r["candidates"])
    print(f"Events scored in full: {candidates:,} ({candidates / events:.2%}); alerts: "
          f"{r['alerts']}; model refreshes: {r['refreshes']:,}; subjects: {r['users']} users, "
          f"{r['systems']} systems.")
    print(f"For scale: parse + normalize + enrich cost {r['pipeline_us']:.1f} µs per event "
          f"here.")
    if "memory_mib" in r:
        print(f"Memory held by the baselines: {r['memory_mib']:.1f} MiB.")


if __name__ == "__main__":
    main()
