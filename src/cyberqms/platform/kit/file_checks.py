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
import re
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Compound File: .doc, .xls, encrypted OOXML
_STEP = 64 * 1024
_OFFICE_MAIN = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}
_MACRO_MARKERS = ("vbaproject", "vbadata", "macroenabled", "activex")
# PDF actions that run or open something: never in a controlled record.
_ACTIVE = {"/JavaScript", "/JS", "/Launch", "/EmbeddedFile", "/EmbeddedFiles",
           "/RichMedia", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE", "/Rendition"}


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


def archive_members(data: bytes, *, what: str = "archive",
                    keep: Callable[[str], bool] = lambda name: False) -> dict[str, bytes]:
    """Unpack every member of the ZIP `data` (its real size counted), keeping those whose
    name `keep` accepts; refused past the expansion limit or the member count, or when the
    archive is damaged or encrypted. Returns the kept members by name and every other name
    with empty content."""
    limit, count_limit = expanded_limit(), settings.CYBERQMS_ATTACHMENT_MAX_MEMBERS
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except Exception:  # zipfile raises many types (and bare ones) on damaged directories
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
        kept = keep(info.filename)
        chunks: list[bytes] = []
        for chunk in _member(archive, info, what):
            total += len(chunk)
            if total > limit:
                raise refuse(f"The {what} expands to more than {limit // (1024 * 1024)} MiB "
                             "when unpacked; it is refused as a possible archive bomb.")
            if kept:
                chunks.append(chunk)
        out[info.filename] = b"".join(chunks)
    return out


def _member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, what: str) -> Iterator[bytes]:
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(_STEP):
                yield chunk
    except Exception:  # damaged data or headers raise many types (zlib, lzma, bz2, …);
        # a member that needs a password or a method Python lacks, too
        raise refuse(f"The {what} is damaged: '{info.filename[:80]}' cannot be "
                     "unpacked.") from None


# Relationships that make Word fetch or run something from outside the file.
_EXTERNAL_RISKS = ("attachedtemplate", "oleobject", "subdocument", "/frame\"", "package")
_RELS = re.compile(rb"<Relationship\b[^>]*>", re.IGNORECASE)


def office_members(ext: str, data: bytes) -> dict[str, bytes]:
    """The parts of an Office Open XML package a reader needs ([Content_Types].xml, the
    relationships), checked: a valid package of its kind, without macros, ActiveX,
    embedded OLE programs or templates fetched from outside."""
    label = ext.upper()
    if data.startswith(OLE):
        raise refuse(f"This is not a plain .{ext} file: it is password-protected or in the "
                     f"old binary Office format. Save it as a .{ext} without a password.")
    members = archive_members(
        data, what=f"{label} file",
        keep=lambda name: name.lower() == "[content_types].xml" or name.lower().endswith(
            ".rels"))
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
    if any("/embeddings/" in name and name.endswith(".bin") for name in names):
        raise refuse(f"The {label} file embeds a program object (OLE), which is not "
                     "accepted: paste its content as a picture or a table instead.")
    for name, body in members.items():
        if not name.lower().endswith(".rels"):
            continue
        for rel in _RELS.findall(body):
            low = rel.lower()
            if b'targetmode="external"' in low and any(
                    risk.encode() in low for risk in _EXTERNAL_RISKS):
                raise refuse(f"The {label} file loads a template or object from outside "
                             "itself, which is not accepted: save it as a plain "
                             f".{ext} with no attached template.")
    return members


# --- PDF ----------------------------------------------------------------------------------


def open_pdf(data: bytes) -> Any:
    """A pypdf reader over `data`; refused when damaged or encrypted (what reading a PDF
    that was accepted before checks again, without today's acceptance rules)."""
    from pypdf import PdfReader  # imported when a PDF is first read

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
    except Exception:  # pypdf raises many types (even bare ones) on a damaged file
        raise refuse("The PDF is damaged: it cannot be read.") from None
    if encrypted:
        raise refuse("The PDF is encrypted or password-protected; upload it without "
                     "protection, so that it can be read, rendered and verified.")
    return reader


