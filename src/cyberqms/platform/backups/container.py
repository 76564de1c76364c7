"""The backup file: parts encrypted in authenticated chunks, and a manifest that says what
they are, authenticated with the same key.

Layout (one file, written as `<name>.partial` and renamed when complete, so that a copy
cut short never looks like a backup)::

    body:    for each part, chunks: [u32 length][12-byte nonce][AES-256-GCM ciphertext+tag]
    trailer: [manifest JSON][32-byte HMAC-SHA256 of it][u32 manifest length]["CQBACKUP"]

Why AES-256-GCM through `cryptography` (already the attachment store's cipher) rather than
age: one maintained library for both, no second key format for operators to keep, and the
format is small enough to read in full here. Each chunk is sealed with a fresh random
nonce; its associated data names the backup, the part, the chunk's index and whether it is
the part's last, so that chunks cannot be reordered, moved between parts or backups, or
dropped from the end without the decryption failing. The manifest carries the plaintext
SHA-256 of every part and is authenticated by an HMAC under a key derived from the same
secret: a changed byte anywhere is found and named before anything is restored.

The key is 32 random bytes kept in a file outside the database and outside every backup
(`CYBERQMS_BACKUP_KEY_FILE`, created with mode 0600 on first use).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"CQBACKUP"
FORMAT = 1
CHUNK = 4 * 1024 * 1024
_LEN = struct.Struct(">I")
_NONCE = 12
_MAC = 32
SUFFIX = ".cqbackup"

Progress = Callable[[str, int], None]  # (part, bytes done in it)


class BackupError(Exception):
    """A backup that cannot be trusted or read, with where and why in words."""


@dataclass(frozen=True)
class Keys:
    enc: bytes
    mac: bytes
    key_id: str


def derive(secret: bytes) -> Keys:
    def hkdf(info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)

    return Keys(hkdf(b"cyberqms backup v1 encryption"), hkdf(b"cyberqms backup v1 manifest"),
                hashlib.sha256(hkdf(b"cyberqms backup v1 key id")).hexdigest()[:16])


def read_key(path: Path, *, create: bool) -> bytes:
    """The backup secret from `path` (base64 of 32 bytes); made there with mode 0600 when
    `create` and it does not exist yet."""
    if not path.exists():
        if not create:
            raise BackupError(f"No backup key at {path}: restore the key file from where it "
                              "is kept (it is never inside a backup).")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    try:
        secret = base64.b64decode(path.read_text(encoding="ascii").strip(), validate=True)
    except (OSError, ValueError) as exc:
        raise BackupError(f"The backup key at {path} cannot be read: {exc}") from exc
    if len(secret) != 32:
        raise BackupError(f"The backup key at {path} is not 32 bytes.")
    return secret


def _aad(backup_id: str, part: str, index: int, last: bool) -> bytes:
    return f"{backup_id}\x00{part}\x00{index}\x00{int(last)}".encode()


class Writer:
    """Writes a backup file part by part; `finish` adds the manifest and makes the file
    appear under its final name. Nothing is left under that name if it fails."""

    def __init__(self, path: Path, keys: Keys) -> None:
        self.path, self.keys = path, keys
        self.partial = path.with_name(path.name + ".partial")
        self.backup_id = secrets.token_hex(16)
        self.parts: list[dict[str, Any]] = []
        # Readable by the server's account only; closed by finish or abort.
        self._file: IO[bytes] = os.fdopen(
            os.open(self.partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")
        self.file_sha256 = hashlib.sha256()  # of the whole file, as written
        self.size = 0

    def _write(self, data: bytes) -> None:
        self._file.write(data)
        self.file_sha256.update(data)
        self.size += len(data)

    def add(self, name: str, source: IO[bytes], progress: Progress | None = None) -> None:
        aead, digest = AESGCM(self.keys.enc), hashlib.sha256()
        start, size, index = self.size, 0, 0
        block = source.read(CHUNK)
        while True:
            following = source.read(CHUNK) if block else b""
            last = not following
            digest.update(block)
            nonce = secrets.token_bytes(_NONCE)
            sealed = aead.encrypt(nonce, block, _aad(self.backup_id, name, index, last))
            self._write(_LEN.pack(len(sealed)) + nonce + sealed)
            size, index = size + len(block), index + 1
            if progress is not None:
                progress(name, size)
            if last:
                break
            block = following
        self.parts.append({"name": name, "size": size, "sha256": digest.hexdigest(),
                           "chunks": index, "offset": start,
                           "length": self.size - start})

    def finish(self, manifest: dict[str, Any]) -> dict[str, Any]:
        manifest = {**manifest, "format": FORMAT, "backup_id": self.backup_id,
                    "key_id": self.keys.key_id, "parts": self.parts}
        text = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
        mac = hmac.new(self.keys.mac, text, hashlib.sha256).digest()
        self._write(text + mac + _LEN.pack(len(text)) + MAGIC)
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self.partial, self.path)
        return manifest

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self._file.close()
        self.partial.unlink(missing_ok=True)


def read_manifest(path: Path, keys: Keys) -> dict[str, Any]:
    """The manifest of the backup at `path`, authenticated; refuses a truncated file, a
    changed manifest, another key's backup or a newer format, saying which."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            if size < len(MAGIC) + _LEN.size + _MAC:
                raise BackupError(f"{path.name}: too short to be a backup (truncated?).")
            handle.seek(size - len(MAGIC) - _LEN.size)
            tail = handle.read(_LEN.size + len(MAGIC))
            if tail[_LEN.size:] != MAGIC:
                raise BackupError(f"{path.name}: no manifest at the end: the file is "
                                  "truncated or not a cyberqms backup.")
            (length,) = _LEN.unpack(tail[:_LEN.size])
            start = size - len(MAGIC) - _LEN.size - _MAC - length
            if start < 0:
                raise BackupError(f"{path.name}: the manifest's length is wrong (damaged).")
            handle.seek(start)
            text, mac = handle.read(length), handle.read(_MAC)
    except OSError as exc:
        raise BackupError(f"{path.name}: cannot be read: {exc}") from exc
    try:
        manifest: dict[str, Any] = json.loads(text)
        claimed_key = str(manifest.get("key_id", ""))
    except (ValueError, AttributeError):
        manifest, claimed_key = {}, ""
    if not hmac.compare_digest(hmac.new(keys.mac, text, hashlib.sha256).digest(), mac):
        if claimed_key and claimed_key != keys.key_id:
            raise BackupError(f"{path.name}: made with another backup key (key id "
                              f"{claimed_key}; this key is {keys.key_id}).")
        raise BackupError(f"{path.name}: the manifest was changed or damaged (its "
                          "authentication fails).")
    if int(manifest.get("format", 0)) > FORMAT:
        raise BackupError(f"{path.name}: written in backup format {manifest['format']} by a "
                          f"newer cyberqms; this one reads format {FORMAT}.")
    body_end = start
    for part in manifest["parts"]:
        if part["offset"] + part["length"] > body_end:
            raise BackupError(f"{path.name}: part {part['name']} runs past the body "
                              "(truncated or damaged).")
    return manifest


