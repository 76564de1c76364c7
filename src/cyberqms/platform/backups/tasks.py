"""Scheduled backups, restore tests and retention, run by the scheduler and the `db_worker`.

The scheduler asks every hour whether a backup is due (`CYBERQMS_BACKUP_HOURS` since the
newest one) and whether a restore test is due (`CYBERQMS_RESTORE_TEST_DAYS` since the
newest tested backup); a due one is queued as a background task, so that a long backup
never holds up the scheduler's other jobs (the trail's seal every second). Asking by age,
not by a timer, means a restarted scheduler does not take a backup at every start.

Retention keeps, of the backups in the backup folder, the newest of each of the last
`CYBERQMS_BACKUP_KEEP_DAILY` days that have one and the newest of each of the last
`CYBERQMS_BACKUP_KEEP_MONTHLY` months; the other files are removed. Their rows stay, marked
removed, and each removal is audited: what was kept, and until when, is part of the record.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from cyberqms.platform.core.context import RequestContext, acting_context
from cyberqms.platform.core.election import Lease

from .models import Backup

logger = logging.getLogger("cyberqms.backups")
DUE_CHECK_SECONDS = 3600.0
MARGIN = dt.timedelta(minutes=10)  # a backup that ran a little early still counts
LEASE_SECONDS = 6 * 3600.0  # the longest a backup or restore test may hold the others off


def due_interval() -> float:
    return DUE_CHECK_SECONDS


def backup_due(now: dt.datetime | None = None) -> bool:
    hours = int(settings.CYBERQMS_BACKUP_HOURS)
    if hours == 0:
        return False
    now = now or timezone.now()
    newest = Backup.objects.filter(removed_at__isnull=True).order_by("-created_at").first()
    return newest is None or newest.created_at <= now - dt.timedelta(hours=hours) + MARGIN


def restore_test_due(now: dt.datetime | None = None) -> bool:
    if int(settings.CYBERQMS_BACKUP_HOURS) == 0:
        return False
    now = now or timezone.now()
    newest = Backup.objects.filter(removed_at__isnull=True).order_by("-created_at").first()
    if newest is None:
        return False
    tested = Backup.objects.filter(verified_at__isnull=False).order_by("-verified_at").first()
    days = int(settings.CYBERQMS_RESTORE_TEST_DAYS)
    last = tested.verified_at if tested is not None else None
    return last is None or last <= now - dt.timedelta(days=days) + MARGIN


def enqueue_due() -> None:
    """Inline scheduler job (a query or two): queue what is due."""
    if backup_due():
        scheduled_backup.enqueue()
    elif restore_test_due():
        scheduled_restore_test.enqueue()


@contextmanager
def _alone() -> Iterator[bool]:
    """Whether this worker may back up or test now: one at a time across every worker and
    node (a lease in the database), so a long one is not started again beside itself."""
    lease = Lease("backups", ttl=LEASE_SECONDS)
    held = lease.hold()
    try:
        yield held
    finally:
        if held:
            lease.release()


@task
def scheduled_backup() -> dict[str, Any]:
    from .services import backup_create

    with acting_context(RequestContext(channel="task")), _alone() as alone:
        if not alone or not backup_due():  # one is running, or was taken meanwhile
            return {"skipped": True}
        backup = backup_create()
        removed = retention_prune()
    return {"backup": backup.file_name, "size": backup.size, "removed": removed}


@task
def scheduled_restore_test() -> dict[str, Any]:
    from .verify import backup_verify

    with acting_context(RequestContext(channel="task")), _alone() as alone:
        if not alone or not restore_test_due():
            return {"skipped": True}
        result = backup_verify()
    return {"backup": result.file.name, "passed": result.passed,
            "time_to_restore": result.time_to_restore}


def kept_by_retention(backups: list[Backup], *, daily: int, monthly: int) -> set[int]:
    """The ids retention keeps of `backups`: the newest of each of the last `daily` days
    and of each of the last `monthly` months that have a backup (UTC days and months)."""
    days: dict[dt.date, Backup] = {}
    months: dict[tuple[int, int], Backup] = {}
    for backup in sorted(backups, key=lambda b: b.created_at, reverse=True):
        at = backup.created_at.astimezone(dt.UTC)
        days.setdefault(at.date(), backup)
        months.setdefault((at.year, at.month), backup)
    kept = [b for _, b in sorted(days.items(), reverse=True)[:daily]]
    kept += [b for _, b in sorted(months.items(), reverse=True)[:monthly]]
    return {b.pk for b in kept}


def retention_prune(folder: Path | None = None) -> list[str]:
    """Remove the backup files retention does not keep from `folder` (the backup folder).

    Side effects: the files removed; each row marked removed, audited
    `backups.backup.remove` with the rule that removed it.
    """
    from cyberqms.platform.trail.record import audit_record, snapshot

    folder = Path(folder or settings.CYBERQMS_BACKUP_DIR)
    present = list(Backup.objects.filter(removed_at__isnull=True, folder=str(folder)))
    daily, monthly = (int(settings.CYBERQMS_BACKUP_KEEP_DAILY),
                      int(settings.CYBERQMS_BACKUP_KEEP_MONTHLY))
    kept = kept_by_retention(present, daily=daily, monthly=monthly)
    removed: list[str] = []
    for backup in present:
        if backup.pk in kept:
            continue
        with transaction.atomic():
            before = snapshot(backup)
            backup.removed_at = timezone.now()
            backup.save(update_fields=["removed_at"])
            audit_record("backups.backup.remove", backup, actor=None, before=before,
                         reason=f"Retention: the newest backup of each of the last {daily} "
                                f"days and {monthly} months is kept")
        (folder / backup.file_name).unlink(missing_ok=True)
        removed.append(backup.file_name)
    return removed
