"""C2SP signed notes (c2sp.org/signed-note) and checkpoints (c2sp.org/tlog-checkpoint).

A *checkpoint* states "the trail named ORIGIN had SIZE entries with Merkle
root ROOT" and is signed as a *note*, so that anyone holding the verifier key
can later prove the trail was not rewritten (a consistency proof from the
checkpoint's size to the current tree must exist, RFC 9162 §2.1.4).  The
formats are the ones used by Go's ``golang.org/x/mod/sumdb/note`` and the
transparency-dev ecosystem, so third-party tools (witnesses, monitors) can
consume our checkpoints.

Signed note (signed-note §Format)::

    <text, ending in "\\n">
    <blank line>
    — <key name> <base64(4-byte key ID || signature)>\\n     (one or more)

Only Ed25519 (signature type 0x01) is implemented.  Key ID (signed-note
§Ed25519 signatures)::

    key ID = SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4]

Key encodings follow the Go ``note`` package: verifier key
``<name>+<hex key ID>+<base64(0x01 || public key)>``, signer key
``PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || 32-byte seed)>``.

Verification rules (signed-note §Signatures): signatures by unknown keys are
ignored; a signature by a known key that fails to verify rejects the note
(:class:`SignatureError`); a note without any verified signature is rejected
(:class:`UnverifiedNoteError`).  Key rotation is therefore "sign with old and
new key during the overlap, verify with whichever keys you trust".

Signature blobs must be canonical base64 (Go's encoder always produces that;
its decoder would also accept non-zero padding bits).  Being strict means no
byte of a stored note can change without the change being detected.

Every error is a :class:`NoteError`, a subclass of :class:`ValueError`,
whose message names the problem; parsing never raises anything else.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

__all__ = [
    "ALG_ED25519",
    "MAX_SIGNATURES",
    "Checkpoint",
    "NoteError",
    "NoteSignature",
    "SignatureError",
    "SignerKey",
    "UnverifiedNoteError",
    "VerifiedNote",
    "VerifierKey",
    "format_checkpoint",
    "generate_signer_key",
    "is_valid_key_name",
    "key_id",
    "open_checkpoint",
    "open_note",
    "parse_checkpoint",
    "parse_signer_key",
    "parse_time_extension",
    "parse_verifier_key",
    "sign_note",
    "time_extension",
    "verifier_key_from_signer",
]

#: Signature type byte for Ed25519 (signed-note §Signature types).
ALG_ED25519: Final = 0x01
#: Upper bound on signature lines (the spec requires accepting at least 16;
#: Go's ``note.Open`` stops at 100).
MAX_SIGNATURES: Final = 100

_SIG_PREFIX: Final = "\u2014 "  # em dash, space
_CONTROL: Final = re.compile("[\x00-\x09\x0b-\x1f]")
_HEX8: Final = re.compile("[0-9a-f]{8}")
_DECIMAL: Final = re.compile("0|[1-9][0-9]{0,19}")
_TIME: Final = re.compile(
    r"time ([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.([0-9]{1,6}))?Z"
)
_MAX_TREE_SIZE: Final = 2**63 - 1


class NoteError(ValueError):
    """A key, note or checkpoint is malformed or does not verify."""


class SignatureError(NoteError):
    """A signature by a known (trusted) key failed to verify."""


class UnverifiedNoteError(NoteError):
    """The note is well-formed but carries no signature by a trusted key."""


def is_valid_key_name(name: str) -> bool:
    """Key names are non-empty, without Unicode spaces or ``+`` (signed-note §Format).

    Control characters are also refused (they are illegal anywhere in a note).
    """
    return (
        isinstance(name, str)
        and name != ""
        and "+" not in name
        and not any(ch.isspace() for ch in name)
        and _CONTROL.search(name) is None
        and _is_unicode(name)
    )


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def key_id(name: str, public_key: bytes) -> bytes:
    """``SHA-256(name || 0x0A || 0x01 || public_key)[:4]`` (signed-note §Ed25519)."""
    return hashlib.sha256(
        name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + public_key
    ).digest()[:4]


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise NoteError(f"{what} is not valid base64") from exc


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass(frozen=True)
class VerifierKey:
    """A named Ed25519 public key that can verify note signatures."""

    name: str
    key_id: bytes
    public_key: bytes

    def verify(self, message: bytes, signature: bytes) -> bool:
        """``True`` iff ``signature`` is a valid Ed25519 signature of ``message``."""
        if len(signature) != 64:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def encode(self) -> str:
        """``<name>+<hex id>+<base64(0x01 || public key)>``."""
        return (
            f"{self.name}+{self.key_id.hex()}+{_b64encode(bytes([ALG_ED25519]) + self.public_key)}"
        )

    def __str__(self) -> str:
        return self.encode()


@dataclass(frozen=True)
class SignerKey:
    """A named Ed25519 private key.  ``repr`` never shows the seed."""

    name: str
    key_id: bytes
    seed: bytes = field(repr=False)

    def _private(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.seed)

    def public_key(self) -> bytes:
        """The 32-byte raw Ed25519 public key."""
        return (
            self._private()
            .public_key()
            .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )

    def sign(self, message: bytes) -> bytes:
        """Ed25519 signature (RFC 8032) of ``message``."""
        return self._private().sign(message)

    def verifier(self) -> VerifierKey:
        """The matching :class:`VerifierKey`."""
        return VerifierKey(self.name, self.key_id, self.public_key())

    def encode(self) -> str:
        """``PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>`` - keep secret."""
        return (
            f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+"
            f"{_b64encode(bytes([ALG_ED25519]) + self.seed)}"
        )


def _split_key(text: str, what: str) -> tuple[str, str, bytes]:
    """Split ``name+hexid+base64`` and decode the last two parts."""
    name, sep1, rest = text.partition("+")
    hex_id, sep2, b64 = rest.partition("+")
    if not sep1 or not sep2:
        raise NoteError(f"{what} must have the form <name>+<hex key id>+<base64 key>")
    if not is_valid_key_name(name):
        raise NoteError(f"{what} has an invalid key name {name!r}")
    if _HEX8.fullmatch(hex_id) is None:
        raise NoteError(f"{what} key id {hex_id!r} is not 8 lowercase hex digits")
    raw = _b64decode(b64, f"{what} key material")
    if len(raw) != 33:
        raise NoteError(f"{what} key material must be 33 bytes (type byte + 32), got {len(raw)}")
    if raw[0] != ALG_ED25519:
        raise NoteError(f"{what} uses unsupported signature type 0x{raw[0]:02x} (only Ed25519)")
    return name, hex_id, raw[1:]


def parse_verifier_key(text: str) -> VerifierKey:
    """Parse ``<name>+<hex id>+<base64(0x01 || pubkey)>``; checks the key ID.

    :raises NoteError: with the reason, for any malformed input.
    """
    if not isinstance(text, str):
        raise NoteError("verifier key must be a string")
    name, hex_id, public_key = _split_key(text.strip(), "verifier key")
    expected = key_id(name, public_key)
    if expected.hex() != hex_id:
        raise NoteError(
            f"verifier key id {hex_id} does not match its name and public key "
            f"(expected {expected.hex()})"
        )
    try:
        Ed25519PublicKey.from_public_bytes(public_key)
    except ValueError as exc:
        raise NoteError("verifier key is not a valid Ed25519 public key") from exc
    return VerifierKey(name, expected, public_key)


def parse_signer_key(text: str) -> SignerKey:
    """Parse ``PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>``; checks the key ID.

    :raises NoteError: with the reason (never echoing the secret).
    """
    if not isinstance(text, str):
        raise NoteError("signer key must be a string")
    text = text.strip()
    if not text.startswith("PRIVATE+KEY+"):
        raise NoteError("signer key must start with PRIVATE+KEY+")
    name, hex_id, seed = _split_key(text[len("PRIVATE+KEY+") :], "signer key")
    signer = SignerKey(name, bytes.fromhex(hex_id), seed)
    expected = key_id(name, signer.public_key())
    if expected.hex() != hex_id:
        raise NoteError(
            f"signer key id {hex_id} does not match its name and derived public key "
            f"(expected {expected.hex()})"
        )
    return signer


def generate_signer_key(name: str) -> str:
    """Create a fresh Ed25519 signer key string for ``name`` (keep it secret)."""
    if not is_valid_key_name(name):
        raise NoteError(f"invalid key name {name!r}: non-empty, no spaces, no '+'")
    seed = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    signer = SignerKey(name, b"", seed)
    return SignerKey(name, key_id(name, signer.public_key()), seed).encode()


def verifier_key_from_signer(signer: str) -> str:
    """The public verifier key string for a signer key string."""
    return parse_signer_key(signer).verifier().encode()


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, 4-byte key ID and the base64 blob."""

    name: str
    key_id: bytes
    base64: str


