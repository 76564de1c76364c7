"""The controlled copy of a document version (WeasyPrint): every page carries the number,
version, state and effective date in its header and footer, and the words "uncontrolled
when printed"; the content follows (written in Markdown, a converted DOCX, or the pages of
the uploaded PDF), then the signature manifestation page (who signed what, when, and what
it meant, P11-18). A version not in force says so across each page."""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString

import cyberqms
from cyberqms.platform.kit import file_checks
from cyberqms.platform.kit.attachments import AttachmentIntegrityError
from cyberqms.platform.kit.record_export import html_to_document, html_to_pdf, utc_text
from cyberqms.platform.kit.record_pages import record_json
from cyberqms.platform.kit.record_parts import attachment_read

from .content import render_markdown
from .enums import DocumentState
from .files import docx_html, extension, page_box
from .models import DocumentVersion

CSS = "documents/controlled_copy.css"
MM = 72 / 25.4
# The copy's margins (controlled_copy.css, @page): a stamped PDF page is fitted inside.
TOP, BOTTOM, SIDE = 26 * MM, 24 * MM, 18 * MM

# The readers' signatures (training) are not the document's approval: the training record
# holds them, not the manifestation.
READ = "Read and understood"


def controlled_copy(version: DocumentVersion, actor: Any) -> bytes:
    """The version as a PDF for `actor` (who is named on it, with the time of printing).

    Markdown and DOCX content is laid out by WeasyPrint (DOCX converted, files.docx_html);
    a PDF's own pages are kept, each scaled into an A4 page (portrait or landscape, as the
    page is) whose margins carry the same header and footer.

    :raises ValidationError: the content file cannot be read (a clear page, not an error).
    """
    common = record_json(version, actor, actions=False)
    signatures = [{
        "meaning": s["meaning"], "printed_name": s["printed_name"], "username": s["username"],
        "reason": s["reason"], "superseded": s["superseded"],
        "signed_at": utc_text(_moment(s["signed_at"])),
    } for s in common["signatures"] if s["meaning"] != READ]
    files = [a for a in common["attachments"] if not a.get("removed")]
    source = version.source if version.source_id is not None else None
    data = b"" if source is None else _read(source)
    ext = "" if source is None else extension(source.filename)
    pdf_pages: list[Any] = []
    if ext == "pdf":
        # Read as stored, not judged again: the rules of today do not unprint approved copies.
        pdf_pages = list(file_checks.open_pdf(data).pages)
        body_html = SafeString("")
    elif ext == "docx":
        body_html = docx_html(data, images=True)
    else:
        body_html = render_markdown(version.body)
    html = render_to_string("documents/controlled_copy.html", {
        "version": version, "body_html": body_html, "source": source,
        "stamp_pages": [("landscape" if _landscape(p) else "portrait") for p in pdf_pages],
        "signatures": signatures, "files": files,
        "in_force": version.state == DocumentState.EFFECTIVE,
        "organization": settings.CYBERQMS_ORGANIZATION,
        "printed_by": getattr(actor, "full_name", "") or actor.get_username(),
        "printed_at": utc_text(timezone.now()),
        "application": f"cyberqms {cyberqms.__version__}",
    })
    if not pdf_pages:
        return html_to_pdf(html, CSS)
    try:
        return _stamped(html_to_document(html, CSS), pdf_pages)
    except ValidationError:
        raise
    except Exception:  # pypdf, on a page the checks let through (they check each page)
        raise ValidationError({"__all__": [
            f"The pages of {source.filename if source else 'the PDF'} cannot be laid out on "
            "a controlled copy; tell QA (the file may need to be replaced by a revision)."]}
        ) from None


def _read(source: Any) -> bytes:
    try:
        return attachment_read(source)
    except AttachmentIntegrityError:
        raise ValidationError({"__all__": [
            "The stored content file failed its integrity check: it was altered outside "
            "cyberqms, and no copy is made of it. Tell QA and IT security."]}) from None


def _landscape(page: Any) -> bool:
    try:
        _left, _bottom, width, height, rotation = page_box(page)
    except Exception:  # laid out upright; the stamping refuses it with its sentence
        return False
    if rotation % 180:
        width, height = height, width
    return width > height


def _stamped(layout: Any, pdf_pages: list[Any]) -> bytes:
    """The laid-out copy with page `i` of the PDF drawn under the page that holds the
    anchor `stamp-i`, scaled to fit inside its margins and centred."""
    from pypdf import PdfWriter, Transformation

    at = {}
    for number, page in enumerate(layout.pages):
        for anchor in page.anchors:
            if anchor.startswith("stamp-"):
                at[number] = int(anchor.removeprefix("stamp-"))
    out = PdfWriter(clone_from=io.BytesIO(layout.write_pdf()))
    for number, page in enumerate(out.pages):
        if number in at:
            source = pdf_pages[at[number]]
            box_left, box_bottom, box_width, box_height, rotation = page_box(source)
            # As the page shows: its /Rotate (clockwise) undone into the drawing.
            turn = Transformation().rotate(-rotation)
            corners = [turn.apply_on((x, y)) for x in (box_left, box_left + box_width)
                       for y in (box_bottom, box_bottom + box_height)]
            left, bottom = min(c[0] for c in corners), min(c[1] for c in corners)
            width = max(c[0] for c in corners) - left
            height = max(c[1] for c in corners) - bottom
            room_w = float(page.mediabox.width) - 2 * SIDE
            room_h = float(page.mediabox.height) - TOP - BOTTOM
            scale = min(room_w / width, room_h / height)
            x = SIDE + (room_w - width * scale) / 2
            y = BOTTOM + (room_h - height * scale) / 2
            page.merge_transformed_page(
                source, turn.translate(-left, -bottom).scale(scale, scale).translate(x, y),
                over=False)
    buffer = io.BytesIO()
    out.write(buffer)
    return buffer.getvalue()


def _moment(text: str) -> Any:
    import datetime as dt

    return dt.datetime.fromisoformat(text)
