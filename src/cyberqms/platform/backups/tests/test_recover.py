"""Recovery (issue 19, item 3): `backup restore` refuses to replace a database that holds
data unless told so with a reason; the restored trail goes on from the restored head and
verifies; the entries lost since the backup are counted from the largest checkpoint seen
before (the recovery point in fact); the restore is audited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as live_settings
from django.contrib.auth import get_user_model

from cyberqms.platform.backups.container import BackupError, derive, read_key
from cyberqms.platform.backups.recover import backup_restore
from cyberqms.platform.backups.services import backup_create
from cyberqms.platform.backups.tests.keys import own_backup_keys
from cyberqms.platform.trail.integrity import check_trail
from cyberqms.platform.trail.log import trail_seal
from cyberqms.platform.trail.models import AuditEntry

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def own_keys(settings: Any, tmp_path: Path) -> None:
    """Keys of this test's own (see test_backups.own_keys)."""
    own_backup_keys(settings, tmp_path)


@pytest.fixture
def taken(personas: dict[str, Any]) -> Path:
    backup = backup_create()
    return Path(backup.folder) / backup.file_name


def keys() -> Any:
    return derive(read_key(Path(live_settings.CYBERQMS_BACKUP_KEY_FILE), create=False))


def test_a_database_that_holds_data_is_not_replaced_unless_told(taken: Path) -> None:
    people = get_user_model().objects.count()
    entries = AuditEntry.objects.count()
    with pytest.raises(BackupError) as refused:
        backup_restore(taken, keys=keys())
    assert (str(refused.value), get_user_model().objects.count()) == (
        f"The database holds data ({entries:,} audit entries, {people:,} people): restoring "
        "would replace it. Run again with --replace and a --reason.", people)


def test_replacing_a_database_that_holds_data_needs_a_reason(taken: Path) -> None:
    with pytest.raises(BackupError, match=r"^Replacing a database that holds data needs a "
                                          r"--reason\.$"):
        backup_restore(taken, keys=keys(), replace=True, reason=" ")


def test_a_changed_byte_is_refused_before_anything_is_touched(
        taken: Path, make_user: Any) -> None:
    make_user("late_joiner", "author")
    data = bytearray(taken.read_bytes())
    data[200] ^= 0x04
    taken.write_bytes(bytes(data))
    with pytest.raises(BackupError, match="does not decrypt: it was changed or damaged"):
        backup_restore(taken, keys=keys(), replace=True, reason="test")
    assert get_user_model().objects.filter(username="late_joiner").exists()


def test_the_restore_brings_back_the_state_of_the_backup(
        taken: Path, make_user: Any) -> None:
    make_user("late_joiner", "author")
    backup_restore(taken, keys=keys(), replace=True, reason="Ransomware on the server")
    assert get_user_model().objects.filter(username="late_joiner").exists() is False


def test_the_entries_lost_are_counted_from_the_checkpoint_seen_before(
        taken: Path, make_user: Any) -> None:
    from cyberqms.platform.trail.models import Checkpoint

    restored = Checkpoint.objects.order_by("-size").first().size
    make_user("late_joiner", "author")
    trail_seal()
    seen = Checkpoint.objects.order_by("-size").first().size
    report = backup_restore(taken, keys=keys(), replace=True, reason="Disk lost")
    assert (report.restored_size, report.seen.size, report.entries_lost) == (
        restored, seen, seen - restored)


def test_the_trail_goes_on_from_the_restored_head_and_verifies(
        taken: Path, make_user: Any) -> None:
    make_user("late_joiner", "author")
    trail_seal()
    backup_restore(taken, keys=keys(), replace=True, reason="Disk lost")
    make_user("after_restore", "author")
    trail_seal()
    report = check_trail()
    assert (report.ok, [p.message for p in report.problems]) == (True, [])


def test_the_witness_that_held_the_lost_checkpoint_is_kept(
        taken: Path, make_user: Any) -> None:
    make_user("late_joiner", "author")
    trail_seal()
    report = backup_restore(taken, keys=keys(), replace=True, reason="Disk lost")
    (kept,) = report.kept_witnesses
    assert (Path(kept).name.startswith("trail-signing.key.checkpoint.before-restore-"),
            Path(kept).exists()) == (True, True)


def test_the_restore_is_audited_with_its_reason_and_its_loss(
        taken: Path, make_user: Any) -> None:
    make_user("late_joiner", "author")
    trail_seal()
    report = backup_restore(taken, keys=keys(), replace=True, reason="Disk lost")
    entry = AuditEntry.objects.filter(action="backups.backup.restore").get()
    assert (entry.object_id, entry.reason) == (str(report.backup.pk), (
        f"Disk lost. Restored in {report.seconds:.1f} s; {report.entries_lost:,} audit "
        f"entries after the backup's checkpoint of {report.restored_size:,} are lost (the "
        f"largest checkpoint seen before held {report.seen.size:,}, in the database)."))


def test_a_failed_postgresql_restore_puts_the_database_back(
        taken: Path, make_user: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from django.db import connection

    from cyberqms.platform.backups import recover

    if connection.vendor != "postgresql":
        pytest.skip("the schema set aside is PostgreSQL's (SQLite replaces in one step)")
    make_user("late_joiner", "author")

    def broken(*args: Any, **kwargs: Any) -> None:
        raise BackupError("pg_restore failed: disk full")

    monkeypatch.setattr(recover, "_pg_restore", broken)
    with pytest.raises(BackupError, match="disk full"):
        backup_restore(taken, keys=keys(), replace=True, reason="Disk lost")
    assert get_user_model().objects.filter(username="late_joiner").exists()
