"""Restore tests (issue 19, item 2 and its faults, A11-13): what is refused before anything
is restored (a changed byte, a newer cyberqms, a checkpoint that does not verify), and the
restore into an isolated copy whose trail is proved against the manifest."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from cyberqms.platform.backups.container import BackupError, derive, read_key
from cyberqms.platform.backups.restore import (
    checkpoint_refusal,
    isolated_copy,
    open_backup,
    version_refusal,
)
from cyberqms.platform.backups.services import backup_create
from cyberqms.platform.backups.tests.keys import own_backup_keys
from cyberqms.platform.backups.verify import backup_verify, newest_backup
from cyberqms.platform.trail import guards
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
    from django.conf import settings

    return derive(read_key(Path(settings.CYBERQMS_BACKUP_KEY_FILE), create=False))


def manifest_of(path: Path) -> dict[str, Any]:
    return open_backup(path, keys())


def test_the_newest_backup_is_the_one_verified_by_default(taken: Path) -> None:
    assert newest_backup() == taken


def test_no_backup_at_all_is_said_plainly(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match=r"No backup in .*: take one with"):
        newest_backup(tmp_path / "none")


def test_a_backup_from_a_newer_cyberqms_is_refused_before_restoring(taken: Path) -> None:
    manifest = {**manifest_of(taken), "cyberqms": "99.0.0"}
    assert version_refusal(manifest, "b.cqbackup") == (
        "b.cqbackup: made by cyberqms 99.0.0, newer than this one (0.1.0): restore it with "
        "99.0.0 or later.")


def test_a_backup_with_a_migration_this_build_lacks_is_refused(taken: Path) -> None:
    manifest = manifest_of(taken)
    manifest["migrations"] = {**manifest["migrations"], "trail": "0099_from_the_future"}
    assert version_refusal(manifest, "b.cqbackup") == (
        "b.cqbackup: its database has migrations this cyberqms does not have "
        "(trail.0099_from_the_future): it was made by a newer or another build.")


def test_a_checkpoint_whose_signature_fails_is_refused(taken: Path) -> None:
    manifest = copy.deepcopy(manifest_of(taken))
    note = manifest["checkpoint"]["note"]
    lines = note.split("\n")
    lines[1] = str(int(lines[1]) + 1)  # the size, changed: the signature no longer holds
    manifest["checkpoint"]["note"] = "\n".join(lines)
    refusal = checkpoint_refusal(manifest, "b.cqbackup") or ""
    assert refusal.startswith("b.cqbackup: the trail checkpoint in its manifest does not "
                              "verify with this site's trail keys:")


def test_a_checkpoint_of_another_trail_key_is_refused(taken: Path, settings: Any,
                                                     tmp_path: Path) -> None:
    manifest = manifest_of(taken)
    settings.CYBERQMS_TRAIL_KEY_FILE = tmp_path / "other" / "trail-signing.key"
    from cyberqms.platform.trail import keys as trail_keys

    trail_keys.signer()  # another site's key pair
    refusal = checkpoint_refusal(manifest, "b.cqbackup") or ""
    assert refusal.startswith("b.cqbackup: the trail checkpoint in its manifest does not "
                              "verify")


def test_the_restored_copy_is_removed_afterwards(taken: Path) -> None:
    manifest = manifest_of(taken)
    with isolated_copy(taken, keys(), manifest) as restored:
        inside = (restored.folder.exists(), restored.engine)
    assert (inside, restored.folder.exists()) == ((True, connection.vendor), False)


def test_a_backup_restores_and_its_trail_verifies_in_an_isolated_copy_a11_13(
        taken: Path) -> None:
    result = backup_verify(taken)
    assert ([(s["step"], s["ok"]) for s in result.steps], result.passed) == ([
        ("file", True), ("restore", True), ("rows", True), ("migrate", True),
        ("trail", True), ("pdf", True)], True)


def test_the_trail_step_proves_the_copy_against_the_manifests_checkpoint(
        taken: Path) -> None:
    result = backup_verify(taken)
    trail = next(s for s in result.steps if s["step"] == "trail")
    size = result.manifest["checkpoint"]["size"]
    assert (trail["checkpoint_size"], trail["entries"] >= size) == (size, True)


def test_a_flipped_byte_fails_the_test_saying_where(taken: Path) -> None:
    data = bytearray(taken.read_bytes())
    data[100] ^= 0x01
    taken.write_bytes(bytes(data))
    result = backup_verify(taken)
    assert ([(s["step"], s["ok"]) for s in result.steps], result.steps[0]["detail"]) == (
        [("file", False)],
        f"{taken.name}: part database.{'sqlite3' if connection.vendor == 'sqlite' else 'pgdump'}"
        f", chunk 1 of {result.steps[0]['detail'].split(' of ')[1].split(' ')[0]} (bytes 0 to "
        f"{result.steps[0]['detail'].split('bytes 0 to ')[1].split(')')[0]}) does not "
        "decrypt: it was changed or damaged.")


def test_an_entry_altered_before_the_backup_fails_the_trail_step(personas: dict[str, Any]
                                                                 ) -> None:
    """An attacker with database access edits a sealed entry: the backup is taken (the
    seal covers new entries only), and its restore test finds the edit."""
    backup_create()
    entry = AuditEntry.objects.order_by("seq")[2]
    guards.remove(connection)
    try:
        AuditEntry.objects.filter(pk=entry.pk).update(body=entry.body.replace('"', "'", 1))
    finally:
        guards.install(connection)
    backup_create()
    result = backup_verify()
    trail = next(s for s in result.steps if s["step"] == "trail")
    assert (result.passed, trail["ok"], f"entry {entry.seq}" in trail["detail"] or
            f"seq {entry.seq}" in trail["detail"]) == (False, False, True)


def test_writes_between_the_seal_and_the_snapshot_restore_to_a_trail_that_verifies(
        personas: dict[str, Any], make_user: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Writers go on while the backup is taken: entries written after the manifest's
    checkpoint are in the copy as the trail's unsealed tail, and verify."""
    from cyberqms.platform.backups import services

    snapshot = {"sqlite": services._snapshot_sqlite,
                "postgresql": services._snapshot_postgresql}[connection.vendor]

    def written_meanwhile(into: Path) -> dict[str, int]:
        make_user("joined_during_the_backup", "author")
        return snapshot(into)

    monkeypatch.setattr(services, f"_snapshot_{connection.vendor}", written_meanwhile)
    backup = backup_create()
    result = backup_verify(Path(backup.folder) / backup.file_name)
    trail = next(s for s in result.steps if s["step"] == "trail")
    assert (result.passed, trail["entries"] > trail["checkpoint_size"]) == (True, True)


