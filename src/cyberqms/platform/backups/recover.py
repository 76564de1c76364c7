"""Recovery: the database replaced by a backup's (`cyberqms backup restore`), with the
site stopped.

- Everything `open_backup` refuses is refused first (a changed byte, a newer cyberqms, a
  checkpoint that does not verify): nothing is touched then.
- A database that holds data is replaced only when told so, with a reason.
- Before replacing it, the largest trail checkpoint seen so far is read: the database's
  own (when it can still be read) and every witness directory's (the local one beside the
  signing key survives the loss of the database). The entries between the backup's
  checkpoint and that one are the entries lost: the recovery point in fact.
- The restored database is migrated to the running version; its trail goes on from the
  restored head. The witness files that hold the larger, lost checkpoint are kept beside
  themselves (`….before-restore-<time>`), as evidence, and given the restored checkpoint,
  so that verification compares the trail with what it now is; an HTTP witness cannot be
  rolled back and must be enrolled again (docs/backups.md).
- The restore is recorded (`Backup` of the file restored, audited
  `backups.backup.restore` with the reason and the loss) and reported as a security event.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from .container import BackupError, Keys, Progress, read_part
from .models import Backup
from .restore import feed_pg_restore, open_backup

EVENT = "backup.restored"


@dataclass
class Seen:
    """A checkpoint seen before the loss: its size, note and where it was read."""

    size: int
    note: str
    source: str


@dataclass
class RestoreReport:
    file: Path
    backup: Backup | None = None
    restored_size: int = 0  # entries in the backup's checkpoint
    seen: Seen | None = None  # the largest checkpoint seen before the loss
    migrations: int = 0
    seconds: float = 0.0
    kept_witnesses: list[str] = field(default_factory=list)

    @property
    def entries_lost(self) -> int:
        return max(0, (self.seen.size if self.seen else 0) - self.restored_size)


def holds_data() -> tuple[int, int]:
    """(audit entries, people) in the database now; (0, 0) when it has no tables."""
    from django.contrib.auth import get_user_model

    from cyberqms.platform.trail.models import AuditEntry

    try:
        with transaction.atomic():
            return AuditEntry.objects.count(), get_user_model().objects.count()
    except DatabaseError:
        return 0, 0


def seen_before() -> Seen | None:
    """The largest checkpoint the database and the witness directories hold now."""
    from cyberqms.platform.trail import keys, witness
    from cyberqms.platform.trail.models import Checkpoint
    from cyberqms.platform.trail.note import NoteError, open_checkpoint

    found: list[Seen] = []
    try:
        with transaction.atomic():
            latest = Checkpoint.objects.order_by("-size").first()
        if latest is not None:
            found.append(Seen(latest.size, latest.note, "the database"))
    except DatabaseError:
        pass  # a database lost or emptied: the witnesses tell
    trusted = keys.parsed_verifier_keys()
    for directory in witness.directory_witnesses():
        try:
            text = directory.read()
            if text:
                parsed, _ = open_checkpoint(text, trusted, keys.origin())
                found.append(Seen(parsed.size, text, directory.describe()))
        except (OSError, NoteError):
            continue  # unreadable or untrusted: not evidence of anything
    return max(found, key=lambda s: s.size, default=None)


def _replace_sqlite(path: Path, keys: Keys, manifest: dict[str, Any],
                    progress: Progress | None) -> None:
    scratch = Path(settings.DATA_DIR) / f".restore-{time.time_ns()}"
    scratch.mkdir(mode=0o700)
    try:
        copy = scratch / "cyberqms.sqlite3"
        with open(copy, "wb") as out:
            for block in read_part(path, keys, manifest, "database.sqlite3", progress):
                out.write(block)
        source = sqlite3.connect(copy)
        try:
            connection.ensure_connection()
            # The online backup API, the other way round: the live file's pages replaced in
            # one step, under its lock, whatever journal mode it runs in.
            source.backup(connection.connection, pages=4096)
        finally:
            source.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _replace_postgresql(path: Path, keys: Keys, manifest: dict[str, Any],
                        progress: Progress | None) -> None:
    """The `public` schema set aside, the backup restored into a new one; the old one
    dropped once the restore succeeded, put back if it failed (the database is never left
    empty)."""
    aside = f"cyberqms_before_restore_{time.time_ns()}"
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER SCHEMA public RENAME TO "{aside}"')
        cursor.execute("CREATE SCHEMA public")
        # Extensions (pg_trgm) went aside with the schema; the dump creates them only "if
        # not exists": they come back into public, where the restored indexes look.
        cursor.execute("SELECT e.extname FROM pg_extension e JOIN pg_namespace n "
                       "ON n.oid = e.extnamespace WHERE n.nspname = %s", [aside])
        extensions = [str(row[0]) for row in cursor.fetchall()]
        for name in extensions:
            cursor.execute(f'ALTER EXTENSION "{name}" SET SCHEMA public')
    connection.close()
    try:
        _pg_restore(path, keys, manifest, progress)
    except BaseException:
        with connection.cursor() as cursor:
            for name in extensions:
                cursor.execute(f'ALTER EXTENSION "{name}" SET SCHEMA "{aside}"')
            cursor.execute("DROP SCHEMA public CASCADE")
            cursor.execute(f'ALTER SCHEMA "{aside}" RENAME TO public')
        raise
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA "{aside}" CASCADE')


def _pg_restore(path: Path, keys: Keys, manifest: dict[str, Any],
                progress: Progress | None) -> None:
    feed_pg_restore(path, keys, manifest, progress, str(connection.settings_dict["NAME"]),
                    Path(settings.DATA_DIR), "--single-transaction")


def _roll_witnesses(report: RestoreReport, note: str, size: int) -> None:
    from cyberqms.platform.trail import witness

    stamp = timezone.now().astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    for directory in witness.directory_witnesses():
        try:
            held = directory.size()
        except OSError:
            continue
        if held is not None and held > size:
            kept = directory.path.with_name(f"{directory.path.name}.before-restore-{stamp}")
            directory.path.rename(kept)
            report.kept_witnesses.append(str(kept))
        if note:
            directory.write(size, note)


def backup_restore(path: Path, *, reason: str = "", replace: bool = False,
                   progress: Progress | None = None, keys: Keys) -> RestoreReport:
    """Replace the database by the backup at `path` (run with the site stopped).

    Side effects: the database replaced and migrated; witness files holding a larger
    checkpoint kept beside themselves and given the restored one; a `Backup` row for the
    file, audited `backups.backup.restore`; security event `backup.restored`.
    :raises BackupError: the backup is refused (nothing is touched), or the database holds
        data and `replace` with a reason was not given, or the restore failed.
    """
    started = time.perf_counter()
    report = RestoreReport(file=path)
    manifest = open_backup(path, keys, progress)
    if manifest["engine"] != connection.vendor:
        raise BackupError(f"{path.name} holds a {manifest['engine']} database; this site "
                          f"runs on {connection.vendor}.")
    entries, people = holds_data()
    if entries or people:
        if not replace:
            raise BackupError(
                f"The database holds data ({entries:,} audit entries, {people:,} people): "
                "restoring would replace it. Run again with --replace and a --reason.")
        if not reason.strip():
            raise BackupError("Replacing a database that holds data needs a --reason.")
    report.seen = seen_before()
    checkpoint = manifest.get("checkpoint") or {}
    report.restored_size = int(checkpoint.get("size") or 0)
    if manifest["engine"] == "sqlite":
        _replace_sqlite(path, keys, manifest, progress)
    else:
        _replace_postgresql(path, keys, manifest, progress)
    connection.close()
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    report.migrations = len(executor.migration_plan(executor.loader.graph.leaf_nodes()))
    call_command("migrate", interactive=False, verbosity=0)
    _roll_witnesses(report, str(checkpoint.get("note") or ""), report.restored_size)
    report.seconds = round(time.perf_counter() - started, 3)
    report.backup = _record(path, manifest, report, reason)
    return report


def _record(path: Path, manifest: dict[str, Any], report: RestoreReport,
            reason: str) -> Backup:
    from cyberqms.platform.core.events import emit_security_event
    from cyberqms.platform.trail.record import audit_record

    rows = manifest.get("rows") or {}
    seen = report.seen
    with transaction.atomic():
        backup, created = Backup.objects.get_or_create(file_name=path.name, defaults={
            "created_at": dt.datetime.fromisoformat(manifest["created_at"]),
            "folder": str(path.parent), "size": path.stat().st_size, "sha256": "",
            "engine": manifest["engine"], "version": manifest["cyberqms"],
            "rows": sum(rows.values()), "checkpoint_size": report.restored_size or None,
            "seconds": 0.0, "manifest": manifest})
        if created:
            audit_record("backups.backup.create", backup, actor=None, created=True,
                         reason="Known from the backup restored")
        loss = (f"{report.entries_lost:,} audit entries after the backup's checkpoint of "
                f"{report.restored_size:,} are lost (the largest checkpoint seen before "
                f"held {seen.size:,}, in {seen.source})" if seen and report.entries_lost
                else "no audit entry signed before the restore is lost")
        audit_record("backups.backup.restore", backup, actor=None,
                     reason=(f"{reason.strip() or 'Restored into an empty database'}. "
                             f"Restored in {report.seconds:.1f} s; {loss}.")[:2000])
        emit_security_event(
            EVENT, severity="high",
            message=f"Database restored from {path.name}: {loss}"[:500],
            data={"backup": path.name, "entries_lost": report.entries_lost,
                  "restored_size": report.restored_size,
                  "seen_size": seen.size if seen else None,
                  "kept_witnesses": report.kept_witnesses})
    return backup
