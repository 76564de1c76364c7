"""The checks a restore test runs inside the isolated copy (`cyberqms backup probe`), in a
process of its own whose database is the restored one (restore.py).

1. **Rows**: every table's rows against the manifest's count, before anything runs.
2. **Migrate** to the running version (A11-13: a backup must restore into the software in
   use, not only into the one that made it).
3. **Trail**: the full verification (trail/integrity.py: signatures, every entry's hash
   and authenticator, the Merkle roots, the head) against the checkpoint in the manifest,
   with the consistency proof from it to the restored head, and every audited record
   reconciled with its latest entry.
4. **Readable records** (A11-12): the newest record of every kind rendered to PDF, as a
   person would print it.

Each step gives `ok`, a sentence and its seconds; the report is one JSON line on stdout.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.core.management import call_command
from django.db import connection

Step = dict[str, Any]


def _count(n: int, one: str, many: str = "") -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def _timed(name: str, label: str, run: Callable[[], tuple[bool, str, dict[str, Any]]]) -> Step:
    started = time.perf_counter()
    try:
        ok, detail, extra = run()
    except Exception as exc:  # a step that breaks is a failed step, with its words
        ok, detail, extra = False, f"{type(exc).__name__}: {exc}"[:800], {}
    return {"step": name, "label": label, "ok": ok, "detail": detail,
            "seconds": round(time.perf_counter() - started, 3), **extra}


def rows_step(manifest: dict[str, Any]) -> tuple[bool, str, dict[str, Any]]:
    expected: dict[str, int] = manifest.get("rows") or {}
    tables = set(connection.introspection.table_names())
    differ: list[str] = []
    total = 0
    with connection.cursor() as cursor:
        for table, count in expected.items():
            if table not in tables:
                differ.append(f"{table}: missing (expected {count:,})")
                continue
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608  # a table name from the manifest, quoted, and known to exist
            found = int(cursor.fetchone()[0])
            total += found
            if found != count:
                differ.append(f"{table}: {found:,} rows, expected {count:,}")
    if differ:
        return False, (f"{len(differ)} of {len(expected)} tables differ from the manifest: "
                       + "; ".join(differ[:5])), {"rows": total}
    return True, (f"{_count(total, 'row')} in {_count(len(expected), 'table')}, as in the "
                  "manifest."), {"rows": total}


def migrate_step() -> tuple[bool, str, dict[str, Any]]:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    call_command("migrate", interactive=False, verbosity=0)
    if not plan:
        return True, "Already at the running version: no migration to apply.", \
            {"migrations": 0}
    return True, (f"{_count(len(plan), 'migration')} applied to reach the running "
                  "version."), {"migrations": len(plan)}


def trail_step(manifest: dict[str, Any]) -> tuple[bool, str, dict[str, Any]]:
    from cyberqms.platform.trail.integrity import Witnessed, check_trail

    checkpoint = manifest.get("checkpoint") or {}
    if not checkpoint:  # an empty trail when the backup was taken (restore.py)
        report = check_trail()
        if report.ok and report.to_seq == 0:
            return True, "The trail was empty when the backup was taken, and is.", {}
        return False, "The manifest names no checkpoint but the restored trail has "\
            f"{report.to_seq:,} entries.", {}
    report = check_trail(against=Witnessed("the backup's manifest", checkpoint["note"]))
    extra = {"entries": report.to_seq, "checkpoints": report.checkpoints,
             "records": report.records, "checkpoint_size": checkpoint.get("size")}
    if not report.ok:
        first = report.first
        assert first is not None
        more = len(report.problems) + report.dropped - 1
        return False, (f"The restored trail does not verify: {first.message}"
                       + (f" (and {more} more problems)" if more else "")), extra
    if report.witness_size != checkpoint.get("size"):
        return False, ("The manifest's checkpoint was not compared with the restored "
                       "trail."), extra
    return True, (f"{_count(report.to_seq, 'entry', 'entries')} and "
                  f"{_count(report.checkpoints, 'checkpoint')} verify; the restored head "
                  f"extends the manifest's checkpoint of {checkpoint['size']:,} entries "
                  f"(consistency proof); {_count(report.records, 'record')} match their "
                  "latest entry."), extra


def pdf_step() -> tuple[bool, str, dict[str, Any]]:
    from cyberqms.platform.kit.record_export import record_document, render_pdf
    from cyberqms.platform.kit.records import registered_kinds

    rendered: list[dict[str, Any]] = []
    failed: list[str] = []
    for kind in registered_kinds():
        record = (kind.model._default_manager.filter(is_deleted=False)
                  .select_related("owner").order_by("-created_at", "-id").first())
        if record is None:
            continue
        try:
            pdf = render_pdf(record_document(record, record.owner))
        except Exception as exc:  # one kind that cannot print fails the step, named
            failed.append(f"{record.number} ({kind.label}): {type(exc).__name__}: {exc}"[:300])
            continue
        if not pdf.startswith(b"%PDF-"):
            failed.append(f"{record.number} ({kind.label}): not a PDF")
            continue
        rendered.append({"kind": kind.label, "number": record.number, "bytes": len(pdf)})
    extra = {"pdfs": rendered}
    if failed:
        return False, f"{len(failed)} records cannot be printed: " + "; ".join(failed[:3]), extra
    return True, (f"The newest record of every kind ({_count(len(rendered), 'kind')}) "
                  "prints to PDF "
                  f"({', '.join(r['number'] for r in rendered[:6])}"
                  f"{'…' if len(rendered) > 6 else ''})."), extra


def probe(manifest: dict[str, Any]) -> dict[str, Any]:
    """The checks, in order; the trail and the PDFs are not checked on a copy that could
    not be migrated (their result would say nothing). Rows that differ from the manifest
    fail the test, and the other steps still run, to say what else is wrong."""
    started = time.perf_counter()
    steps = [_timed("rows", "Row counts against the manifest", lambda: rows_step(manifest))]
    steps.append(_timed("migrate", "Migrated to the running version", migrate_step))
    ready = time.perf_counter() - started
    if steps[-1]["ok"]:
        steps.append(_timed("trail", "Audit trail verified against the manifest",
                            lambda: trail_step(manifest)))
        steps.append(_timed("pdf", "Records readable as PDF", pdf_step))
    return {"steps": steps, "ready_seconds": round(ready, 3),
            "seconds": round(time.perf_counter() - started, 3)}