@dataclass(frozen=True)
class VerifiedNote:
    """Result of :func:`open_note`: the signed text and who signed it."""

    text: str
    signatures: tuple[NoteSignature, ...]
    unverified_signatures: tuple[NoteSignature, ...]

    @property
    def signer_names(self) -> tuple[str, ...]:
        """``name+hexid`` of each verified signature, in note order."""
        return tuple(f"{s.name}+{s.key_id.hex()}" for s in self.signatures)


def _check_text(text: str, what: str) -> None:
    if not isinstance(text, str):
        raise NoteError(f"{what} must be a string")
    match = _CONTROL.search(text)
    if match is not None:
        raise NoteError(
            f"{what} contains control character U+{ord(match.group()):04X} "
            "(only newline is allowed)"
        )
    if not _is_unicode(text):
        raise NoteError(f"{what} is not valid Unicode (lone surrogate)")


def _coerce_signer(key: str | SignerKey) -> SignerKey:
    return key if isinstance(key, SignerKey) else parse_signer_key(key)


def _coerce_verifier(key: str | VerifierKey) -> VerifierKey:
    return key if isinstance(key, VerifierKey) else parse_verifier_key(key)


def sign_note(text: str, signer_keys: Sequence[str | SignerKey]) -> str:
    """Sign ``text`` with every key; return the signed note (signed-note §Format).

    The signature covers the UTF-8 text including its final newline.

    :raises NoteError: text not ending in newline, control characters, no keys.
    """
    _check_text(text, "note text")
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    signers = [_coerce_signer(k) for k in signer_keys]
    if not signers:
        raise NoteError("at least one signer key is required")
    message = text.encode("utf-8")
    lines: list[str] = []
    seen: set[tuple[str, bytes]] = set()
    for signer in signers:
        if (signer.name, signer.key_id) in seen:
            continue
        seen.add((signer.name, signer.key_id))
        blob = _b64encode(signer.key_id + signer.sign(message))
        lines.append(f"{_SIG_PREFIX}{signer.name} {blob}\n")
    return text + "\n" + "".join(lines)


