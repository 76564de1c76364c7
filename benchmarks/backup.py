"""Backups and restore tests at size (issue 19, "Speed").

Loads the demo into a fresh database, then, at the demo's size and at 10× and 100× its
rows, measures on one machine in one run:

- **backup**: `backup_create` (seal, consistent snapshot, encryption, manifest);
- **restore test**: `backup_verify` (every chunk authenticated, restored into an isolated
  copy, migrated, the full trail verified against the manifest's checkpoint, every record
  reconciled, the newest record of each kind printed to PDF), and its time to restore;

with the database's size and the audit entries the trail verification walked.

The larger sizes are synthetic: the demo's received security events copied (the largest
table of a site that monitors its plant) and valid audit entries appended with raw SQL and
sealed (`benchmarks/trail.py`'s writer), until both are 10× and 100× the demo's.
Goal: backup and restore test of the demo in ≤ 60 s together. Figures are for comparison
between runs on one machine, never asserted in tests.

    .venv/bin/python benchmarks/backup.py [--scales 1,10,100] [--engines sqlite,postgresql]
        [--database-url postgresql://…/cyberqms_bench]   # PostgreSQL (the database is
                                                          # dropped and made anew)
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))


def _fresh_postgres(url: str) -> None:
    """Drop and make the benchmark's PostgreSQL database anew."""
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _grow_events(target: int) -> None:
    """Copy the received events until there are `target` of them."""
    from django.db import connection

    from cyberqms.security.monitoring.models import RawEvent

    fields = [f.column for f in RawEvent._meta.concrete_fields if f.column != "id"]
    columns = ", ".join(connection.ops.quote_name(c) for c in fields)
    table = connection.ops.quote_name(RawEvent._meta.db_table)
    with connection.cursor() as cursor:
        while RawEvent.objects.count() < target:
            missing = target - RawEvent.objects.count()
            # The model's own table and columns, quoted; a number: nothing from outside.
            cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {table} "
                           f"ORDER BY id LIMIT {int(missing)}")


def _grow_trail(target: int) -> None:
    from trail import Data, bulk_insert_synthetic

    bulk_insert_synthetic(target, Data(random.Random("cyberqms-backup-bench")), chunk=50_000)


def _database_bytes() -> int:
    from django.conf import settings
    from django.db import connection

    if connection.vendor == "sqlite":
        path = Path(settings.DATABASES["default"]["NAME"])
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        return int(cursor.fetchone()[0])


def one_engine(data_dir: Path, database_url: str, scales: list[int]) -> list[dict[str, Any]]:
    from writes import setup_django

    if database_url:
        _fresh_postgres(database_url)
    setup_django(data_dir, database_url, benchapp=False)
    from django.core.management import call_command

    from cyberqms.platform.backups.services import backup_create
    from cyberqms.platform.backups.verify import backup_verify
    from cyberqms.platform.core.context import RequestContext, acting_context
    from cyberqms.platform.trail.log import max_seq
    from cyberqms.security.monitoring.models import RawEvent

    started = time.perf_counter()
    with redirect_stdout(io.StringIO()):
        call_command("demo", "--quiet-passwords")
    print(f"  demo loaded in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    demo_entries, demo_events = max_seq(), RawEvent.objects.count()
    rows = []
    with acting_context(RequestContext(channel="cli")):
        for scale in scales:
            if scale > 1:
                grown = time.perf_counter()
                _grow_events(demo_events * scale)
                _grow_trail(demo_entries * scale)
                print(f"  grown to {scale}x in {time.perf_counter() - grown:.0f} s",
                      file=sys.stderr)
            t0 = time.perf_counter()
            backup = backup_create()
            t1 = time.perf_counter()
            result = backup_verify()
            t2 = time.perf_counter()
            if not result.passed:
                failure = result.failure or {}
                raise SystemExit(f"restore test failed at {scale}x: {failure.get('detail')}")
            steps = {s["step"]: s["seconds"] for s in result.steps}
            rows.append({"scale": scale, "db_mib": _database_bytes() / 2**20,
                         "file_mib": backup.size / 2**20, "rows": backup.rows,
                         "entries": max_seq(), "events": RawEvent.objects.count(),
                         "backup_s": t1 - t0, "verify_s": t2 - t1,
                         "restore_s": result.time_to_restore, "trail_s": steps.get("trail"),
                         "pdf_s": steps.get("pdf")})
            Path(backup.folder, backup.file_name).unlink()
    return rows


def table(engine: str, rows: list[dict[str, Any]]) -> str:
    lines = [f"\n{engine}", "| size | database | backup file | rows | audit entries | "
             "backup | restore test | of which: restored and migrated | trail verified | "
             "PDFs |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['scale']}× | {r['db_mib']:,.0f} MiB | {r['file_mib']:,.0f} MiB | "
            f"{r['rows']:,} | {r['entries']:,} | {r['backup_s']:.1f} s | {r['verify_s']:.1f} s "
            f"| {r['restore_s']:.1f} s | {r['trail_s']:.1f} s | {r['pdf_s']:.1f} s |")
    demo = rows[0]
    lines.append(f"Demo: backup + restore test = {demo['backup_s'] + demo['verify_s']:.1f} s "
                 "(goal ≤ 60 s).")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="1,10,100")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--engines", default="sqlite,postgresql",
                        help="which to measure (PostgreSQL needs --database-url)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    scales = [int(s) for s in args.scales.split(",")]
    if args.child:
        data_dir = Path(tempfile.mkdtemp(prefix="cyberqms-backup-bench-"))
        try:
            print(json.dumps(one_engine(data_dir, args.database_url, scales)))
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)
        return
    wanted = set(args.engines.split(","))
    engines = ([("SQLite", "")] if "sqlite" in wanted else []) + (
        [("PostgreSQL", args.database_url)]
        if args.database_url and "postgresql" in wanted else [])
    for engine, url in engines:
        print(f"== {engine}", file=sys.stderr)
        env = {**os.environ, "CYBERQMS_SQLITE_SYNCHRONOUS": "NORMAL"}
        done = subprocess.run(  # noqa: S603  # this interpreter and script
            [sys.executable, __file__, "--child", "--scales", args.scales,
             "--database-url", url], env=env, capture_output=True, text=True, check=False)
        sys.stderr.write(done.stderr[-3000:] if done.returncode else done.stderr)
        if done.returncode != 0:
            raise SystemExit(f"{engine}: the benchmark failed")
        print(table(engine, json.loads(done.stdout.strip().splitlines()[-1])))


if __name__ == "__main__":
    main()
