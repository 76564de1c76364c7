"""The schedule and retention (issue 19, item 1; A11-13): a backup when the newest is older
than the interval (never at every scheduler start), a restore test when the newest test is
older than its interval, and retention that keeps N daily and M monthly backups, removing
the other files with an audited reason."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from cyberqms.platform.backups.models import Backup
from cyberqms.platform.backups.tasks import (
    backup_due,
    kept_by_retention,
    restore_test_due,
    retention_prune,
)
from cyberqms.platform.trail.models import AuditEntry

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def folder(settings: Any, tmp_path: Path) -> Path:
    settings.CYBERQMS_BACKUP_DIR = tmp_path
    settings.CYBERQMS_BACKUP_HOURS = 24
    settings.CYBERQMS_RESTORE_TEST_DAYS = 7
    settings.CYBERQMS_BACKUP_KEEP_DAILY = 3
    settings.CYBERQMS_BACKUP_KEEP_MONTHLY = 2
    return tmp_path


def backup(at: dt.datetime, folder: Path | None = None, pk: int | None = None,
           **fields: Any) -> Backup:
    made = Backup(pk=pk, created_at=at, file_name=f"cyberqms-{at:%Y%m%dT%H%M%S}.cqbackup",
                  folder=str(folder or ""), size=1, sha256="0" * 64, engine="sqlite",
                  version="0.1.0", rows=1, seconds=0.1, manifest={}, **fields)
    if folder is not None:
        (folder / made.file_name).write_bytes(b"x")
        made.save()
    return made


def test_retention_keeps_the_newest_of_each_recent_day_and_month() -> None:
    at = [NOW - dt.timedelta(days=d, hours=h) for d, h in
          ((0, 0), (0, 5), (1, 0), (2, 0), (3, 0), (40, 0), (70, 0), (100, 0))]
    backups = [backup(when, pk=i + 1) for i, when in enumerate(at)]
    assert sorted(kept_by_retention(backups, daily=3, monthly=2)) == [1, 3, 4, 6]


@pytest.mark.django_db
def test_a_backup_is_due_when_there_is_none() -> None:
    assert backup_due(NOW) is True


@pytest.mark.django_db
def test_a_backup_is_not_due_a_few_hours_after_the_last(folder: Path) -> None:
    backup(NOW - dt.timedelta(hours=5), folder)
    assert backup_due(NOW) is False


@pytest.mark.django_db
def test_a_backup_is_due_a_day_after_the_last(folder: Path) -> None:
    backup(NOW - dt.timedelta(hours=24), folder)
    assert backup_due(NOW) is True


@pytest.mark.django_db
def test_no_backup_is_due_when_the_schedule_is_off(settings: Any) -> None:
    settings.CYBERQMS_BACKUP_HOURS = 0
    assert backup_due(NOW) is False


@pytest.mark.django_db
def test_a_restore_test_is_due_when_no_backup_was_ever_tested(folder: Path) -> None:
    backup(NOW - dt.timedelta(hours=2), folder)
    assert restore_test_due(NOW) is True


@pytest.mark.django_db
def test_a_restore_test_is_not_due_within_a_week_of_the_last(folder: Path) -> None:
    backup(NOW - dt.timedelta(hours=2), folder, verified_at=NOW - dt.timedelta(days=6),
           verify_passed=True)
    assert restore_test_due(NOW) is False


@pytest.mark.django_db
def test_pruning_removes_the_files_retention_does_not_keep(folder: Path) -> None:
    now = timezone.now()
    made = [backup(now - dt.timedelta(days=d), folder) for d in (0, 1, 2, 3, 4)]
    removed = retention_prune(folder)
    assert (sorted(removed), sorted(p.name for p in folder.iterdir())) == (
        sorted(b.file_name for b in made[3:]), sorted(b.file_name for b in made[:3]))


@pytest.mark.django_db
def test_a_removed_backup_keeps_its_row_and_an_audited_reason(folder: Path) -> None:
    now = timezone.now()
    made = [backup(now - dt.timedelta(days=d), folder) for d in (0, 1, 2, 3)]
    retention_prune(folder)
    gone = Backup.objects.get(pk=made[3].pk)
    entry = AuditEntry.objects.get(action="backups.backup.remove")
    assert (gone.removed_at is not None, entry.object_id, entry.reason) == (
        True, str(gone.pk), "Retention: the newest backup of each of the last 3 days and 2 "
                            "months is kept")
