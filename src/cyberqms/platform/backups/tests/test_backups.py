"""Encrypted backups (issue 19, item 1, and its faults): a consistent snapshot of the
running database with a manifest, recorded and audited; a changed byte, a truncated file,
another key or a newer format are refused, saying where, before anything is read; a backup
cut short leaves nothing that looks like a backup."""

from __future__ import annotations

import io
import json
import sqlite3
import struct
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from cyberqms.platform.backups.container import (
    CHUNK,
    BackupError,
    Writer,
    check,
    derive,
    read_key,
    read_manifest,
    read_part,
)
from cyberqms.platform.backups.models import Backup
from cyberqms.platform.backups.services import backup_create
from cyberqms.platform.trail.models import AuditEntry

KEY = derive(b"k" * 32)


@pytest.fixture(autouse=True)
def own_keys(settings: Any, tmp_path: Path) -> None:
    """A backup key and a trail signing key of this test's own: a backup seals a
    checkpoint, whose local witness beside the shared key file would outlive this test's
    database and make later tests' trails look cut back."""
    settings.CYBERQMS_BACKUP_KEY_FILE = tmp_path / "backup.key"
    settings.CYBERQMS_TRAIL_KEY_FILE = tmp_path / "keys" / "trail-signing.key"
DATA = bytes(range(256)) * (CHUNK // 256) + b"tail"  # a chunk and a bit: two chunks


def write(folder: Path, data: bytes = DATA, keys: Any = KEY) -> Path:
    writer = Writer(folder / "b.cqbackup", keys)
    writer.add("database.sqlite3", io.BytesIO(data))
    writer.finish({"cyberqms": "0.1.0"})
    return folder / "b.cqbackup"


def test_a_backup_reads_back_as_written(tmp_path: Path) -> None:
    path = write(tmp_path)
    manifest = read_manifest(path, KEY)
    assert (b"".join(read_part(path, KEY, manifest, "database.sqlite3")),
            manifest["parts"][0]["chunks"]) == (DATA, 2)


def test_an_empty_part_reads_back_empty(tmp_path: Path) -> None:
    path = write(tmp_path, b"")
    assert b"".join(read_part(path, KEY, read_manifest(path, KEY), "database.sqlite3")) == b""


def test_the_file_holds_no_plaintext(tmp_path: Path) -> None:
    assert b"tail" + b"\x00" not in write(tmp_path, b"PATIENT-SAFETY-" * 100).read_bytes()[:1500]


def test_the_backup_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    assert write(tmp_path).stat().st_mode & 0o777 == 0o600


def flip(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_byte_changed_in_a_chunk_is_refused_naming_it(tmp_path: Path) -> None:
    path = write(tmp_path)
    flip(path, CHUNK + 50)  # inside the second chunk (the first ends at CHUNK + 32)
    with pytest.raises(BackupError) as caught:
        check(path, KEY)
    assert str(caught.value).startswith(
        "b.cqbackup: part database.sqlite3, chunk 2 of 2 (bytes 4,194,336 to ")


def test_a_byte_changed_in_the_manifest_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path)
    flip(path, path.stat().st_size - 8 - 4 - 32 - 10)  # in the manifest's text
    with pytest.raises(BackupError) as caught:
        read_manifest(path, KEY)
    assert str(caught.value) == (
        "b.cqbackup: the manifest was changed or damaged (its authentication fails).")


def test_a_truncated_backup_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(BackupError) as caught:
        read_manifest(path, KEY)
    assert str(caught.value) == ("b.cqbackup: no manifest at the end: the file is truncated "
                                 "or not a cyberqms backup.")


def test_a_backup_made_with_another_key_is_refused_naming_both(tmp_path: Path) -> None:
    path = write(tmp_path)
    other = derive(b"o" * 32)
    with pytest.raises(BackupError) as caught:
        read_manifest(path, other)
    assert str(caught.value) == (f"b.cqbackup: made with another backup key (key id "
                                 f"{KEY.key_id}; this key is {other.key_id}).")


def test_a_backup_of_a_newer_format_is_refused(tmp_path: Path) -> None:
    import hashlib
    import hmac

    path = write(tmp_path)
    raw = path.read_bytes()
    (length,) = struct.unpack(">I", raw[-12:-8])
    text_start = len(raw) - 8 - 4 - 32 - length
    manifest = json.loads(raw[text_start:text_start + length])
    manifest["format"] = 2
    text = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    mac = hmac.new(KEY.mac, text, hashlib.sha256).digest()
    path.write_bytes(raw[:text_start] + text + mac + struct.pack(">I", len(text)) + b"CQBACKUP")
    with pytest.raises(BackupError) as caught:
        read_manifest(path, KEY)
    assert str(caught.value) == ("b.cqbackup: written in backup format 2 by a newer "
                                 "cyberqms; this one reads format 1.")


@pytest.mark.django_db(transaction=True)
def test_a_backup_cut_short_leaves_nothing_that_looks_complete(
        tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:

    def disk_full(self: Writer, manifest: dict[str, Any]) -> dict[str, Any]:
        raise OSError("No space left on device")

    monkeypatch.setattr(Writer, "finish", disk_full)
    with pytest.raises(OSError, match="No space left"):
        backup_create(folder=tmp_path / "backups")
    assert (sorted(p.name for p in (tmp_path / "backups").iterdir()),
            Backup.objects.count()) == ([], 0)


def test_a_partial_file_is_not_a_backup(tmp_path: Path) -> None:
    writer = Writer(tmp_path / "b.cqbackup", KEY)
    writer.add("database.sqlite3", io.BytesIO(DATA))  # killed here: never finished
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.cqbackup.partial"]


def test_the_key_file_is_made_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "backup.key"
    first = read_key(path, create=True)
    assert (len(first), read_key(path, create=True) == first,
            path.stat().st_mode & 0o777) == (32, True, 0o600)


def test_a_missing_key_is_refused_when_reading(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="No backup key at"):
        read_key(tmp_path / "none.key", create=False)


@pytest.mark.django_db(transaction=True)
def test_a_backup_of_the_running_database_is_recorded_and_audited(
        tmp_path: Path, settings: Any, personas: dict[str, Any]) -> None:
    backup = backup_create(folder=tmp_path / "backups")
    entry = AuditEntry.objects.get(action="backups.backup.create")
    assert (Backup.objects.count(), backup.engine, backup.manifest["rows"]["accounts_user"],
            entry.object_id, (tmp_path / "backups" / backup.file_name).stat().st_size) == (
        1, connection.vendor, 9, str(backup.pk), backup.size)


@pytest.mark.django_db(transaction=True)
def test_the_manifest_names_the_checkpoint_sealed_before_the_snapshot(
        tmp_path: Path, settings: Any, personas: dict[str, Any]) -> None:
    from cyberqms.platform.trail.log import latest_checkpoint

    backup = backup_create(folder=tmp_path)
    sealed = latest_checkpoint()
    assert sealed is not None
    assert (backup.manifest["checkpoint"]["size"], backup.checkpoint_size) == (
        sealed.size, sealed.size)


@pytest.mark.django_db(transaction=True)
def test_the_sqlite_snapshot_opens_with_the_same_people(
        tmp_path: Path, settings: Any, personas: dict[str, Any]) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite snapshot; PostgreSQL's is pg_dump's custom format")
    backup = backup_create(folder=tmp_path)
    keys = derive(read_key(tmp_path / "backup.key", create=False))
    path = tmp_path / backup.file_name
    restored = tmp_path / "restored.sqlite3"
    restored.write_bytes(b"".join(read_part(path, keys, read_manifest(path, keys),
                                            "database.sqlite3")))
    with sqlite3.connect(restored) as db:
        people = sorted(u for (u,) in db.execute("SELECT username FROM accounts_user"))
    assert people == sorted(p.username for p in personas.values())


@pytest.mark.django_db(transaction=True)
def test_the_command_prints_where_the_backup_is(tmp_path: Path, settings: Any) -> None:
    out = io.StringIO()
    call_command("backup", "create", "--to", str(tmp_path), stdout=out)
    backup = Backup.objects.get()
    assert out.getvalue().splitlines()[-4] == f"Backup written: {tmp_path / backup.file_name}"


@pytest.mark.django_db(transaction=True)
def test_the_command_fails_with_a_message_when_the_key_is_unreadable(
        tmp_path: Path, settings: Any) -> None:
    (tmp_path / "backup.key").write_text("not base64 at all!\n")
    with pytest.raises(CommandError) as caught:
        call_command("backup", "create", "--to", str(tmp_path / "out"))
    assert (caught.value.returncode, str(caught.value).startswith(
        f"The backup key at {tmp_path / 'backup.key'} cannot be read")) == (1, True)


@pytest.mark.django_db(transaction=True)
def test_the_plain_snapshot_never_reaches_the_backup_folder(
        tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "backups"
    seen: list[list[str]] = []
    add = Writer.add

    def looking(self: Writer, name: str, source: Any, progress: Any = None) -> None:
        seen.append(sorted(p.name for p in folder.rglob("*")))
        add(self, name, source, progress)

    monkeypatch.setattr(Writer, "add", looking)
    backup = backup_create(folder=folder)
    assert seen == [[f"{backup.file_name}.partial"]]