def _parse_note(note: str) -> tuple[str, list[tuple[NoteSignature, bytes, str]]]:
    """Split a note into text and ``(signature, raw signature bytes, line)``."""
    _check_text(note, "note")
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line before its signatures")
    text = note[: split + 1]
    block = note[split + 2 :]
    if not block or not block.endswith("\n"):
        raise NoteError("note must end with signature lines terminated by a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has more than {MAX_SIGNATURES} signatures")
    parsed: list[tuple[NoteSignature, bytes, str]] = []
    for number, line in enumerate(lines, 1):
        if not line.startswith(_SIG_PREFIX):
            raise NoteError(f"signature line {number} does not start with an em dash and space")
        name, sep, b64 = line[len(_SIG_PREFIX) :].partition(" ")
        if not sep or not is_valid_key_name(name) or not b64:
            raise NoteError(f"signature line {number} must be '— <key name> <base64>'")
        raw = _b64decode(b64, f"signature line {number}")
        if _b64encode(raw) != b64:
            raise NoteError(f"signature line {number} is not canonical base64")
        if len(raw) < 5:
            raise NoteError(f"signature line {number} is too short to hold a key id and signature")
        parsed.append((NoteSignature(name, raw[:4], b64), raw[4:], line))
    return text, parsed


def open_note(note: str, verifier_keys: Iterable[str | VerifierKey]) -> VerifiedNote:
    """Parse ``note`` and verify its signatures against ``verifier_keys``.

    Follows signed-note §Signatures: unknown keys are ignored (returned as
    ``unverified_signatures``), a failing known key raises
    :class:`SignatureError`, no verified signature raises
    :class:`UnverifiedNoteError`.

    :raises NoteError: (a ``ValueError``) for every malformed or unverified note.
    """
    known: dict[tuple[str, bytes], VerifierKey] = {}
    for key in verifier_keys:
        verifier = _coerce_verifier(key)
        slot = (verifier.name, verifier.key_id)
        other = known.get(slot)
        if other is not None and other.public_key != verifier.public_key:
            raise NoteError(f"ambiguous verifier keys for {verifier.name}+{verifier.key_id.hex()}")
        known[slot] = verifier
    text, parsed = _parse_note(note)
    message = text.encode("utf-8")
    verified: list[NoteSignature] = []
    unverified: list[NoteSignature] = []
    seen_known: set[tuple[str, bytes]] = set()
    seen_lines: set[str] = set()
    for signature, raw, line in parsed:
        slot = (signature.name, signature.key_id)
        trusted = known.get(slot)
        if trusted is None:
            if line not in seen_lines:
                seen_lines.add(line)
                unverified.append(signature)
            continue
        if slot in seen_known:
            continue
        seen_known.add(slot)
        if not trusted.verify(message, raw):
            raise SignatureError(
                f"invalid signature by trusted key {signature.name}+{signature.key_id.hex()}"
            )
        verified.append(signature)
    if not verified:
        present = ", ".join(f"{s.name}+{s.key_id.hex()}" for s in unverified) or "none"
        raise UnverifiedNoteError(f"note has no signature by a trusted key (present: {present})")
    return VerifiedNote(text, tuple(verified), tuple(unverified))


