"""A big site (issue 14): page, API, verification and ingest times as the database grows.

Grows one database step by step with the big-site generator (`benchmarks/bigsite.py`:
5 000 people, quality records of every family with their histories, an audit trail that
verifies, a year of security events) and measures at each step:

* pages, through Django's test client in this process (signed in with `force_login`, no
  server, no network), the median of `--repeat` requests after two warm-ups, with the
  queries one request makes: a record family's list (first page, default sort), the list
  filtered (open deviations of one site) and searched, a deviation's detail page, the API
  list, the home page of a QA manager, the audit trail's first page and one record's
  history, and, as an IT-security analyst, the monitoring overview and the event list;
* incremental verification (`trail verify --since-checkpoint`, `services.trail_verify`):
  first the catch-up over everything the growth added since the last verification (its
  entries only, `reconcile=False`), then the hourly case: 1 000 new entries (comments on
  open records), reconciled as every run is;
* ingest: events per second through `monitoring.services.ingest` in batches of 500 plant
  lines, with `detect=True` (detection inline, its first batch warming the engine and the
  baselines from the stored events) and with the default (`CYBERQMS_DETECTION`).

The steps (audit entries, security events, quality records): 10^5, 10^6, 10^3; then 10^6,
10^7, 10^5; then 10^7, 10^8, 10^6; each capped by `--max-entries`, `--max-events`,
`--max-records`; `--quick` runs the first only. Growth is incremental: each step adds the
difference. PostgreSQL is analysed after each growth. On PostgreSQL the table sizes give
the bytes per row. Figures are for comparison between runs on one machine, never asserted
in tests.

    .venv/bin/python benchmarks/scale.py --database-url postgresql://u@127.0.0.1/scale \\
        [--max-entries 1e6] [--max-events 1e7] [--max-records 1e5] [--quick] [--repeat 10]
    .venv/bin/python benchmarks/scale.py --database-url sqlite --quick  # a fresh SQLite

Use a throw-away database, fresh or grown by an earlier run with the same `--data-dir` (the
trail's keys live there; a temporary directory by default): a step the database already
holds is skipped, so a run with larger maxima continues where the last one stopped.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "src"), str(HERE)]

import bigsite  # noqa: E402  (after the path)

STEPS = ((10**5, 10**6, 10**3), (10**6, 10**7, 10**5), (10**7, 10**8, 10**6))
SQLITE_LIMIT = 10**6  # rows a table: beyond, SQLite is not a big site's database
PEOPLE = 5000
HOUR_OF_ENTRIES = 1000  # a big site's audited changes in an hour (10^7 a year)
BATCH = 500
BATCHES = 10


Figure = tuple[float, str]  # a value and what goes with it (queries, entries, alerts)


def steps(args: argparse.Namespace) -> list[tuple[int, int, int]]:
    """The (entries, events, records) of each step, capped, without repeats."""
    chosen: list[tuple[int, int, int]] = []
    for entries, events, records in STEPS[:1] if args.quick else STEPS:
        step = (min(entries, args.max_entries), min(events, args.max_events),
                min(records, args.max_records))
        if step not in chosen:
            chosen.append(step)
    return chosen


# --- measuring ---------------------------------------------------------------------------------


def page(client: Any, url: str, repeat: int) -> Figure:
    """Median milliseconds of `repeat` GETs of `url` after two warm-ups, and the queries
    one of them makes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    took = []
    for i in range(repeat + 2):
        started = time.perf_counter()
        response = client.get(url)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            sys.exit(f"{url}: {response.status_code}\n{response.content[:2000]!r}")
        if i >= 2:
            took.append(elapsed)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return statistics.median(took) * 1000, f"{len(queries)} q"


def pages(repeat: int) -> dict[str, Figure]:
    """The pages and API lists above, as a QA manager and an IT-security analyst."""
    from django.test import Client

    from cyberqms.platform.accounts.models import RoleAssignment, Site
    from cyberqms.quality.deviations.models import Deviation

    def person(role: str) -> Any:
        grant = RoleAssignment.objects.filter(role=role, revoked_at__isnull=True).select_related(
            "user").order_by("pk").first()
        if grant is None:
            sys.exit(f"no {role} in the database")
        return grant.user

    qa, security = Client(SERVER_NAME="localhost"), Client(SERVER_NAME="localhost")
    qa.force_login(person("qa_manager"))
    security.force_login(person("it_security"))
    site = Site.objects.order_by("pk").first()
    shown = Deviation.objects.filter(state="closed").order_by("-created_at", "-id").first()
    if shown is None or site is None:
        sys.exit("no closed deviation to show: grow the records")
    urls: list[tuple[str, Any, str]] = [
        ("deviations: list", qa, "/deviations/"),
        ("deviations: open at a site", qa, f"/deviations/?state=active&site={site.code}"),
        ("deviations: search", qa, "/deviations/?q=cold+room"),
        ("deviation: detail", qa, f"/deviations/{shown.pk}/"),
        ("API: deviations list", qa, "/api/v1/deviations"),
        ("home (QA manager)", qa, "/"),
        ("audit trail: first page", qa, "/trail/"),
        ("audit trail: one record", qa, f"/trail/history/deviations.deviation/{shown.pk}/"),
        ("monitoring overview", security, "/monitoring/"),
        ("events: first page", security, "/monitoring/events/"),
    ]
    return {name: page(client, url, repeat) for name, client, url in urls}


