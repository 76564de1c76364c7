"""Access governance at size (issue 17, "Speed").

Builds, in a fresh database: `--people` people (2 000 by default) with one GxP role each at
one of two sites, and `--decisions` allowed access decisions (10^6 by default) spread over
a year, over the roles' rights (about 50 actions), written in bulk. Then measures, on one
machine in one run:

- **from scratch:** counting every decision into the use of rights (`usage_fold`), then
  the detectors over everyone (`load_world` + `detect`); seconds and queries of each;
- **incrementally:** a day's decisions (`--day`, 1/365 of the total by default) added,
  then the same fold and detection; seconds and queries.

Goals: from scratch ≤ 10 s, a day ≤ 1 s, on SQLite and on PostgreSQL (`--database-url`).
Figures are for comparison between runs on one machine, never asserted in tests.

    .venv/bin/python benchmarks/access.py [--people 2000] [--decisions 1000000]
        [--database-url postgresql://…]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

from writes import setup_django  # noqa: E402  (after the path)

ROLES = ("qa_reviewer", "author", "process_owner", "system_owner", "it_security")


def organization(count: int) -> tuple[list[Any], list[Any]]:
    """`count` people with one role each (bulk: the services' cost is not measured)."""
    from django.utils import timezone

    from cyberqms.platform.accounts.models import RoleAssignment, Site, User

    sites = [Site.objects.create(code=code, name=code, country="CH") for code in ("BSL",
                                                                               "DUB")]
    start = timezone.now() - dt.timedelta(days=400)
    users = User.objects.bulk_create([
        User(username=f"p{i:05d}", full_name=f"Person {i}", email=f"p{i}@bench.test",
             site=sites[i % 2], last_login=timezone.now()) for i in range(count)])
    RoleAssignment.objects.bulk_create([
        RoleAssignment(user=u, role=ROLES[i % len(ROLES)], site=sites[i % 2],
                       valid_from=start, granted_at=start, grant_reason="benchmark",
                       approval_ref="CC-2025-0001") for i, u in enumerate(users)])
    return users, sites


def rights() -> dict[str, list[str]]:
    from cyberqms.security.access.rights import criticality, role_rights

    return {role: [a for a in role_rights(role) if criticality(a) != "low"][:12] or
            list(role_rights(role))[:12] for role in ROLES}


def decisions(users: list[Any], sites: list[Any], count: int, *, since: dt.datetime,
              until: dt.datetime, rng: random.Random) -> None:
    """`count` allowed decisions between the two moments, in bulk, in the order of their
    time as the gate writes them (ids grow with time; a batch of reads is written within
    seconds of its decisions)."""
    from cyberqms.platform.core.models import AccessDecision

    by_role = rights()
    span = (until - since).total_seconds()
    batch: list[AccessDecision] = []
    for n in range(count):
        i = rng.randrange(len(users))
        person = users[i]
        actions = by_role[ROLES[i % len(ROLES)]]
        batch.append(AccessDecision(
            created_at=since + dt.timedelta(seconds=(n + rng.random()) * span / count),
            actor_id=person.pk, actor_username=person.username,
            action=actions[rng.randrange(len(actions))], site_id=sites[i % 2].pk,
            allowed=True, reason="granted", channel="web"))
        if len(batch) == 20_000 or n == count - 1:
            AccessDecision.objects.bulk_create(batch)
            batch = []


def measure(label: str) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cyberqms.security.access.usage import usage_fold
    from cyberqms.security.findings.drift import detect, load_world

    with CaptureQueriesContext(connection) as fold_queries:
        started = time.perf_counter()
        folded = usage_fold(lag=0)
        fold_s = time.perf_counter() - started
    with CaptureQueriesContext(connection) as detect_queries:
        started = time.perf_counter()
        found = detect(load_world())
        detect_s = time.perf_counter() - started
    return {"label": label, "decisions": folded.decisions, "fold_s": fold_s,
            "fold_queries": len(fold_queries), "detect_s": detect_s,
            "detect_queries": len(detect_queries), "findings": len(found)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--decisions", type=int, default=1_000_000)
    parser.add_argument("--day", type=int, default=0,
                        help="decisions of the incremental day (default: 1/365 of the total)")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="cyberqms-bench-access-"))
    try:
        setup_django(data_dir, args.database_url, benchapp=False)
        from django.conf import settings
        from django.db import connection
        from django.utils import timezone

        settings.DEBUG = False
        rng = random.Random(17)  # benchmark data, not secrets
        now = timezone.now()
        print(f"database: {connection.vendor}; {args.people} people, "
              f"{args.decisions:,} decisions over a year")
        started = time.perf_counter()
        users, sites = organization(args.people)
        decisions(users, sites, args.decisions, since=now - dt.timedelta(days=365),
                  until=now - dt.timedelta(days=1), rng=rng)
        print(f"  data written in {time.perf_counter() - started:.1f} s")
        rows = [measure("from scratch")]
        day = args.day or max(1, args.decisions // 365)
        decisions(users, sites, day, since=now - dt.timedelta(days=1),
                  until=now - dt.timedelta(minutes=10), rng=rng)
        rows.append(measure(f"a day ({day:,} decisions)"))
        print(f"  {'':<28} {'decisions':>10} {'fold s':>8} {'queries':>8} "
              f"{'detect s':>9} {'queries':>8} {'findings':>9}")
        for r in rows:
            print(f"  {r['label']:<28} {r['decisions']:>10,} {r['fold_s']:>8.2f} "
                  f"{r['fold_queries']:>8} {r['detect_s']:>9.2f} {r['detect_queries']:>8} "
                  f"{r['findings']:>9}")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
