"""Taking a backup (A11-13): a consistent snapshot of the running database, encrypted into
one file with a manifest (time, version, engine, migrations, row counts per table, the
SHA-256 of every part, and the newest signed trail checkpoint, sealed just before), and
the backup recorded and audited.

- SQLite: the online backup API copies the database page by page from one read
  transaction, so writers may go on; the copy is the state at one moment.
- PostgreSQL: `pg_dump` in its custom format of one exported REPEATABLE READ snapshot,
  whose rows are counted in the same snapshot.

Neither the trail's signing key, the attachment key nor the backup key is ever inside a
backup (they are files outside the database): keep them apart (docs/backups.md).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

import cyberqms
from cyberqms.platform.core.access import require
from cyberqms.platform.core.context import current_context
from cyberqms.platform.trail.record import audit_record

from . import actions
from .container import SUFFIX, BackupError, Progress, Writer, derive, read_key
from .models import Backup


def _authorize(actor: Any | None) -> None:
    if actor is not None:
        require(actor, actions.CREATE)
    elif current_context().channel in ("web", "api"):
        raise BackupError("An authenticated user is required.")


def _tables() -> list[str]:
    """The table of every model cyberqms keeps (managed, concrete)."""
    found: set[str] = set()
    for model in apps.get_models():
        meta = model._meta
        if not meta.proxy and meta.managed:
            found.add(meta.db_table)
    return sorted(found)


def _count(cursor: Any, tables: list[str], quote: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table in tables:
        cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")  # noqa: S608  # a model's table name, quoted
        counts[table] = int(cursor.fetchone()[0])
    return counts


def _snapshot_sqlite(into: Path) -> dict[str, int]:
    """Copy the database into `into`; the rows per table are counted in the copy, so they
    are the copy's whatever writers did meanwhile."""
    connection.ensure_connection()
    source = connection.connection
    target = sqlite3.connect(into)
    try:
        source.backup(target, pages=4096)
        return _count(target.cursor(), _tables(), connection.ops.quote_name)
    finally:
        target.close()


def pg_tool(name: str) -> str:
    """The newest PostgreSQL client program `name` on this machine."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
    if not candidates:
        raise BackupError(f"{name} is not installed: install the PostgreSQL client.")
    return str(candidates[-1])


def pg_environment() -> dict[str, str]:
    """libpq's variables for the database this process uses (the test database in
    tests)."""
    db = connection.settings_dict
    env = {**os.environ, "PGHOST": str(db.get("HOST") or ""), "PGPORT": str(db.get("PORT") or ""),
           "PGUSER": str(db.get("USER") or ""), "PGDATABASE": str(db["NAME"])}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return env


def _snapshot_postgresql(into: Path) -> dict[str, int]:
    """`pg_dump` of one exported snapshot, whose rows per table are counted in the same
    snapshot (a connection of its own holds it open until the dump is done)."""
    held = connection.get_new_connection(connection.get_connection_params())
    try:
        held.autocommit = False
        with held.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = str(cursor.fetchone()[0])
            counts = _count(cursor, _tables(), connection.ops.quote_name)
            done = subprocess.run(  # noqa: S603  # a fixed program and arguments, no shell
                [pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                 f"--snapshot={snapshot}", f"--file={into}"],
                env=pg_environment(), capture_output=True, text=True, check=False)
        held.rollback()
    finally:
        held.close()
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()[:500]}")
    return counts


def _migrations() -> dict[str, str]:
    """The newest applied migration of every app: what a restore must be able to run."""
    newest: dict[str, str] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        newest[app] = max(newest.get(app, ""), name)
    return dict(sorted(newest.items()))


def _checkpoint() -> dict[str, Any] | None:
    from cyberqms.platform.trail.log import latest_checkpoint

    found = latest_checkpoint()
    if found is None:
        return None
    return {"size": found.size, "root": bytes(found.root).hex(), "note": found.note,
            "signed_at": found.signed_at.isoformat()}


def backup_create(*, actor: Any | None = None, folder: Path | None = None,
                  progress: Progress | None = None) -> Backup:
    """Take a backup of the running database into `folder` (CYBERQMS_BACKUP_DIR).

    Side effects: a trail checkpoint sealed first (the manifest names it); the file
    `cyberqms-<UTC time>.cqbackup`; a `Backup` row and its audit entry
    `backups.backup.create`.
    :raises PermissionDenied: `actor` may not take backups.
    :raises BackupError: the key, the folder or the database snapshot failed (nothing is
        left that looks like a backup).
    """
    from cyberqms.platform.trail.log import SealRefusedError, trail_seal

    _authorize(actor)
    folder = Path(folder or settings.CYBERQMS_BACKUP_DIR)
    keys = derive(read_key(Path(settings.CYBERQMS_BACKUP_KEY_FILE), create=True))
    folder.mkdir(parents=True, exist_ok=True)
    started, at = time.perf_counter(), timezone.now()
    try:
        trail_seal()  # the manifest names a checkpoint over everything written until now
    except SealRefusedError as exc:
        raise BackupError(f"The trail refuses a checkpoint ({exc}): a backup now would "
                          "keep an altered entry. Verify the trail first.") from exc
    # Read now, before the snapshot: the scheduler seals every second, and a checkpoint
    # sealed after the snapshot would name entries the backup does not hold.
    checkpoint = _checkpoint()
    name = f"cyberqms-{at.astimezone(dt.UTC):%Y%m%dT%H%M%S%fZ}{SUFFIX}"
    engine = connection.vendor
    # The plain snapshot stays beside the database (mode 0700), never in the backup folder,
    # which may be a remote store: only the encrypted file goes there.
    scratch_root = Path(settings.DATA_DIR)
    scratch_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch_root, prefix=".backup-snapshot-") as scratch:
        snapshot = Path(scratch) / "database"
        if engine == "sqlite":
            rows = _snapshot_sqlite(snapshot)
        elif engine == "postgresql":
            rows = _snapshot_postgresql(snapshot)
        else:  # pragma: no cover - the two engines cyberqms runs on
            raise BackupError(f"No backup for the {engine} engine.")
        writer = Writer(folder / name, keys)
        try:
            with open(snapshot, "rb") as source:
                writer.add(f"database.{'sqlite3' if engine == 'sqlite' else 'pgdump'}",
                           source, progress)
            manifest = writer.finish({
                "created_at": at.isoformat(), "cyberqms": cyberqms.__version__,
                "engine": engine, "migrations": _migrations(), "rows": rows,
                "checkpoint": checkpoint})
        except BaseException:
            writer.abort()
            raise
    with transaction.atomic():
        backup = Backup.objects.create(
            created_at=at, file_name=name, folder=str(folder), size=writer.size,
            sha256=writer.file_sha256.hexdigest(), engine=engine,
            version=cyberqms.__version__, rows=sum(rows.values()),
            checkpoint_size=(manifest["checkpoint"] or {}).get("size"),
            seconds=round(time.perf_counter() - started, 3), manifest=manifest)
        audit_record("backups.backup.create", backup, actor=actor, created=True)
    return backup
