"""Witnesses: copies of the signed checkpoints kept where the database's owner cannot reach.

Someone who owns the database can restore an older copy of it, or delete the newest
entries together with their checkpoints and rewind the log head: the database alone then
looks intact. Each signed checkpoint therefore also leaves the database:

* **directory witnesses**: the newest checkpoint as a file in each of
  `CYBERQMS_TRAIL_WITNESS_DIRS` (a remote mount, a WORM share) and always in the local
  one next to the signing key, written after every committed seal;
* **HTTP witnesses** (`CYBERQMS_TRAIL_WITNESSES`): services speaking the C2SP
  tlog-witness protocol (c2sp.org/tlog-witness). Each is sent the checkpoint with an
  RFC 9162 consistency proof from the size it cosigned last; it checks the proof and
  answers with a cosignature (c2sp.org/tlog-cosignature, Ed25519 cosignature/v1), which
  is verified here against the witness's configured key and kept with the local copy. A
  witness that has cosigned a larger tree than the database holds answers "409 Conflict"
  with its size: the database was rolled back, and a critical security event says so;
* **the SIEM** (when `CYBERQMS_SIEM_ADDRESS` is set): a `trail.checkpoint.published`
  security event carrying the signed note, forwarded like every security event.

`trail verify` compares the database with the newest witnessed checkpoint it can read
(the directories, or a file given with ``--against``) by a consistency proof, and says
plainly when there was none. HTTP witnesses are write-only by protocol; their verdict
arrives as the 409 above each time a checkpoint is published.

No library speaks tlog-witness from Python; the protocol is three lines of text and
the proofs are the trail's own (`trail.merkle`), so the client is written here.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import struct
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings

from cyberqms.platform.trail import keys
from cyberqms.platform.trail.note import NoteError, is_valid_key_name

logger = logging.getLogger("cyberqms.platform.trail")

ALG_COSIGNATURE_V1 = 0x04
MAX_PROOF_LINES = 63
TIMEOUT_S = 10.0
FILE_NAME = "trail-checkpoint"
_SIG_PREFIX = "\u2014 "


class WitnessError(RuntimeError):
    """A witness could not be reached or answered outside the protocol."""


class WitnessConfigError(ValueError):
    """A witness setting is malformed (named, with what is wrong)."""


# --- directory witnesses --------------------------------------------------------------------


@dataclass(frozen=True)
class DirectoryWitness:
    """The newest checkpoint as one file in a directory; it only ever moves forward."""

    directory: Path
    name: str = FILE_NAME
    local: bool = False  # the copy next to the signing key

    @property
    def path(self) -> Path:
        return self.directory / self.name

    def describe(self) -> str:
        if self.local:
            return f"local witness {self.path}"
        return f"witness directory {self.directory}"

    def read(self) -> str | None:
        """The stored note, ``None`` when there is none yet.

        :raises OSError: the directory cannot be read (an unmounted share, say).
        """
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def size(self) -> int | None:
        text = self.read()
        return _note_size(text) if text else None

    def write(self, size: int, note: str) -> bool:
        """Store `note` (for tree `size`) unless a larger tree is stored; True if written.

        A note for the same size replaces the stored one only when it carries more
        signature lines (the cosignatures witnesses returned).
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        with (self.directory / f".{self.name}.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            current = self.read()
            stored = _note_size(current) if current else None
            if stored is not None and current is not None and (
                stored > size or (stored == size and _signature_count(current)
                                  >= _signature_count(note))
            ):
                return False
            tmp = self.directory / f".{self.name}.{os.getpid()}.tmp"
            with tmp.open("w", encoding="utf-8") as handle:
                handle.write(note)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
            return True


def _note_size(note: str) -> int | None:
    lines = note.split("\n")
    try:
        return int(lines[1])
    except (IndexError, ValueError):
        return None


def _signature_count(note: str) -> int:
    return sum(1 for line in note.split("\n") if line.startswith(_SIG_PREFIX))


def local_witness() -> DirectoryWitness:
    """The witness next to the signing key: always kept, whatever else is configured."""
    path = keys.key_path()
    return DirectoryWitness(path.parent, path.name + ".checkpoint", local=True)


def directory_witnesses() -> list[DirectoryWitness]:
    configured = [DirectoryWitness(Path(d)) for d in settings.CYBERQMS_TRAIL_WITNESS_DIRS]
    return [local_witness(), *configured]


# --- cosigner keys and cosignatures ---------------------------------------------------------


@dataclass(frozen=True)
class CosignerKey:
    """A witness's Ed25519 cosignature/v1 verifier key (a vkey with type byte 0x04)."""

    name: str
    key_id: bytes
    public_key: bytes

    def encode(self) -> str:
        raw = bytes([ALG_COSIGNATURE_V1]) + self.public_key
        return f"{self.name}+{self.key_id.hex()}+{base64.b64encode(raw).decode('ascii')}"


def cosigner_key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(
        name.encode("utf-8") + b"\n" + bytes([ALG_COSIGNATURE_V1]) + public_key
    ).digest()[:4]


def parse_cosigner_key(text: str) -> CosignerKey:
    """Parse ``<name>+<hex id>+<base64(0x04 || Ed25519 public key)>``.

    :raises WitnessConfigError: naming what is wrong.
    """
    name, _, rest = text.strip().partition("+")
    hex_id, _, encoded = rest.partition("+")
    if not is_valid_key_name(name) or not hex_id or not encoded:
        raise WitnessConfigError("a witness key must read <name>+<key id>+<base64 key>")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WitnessConfigError("the witness key is not valid base64") from exc
    if len(raw) != 33 or raw[0] != ALG_COSIGNATURE_V1:
        raise WitnessConfigError(
            "the witness key must be an Ed25519 cosignature/v1 key (type 0x04, 32 bytes)"
        )
    key = CosignerKey(name, cosigner_key_id(name, raw[1:]), raw[1:])
    if key.key_id.hex() != hex_id:
        raise WitnessConfigError("the witness key id does not match its name and key")
    return key


def cosigned_message(checkpoint_text: str, timestamp: int) -> bytes:
    """What a cosignature/v1 signs: header, time line, then the checkpoint's note body."""
    return f"cosignature/v1\ntime {timestamp}\n".encode() + checkpoint_text.encode("utf-8")


def verified_cosignatures(
    checkpoint_text: str, lines: Iterable[str], key: CosignerKey
) -> list[str]:
    """The signature lines in `lines` that are valid cosignatures by `key`.

    Lines by other keys are ignored (the protocol lets a witness return several).
    """
    valid = []
    public = Ed25519PublicKey.from_public_bytes(key.public_key)
    for line in lines:
        if not line.startswith(_SIG_PREFIX):
            continue
        name, _, encoded = line[len(_SIG_PREFIX):].partition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        if name != key.name or len(raw) != 4 + 8 + 64 or raw[:4] != key.key_id:
            continue
        (timestamp,) = struct.unpack(">Q", raw[4:12])
        try:
            public.verify(raw[12:], cosigned_message(checkpoint_text, timestamp))
        except InvalidSignature:
            continue
        valid.append(line)
    return valid


# --- HTTP witnesses (c2sp.org/tlog-witness) ------------------------------------------------


@dataclass(frozen=True)
class AddResult:
    """A witness's answer to add-checkpoint."""

    status: int
    cosignatures: list[str] = field(default_factory=list)
    witness_size: int | None = None  # from a 409: the size the witness cosigned last
    message: str = ""


@dataclass(frozen=True)
class HttpWitness:
    url: str  # the submission prefix; add-checkpoint is appended
    key: CosignerKey

    def describe(self) -> str:
        return f"witness {self.key.name} at {self.url}"

    def add_checkpoint(self, old_size: int, proof: list[bytes], note: str) -> AddResult:
        """POST the checkpoint with a consistency proof from `old_size`.

        :raises WitnessError: the witness could not be reached or spoke outside the protocol.
        """
        if len(proof) > MAX_PROOF_LINES:
            raise WitnessError(f"a consistency proof of {len(proof)} hashes is too long")
        body = f"old {old_size}\n" + "".join(
            base64.b64encode(h).decode("ascii") + "\n" for h in proof
        ) + "\n" + note
        request = urllib.request.Request(  # noqa: S310  (URL scheme checked in configured())
            self.url.rstrip("/") + "/add-checkpoint", data=body.encode("utf-8"),
            method="POST", headers={"Content-Type": "text/plain; charset=utf-8"},
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310
                text = response.read(64 * 1024).decode("utf-8", "replace")
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
            text = exc.read(64 * 1024).decode("utf-8", "replace")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise WitnessError(f"{self.describe()} cannot be reached: {reason}") from exc
        if status == 200:
            lines = text.splitlines()
            return AddResult(200, verified_cosignatures(note_text(note), lines, self.key))
        if status == 409:
            first = text.strip().split("\n", 1)[0]
            size = int(first) if first.isdigit() else None
            return AddResult(409, witness_size=size, message=text.strip()[:200])
        return AddResult(status, message=text.strip()[:200])


def configured_witnesses() -> list[HttpWitness]:
    """The HTTP witnesses of `CYBERQMS_TRAIL_WITNESSES`: ``<URL> <witness key>`` items.

    :raises WitnessConfigError: an item is malformed.
    """
    found = []
    for number, item in enumerate(settings.CYBERQMS_TRAIL_WITNESSES, 1):
        parts = item.split()
        if len(parts) != 2:
            raise WitnessConfigError(
                f"CYBERQMS_TRAIL_WITNESSES item {number} must be '<URL> <witness key>'"
            )
        url, vkey = parts
        if not url.startswith(("https://", "http://")):
            raise WitnessConfigError(
                f"CYBERQMS_TRAIL_WITNESSES item {number}: the URL must start with https://"
            )
        try:
            found.append(HttpWitness(url, parse_cosigner_key(vkey)))
        except WitnessConfigError as exc:
            raise WitnessConfigError(f"CYBERQMS_TRAIL_WITNESSES item {number}: {exc}") from exc
    return found


# --- what was sent where: a small state file next to the key --------------------------------


def state_path() -> Path:
    path = keys.key_path()
    return path.with_name(path.name + ".witnesses.json")


def read_state() -> dict[str, Any]:
    """Sizes last accepted by each HTTP witness and the SIEM (a hint: 409 corrects it)."""
    with contextlib.suppress(FileNotFoundError, ValueError):
        loaded = json.loads(state_path().read_text(encoding="utf-8"))
        if isinstance(loaded, dict):
            return loaded
    return {}


def write_state(state: dict[str, Any]) -> None:
    path = state_path()
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def note_text(note: str) -> str:
    """The note body (the checkpoint text) without its signature lines."""
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line before its signatures")
    return note[: split + 1]


def with_cosignatures(note: str, cosignatures: Iterable[str]) -> str:
    """`note` with the cosignature lines added that it does not carry yet."""
    present = set(note.rstrip("\n").split("\n"))
    extra = [line for line in cosignatures if line not in present]
    return note + "".join(line + "\n" for line in extra)


__all__ = [
    "AddResult",
    "CosignerKey",
    "DirectoryWitness",
    "HttpWitness",
    "WitnessConfigError",
    "WitnessError",
    "configured_witnesses",
    "cosigned_message",
    "directory_witnesses",
    "local_witness",
    "note_text",
    "parse_cosigner_key",
    "verified_cosignatures",
]