def verification(bigsite: Any) -> dict[str, Figure]:
    """Incremental verification, milliseconds and entries checked: the catch-up over what
    the growth added (the entries only: reconciling millions of generated rows would take
    hours), then, as every hour, 1 000 new entries with their records reconciled."""
    from cyberqms.platform.core.context import RequestContext, acting_context
    from cyberqms.platform.trail.services import trail_verify

    def run(*, reconcile: bool) -> Figure:
        started = time.perf_counter()
        with acting_context(RequestContext(channel="cli")):
            verified, report = trail_verify(since_checkpoint=True, reconcile=reconcile)
        if not report.ok:
            sys.exit(f"verification failed: {verified.first_problem}")
        return (time.perf_counter() - started) * 1000, f"{report.entries:,} entries"

    catch_up = run(reconcile=False)
    have = bigsite.counts()
    bigsite.generate(bigsite.Sizes(have.people, have.records, have.entries + HOUR_OF_ENTRIES,
                                   have.events))
    return {"verify: catch-up, entries only": catch_up,
            f"verify: {HOUR_OF_ENTRIES:,} new entries": run(reconcile=True)}


def plant_batches(bigsite: Any, seed: str) -> list[tuple[Any, list[bytes]]]:
    """Plant lines of the last minutes, a busy plant's (normal traffic at 100 times the
    demo plant's, two attacks: each seed its own attackers, so their alerts are new), in
    batches of one source, as relays deliver them."""
    from bigsite_events import ensure_sources
    from django.utils import timezone

    from cyberqms.demo.plant import generate
    from cyberqms.demo.scenarios import Injection

    sources = ensure_sources(bigsite.Cast.load(), timezone.now())
    batches: list[tuple[Any, list[bytes]]] = []
    pending: dict[str, list[bytes]] = {}
    # Within detection's allowed skew of now (5 minutes): the events are on time.
    start = timezone.now() - dt.timedelta(minutes=4)
    attacks = [Injection("brute_force_dc", start), Injection("password_spraying", start)]
    for event in generate(seed, start, dt.timedelta(minutes=4), scenarios=attacks,
                          volume=100):
        if event.source not in sources:
            continue
        lines = pending.setdefault(event.source, [])
        lines.append(event.line.encode())
        if len(lines) == BATCH:
            batches.append((sources[event.source], lines))
            pending[event.source] = []
            if len(batches) == 2 * BATCHES:
                break
    return batches


def ingest(bigsite: Any, seed: str) -> dict[str, Figure]:
    """Events per second through `services.ingest`, inline detection and the default;
    and the first inline batch's milliseconds: a fresh process's, which loads the rules
    and warms the baselines from the stored events."""
    from cyberqms.platform.core.context import RequestContext, acting_context
    from cyberqms.security.monitoring import services
    from cyberqms.security.monitoring.baseline_store import reset_baselines

    batches = plant_batches(bigsite, seed)
    services.reload_rules()
    reset_baselines()
    half = len(batches) // 2
    if half < 2:
        sys.exit("too few plant lines for the ingest measurement")
    figures: dict[str, Figure] = {}
    for label, detect, chosen in (("inline detection", True, batches[:half]),
                                  ("default", None, batches[half:])):
        took = []
        alerts = 0
        for source, lines in chosen:
            started = time.perf_counter()
            with acting_context(RequestContext(channel="system")):
                result = services.ingest(source, lines, channel="syslog-udp", detect=detect)
            took.append(time.perf_counter() - started)
            alerts += len(result.alerts)
        if detect:
            # The first batch warms the engine and the baselines: shown on its own.
            figures["ingest: first batch, inline (ms)"] = (took[0] * 1000, f"{BATCH} events")
            took = took[1:]
        figures[f"ingest: {label} (events/s)"] = (
            BATCH * len(took) / sum(took), f"{alerts} alerts" if detect else "detector")
    return figures


