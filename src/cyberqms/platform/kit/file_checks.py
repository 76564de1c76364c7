"""What an uploaded file is, judged by its content rather than its name.

`attachments.check_content` has already matched the first bytes against the extension;
here the formats that carry structure are opened and checked for what would make them
unsafe or unusable as a GxP record:

* PDF: parsed with pypdf (a damaged file is refused); encrypted or password-protected
  files are refused (the system must be able to read, render and verify what it keeps);
  active content is refused: JavaScript, launch actions and embedded files, which a reader
  may run or open (the PDF counterpart of Office macros).
* Office Open XML (DOCX, XLSX) and ZIP: the archive is read in full, every member
  decompressed in bounded steps, so its *real* expanded size and member count are measured,
  whatever the headers claim (an archive bomb stops at the limit, not after it). Office
  packages must hold their content-types part and main part; macro projects (vbaProject,
  macro-enabled content types) are refused; a password-protected Office file (an OLE
  container, not a ZIP) gets its own message.

Every refusal is a `ValidationError` on the field `file` that says what is wrong and what
to do; nothing here raises anything else for any input (the fuzz tests hold it to that).
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Compound File: .doc, .xls, encrypted OOXML
_STEP = 64 * 1024
_OFFICE_MAIN = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}
_MACRO_MARKERS = ("vbaproject", "vbadata", "macroenabled", "activex")
# PDF actions that run or open something: never in a controlled record.
_ACTIVE = {"/JavaScript", "/JS", "/Launch", "/EmbeddedFile", "/EmbeddedFiles",
           "/RichMedia", "/SubmitForm", "/ImportData"}


def refuse(message: str) -> ValidationError:
    return ValidationError({"file": [message]})


def inspect(ext: str, data: bytes) -> None:
    """Refuse `data` (of extension `ext`) when its content is unsafe or unusable."""
    if ext == "pdf":
        pdf_reader(data)
    elif ext in _OFFICE_MAIN:
        office_members(ext, data)
    elif ext == "zip":
        archive_members(data)


# --- archives -----------------------------------------------------------------------------


def expanded_limit() -> int:
    limit: int = settings.CYBERQMS_ATTACHMENT_MAX_EXPANDED_BYTES
    return limit


def archive_members(data: bytes, *, what: str = "archive") -> dict[str, bytes]:
    """Every member of the ZIP `data`, decompressed; refused past the expansion limit, the
    member count, or when the archive is damaged or encrypted."""
    limit, count_limit = expanded_limit(), settings.CYBERQMS_ATTACHMENT_MAX_MEMBERS
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError,
            NotImplementedError, IndexError, KeyError):
        raise refuse(f"The {what} is damaged: it cannot be opened as a ZIP package.") from None
    if len(infos) > count_limit:
        raise refuse(f"The {what} holds more than {count_limit} files.")
    out: dict[str, bytes] = {}
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise refuse(f"The {what} is encrypted: upload it without a password.")
        if info.is_dir():
            continue
        chunks: list[bytes] = []
        for chunk in _member(archive, info, what):
            total += len(chunk)
            if total > limit:
                raise refuse(f"The {what} expands to more than {limit // (1024 * 1024)} MiB "
                             "when unpacked; it is refused as a possible archive bomb.")
            chunks.append(chunk)
        out[info.filename] = b"".join(chunks)
    return out


def _member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, what: str) -> Iterator[bytes]:
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(_STEP):
                yield chunk
    except (zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError, KeyError,
            NotImplementedError, RuntimeError, IndexError, TypeError):
        # RuntimeError: a member that needs a password; NotImplementedError: a compression
        # method Python does not have; the rest: damaged data or headers.
        raise refuse(f"The {what} is damaged: '{info.filename[:80]}' cannot be "
                     "unpacked.") from None


def office_members(ext: str, data: bytes) -> dict[str, bytes]:
    """The members of an Office Open XML package, checked: a valid package of its kind,
    without macros."""
    label = ext.upper()
    if data.startswith(OLE):
        raise refuse(f"This is not a plain .{ext} file: it is password-protected or in the "
                     f"old binary Office format. Save it as a .{ext} without a password.")
    members = archive_members(data, what=f"{label} file")
    names = {name.lower(): name for name in members}
    for part in ("[Content_Types].xml", _OFFICE_MAIN[ext]):
        if part.lower() not in names:
            raise refuse(f"The file is not a valid {label} package: its part {part} is "
                         "missing.")
    types = members[names["[content_types].xml"]].lower()
    if any(m.encode() in types for m in _MACRO_MARKERS) or any(
            m in name for name in names for m in _MACRO_MARKERS):
        raise refuse(f"The {label} file holds macros or ActiveX controls, which are not "
                     f"accepted: save it as a plain .{ext} without macros.")
    return members


# --- PDF ----------------------------------------------------------------------------------


def pdf_reader(data: bytes) -> Any:
    """A pypdf reader over `data`, its pages counted; refused when damaged, encrypted or
    carrying active content."""
    from pypdf import PdfReader  # imported when a PDF is first checked

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
    except Exception:  # pypdf raises many types (even bare ones) on a damaged file
        raise refuse("The PDF is damaged: it cannot be read.") from None
    if encrypted:
        raise refuse("The PDF is encrypted or password-protected; upload it without "
                     "protection, so that it can be read, rendered and verified.")
    try:
        pages = len(reader.pages)
        active = _active_content(reader)
    except Exception:  # as above: damage shows as any exception
        raise refuse("The PDF is damaged: its pages cannot be read.") from None
    if pages == 0:
        raise refuse("The PDF has no pages.")
    if pages > settings.CYBERQMS_DOCUMENT_MAX_PAGES:
        raise refuse(f"The PDF has more than {settings.CYBERQMS_DOCUMENT_MAX_PAGES} pages.")
    if active:
        raise refuse(f"The PDF holds active content ({active}), which is not accepted: "
                     "print it to a plain PDF first.")
    return reader


def _active_content(reader: Any) -> str:
    """The first kind of active content found in the catalog, its name tree, its open
    action, or a page's actions and annotations; "" for none."""
    root = reader.trailer["/Root"].get_object()
    names = root.get("/Names")
    if names is not None:
        names = names.get_object()
        for key in ("/JavaScript", "/EmbeddedFiles"):
            if key in names:
                return _worded(key)
    for key in ("/OpenAction", "/AA"):
        found = _action(root.get(key))
        if found:
            return found
    for page in reader.pages:
        found = _action(page.get("/AA"))
        if found:
            return found
        annotations = page.get("/Annots")
        for annotation in (annotations.get_object() if annotations is not None else []):
            annotation = annotation.get_object()
            if annotation.get("/Subtype") in ("/FileAttachment", "/RichMedia"):
                return _worded("/EmbeddedFile")
            for key in ("/A", "/AA"):
                found = _action(annotation.get(key))
                if found:
                    return found
    return ""


def _action(value: Any, depth: int = 0) -> str:
    """The active kind of an action (or a dictionary of actions), following /Next."""
    if value is None or depth > 8:
        return ""
    value = value.get_object()
    if not hasattr(value, "get"):
        return ""
    kind = value.get("/S")
    if kind in _ACTIVE:
        return _worded(str(kind))
    if "/JS" in value:
        return _worded("/JavaScript")
    for key, inner in value.items():
        if key in ("/Next", "/O", "/C", "/K", "/F", "/V", "/Fo", "/Bl", "/WC", "/WS",
                   "/DS", "/WP", "/DP", "/PO", "/PC", "/PV", "/PI", "/D", "/U", "/X", "/E"):
            items = inner.get_object()
            for item in (items if isinstance(items, list) else [items]):
                found = _action(item, depth + 1)
                if found:
                    return found
    return ""


def _worded(key: str) -> str:
    return {"/JavaScript": "JavaScript", "/JS": "JavaScript", "/Launch": "a launch action",
            "/EmbeddedFiles": "embedded files", "/EmbeddedFile": "embedded files",
            "/RichMedia": "rich media", "/SubmitForm": "a form that sends data",
            "/ImportData": "a form that imports data"}.get(key, key.lstrip("/"))