@dataclass(frozen=True)
class Checkpoint:
    """A parsed tlog checkpoint body (c2sp.org/tlog-checkpoint §Note text)."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    @property
    def time(self) -> datetime | None:
        """The ``time`` extension as an aware UTC datetime, if present.

        :raises NoteError: if a ``time`` extension line is malformed.
        """
        for line in self.extensions:
            if line.startswith("time "):
                return parse_time_extension(line)
        return None

    def text(self) -> str:
        """The checkpoint body, as :func:`format_checkpoint` writes it."""
        return format_checkpoint(self.origin, self.size, self.root_hash, self.extensions)


def _check_line(line: str, what: str) -> None:
    if not isinstance(line, str) or not line:
        raise NoteError(f"{what} must be a non-empty string")
    if "\n" in line:
        raise NoteError(f"{what} must not contain a newline")
    _check_text(line, what)


def format_checkpoint(origin: str, size: int, root: bytes, extensions: Sequence[str] = ()) -> str:
    """``origin\\nsize\\nbase64(root)\\n`` plus extension lines (tlog-checkpoint)."""
    _check_line(origin, "checkpoint origin")
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= _MAX_TREE_SIZE:
        raise NoteError("checkpoint size must be an int in [0, 2**63)")
    if not isinstance(root, bytes) or len(root) != 32:
        raise NoteError("checkpoint root must be a 32-byte SHA-256 hash")
    if isinstance(extensions, str):
        raise NoteError("checkpoint extensions must be a sequence of lines, not a string")
    for line in extensions:
        _check_line(line, "checkpoint extension line")
    body = f"{origin}\n{size}\n{_b64encode(root)}\n"
    return body + "".join(f"{line}\n" for line in extensions)


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint body (the text of an opened note).

    Enforces tlog-checkpoint §Note text: at least three non-empty lines,
    decimal size without leading zeros, canonical base64 of a 32-byte root,
    non-empty extension lines.

    :raises NoteError: naming the offending line.
    """
    _check_text(text, "checkpoint")
    if not text.endswith("\n"):
        raise NoteError("checkpoint must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("checkpoint needs origin, size and root hash lines")
    for number, line in enumerate(lines, 1):
        if not line:
            raise NoteError(f"checkpoint line {number} is empty")
    origin, size_line, root_line, *extensions = lines
    if _DECIMAL.fullmatch(size_line) is None:
        raise NoteError(
            f"checkpoint size {size_line[:40]!r} is not a decimal without leading zeros"
        )
    size = int(size_line)
    if size > _MAX_TREE_SIZE:
        raise NoteError("checkpoint size exceeds 2**63 - 1")
    root = _b64decode(root_line, "checkpoint root hash")
    if len(root) != 32:
        raise NoteError(f"checkpoint root hash must be 32 bytes, got {len(root)}")
    if _b64encode(root) != root_line:
        raise NoteError("checkpoint root hash is not canonical base64")
    return Checkpoint(origin, size, root, tuple(extensions))


def open_checkpoint(
    note: str,
    verifier_keys: Iterable[str | VerifierKey],
    origin: str | None = None,
) -> tuple[Checkpoint, VerifiedNote]:
    """:func:`open_note` then :func:`parse_checkpoint`; optionally check the origin."""
    opened = open_note(note, verifier_keys)
    checkpoint = parse_checkpoint(opened.text)
    if origin is not None and checkpoint.origin != origin:
        raise NoteError(f"checkpoint origin {checkpoint.origin!r} is not {origin!r}")
    return checkpoint, opened


def time_extension(when: datetime) -> str:
    """The project's ``time <RFC 3339 UTC>`` checkpoint extension line.

    Example: ``time 2025-01-02T03:04:05Z``.

    Microseconds are kept when non-zero.  ``when`` must be timezone-aware.
    """
    if not isinstance(when, datetime) or when.tzinfo is None or when.utcoffset() is None:
        raise NoteError("time extension needs a timezone-aware datetime")
    utc = when.astimezone(UTC)
    stamp = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        stamp += f".{utc.microsecond:06d}".rstrip("0")
    return f"time {stamp}Z"


def parse_time_extension(line: str) -> datetime:
    """Parse ``time YYYY-MM-DDTHH:MM:SS[.ffffff]Z`` into an aware UTC datetime."""
    match = _TIME.fullmatch(line) if isinstance(line, str) else None
    if match is None:
        raise NoteError(f"malformed time extension {str(line)[:60]!r}")
    try:
        parsed = datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError as exc:
        raise NoteError(f"invalid date in time extension {line!r}") from exc
    fraction = match.group(2)
    if fraction:
        parsed = parsed.replace(microsecond=int(fraction.ljust(6, "0")))
    return parsed