def table_sizes() -> dict[str, tuple[int, int]]:
    """PostgreSQL: bytes (with indexes and TOAST) and rows of the big tables."""
    from django.db import connection

    from cyberqms.platform.core.models import Comment
    from cyberqms.quality.deviations.models import Deviation
    from cyberqms.security.monitoring.models import RawEvent

    if connection.vendor != "postgresql":
        return {}
    sizes = {}
    with connection.cursor() as cursor:
        for table in ("trail_auditentry", RawEvent._meta.db_table, Deviation._meta.db_table,
                      Comment._meta.db_table):
            # A partitioned table (the events) is the sum of its partitions.
            cursor.execute(
                "SELECT COALESCE(SUM(pg_total_relation_size(t.relid)), "
                "pg_total_relation_size(%s)), COALESCE(SUM(GREATEST(c.reltuples, 0))::bigint, "
                "(SELECT reltuples::bigint FROM pg_class WHERE relname = %s)) "
                "FROM pg_partition_tree(%s) t JOIN pg_class c ON c.oid = t.relid "
                "WHERE t.isleaf", [table, table, table])
            size, rows = cursor.fetchone()
            sizes[table] = (int(size), int(rows))
        cursor.execute("SELECT pg_database_size(current_database())")
        sizes["database"] = (int(cursor.fetchone()[0]), 0)
    return sizes


def analyse() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


# --- the run -----------------------------------------------------------------------------------


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--database-url", required=True,
                        help="a fresh PostgreSQL database (postgresql://...), or 'sqlite' "
                             "for a fresh SQLite file (sizes up to 10^6)")
    parser.add_argument("--data-dir", default="",
                        help="the installation's data directory (default: a temporary one)")
    size = bigsite.parse_size
    parser.add_argument("--max-entries", type=size, default=10**7)
    parser.add_argument("--max-events", type=size, default=10**8)
    parser.add_argument("--max-records", type=size, default=10**6)
    parser.add_argument("--quick", action="store_true", help="the first step only")
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    chosen = steps(args)
    sqlite = args.database_url == "sqlite"
    if sqlite and any(n > SQLITE_LIMIT for step in chosen for n in step):
        sys.exit("SQLite is not a big site's database: it holds up to 10^6 rows a table "
                 "here. Give --database-url postgresql://..., or --quick, or "
                 "--max-entries 1e6 --max-events 1e6.")
    temporary = not args.data_dir
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="cyberqms-scale-"))
    from writes import setup_django

    try:
        setup_django(data_dir, "" if sqlite else args.database_url, benchapp=False)
        run(bigsite, chosen, args.repeat)
    finally:
        if temporary:
            shutil.rmtree(data_dir, ignore_errors=True)


def run(bigsite: Any, chosen: list[tuple[int, int, int]], repeat: int) -> None:
    from django.db import connection

    results: list[dict[str, Figure]] = []
    measured: list[tuple[int, int, int]] = []
    print(f"A big site on {connection.vendor}: {PEOPLE:,} people; pages: median ms of "
          f"{repeat} (queries)", flush=True)
    for entries, events, records in chosen:
        have = bigsite.counts()
        if have.entries >= entries and have.events >= events and have.records >= records:
            print(f"\n== {entries:,} entries, {events:,} events, {records:,} records: the "
                  "database holds more already, not measured", flush=True)
            continue
        progress, grew = timed(lambda e=entries, v=events, r=records: bigsite.generate(
            bigsite.Sizes(PEOPLE, r, e, v)))
        print(f"\n== {entries:,} entries, {events:,} events, {records:,} records: grown in "
              f"{grew:.0f} s", flush=True)
        print(bigsite.summary(progress), flush=True)
        _, analysed = timed(analyse)
        print(f"  analysed in {analysed:.0f} s", flush=True)
        figures = pages(repeat)
        figures.update(verification(bigsite))
        figures.update(ingest(bigsite, f"scale-{entries}-{events}-{records}"))
        results.append(figures)
        measured.append((entries, events, records))
        for name, (value, note) in figures.items():
            print(f"  {name:38} {value:10.1f}  ({note})", flush=True)
        for table, (size, rows) in table_sizes().items():
            per_row = f", {size / rows:,.0f} bytes/row" if rows else ""
            print(f"  {table:30} {size / 2**20:10,.0f} MiB{per_row}", flush=True)
    if results:
        print("\n" + report(measured, results))


def report(chosen: list[tuple[int, int, int]], results: list[dict[str, Figure]]
           ) -> str:
    """One table: a row per measurement, a column per step (the ratio to the first)."""
    heads = [f"{e:.0e} / {v:.0e} / {r:.0e}".replace("+0", "") for e, v, r in chosen]
    lines = [f"{'entries / events / records':40}" + "".join(f"{h:>24}" for h in heads)]
    for name in results[0]:
        first = results[0][name][0]
        cells = []
        for figures in results:
            value, note = figures[name]
            ratio = f" {value / first:4.1f}x" if len(results) > 1 and first else ""
            cells.append(f"{value:9.1f} ({note}){ratio}")
        lines.append(f"{name:40}" + "".join(f"{cell:>24}" for cell in cells))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
