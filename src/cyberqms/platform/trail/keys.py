"""The checkpoint signing key: kept in a file outside the database.

`CYBERQMS_TRAIL_KEY_FILE` holds the C2SP signer key (``PRIVATE+KEY+<origin>+<id>+<b64>``),
created with mode 0600 on first use. ``<key file>.pub`` lists every verifier key the log
has ever used, oldest first: the current one and all retired ones. Verification trusts
only that file, never the database, so someone who can write the database but not the
key file cannot forge a checkpoint. Rotation appends the new public key and replaces the
private key atomically; checkpoints signed by retired keys stay verifiable.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from cyberqms.platform.trail.note import (
    SignerKey,
    VerifierKey,
    generate_signer_key,
    parse_signer_key,
    parse_verifier_key,
    verifier_key_from_signer,
)

_lock = threading.Lock()
_cached: tuple[Path, float, SignerKey] | None = None


class KeyFileError(RuntimeError):
    """The key file is missing, unreadable or malformed (an operator must look)."""


@dataclass(frozen=True)
class KeyInfo:
    verifier: str
    key_id: str
    current: bool


def key_path() -> Path:
    return Path(settings.CYBERQMS_TRAIL_KEY_FILE)


def pub_path() -> Path:
    path = key_path()
    return path.with_name(path.name + ".pub")


def origin() -> str:
    return str(settings.CYBERQMS_TRAIL_ORIGIN)


def _write_private(path: Path, text: str, *, replace: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # A temporary name of its own: processes starting together on a fresh install must
    # not write into (or delete) each other's half-written key.
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(text + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            # Appears complete or not at all; the first process to link wins.
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _append_public(verifier: str) -> None:
    path = pub_path()
    if verifier in read_verifier_keys(strict=False):
        return  # the usual case; the file may well be read-only
    with path.open("a+", encoding="ascii") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # concurrent first uses append the key once
        handle.seek(0)
        if verifier in (line.strip() for line in handle.read().splitlines()):
            return
        handle.write(verifier + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def signer() -> SignerKey:
    """The current signer key, generated on first use."""
    global _cached
    path = key_path()
    with _lock:
        if not path.exists():
            _write_private(path, generate_signer_key(origin()), replace=False)
        try:
            stat = path.stat()
            if (
                _cached is not None
                and _cached[0] == path
                and _cached[1] == stat.st_mtime
                and _cached[2].name == origin()
            ):
                return _cached[2]
            text = path.read_text(encoding="ascii").strip()
            key = parse_signer_key(text)
        except (OSError, ValueError) as exc:
            raise KeyFileError(f"cannot use trail signing key {path}: {exc}") from exc
        if key.name != origin():
            raise KeyFileError(
                f"trail signing key {path} is for origin {key.name!r}, "
                f"but CYBERQMS_TRAIL_ORIGIN is {origin()!r}"
            )
        _append_public(verifier_key_from_signer(text))
        _cached = (path, stat.st_mtime, key)
        return key


def read_verifier_keys(*, strict: bool = True) -> list[str]:
    """Every verifier key in ``<key file>.pub``, oldest first."""
    path = pub_path()
    if not path.exists():
        return []
    keys = []
    for number, line in enumerate(path.read_text(encoding="ascii").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            parse_verifier_key(line)
        except ValueError as exc:
            if strict:
                raise KeyFileError(f"{path} line {number}: {exc}") from exc
            continue
        keys.append(line)
    return keys


def verifier_keys() -> list[str]:
    """The trusted verifier keys (ensures the current key exists first)."""
    signer()
    return read_verifier_keys()


def parsed_verifier_keys() -> list[VerifierKey]:
    return [parse_verifier_key(k) for k in verifier_keys()]


def key_infos() -> list[KeyInfo]:
    current = signer().verifier().encode()
    return [
        KeyInfo(verifier=k, key_id=parse_verifier_key(k).key_id.hex(), current=k == current)
        for k in verifier_keys()
    ]


def rotate() -> tuple[SignerKey, SignerKey]:
    """Make a new signer key current; returns ``(old, new)``.

    The new public key is appended to the ``.pub`` file before the private key is
    replaced, so a crash in between leaves the old key current and both trusted.
    """
    global _cached
    old = signer()
    text = generate_signer_key(origin())
    _append_public(verifier_key_from_signer(text))
    with _lock:
        _write_private(key_path(), text, replace=True)
        _cached = None
    return old, signer()