def test_writes_after_the_snapshot_are_not_in_the_backup_and_the_rows_agree(
        personas: dict[str, Any], make_user: Any) -> None:
    """Rows are counted in the snapshot itself: writes during the encryption change
    neither the copy nor its manifest."""
    written: list[str] = []

    def progress(part: str, done: int) -> None:
        if not written:
            written.append(make_user("joined_while_encrypting", "author").username)

    backup = backup_create(progress=progress)
    result = backup_verify(Path(backup.folder) / backup.file_name)
    rows = next(s for s in result.steps if s["step"] == "rows")
    assert (written, rows["ok"], result.passed) == (["joined_while_encrypting"], True, True)


def test_a_file_of_another_name_is_not_taken_for_the_newest_backup(
        taken: Path) -> None:
    (taken.parent / "flipped.cqbackup").write_bytes(taken.read_bytes())
    assert newest_backup() == taken


def test_the_probe_refuses_to_run_on_a_site(taken: Path, tmp_path: Path) -> None:
    """`backup probe` migrates what it runs on: never anything but an isolated copy."""
    from django.core.management import call_command
    from django.core.management.base import CommandError

    given = tmp_path / "manifest.json"
    given.write_text("{}", encoding="utf-8")
    with pytest.raises(CommandError) as refused:
        call_command("backup", "probe", str(given))
    assert (refused.value.returncode, str(refused.value)) == (
        2, "This command runs only inside an isolated copy of a backup (`cyberqms backup "
           "verify`, a ransomware drill), never on a site.")


def test_a_failed_test_nobody_may_record_still_raises_its_event(tmp_path: Path) -> None:
    from cyberqms.platform.core.models import SecurityEvent

    backup = backup_create()  # an empty site: no person, no site
    path = Path(backup.folder) / backup.file_name
    data = bytearray(path.read_bytes())
    data[40] ^= 0x01
    path.write_bytes(bytes(data))
    result = backup_verify(path)
    event = SecurityEvent.objects.get(kind="backup.restore_test.failed")
    assert (result.records, event.severity, event.data["step"]) == ([], "critical", "file")