def read_part(path: Path, keys: Keys, manifest: dict[str, Any], name: str,
              progress: Progress | None = None) -> Iterator[bytes]:
    """The plaintext of part `name`, chunk by chunk, each authenticated; the whole part's
    SHA-256 is checked against the manifest at its end."""
    part = next((p for p in manifest["parts"] if p["name"] == name), None)
    if part is None:
        raise BackupError(f"{path.name}: no part {name}.")
    aead, digest, done = AESGCM(keys.enc), hashlib.sha256(), 0
    with open(path, "rb") as handle:
        handle.seek(part["offset"])
        end = part["offset"] + part["length"]
        for index in range(part["chunks"]):
            where = handle.tell()
            head = handle.read(_LEN.size + _NONCE)
            if len(head) < _LEN.size + _NONCE:
                raise BackupError(f"{path.name}: part {name}, chunk {index + 1}: cut short.")
            (length,) = _LEN.unpack(head[:_LEN.size])
            if where + _LEN.size + _NONCE + length > end:
                raise BackupError(f"{path.name}: part {name}, chunk {index + 1} (at byte "
                                  f"{where:,}): its length is wrong (damaged).")
            sealed = handle.read(length)
            last = index == part["chunks"] - 1
            try:
                block = aead.decrypt(head[_LEN.size:], sealed,
                                     _aad(manifest["backup_id"], name, index, last))
            except InvalidTag:
                raise BackupError(f"{path.name}: part {name}, chunk {index + 1} of "
                                  f"{part['chunks']} (bytes {where:,} to "
                                  f"{where + _LEN.size + _NONCE + length:,}) does not "
                                  "decrypt: it was changed or damaged.") from None
            digest.update(block)
            done += len(block)
            if progress is not None:
                progress(name, done)
            yield block
    if done != part["size"] or digest.hexdigest() != part["sha256"]:
        raise BackupError(f"{path.name}: part {name} does not match the SHA-256 in its "
                          "manifest.")


def check(path: Path, keys: Keys, progress: Progress | None = None) -> dict[str, Any]:
    """Authenticate the manifest and every chunk of every part (nothing is written)."""
    manifest = read_manifest(path, keys)
    for part in manifest["parts"]:
        for _block in read_part(path, keys, manifest, part["name"], progress):
            pass
    return manifest
