"""Restore tests (A11-13): a backup read back, checked, restored into an isolated copy and
proved there (restore.py, probe.py). The outcome, pass or fail with each step's result
and the time to restore, is given to whoever listens to `restore_tested` (the restore-test
records, assets/restores), so that this platform part knows no record family.
"""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.dispatch import Signal
from django.utils import timezone

from . import actions
from .container import SUFFIX, BackupError, Progress, derive, read_key
from .models import Backup
from .restore import isolated_copy, open_backup, run_probe

logger = logging.getLogger("cyberqms.backups")

# Sent once a restore test has run (passed or failed), outside any transaction:
# result: VerifyResult, actor: the person who asked (None: the system).
restore_tested = Signal()


@dataclass
class VerifyResult:
    file: Path
    started_at: dt.datetime
    backup: Backup | None = None
    manifest: dict[str, Any] | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    time_to_restore: float | None = None  # seconds until the copy was migrated, ready
    seconds: float = 0.0
    records: list[Any] = field(default_factory=list)  # what the listeners made of it

    @property
    def passed(self) -> bool:
        return bool(self.steps) and all(step["ok"] for step in self.steps)

    @property
    def failure(self) -> dict[str, Any] | None:
        return next((step for step in self.steps if not step["ok"]), None)


def newest_backup(folder: Path | None = None) -> Path:
    """The newest complete backup file in `folder` (CYBERQMS_BACKUP_DIR).
    :raises BackupError: there is none."""
    folder = Path(folder or settings.CYBERQMS_BACKUP_DIR)
    # cyberqms's own names sort by the time they were taken; another file is not one.
    found = sorted(folder.glob(f"cyberqms-*{SUFFIX}")) if folder.is_dir() else []
    if not found:
        raise BackupError(f"No backup in {folder}: take one with `cyberqms backup create`.")
    return found[-1]


def _step(name: str, label: str, ok: bool, detail: str, seconds: float,
          **extra: Any) -> dict[str, Any]:
    return {"step": name, "label": label, "ok": ok, "detail": detail,
            "seconds": round(seconds, 3), **extra}


def backup_verify(path: Path | None = None, *, actor: Any | None = None,
                  progress: Progress | None = None) -> VerifyResult:
    """Test the restore of the backup at `path` (the newest one when None).

    Side effects: a restored copy made and removed (under CYBERQMS_DATA_DIR, or a new
    PostgreSQL database dropped afterwards); `restore_tested` sent with the result (the
    restore-test record, and a critical alert when it failed).
    :raises PermissionDenied: `actor` may not test restores.
    """
    from cyberqms.platform.core.access import require

    if actor is not None:
        require(actor, actions.VERIFY)
    path = Path(path) if path is not None else newest_backup()
    result = VerifyResult(file=path, started_at=timezone.now(),
                          backup=Backup.objects.filter(file_name=path.name).first())
    started = time.perf_counter()
    try:
        keys = derive(read_key(Path(settings.CYBERQMS_BACKUP_KEY_FILE), create=False))
        manifest = open_backup(path, keys, progress)
    except (BackupError, OSError) as exc:
        result.steps.append(_step("file", "Backup file authenticated", False, str(exc),
                                  time.perf_counter() - started))
    else:
        result.manifest = manifest
        checkpoint = manifest.get("checkpoint") or {}
        result.steps.append(_step(
            "file", "Backup file authenticated", True,
            f"Every chunk decrypts and matches its SHA-256; made by cyberqms "
            f"{manifest['cyberqms']} ({manifest['engine']}); "
            + (f"its checkpoint of {checkpoint['size']:,} entries is signed by a trusted "
               "trail key." if checkpoint else "the trail was empty."),
            time.perf_counter() - started))
        _restore_and_probe(path, keys, manifest, result, progress)
    result.seconds = round(time.perf_counter() - started, 3)
    if result.backup is not None:
        _tested(result.backup, result, actor)
    for _receiver, made in restore_tested.send(VerifyResult, result=result, actor=actor):
        if made is not None:
            result.records.append(made)
    return result


def _tested(backup: Backup, result: VerifyResult, actor: Any) -> None:
    from django.db import transaction

    from cyberqms.platform.trail.record import audit_record, snapshot

    failure = result.failure
    with transaction.atomic():
        before = snapshot(backup)
        backup.verified_at, backup.verify_passed = timezone.now(), result.passed
        backup.save(update_fields=["verified_at", "verify_passed"])
        audit_record("backups.backup.verify", backup, actor=actor, before=before,
                     reason=(f"Restore test passed: time to restore "
                             f"{result.time_to_restore or 0:.1f} s" if failure is None else
                             f"Restore test failed at \"{failure['label']}\": "
                             f"{failure['detail']}")[:2000])


def _restore_and_probe(path: Path, keys: Any, manifest: dict[str, Any],
                       result: VerifyResult, progress: Progress | None) -> None:
    began = time.perf_counter()
    try:
        with isolated_copy(path, keys, manifest, progress=progress) as copy:
            where = "SQLite file" if copy.engine == "sqlite" else "PostgreSQL database"
            result.steps.append(_step(
                "restore", "Restored into an isolated database", True,
                f"Restored into a new {where} in {copy.seconds:.1f} s; the live database is "
                "not touched.", copy.seconds))
            probing = time.perf_counter()
            report = run_probe(copy, manifest)
            wall = time.perf_counter() - probing
            checks = float(report["seconds"]) - float(report["ready_seconds"])
            result.steps.extend(report["steps"])
            if all(step["ok"] for step in report["steps"][:2]):
                result.time_to_restore = round(copy.seconds + wall - checks, 3)
    except BackupError as exc:
        result.steps.append(_step("restore", "Restored into an isolated database", False,
                                  str(exc), time.perf_counter() - began))
    except (OSError, ValueError, KeyError, subprocess.SubprocessError) as exc:
        # A full disk, a copy that cannot be read back, a probe that answered nonsense: a
        # failed test, recorded and alerted like any other, never a traceback.
        logger.exception("restore test of %s failed", path.name)
        result.steps.append(_step("restore", "Restored into an isolated database", False,
                                  f"{type(exc).__name__}: {exc}"[:800],
                                  time.perf_counter() - began))
