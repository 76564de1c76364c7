"""Write speed: one commit per change, and audited writes with several writers (issue 14).

1. **A deviation create through its service** as a request makes it (an acting context,
   the access gate's decision, an owner other than the author who is told, the e-mail copy
   queued in the product's database queue), against a bare ORM insert of the same row in
   the same run: median and p90 milliseconds of each, their ratio, and the transactions
   each create commits.
2. **Writers** (`--writers 1,4,8`): throughput of plain writes (one row, one transaction)
   and audited writes (the same row and its audit entry, one transaction) with that many
   writer processes at once, and the audited/plain ratio per count. Meaningful on
   PostgreSQL (SQLite has one writer at a time whatever the count).

The database is a fresh SQLite file in a temporary data directory, set up by the
production settings (WAL, IMMEDIATE transactions, synchronous=FULL), or, with
`--database-url`, a PostgreSQL database that the script migrates and fills (use a
throw-away one). Figures are for comparison between runs on one machine, never asserted in
tests.

    .venv/bin/python benchmarks/writes.py [--creates 300] [--writers 1,4,8] [--seconds 5]
    .venv/bin/python benchmarks/writes.py --database-url postgresql://u@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import datetime as dt
import decimal
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))  # benchapp

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def setup_django(data_dir: Path, database_url: str, *, benchapp: bool = True) -> None:
    """The production settings on `data_dir` (or `database_url`), migrated; with
    `benchapp`, the benchmark's own app too (the writers' tables)."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "cyberqms.settings"
    os.environ["CYBERQMS_DATA_DIR"] = str(data_dir)
    os.environ["CYBERQMS_ENV"] = "development"
    for name in ("DATABASE_URL", "CYBERQMS_TRAIL_KEY_FILE", "CYBERQMS_SECRET_KEY"):
        os.environ.pop(name, None)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    import django
    from django.conf import settings

    if benchapp:
        settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "simple_history", "benchapp"]
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)  # the product's tables first: the benchmark
    if benchapp:
        call_command("migrate", run_syncdb=True, verbosity=0)  # app's history refers to users


