"""Attachment content: type and size checks, AES-256-GCM encryption at rest.

The key is derived (HKDF-SHA256) from `CYBERQMS_ATTACHMENT_KEY`, a secret kept outside
the database (generated once into the data directory, mode 0600, unless supplied through
the environment). Each file gets a fresh 96-bit nonce; the record it belongs to and its
SHA-256 are bound as associated data, so a ciphertext moved to another record, or swapped
with another file's, fails authentication instead of decrypting.

Type checks go by the file name's extension (an allow-list) *and* by content: binary
formats must start with their signature and text formats must be UTF-8 without NUL bytes,
so a renamed executable is refused; PDFs, Office files and archives are then opened and
checked in depth (`file_checks`: damaged, encrypted, macros, active content, bombs).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import PurePath

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ValidationError

from . import file_checks

_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "zip": (b"PK\x03\x04", b"PK\x05\x06"),
    "docx": (b"PK\x03\x04",),
    "xlsx": (b"PK\x03\x04",),
}
_TEXT = {"txt", "csv", "json", "xml", "log", "md"}
_CONTENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "zip": "application/zip",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "txt": "text/plain",
    "log": "text/plain",
    "md": "text/markdown",
    "csv": "text/csv",
    "json": "application/json",
    "xml": "application/xml",
}


class AttachmentIntegrityError(Exception):
    """A stored attachment failed authentication or its hash check."""


@dataclass(frozen=True)
class Sealed:
    key_id: str
    nonce: bytes
    ciphertext: bytes
    sha256: str
    size: int
    content_type: str
    filename: str


def _key() -> bytes:
    secret = str(settings.CYBERQMS_ATTACHMENT_KEY).encode()
    if not secret:
        raise RuntimeError("CYBERQMS_ATTACHMENT_KEY is empty")
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"cyberqms attachments v1"
    ).derive(secret)


def key_id() -> str:
    return hashlib.sha256(_key()).hexdigest()[:16]


def clean_filename(name: str) -> str:
    base = PurePath(name.replace("\\", "/")).name.strip()
    base = "".join(c for c in base if c.isprintable() and c not in '<>:"|?*')
    if not base or base in {".", ".."}:
        raise ValidationError({"file": ["The file needs a name."]})
    return base[:200]


def check_content(filename: str, data: bytes) -> str:
    """Validate type and size; returns the content type to store."""
    limit = settings.CYBERQMS_ATTACHMENT_MAX_BYTES
    if len(data) == 0:
        raise ValidationError({"file": ["The file is empty."]})
    if len(data) > limit:
        raise ValidationError({"file": [f"The file is larger than {limit // 1024} KiB."]})
    ext = PurePath(filename).suffix.lower().lstrip(".")
    allowed = {t.lower() for t in settings.CYBERQMS_ATTACHMENT_TYPES}
    if ext not in allowed:
        raise ValidationError({"file": [
            f"Files of type '.{ext}' are not accepted; allowed: {', '.join(sorted(allowed))}."
            if ext else "The file name needs an extension."
        ]})
    if ext in _SIGNATURES:
        if ext in ("docx", "xlsx") and data.startswith(file_checks.OLE):
            file_checks.inspect(ext, data)  # says: password-protected or old format
        if not data.startswith(_SIGNATURES[ext]):
            raise ValidationError({"file": [f"The content is not a .{ext} file."]})
        file_checks.inspect(ext, data)
    elif ext in _TEXT:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError({"file": ["A text file must be UTF-8."]}) from None
        if "\x00" in text:
            raise ValidationError({"file": ["A text file may not contain NUL bytes."]})
    return _CONTENT_TYPES.get(ext, "application/octet-stream")


def _aad(record_type: str, record_id: str, digest: str) -> bytes:
    return f"{record_type}\x1f{record_id}\x1f{digest}".encode()


def seal(record_type: str, record_id: str, filename: str, data: bytes) -> Sealed:
    name = clean_filename(filename)
    content_type = check_content(name, data)
    digest = hashlib.sha256(data).hexdigest()
    nonce = os.urandom(12)
    ciphertext = AESGCM(_key()).encrypt(nonce, data, _aad(record_type, record_id, digest))
    return Sealed(key_id(), nonce, ciphertext, digest, len(data), content_type, name)


def unseal(
    record_type: str, record_id: str, digest: str, nonce: bytes | memoryview,
    ciphertext: bytes | memoryview,
) -> bytes:
    try:
        data = AESGCM(_key()).decrypt(
            bytes(nonce), bytes(ciphertext), _aad(record_type, record_id, digest)
        )
    except InvalidTag:
        raise AttachmentIntegrityError("the stored file failed authentication") from None
    if hashlib.sha256(data).hexdigest() != digest:
        raise AttachmentIntegrityError("the stored file does not match its SHA-256")
    return data
