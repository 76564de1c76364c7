"""Long lists: a record family's list page and API list at growing row counts (issue 14:
"pages at 10^6 records within 2x their time at 10^3").

Fills the deviations table to each of `--rows` (default 1000,100000) with bulk inserts
(most closed, some without a due date, created two at a time so that rows share their
sort value), analyses it, and times, as a person who sees the site: the list page's
first page, a deep page (the middle of the list), the API list's first page and a deep
page. Where the code has keyset pagination (`cyberqms.platform.core.keyset`) the deep
pages are reached by a cursor and the API is asked in cursor mode (`?cursor=`); older code
is asked by page number, as its links did. Each URL is asked `--repeat` times after three
warm-up requests, through Django's test client in this process (no server, no network):
the median and the fastest milliseconds, the median of this process's CPU milliseconds
(on SQLite, all of the request's work; on a shared machine the steadier figure), and
their ratios to the smallest row count.

The database is a fresh SQLite file in a temporary data directory, set up by the
production settings, or, with `--database-url`, a PostgreSQL database that the script
migrates and fills (use a throw-away one). Figures are for comparison between runs on one
machine, never asserted in tests.

    .venv/bin/python benchmarks/lists.py [--rows 1000,100000,1000000] [--repeat 20]
    .venv/bin/python benchmarks/lists.py --database-url postgresql://u@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

from writes import describe_database, people, setup_django  # noqa: E402  (after the path)

STATES = ("closed",) * 14 + ("cancelled", "draft", "open", "investigation", "qa_review",
                             "approved")
BATCH = 5000


def fill(upto: int, site: Any, author: Any, owner: Any) -> float:
    """Deviations up to `upto` rows; seconds taken."""
    from django.db import connection
    from django.utils import timezone

    from cyberqms.quality.deviations.models import Deviation

    started = time.perf_counter()
    have = Deviation.objects.count()
    start = timezone.now().replace(microsecond=0)
    for first in range(have, upto, BATCH):
        Deviation.objects.bulk_create([
            Deviation(number=f"DEV-B-{i:07d}", title=f"Temperature excursion {i}",
                      site=site, owner=owner, originator=author,
                      state=STATES[i % len(STATES)],
                      due_date=None if i % 7 == 0 else (start - dt.timedelta(days=i % 400)).date(),
                      classification=("minor", "major", "critical")[i % 3],
                      created_at=start - dt.timedelta(seconds=30 * (i // 2)))
            for i in range(first, min(upto, first + BATCH))])
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return time.perf_counter() - started


def urls(rows: int) -> dict[str, str]:
    """The four URLs, the deep ones at the middle of the list."""
    middle = rows // 2
    try:
        from cyberqms.platform.core.keyset import cursor_after
    except ImportError:  # the code before keyset pagination: page numbers
        return {"list, first page": "/deviations/",
                "list, deep page": f"/deviations/?page={middle // 25 + 1}",
                "API, first page": "/api/v1/deviations",
                "API, deep page": f"/api/v1/deviations?page={middle // 50 + 1}"}
    from cyberqms.quality.deviations.models import Deviation

    listed = Deviation.objects.filter(is_deleted=False).order_by("-created_at", "-id")
    cursor = cursor_after(listed, listed[middle - 1])
    return {"list, first page": "/deviations/",
            "list, deep page": f"/deviations/?cursor={cursor}",
            "API, first page": "/api/v1/deviations?cursor=",
            "API, deep page": f"/api/v1/deviations?cursor={cursor}"}


def timed(client: Any, url: str, repeat: int) -> tuple[float, float, float]:
    """Median and fastest milliseconds, and median CPU milliseconds of this process, of
    `repeat` requests of `url` (after three warm-ups)."""
    took, cpu = [], []
    for i in range(repeat + 3):
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(url)
        if response.status_code != 200:
            sys.exit(f"{url}: {response.status_code}\n{response.content[:2000]!r}")
        if i >= 3:
            took.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
    return (statistics.median(took) * 1000, min(took) * 1000,
            statistics.median(cpu) * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", default="1000,100000", help="row counts, e.g. 1000,1000000")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database-url", default="",
                        help="a throw-away PostgreSQL database (default: a fresh SQLite)")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="cyberqms-lists-"))
    try:
        setup_django(data_dir, args.database_url, benchapp=False)
        from django.test import Client

        site, author, owner = people()
        client = Client(SERVER_NAME="localhost")
        sizes = sorted(int(n) for n in args.rows.split(","))
        table: dict[int, dict[str, tuple[float, float, float]]] = {}
        print(f"Lists of deviations ({describe_database()}), {args.repeat} requests each")
        for rows in sizes:
            took = fill(rows, site, author, owner)
            client.force_login(owner)  # a long fill outlasts the session's idle timeout
            table[rows] = {name: timed(client, url, args.repeat)
                           for name, url in urls(rows).items()}
            print(f"  {rows:>9,} rows (filled in {took:.0f} s): " + ", ".join(
                f"{name} {median:.1f}/{fastest:.1f}/{cpu:.1f}"
                for name, (median, fastest, cpu) in table[rows].items()), flush=True)
        smallest = table[sizes[0]]
        for label, which in (("median", 0), ("fastest", 1), ("CPU", 2)):
            print(f"\n  {label + ' ms':>11}  " + "  ".join(f"{name:>18}" for name in smallest))
            for rows, figures in table.items():
                print(f"  {rows:>11,}  " + "  ".join(
                    f"{ms[which]:8.1f} ({ms[which] / smallest[name][which]:5.2f}x)"
                    for name, ms in figures.items()))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