class Commits:
    """Transactions committed on this thread's connection: explicit commits, and writes
    made in autocommit mode (each its own transaction)."""

    def __init__(self) -> None:
        from django.db import connection

        self.db = connection
        self.count = 0

    def __enter__(self) -> Commits:
        db = self.db
        db.ensure_connection()

        def watch(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            if not db.in_atomic_block and sql.lstrip().upper().startswith(WRITES):
                self.count += 1
            return execute(sql, params, many, context)

        real = db.commit

        def commit() -> None:
            self.count += 1
            real()

        self._patch = mock.patch.object(db, "commit", side_effect=commit)
        self._patch.start()
        self._wrap = db.execute_wrapper(watch)
        self._wrap.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._wrap.__exit__(None, None, None)
        self._patch.stop()


def people() -> tuple[Any, Any, Any]:
    from cyberqms.platform.accounts.bootstrap import bootstrap_administrator
    from cyberqms.platform.accounts.models import Site, User
    from cyberqms.platform.accounts.services import role_grant
    from cyberqms.platform.core.context import RequestContext, acting_context

    with acting_context(RequestContext(channel="cli")):
        admin = bootstrap_administrator(username="admin", full_name="Admin",
                                        email="admin@bench.test").user
        site = Site.objects.create(code="BSL", name="Basel", country="CH")
        author = User.objects.create(username="author", full_name="Aylin Kaya",
                                     email="author@bench.test")
        owner = User.objects.create(username="owner", full_name="Jonas Weber",
                                    email="owner@bench.test")
        role_grant(author, "author", actor=admin, reason="benchmark", site=site)
        role_grant(owner, "process_owner", actor=admin, reason="benchmark", site=site)
    author.forget_access_cache()
    owner.forget_access_cache()
    return site, author, owner


def values(i: int, owner: Any) -> dict[str, Any]:
    from django.utils import timezone

    return {
        "title": f"Temperature excursion in cold room {i % 9 + 1}",
        "description": "Logger showed 9.4 °C for 40 minutes during the night shift.",
        "event_at": timezone.now() - dt.timedelta(hours=2),
        "due_date": timezone.localdate() + dt.timedelta(days=30),
        "area": "Warehouse", "product_reference": f"Batch 24-{i:04d}", "owner": owner,
    }


def creates(count: int) -> None:
    from django.db import transaction
    from django.utils import timezone

    from cyberqms.platform.core.context import RequestContext, acting_context
    from cyberqms.quality.deviations.models import Deviation
    from cyberqms.quality.deviations.services import deviation_create

    site, author, owner = people()
    service: list[float] = []
    bare: list[float] = []
    commits: list[int] = []
    bare_commits: list[int] = []
    for i in range(count + 20):  # the first 20 of each warm caches and are not counted
        fields = values(i, owner)
        started = time.perf_counter()
        with acting_context(RequestContext(channel="web", source_ip="10.0.0.9")), \
                Commits() as counted:
            deviation_create(actor=author, site=site, **fields)
        took = time.perf_counter() - started
        if i >= 20:
            service.append(took)
            commits.append(counted.count)
        started = time.perf_counter()
        with Commits() as counted_bare, transaction.atomic():
            Deviation.objects.create(
                site=site, originator=author, state="draft", number=f"BARE-{i:06d}",
                created_at=timezone.now(), **fields)
        took = time.perf_counter() - started
        if i >= 20:
            bare.append(took)
            bare_commits.append(counted_bare.count)
    print(f"\n1. Deviation create, {count} each, interleaved ({describe_database()})")
    print(f"   {'':34} {'median ms':>10} {'p90 ms':>8} {'commits':>8}")
    for name, times, made in (("through deviation_create", service, commits),
                              ("bare ORM insert, same row", bare, bare_commits)):
        p90 = statistics.quantiles(times, n=10)[-1]
        print(f"   {name:34} {statistics.median(times) * 1000:10.2f} {p90 * 1000:8.2f} "
              f"{statistics.median(made):8.0f}")
    print(f"   ratio (service / bare): {statistics.median(service) / statistics.median(bare):.2f}")


def describe_database() -> str:
    from django.db import connection

    return connection.vendor


# --- writers -----------------------------------------------------------------------------


def _writer(kind: str, seconds: float, start_at: float, results: Any, actor_id: int) -> None:
    from benchapp.services import audited_create, plain_create
    from django.db import connection

    from cyberqms.platform.accounts.models import User

    connection.close()  # a connection of its own, not the parent's
    actor = User.objects.get(pk=actor_id)
    write: Callable[..., Any] = plain_create if kind == "plain" else (
        lambda **v: audited_create(actor=actor, **v))
    row = {"title": "Filter integrity test failed", "state": "open",
           "description": "Bubble point below limit on filter F-12.", "owner": "Jonas Weber",
           "quantity": 12, "amount": decimal.Decimal("10.50"), "due": dt.date(2027, 1, 1),
           "occurred_at": dt.datetime(2026, 12, 1, tzinfo=dt.UTC)}
    while time.time() < start_at:
        time.sleep(0.001)
    done = 0
    end = start_at + seconds
    while time.time() < end:
        write(**row)
        done += 1
    results.put(done)
    connection.close()


def writers(counts: list[int], seconds: float) -> None:
    from django.db import connections

    from cyberqms.platform.accounts.models import User

    actor = User.objects.create(username="writer", full_name="Marta Nowak")
    print(f"\n2. Writers for {seconds:g} s each ({describe_database()}): writes per second")
    print(f"   {'writers':>8} {'plain':>10} {'audited':>10} {'audited/plain':>14}")
    ctx = multiprocessing.get_context("fork")
    for n in counts:
        rates = {}
        for kind in ("plain", "audited"):
            connections.close_all()  # nothing open crosses the fork
            results = ctx.Queue()
            start_at = time.time() + 1.0
            procs = [ctx.Process(target=_writer, args=(kind, seconds, start_at, results,
                                                       actor.pk)) for _ in range(n)]
            for p in procs:
                p.start()
            total = sum(results.get() for _ in procs)
            for p in procs:
                p.join()
            rates[kind] = total / seconds
        print(f"   {n:8d} {rates['plain']:10.0f} {rates['audited']:10.0f} "
              f"{rates['audited'] / rates['plain']:14.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--creates", type=int, default=300)
    parser.add_argument("--writers", default="", help="writer counts, e.g. 1,4,8")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--profile", action="store_true",
                        help="print where the service creates spend their time (cProfile)")
    parser.add_argument("--database-url", default="",
                        help="a throw-away PostgreSQL database (default: a fresh SQLite)")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="cyberqms-writes-"))
    try:
        setup_django(data_dir, args.database_url)
        if args.creates and args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.runcall(creates, args.creates)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
        elif args.creates:
            creates(args.creates)
        if args.writers:
            writers([int(n) for n in args.writers.split(",")], args.seconds)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
