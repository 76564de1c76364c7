"""End-to-end ingest speed: parse, normalize, enrich, evaluate the shipped rule pack, store.

The synthetic plant (``cyberqms.demo.plant``, seeded, with attack scenarios) is
rendered to raw lines once; its sources are registered as ``EventSource`` rows of a fresh
database; then, in the same run and on one core:

- **parse only**: ``parse_line`` over every line (the floor any pipeline pays);
- **end to end**: parse, normalize, enrich, the shipped rule pack (``--baselines``: and
  the behaviour baselines), store: ``services.ingest_received`` over the same lines in
  batches of ``--batch`` lines of every source, as the syslog listener's writer calls it,
  each batch one transaction; rows are counted afterwards (every line is stored, accepted
  or quarantined).

    python benchmarks/ingest.py [--events 100000] [--batch 1000] [--database sqlite|postgres]
                                [--baselines] [--profile] [--metrics DAYS]

``--metrics DAYS`` receives the lines as the plant sent them over DAYS days instead (its
normal traffic thinned to fit ``--events``, each line received a second after its time),
then times the monitoring figures (``metrics.event_metrics`` and ``alert_metrics``, every
site) over the last 24 hours, 7 and 30 days of them: the median of ``--rounds`` runs each.

SQLite runs on a fresh WAL database with the production settings (``synchronous=FULL``
unless ``CYBERQMS_SQLITE_SYNCHRONOUS`` says otherwise). ``--database postgres`` uses
``DATABASE_URL``, an empty PostgreSQL database it may migrate. Figures compare runs on one
machine and are never asserted in tests; they are documented in docs/monitoring.md.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import os
import pstats
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

if TYPE_CHECKING:
    from cyberqms.security.detect.parsers import Format

START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
PARSER_FORMAT = {"rfc5424": "syslog", "rfc3164": "syslog", "cef": "cef", "leef": "leef",
                 "jsonl": "jsonl"}
KIND = {"lims": "lims", "mes": "mes", "cds": "cds", "dc": "directory", "firewall": "firewall",
        "scada": "scada", "plc": "plc", "qms": "qms"}


def setup_django(database: str, data_dir: Path, *, baselines: bool = False) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "cyberqms.settings"
    os.environ["CYBERQMS_DATA_DIR"] = str(data_dir)
    os.environ["CYBERQMS_ENV"] = "development"
    os.environ["CYBERQMS_MONITOR_OWN_EVENTS"] = "0"
    os.environ["CYBERQMS_BASELINE_ENABLED"] = "1" if baselines else "0"
    for name in ("CYBERQMS_TRAIL_KEY_FILE", "CYBERQMS_SECRET_KEY"):
        os.environ.pop(name, None)
    if database == "sqlite":
        os.environ.pop("DATABASE_URL", None)
    elif not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("--database postgres needs DATABASE_URL=postgres://… (an empty database)")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


GENERATION: dict[str, float] = {}  # the synthetic plant's own rate, printed with the rest


PLANT_PER_DAY = 59_000  # about what the plant sends a day at full volume
type Line = tuple[str, str, datetime]  # source id, line, receive time


def plant_lines(events: int, seed: str, *, days: int = 0) -> tuple[Any, list[Line]]:
    """The plant's first `events` lines, all received at START; or, with `days`, its
    traffic of `days` days thinned to about `events` lines (at most), each received a
    second after its time."""
    from cyberqms.demo.plant import build_plant, generate
    from cyberqms.demo.scenarios import Schedule

    plant = build_plant()
    volume = min(1.0, events / (days * PLANT_PER_DAY)) if days else 1.0
    began = time.perf_counter()
    run = generate(seed, START, timedelta(days=days or events // 40_000 + 2),
                   scenarios=Schedule(per_day=5), plant=plant, volume=volume)
    delay = timedelta(seconds=1)
    lines: list[Line] = []
    for event in run:
        lines.append((event.source, event.line, event.time + delay if days else START))
        if len(lines) >= events:
            break
    GENERATION["seconds"] = time.perf_counter() - began
    return plant, lines


def register(plant: Any) -> dict[str, Any]:
    from django.utils import timezone

    from cyberqms.platform.accounts.models import Site
    from cyberqms.security.monitoring.models import EventSource

    sites = {}
    for code, site in plant.sites.items():
        sites[code] = Site.objects.update_or_create(
            code=code, defaults={"name": site.name, "time_zone": site.tz.key})[0]
    # The plant's people as cyberqms accounts: leavers deactivated, operators on shifts,
    # service accounts around the clock (the enrichment reads these).
    from cyberqms.platform.accounts.models import User

    now = timezone.now()
    User.objects.bulk_create([
        User(username=p.username, full_name=p.name, site=sites[p.site],
             is_active=not p.departed, deactivated_at=now if p.departed else None,
             work_pattern={"operator": "shift", "service": "service"}.get(p.role, "day"))
        for p in plant.people
    ] + [User(username=name, full_name=name, kind="generic", work_pattern="service")
         for name in ("PASX-SYSTEM", "system", "SYSTEM")], ignore_conflicts=True)
    sources = {}
    for src in plant.sources.values():
        sources[src.id] = EventSource.objects.create(
            name=src.id, kind="other", site=sites[src.site.code], system=src.product,
            format=PARSER_FORMAT[src.format], addresses=[f"{src.ip}/32"],
            created_at=timezone.now())
    return sources


def batches(lines: list[Line], size: int) -> list[list[Line]]:
    """Consecutive chunks of `size` lines of every source, as the listener's writer takes
    them off its queue."""
    return [lines[start:start + size] for start in range(0, len(lines), size)]


def parse_only(lines: list[Line], formats: dict[str, Format]) -> float:
    from cyberqms.security.detect.parsers import ParseError, parse_line

    received = START
    began = time.perf_counter()
    for source, line, _ in lines:
        with contextlib.suppress(ParseError):
            parse_line(line.encode(), formats[source], received_at=received)
    return time.perf_counter() - began


CPU: dict[str, float] = {}  # the end-to-end run's CPU time, printed with the rest


def end_to_end(chunks: list[list[Line]], sources: dict[str, Any]) -> float:
    from cyberqms.security.monitoring.services import ingest_received

    began, cpu = time.perf_counter(), time.process_time()
    for chunk in chunks:
        ingest_received((sources[name], line, "syslog-tcp", received)
                        for name, line, received in chunk)
    CPU["seconds"] = time.process_time() - cpu
    return time.perf_counter() - began


METRICS_PERIODS = (("24 hours", timedelta(hours=24)), ("7 days", timedelta(days=7)),
                   ("30 days", timedelta(days=30)))


def time_metrics(end: datetime, rounds: int) -> None:
    """The monitoring figures over periods ending at `end`, every site: the median time of
    `rounds` runs of the event figures and of the alert figures."""
    from cyberqms.security.monitoring import metrics

    for label, span in METRICS_PERIODS:
        scope = metrics.Scope(end - span, end)
        times: dict[str, list[float]] = {"events": [], "alerts": []}
        for _ in range(rounds):
            began = time.perf_counter()
            events = metrics.event_metrics(scope, now=end)
            times["events"].append(time.perf_counter() - began)
            began = time.perf_counter()
            metrics.alert_metrics(scope)
            times["alerts"].append(time.perf_counter() - began)
        event_ms, alert_ms = (statistics.median(times[k]) * 1000 for k in ("events", "alerts"))
        print(f"  {label:9} {events.total:>9,} events  event figures {event_ms:7.1f} ms  "
              f"alert figures {alert_ms:6.1f} ms  together {event_ms + alert_ms:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--seed", default="7")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rounds", type=int, default=3, help="parse-only repetitions")
    parser.add_argument("--profile", action="store_true", help="cProfile the end-to-end run")
    parser.add_argument("--baselines", action="store_true",
                        help="score behaviour baselines too (beyond the goal's pipeline)")
    parser.add_argument("--metrics", type=int, default=0, metavar="DAYS",
                        help="receive the lines over DAYS days, then time the monitoring figures")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cyberqms-bench-ingest-") as tmp:
        setup_django(args.database, Path(tmp), baselines=args.baselines)
        from django.db import connection
        from django.urls import reverse

        from cyberqms.security.monitoring.models import Alert, RawEvent
        from cyberqms.security.monitoring.services import detection_engine

        plant, lines = plant_lines(args.events, args.seed, days=args.metrics)
        sources = register(plant)
        formats = {name: src.format for name, src in sources.items()}
        chunks = batches(lines, args.batch)
        detection_engine()  # rules compiled before timing
        reverse("monitoring:alerts")  # URL patterns loaded, as in a running server
        gc.collect()
        parse_s = min(parse_only(lines, formats) for _ in range(args.rounds))
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
        e2e_s = end_to_end(chunks, sources)
        if args.profile:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        stored = RawEvent.objects.count()
        accepted = RawEvent.objects.filter(status="accepted").count()
        alerts = Alert.objects.count()
        n = len(lines)
        vendor = connection.vendor
        if vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous")
                sync = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[cursor.fetchone()[0]]
            vendor = f"SQLite (WAL, synchronous={sync})"
        else:
            vendor = f"PostgreSQL {connection.pg_version // 10000}"
        print(f"cyberqms ingest benchmark: {n:,} synthetic plant lines (seed {args.seed}), "
              f"batches of {args.batch}, {vendor}, "
              f"{'rules and baselines' if args.baselines else 'rules'}, one core, "
              f"load {os.getloadavg()[0]:.1f}")
        for label, seconds in (("parse only", parse_s), ("end to end", e2e_s)):
            print(f"  {label:14} {n / seconds:>10,.0f} events/s  "
                  f"({seconds * 1e6 / n:5.1f} µs/event)")
        print(f"  end to end runs at {parse_s / e2e_s:.0%} of the parse-only rate; "
              f"CPU time {CPU['seconds'] * 1e6 / n:.1f} µs/event "
              f"({CPU['seconds'] / e2e_s:.0%} of the wall time)")
        print(f"  synthetic plant generated them at {n / GENERATION['seconds']:,.0f} events/s")
        print(f"  stored {stored:,} of {n:,} lines ({accepted:,} accepted, "
              f"{stored - accepted:,} quarantined), {alerts} alerts")
        if stored != n:
            sys.exit(f"LOST EVENTS: {n - stored}")
        if args.metrics:
            if connection.vendor == "postgresql":  # as autovacuum would have by now
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
            end = START + timedelta(days=args.metrics)
            print(f"monitoring figures over periods ending {end:%Y-%m-%d} (received over "
                  f"{args.metrics} days), median of {args.rounds}:")
            time_metrics(end, args.rounds)


if __name__ == "__main__":
    main()
