"""The training matrix and the recomputation of assignments at size (issue 15, "Speed").

Builds, in a fresh database: `--items` controlled documents each with a version in force,
curricula over them (one per role, plus `--curricula` more, each holding the document that
is then revised), and for each size in `--people` that many people with a GxP role, 85 %
of their readings signed. Then measures, on one machine in one run:

- the matrix page (`/training/`, all people × all items) through Django's test client,
  signed in as a QA reviewer: wall milliseconds (median of `--repeat`), queries, bytes;
- the matrix computation alone (`training.queries.matrix`);
- after a new version of the document in the `--curricula` curricula takes effect, the
  recomputation of assignments (`assignments_sync(documents=[it])`): milliseconds and how
  many assignments it made (each with its audit entry).

Figures are for comparison between runs on one machine, never asserted in tests.

    .venv/bin/python benchmarks/training.py [--people 100,1000,5000] [--items 300]
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

from writes import people, setup_django  # noqa: E402  (after the path)

ROLES = ("qa_manager", "qa_reviewer", "process_owner", "author", "it_security",
         "system_owner")


def library(items: int, site: Any, author: Any) -> list[Any]:
    """`items` documents, each with version 1.0 in force (bulk: the services' cost is not
    what is measured here)."""
    from django.utils import timezone

    from cyberqms.quality.documents.models import ControlledDocument, DocumentVersion

    today = timezone.localdate()
    docs = ControlledDocument.objects.bulk_create([
        ControlledDocument(number=f"SOP-QA-{i:04d}", doc_type="sop", department="QA",
                           site=site) for i in range(1, items + 1)])
    DocumentVersion.objects.bulk_create([
        DocumentVersion(number=f"{d.number} v1.0", title=f"Procedure {d.number}",
                        document=d, doc_type="sop", department="QA", site=site,
                        owner=author, originator=author, state="effective",
                        effective_date=today - dt.timedelta(days=400), body="# Purpose\n",
                        effective_at=timezone.now(), due_date=today + dt.timedelta(days=300))
        for d in docs])
    return docs


def curricula(docs: list[Any], extra: int) -> Any:
    """One curriculum per role over all documents, and `extra` more holding the first."""
    from cyberqms.quality.training.models import Curriculum, CurriculumItem

    per_role = Curriculum.objects.bulk_create([
        Curriculum(name=f"Role {role}", roles=[role]) for role in ROLES])
    more = Curriculum.objects.bulk_create([
        Curriculum(name=f"Team {i}", roles=[ROLES[i % len(ROLES)]]) for i in range(extra)])
    CurriculumItem.objects.bulk_create([
        CurriculumItem(curriculum=c, document=d) for c in per_role for d in docs])
    CurriculumItem.objects.bulk_create([
        CurriculumItem(curriculum=c, document=docs[0]) for c in more])
    return per_role


def staff(count: int, site: Any, start: int) -> list[Any]:
    """`count` more people, each with one GxP role at `site`."""
    from django.utils import timezone

    from cyberqms.platform.accounts.models import RoleAssignment, User

    users = User.objects.bulk_create([
        User(username=f"p{i:05d}", full_name=f"Person {i:05d}", email=f"p{i}@bench.test")
        for i in range(start, start + count)])
    now = timezone.now() - dt.timedelta(days=500)
    RoleAssignment.objects.bulk_create([
        RoleAssignment(user=u, role=ROLES[i % len(ROLES)], site=site, valid_from=now,
                       granted_at=now, grant_reason="benchmark")
        for i, u in enumerate(users)])
    return users


def readings(users: list[Any]) -> None:
    """Every person's reading of every version in force, 85 % of them signed."""
    from django.utils import timezone

    from cyberqms.quality.documents.models import DocumentVersion
    from cyberqms.quality.training.models import TrainingAssignment

    versions = list(DocumentVersion.objects.filter(state="effective"))
    now = timezone.now()
    due = timezone.localdate() - dt.timedelta(days=10)
    rows = [TrainingAssignment(
        person=u, kind="reading", document_id=v.document_id, version=v,
        title=f"Read {v.number}", reason="benchmark", due_date=due, assigned_at=now,
        state="done" if (u.pk + v.pk) % 7 else "open",
        completed_at=now if (u.pk + v.pk) % 7 else None)
        for u in users for v in versions]
    for first in range(0, len(rows), 20_000):
        TrainingAssignment.objects.bulk_create(rows[first:first + 20_000])


def timed_page(client: Any, repeat: int) -> tuple[float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get("/training/")
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get("/training/")
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/training/")
    assert response.status_code == 200, response.status_code
    return statistics.median(times), len(queries), len(response.content)


def revise_first(docs: list[Any], site: Any, author: Any) -> Any:
    """Version 1.1 of the first document takes effect: its readers are assigned it."""
    from django.db import transaction
    from django.utils import timezone

    from cyberqms.quality.documents.models import DocumentVersion

    with transaction.atomic():
        DocumentVersion.objects.filter(document=docs[0], state="effective").update(
            state="superseded")
        return DocumentVersion.objects.create(
            number=f"{docs[0].number} v1.1", title="Procedure, revised", document=docs[0],
            doc_type="sop", department="QA", site=site, owner=author, originator=author,
            minor=1, state="effective", effective_date=timezone.localdate(),
            effective_at=timezone.now())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", default="100,1000,5000")
    parser.add_argument("--items", type=int, default=300)
    parser.add_argument("--curricula", type=int, default=800)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    sizes = [int(n) for n in args.people.split(",")]
    data = Path(tempfile.mkdtemp(prefix="cyberqms-bench-training-"))
    try:
        setup_django(data, args.database_url, benchapp=False)
        from django.test import Client

        from cyberqms.platform.accounts.models import User
        from cyberqms.platform.accounts.services import role_grant
        from cyberqms.platform.core.context import RequestContext, acting_context
        from cyberqms.quality.training.queries import matrix
        from cyberqms.quality.training.services import assignments_sync

        site, author, _owner = people()
        admin = User.objects.get(username="admin")
        reader = User.objects.create(username="reader", full_name="QA Reader",
                                     email="reader@bench.test")
        with acting_context(RequestContext(channel="cli")):
            role_grant(reader, "qa_reviewer", actor=admin, reason="benchmark", site=site)
        docs = library(args.items, site, author)
        curricula(docs, args.curricula)
        client = Client(SERVER_NAME="localhost")
        client.force_login(reader)
        print(f"training matrix: {args.items} items, {len(ROLES) + args.curricula} curricula")
        print(f"{'people':>7} {'page ms':>9} {'queries':>8} {'KiB':>7} {'matrix ms':>10}")
        have = 0
        for size in sizes:
            users = staff(size - have, site, have)
            readings(users)
            have = size
            page_ms, count, size_bytes = timed_page(client, args.repeat)
            started = time.perf_counter()
            matrix()
            matrix_ms = (time.perf_counter() - started) * 1000
            print(f"{size:>7} {page_ms:>9.0f} {count:>8} {size_bytes / 1024:>7.0f} "
                  f"{matrix_ms:>10.0f}", flush=True)
        revise_first(docs, site, author)
        started = time.perf_counter()
        with acting_context(RequestContext(channel="cli")):
            made = assignments_sync(documents=[docs[0].pk])
        print(f"new version of a document in {args.curricula + len(ROLES)} curricula, "
              f"{have} people: {made} assignments made in "
              f"{(time.perf_counter() - started) * 1000:.0f} ms")
    finally:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
