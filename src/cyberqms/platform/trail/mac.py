"""Entry authenticators: proof that cyberqms itself wrote an audit entry.

Checkpoints prove that sealed entries were not changed afterwards, but whoever can write
the database can append an entry at the tail before the next seal, and the sealer would
sign it. So every entry carries an authenticator that only the application can produce:
``key id (4 bytes) || HMAC-SHA256(key, leaf hash)``. The leaf hash covers the entry's whole
canonical body, its sequence number included, so no field can change and no entry can
move without the authenticator failing.

The keys live in the file `CYBERQMS_TRAIL_MAC_KEY_FILE`, outside the database, created
with mode 0600 on first use: one line per key, ``<key id hex> <base64 key>``, the newest
line current.
Rotation appends a key; entries made with older keys stay verifiable. Someone who can
read this file can forge entries (see the threat model in docs/audit-trail.md): keep it
with the signing key, readable only by the application's user.
"""

from __future__ import annotations

import base64
import contextlib
import enum
import fcntl
import hashlib
import hmac
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

KEY_BYTES = 32
ID_BYTES = 4
MAC_BYTES = ID_BYTES + 32
_lock = threading.Lock()
_cache: tuple[Path, float, MacKeys] | None = None


class MacKeyError(RuntimeError):
    """The authenticator key file is unreadable or malformed (an operator must look)."""


class Verdict(enum.Enum):
    VALID = "valid"
    MISSING = "missing"
    UNKNOWN_KEY = "unknown key"
    INVALID = "invalid"


@dataclass(frozen=True)
class MacKeys:
    keys: dict[bytes, bytes]  # key id -> key, every key the trail has used
    current: bytes  # the id of the key new entries use

    def authenticator(self, leaf: bytes) -> bytes:
        key_id = self.current
        return key_id + hmac.new(self.keys[key_id], leaf, hashlib.sha256).digest()

    def verdict(self, leaf: bytes, mac: bytes | memoryview | None) -> Verdict:
        if not mac:
            return Verdict.MISSING
        value = bytes(mac)
        key = self.keys.get(value[:ID_BYTES]) if len(value) == MAC_BYTES else None
        if key is None:
            return Verdict.INVALID if len(value) != MAC_BYTES else Verdict.UNKNOWN_KEY
        expected = hmac.new(key, leaf, hashlib.sha256).digest()
        return Verdict.VALID if hmac.compare_digest(expected, value[ID_BYTES:]) else (
            Verdict.INVALID
        )


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"cyberqms trail authenticator\n" + key).digest()[:ID_BYTES]


def mac_path() -> Path:
    return Path(settings.CYBERQMS_TRAIL_MAC_KEY_FILE)


def _line(key: bytes) -> str:
    return f"{key_id(key).hex()} {base64.b64encode(key).decode('ascii')}"


def _parse(path: Path, text: str) -> MacKeys:
    found: dict[bytes, bytes] = {}
    current = b""
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            ident_hex, encoded = line.split()
            key = base64.b64decode(encoded, validate=True)
            ident = bytes.fromhex(ident_hex)
        except ValueError as exc:
            raise MacKeyError(f"{path} line {number}: not '<key id> <base64 key>'") from exc
        if len(key) != KEY_BYTES or ident != key_id(key):
            raise MacKeyError(f"{path} line {number}: the key or its id is damaged")
        found[ident] = key
        current = ident
    if not found:
        raise MacKeyError(f"{path} holds no authenticator key")
    return MacKeys(found, current)


def _create(path: Path) -> None:
    """Write a first key; processes starting together agree on one (link, not rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(_line(secrets.token_bytes(KEY_BYTES)) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def mac_keys(*, create: bool = True) -> MacKeys:
    """Every authenticator key, read again only when the file changed.

    :raises MacKeyError: the file is missing (with ``create=False``) or damaged.
    """
    global _cache
    path = mac_path()
    with _lock:
        try:
            if create and not path.exists():
                _create(path)
            stat = path.stat()
            if _cache is not None and _cache[0] == path and _cache[1] == stat.st_mtime:
                return _cache[2]
            loaded = _parse(path, path.read_text(encoding="ascii"))
        except OSError as exc:
            raise MacKeyError(f"cannot read the trail authenticator key {path}: {exc}") from exc
        _cache = (path, stat.st_mtime, loaded)
        return loaded


def rotate() -> MacKeys:
    """Append a new current key; earlier entries stay verifiable with the older ones."""
    global _cache
    mac_keys()
    path = mac_path()
    with _lock, path.open("a", encoding="ascii") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.write(_line(secrets.token_bytes(KEY_BYTES)) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
        _cache = None
    return mac_keys()


def leaf_of(body: str) -> bytes:
    """The RFC 9162 leaf hash of an entry body (what the authenticator covers)."""
    return hashlib.sha256(b"\x00" + body.encode("utf-8")).digest()