def pdf_reader(data: bytes) -> Any:
    """A pypdf reader over `data`, its pages counted; refused when damaged, encrypted,
    too long or carrying active content."""
    reader = open_pdf(data)
    try:
        pages = len(reader.pages)
        active = _active_content(reader)
    except ValidationError:
        raise
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


# Objects of a PDF looked at for active content, at most: a file that needs more is refused
# (a crafted web of actions must not hold a worker).
_BUDGET = 20_000
_ACTION_KEYS = ("/Next", "/O", "/C", "/K", "/F", "/V", "/Fo", "/Bl", "/WC", "/WS", "/DS",
                "/WP", "/DP", "/PO", "/PC", "/PV", "/PI", "/D", "/U", "/X", "/E")


class _Walk:
    """One look through a PDF's actions: each object once, within the budget."""

    def __init__(self) -> None:
        self.seen: set[tuple[int, int]] = set()
        self.left = _BUDGET

    def fresh(self, value: Any) -> bool:
        """False for an object already looked at; refuses the file past the budget."""
        self.left -= 1
        if self.left < 0:
            raise refuse("The PDF's structure is too tangled to check; print it to a plain "
                         "PDF first.")
        ref = getattr(value, "indirect_reference", None)
        key = (ref.idnum, ref.generation) if ref is not None else None
        if key is None:
            return True
        if key in self.seen:
            return False
        self.seen.add(key)
        return True

    def action(self, value: Any) -> str:
        """The active kind of an action (or a dictionary of actions) and what follows it."""
        pending = [value]
        while pending:
            item = pending.pop()
            if item is None:
                continue
            item = item.get_object()
            if isinstance(item, list):
                pending.extend(item)
                continue
            if not hasattr(item, "get") or not self.fresh(item):
                continue
            kind = item.get("/S")
            if kind in _ACTIVE:
                return _worded(str(kind))
            if "/JS" in item:
                return _worded("/JavaScript")
            pending.extend(inner for key, inner in item.items() if key in _ACTION_KEYS)
        return ""

    def outline(self, first: Any) -> str:
        """Active content in the bookmarks (each item's action, its children, the next)."""
        pending = [first]
        while pending:
            item = pending.pop()
            if item is None:
                continue
            item = item.get_object()
            if not hasattr(item, "get") or not self.fresh(item):
                continue
            found = self.action(item.get("/A"))
            if found:
                return found
            pending += [item.get("/First"), item.get("/Next")]
        return ""


def _active_content(reader: Any) -> str:
    """The first kind of active content found in the catalog (its name tree, open action,
    XFA form, bookmarks) or a page's actions and annotations; "" for none."""
    walk = _Walk()
    root = reader.trailer["/Root"].get_object()
    names = root.get("/Names")
    if names is not None:
        names = names.get_object()
        for key in ("/JavaScript", "/EmbeddedFiles"):
            if key in names:
                return _worded(key)
    form = root.get("/AcroForm")
    if form is not None and "/XFA" in form.get_object():
        return "an XFA form"
    for key in ("/OpenAction", "/AA"):
        found = walk.action(root.get(key))
        if found:
            return found
    outlines = root.get("/Outlines")
    if outlines is not None:
        found = walk.outline(outlines.get_object().get("/First"))
        if found:
            return found
    for page in reader.pages:
        found = walk.action(page.get("/AA"))
        if found:
            return found
        annotations = page.get("/Annots")
        for annotation in (annotations.get_object() if annotations is not None else []):
            annotation = annotation.get_object()
            if not walk.fresh(annotation):
                continue
            if annotation.get("/Subtype") in ("/FileAttachment", "/RichMedia"):
                return _worded("/EmbeddedFile")
            for key in ("/A", "/AA"):
                found = walk.action(annotation.get(key))
                if found:
                    return found
    return ""


def _worded(key: str) -> str:
    return {"/JavaScript": "JavaScript", "/JS": "JavaScript", "/Launch": "a launch action",
            "/EmbeddedFiles": "embedded files", "/EmbeddedFile": "embedded files",
            "/RichMedia": "rich media", "/SubmitForm": "a form that sends data",
            "/ImportData": "a form that imports data",
            "/GoToR": "a link that opens another file",
            "/GoToE": "a link into an embedded file",
            "/Rendition": "a media player"}.get(key, key.lstrip("/"))
