"""``python -m cyberqms.demo.plant``: generate events and measure the generation rate."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from .. import plant
from .streams import generate


def _main(argv: Sequence[str] | None = None) -> None:
    import argparse
    from collections import Counter

    parser = argparse.ArgumentParser(description=(plant.__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", default="7")
    parser.add_argument("--per-day", type=int, default=5, help="attack instances per day")
    args = parser.parse_args(argv)
    from ..scenarios import Schedule

    start = datetime(2026, 3, 2, tzinfo=UTC)
    days = args.events // 40_000 + 2  # the plant sends about 60 000 events a day
    run = generate(args.seed, start, timedelta(days=days),
                   scenarios=Schedule(per_day=args.per_day))
    formats: Counter[str] = Counter()
    labels: Counter[str] = Counter()
    began = time.perf_counter()
    n = 0
    last = start
    for n, event in enumerate(run, start=1):
        formats[event.format] += 1
        if event.label:
            labels[event.label] += 1
        if n >= args.events:
            last = event.time
            break
    elapsed = time.perf_counter() - began
    print(f"{n} events in {elapsed:.2f} s: {n / elapsed:,.0f} events/s "
          f"(simulated {start:%Y-%m-%d} to {last:%Y-%m-%d %H:%M}, seed {args.seed})")
    for fmt, count in formats.most_common():
        print(f"  {fmt:8} {count:>9}")
    print(f"  labelled attack events: {sum(labels.values())} in {len(labels)} scenarios")


if __name__ == "__main__":
    _main()
