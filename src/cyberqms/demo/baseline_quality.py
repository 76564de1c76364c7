"""Quality of behaviour baselines on the synthetic plant: false alerts per day against the
alert budget, which attack scenarios the baselines catch, time to detect.

The plant (``cyberqms.demo.plant``) runs for ``--days`` simulated days from a
Monday with its default near misses; attack scenarios are injected only after the learning
period (``--per-day`` a day, cycling through every attack scenario in a seeded order, each at
a time its scenario allows), so that what is measured is detection by mature baselines.
Every line goes through the pipeline (parse → normalize → enrich) into
``Baselines.observe``. An alert counts for an attack instance when it was raised on one of
the instance's own events; every other alert is false (on near misses: reported apart).
Alerts during the learning period cannot happen (subjects are still learning); false alerts
per day are counted over the days after it.

    python benchmarks/baseline_quality.py [--seed 7] [--days 21] [--learning-days 7]
                                          [--per-day 2] [--budget 5]

``measure(...)`` is importable (the test suite runs a small configuration); figures are in
docs/baselines.md.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from cyberqms.demo.detection_quality import (
    PARSER_FORMAT,
    duration_text,
    plant_enricher,
    plant_sources,
)
from cyberqms.demo.plant import Plant, build_plant, generate
from cyberqms.demo.scenarios import SCENARIO_LIST, SCENARIOS, Injection
from cyberqms.security.detect.baseline import BaselineConfig, Baselines
from cyberqms.security.detect.ocsf import normalize
from cyberqms.security.detect.parsers import ParseError, parse_line

START: Final = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
DAY_MS: Final = 86_400_000


@dataclass
class ScenarioFigures:
    scenario: str
    instances: int = 0
    detected: int = 0
    delays_ms: list[int] = field(default_factory=list)
    caught_by: Counter[str] = field(default_factory=Counter)  # "user: host+hour"

    @property
    def median_s(self) -> float | None:
        return statistics.median(self.delays_ms) / 1000 if self.delays_ms else None

    @property
    def max_s(self) -> float | None:
        return max(self.delays_ms) / 1000 if self.delays_ms else None


@dataclass
class BaselineQuality:
    seed: str
    days: int
    learning_days: int
    budget: float
    events: int
    seconds: float
    scenarios: dict[str, ScenarioFigures]
    false_per_day: list[int]  # per simulated day after the learning period
    false_by_rule: Counter[str]
    near_miss_alerts: Counter[str]
    thresholds: dict[str, float]
    candidates: int
    examples: list[dict[str, Any]]  # contexts of the first few false alerts

    @property
    def false_alerts(self) -> int:
        return sum(self.false_per_day)

    @property
    def false_alerts_per_day(self) -> float:
        return self.false_alerts / max(1, len(self.false_per_day))

    @property
    def detected(self) -> int:
        return sum(f.detected for f in self.scenarios.values())

    @property
    def instances(self) -> int:
        return sum(f.instances for f in self.scenarios.values())


def injections(plant: Plant, seed: str, first_day: int, days: int, per_day: int,
               scenarios: Sequence[str] | None = None) -> list[Injection]:
    """``per_day`` attack instances on each day from ``first_day``, cycling through the
    scenarios in a seeded order, each starting at a local hour its scenario allows."""
    rng = random.Random(f"{seed}/baseline-attacks")  # noqa: S311  # a reproducible simulation
    chosen = list(scenarios or [s.id for s in SCENARIO_LIST if not s.benign])
    rng.shuffle(chosen)
    out: list[Injection] = []
    k = 0
    for day in range(first_day, days):
        for _ in range(per_day):
            scenario = SCENARIOS[chosen[k % len(chosen)]]
            k += 1
            zone = plant.sites[scenario.site].tz
            latest = 86_400 - scenario.span_ms // 1000 - 1
            for _ in range(1000):
                at = START + timedelta(days=day, seconds=rng.randrange(0, latest))
                if scenario.hours[0] <= at.astimezone(zone).hour < scenario.hours[1]:
                    out.append(Injection(scenario.id, at))
                    break
    return out


def _caught_by(context: dict[str, Any]) -> str:
    features = "+".join(f["feature"] for f in context["features"])
    return f"{context['baseline']}: {features}"


def measure(seed: str = "7", days: int = 21, learning_days: int = 7, per_day: int = 2,
            budget: float = 5.0, scenarios: Sequence[str] | None = None) -> BaselineQuality:
    """Run the plant through the pipeline into the baselines and match alerts to labels."""
    plant = build_plant()
    attacks = injections(plant, seed, learning_days, days, per_day, scenarios)
    run = generate(seed, START, timedelta(days=days), scenarios=attacks, plant=plant)
    sources = plant_sources(plant)
    enrich = plant_enricher(plant).enrich
    baselines = Baselines(BaselineConfig(alerts_per_day=budget, learning_days=learning_days))
    observe = baselines.observe
    start_ms = int(START.timestamp() * 1000)
    first_ms = {i.id: i.events[0].ms for i in run.attacks}
    detected: dict[str, tuple[int, str]] = {}
    false_per_day = [0] * (days - learning_days)
    false_by_rule: Counter[str] = Counter()
    near_miss: Counter[str] = Counter()
    examples: list[dict[str, Any]] = []
    events = 0
    began = time.perf_counter()
    for synthetic in run:
        events += 1
        try:
            parsed = parse_line(synthetic.line, PARSER_FORMAT[synthetic.format])
            event = enrich(normalize(parsed, source=sources[synthetic.source]))
        except ParseError:
            continue
        for match in observe(event):
            context = dict(match.context or {})
            if synthetic.label is not None and synthetic.instance is not None:
                if synthetic.instance not in detected:
                    detected[synthetic.instance] = (synthetic.ms, _caught_by(context))
                continue
            day = (synthetic.ms - start_ms) // DAY_MS - learning_days
            false_per_day[max(0, min(day, len(false_per_day) - 1))] += 1
            false_by_rule[match.rule_id] += 1
            if synthetic.near_miss is not None:
                near_miss[synthetic.near_miss] += 1
            if len(examples) < 12:
                examples.append(context)
    seconds = time.perf_counter() - began
    figures = {s.id: ScenarioFigures(s.id) for s in SCENARIO_LIST if not s.benign}
    for instance in run.attacks:
        f = figures[instance.scenario.id]
        f.instances += 1
        if instance.id in detected:
            at, how = detected[instance.id]
            f.detected += 1
            f.delays_ms.append(at - first_ms[instance.id])
            f.caught_by[how] += 1
    return BaselineQuality(
        seed, days, learning_days, budget, events, seconds,
        {k: v for k, v in figures.items() if v.instances}, false_per_day, false_by_rule,
        near_miss, dict(baselines.thresholds), baselines.candidates, examples,
    )


def table(q: BaselineQuality) -> str:
    lines = [
        f"Behaviour baselines on the synthetic plant, seed {q.seed}: {q.days} simulated days "
        f"(learning {q.learning_days}), budget {q.budget:g} alerts/day, {q.events:,} events "
        f"in {q.seconds:.0f} s",
        "",
        "| Scenario | Instances | Caught | TTD median | TTD max "
        "| Caught by (baseline: top features) |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for f in sorted(q.scenarios.values(), key=lambda f: f.scenario):
        how = "; ".join(f"{k} ×{n}" if n > 1 else k for k, n in f.caught_by.most_common())
        lines.append(f"| `{f.scenario}` | {f.instances} | {f.detected} | "
                     f"{duration_text(f.median_s)} | {duration_text(f.max_s)} | {how or '–'} |")
    per_day = q.false_per_day
    lines += [
        "",
        f"Attack instances caught: {q.detected}/{q.instances}.",
        f"False alerts after the learning period: {q.false_alerts} in {len(per_day)} days = "
        f"{q.false_alerts_per_day:.2f} per day (budget {q.budget:g}; most in one day "
        f"{max(per_day, default=0)}); on near misses: {sum(q.near_miss_alerts.values())}.",
        f"Thresholds at the end: user {q.thresholds['user']:.1f} bits, system "
        f"{q.thresholds['system']:.1f} bits; events scored in full: {q.candidates:,} "
        f"({q.candidates / max(1, q.events):.2%}).",
    ]
    for rule, n in q.false_by_rule.most_common():
        lines.append(f"  false: {n:>4}  {rule}")
    for name, n in q.near_miss_alerts.most_common():
        lines.append(f"  near miss: {n:>4}  {name}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", default="7")
    parser.add_argument("--days", type=int, default=21)
    parser.add_argument("--learning-days", type=int, default=7)
    parser.add_argument("--per-day", type=int, default=2)
    parser.add_argument("--budget", type=float, default=5.0)
    parser.add_argument("--examples", action="store_true", help="print false alerts' context")
    args = parser.parse_args(argv)
    q = measure(args.seed, args.days, args.learning_days, args.per_day, args.budget)
    print(table(q))
    if args.examples:
        for context in q.examples:
            print(context)
