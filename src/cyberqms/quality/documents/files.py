"""A version's content file (DOCX or PDF): its text, its rendering, its stamped copy.

* Text, for the comparison of two versions and for search: pypdf's text of each page, or
  the raw text mammoth reads from a DOCX. Read once, at upload, after the kit has checked
  the file (kit.file_checks); bounded in length; an extractor that fails on a file the
  checks let through gives a clear refusal, never an error page (the fuzz tests hold it).
* DOCX is *converted* for pages and controlled copies: mammoth maps Word's structure
  (headings, lists, tables, bold, links, images) to plain HTML, which nh3 then cleans
  against an allow-list. Layout beyond that structure (fonts, columns, headers the author
  drew) is not carried over: the DOCX stays attached as the source, named with its
  SHA-256 on the copy.
* PDF is *not* converted: the controlled copy is the uploaded PDF itself, each page scaled
  into an A4 page whose margins carry the header and footer (documents.copies).
"""

from __future__ import annotations

import io
import re
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.safestring import SafeString, mark_safe

from cyberqms.platform.kit import file_checks

TYPES = ("docx", "pdf")
MAX_TEXT = 200_000  # characters kept of a file's text
_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "strong", "em", "u",
         "s", "sub", "sup", "br", "table", "thead", "tbody", "tr", "th", "td", "a",
         "blockquote", "pre", "code"}
_ATTRIBUTES = {"a": {"href"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"},
               "img": {"src", "alt"}}
_IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif")
_IMG = re.compile(r'<img alt="(\[[^"<>]*\])" />')


def extension(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def unreadable(ext: str) -> ValidationError:
    return file_checks.refuse(
        f"The {ext.upper()} file passed the checks but its text cannot be read; save it "
        "again from its editor and upload that copy.")


def extract_text(ext: str, data: bytes) -> str:
    """The text of a checked DOCX or PDF, at most `MAX_TEXT` characters.

    :raises ValidationError: (field `file`) when it cannot be read.
    """
    if ext == "pdf":
        return _pdf_text(data)
    if ext == "docx":
        text = _docx_text(data)
        # Converted once now, as the page and the controlled copy will: a file that cannot
        # be shown is refused while it can still be replaced, not after its approval.
        docx_html(data, images=True)
        return text
    raise file_checks.refuse("The content file must be a DOCX or a PDF.")


def page_box(page: Any) -> tuple[float, float, float, float, int]:
    """A PDF page's visible box (left, bottom, width, height) and its rotation in degrees.

    :raises ValueError: a box that is not four numbers of a positive size, or a rotation
        that is not a multiple of 90 degrees.
    """
    box = [float(n) for n in page.cropbox]
    rotation = page.get("/Rotate") or 0
    if len(box) != 4 or not isinstance(rotation, int) or rotation % 90:
        raise ValueError("page geometry")
    left, bottom = min(box[0], box[2]), min(box[1], box[3])
    width, height = abs(box[2] - box[0]), abs(box[3] - box[1])
    if not (width > 1 and height > 1):
        raise ValueError("page size")
    return left, bottom, width, height, rotation % 360


def _pdf_text(data: bytes) -> str:
    reader = file_checks.pdf_reader(data)
    parts: list[str] = []
    size = 0
    for number, page in enumerate(reader.pages, start=1):
        try:
            page_box(page)
        except Exception:  # pypdf or page_box, on a crafted page dictionary
            raise file_checks.refuse(
                f"Page {number} of the PDF has no valid size or rotation; print it to a "
                "plain PDF first.") from None
        if size <= MAX_TEXT:
            try:
                text = (page.extract_text() or "").strip()
            except Exception:  # pypdf raises many types on a damaged content stream
                raise unreadable("pdf") from None
            parts.append(f"[Page {number}]\n{text}")
            size += len(parts[-1])
    return "\n\n".join(parts)[:MAX_TEXT]


def _mammoth(data: bytes) -> Any:
    # Checked first: valid package, no macros, bounded expansion; mammoth reads it then.
    file_checks.office_members("docx", data)
    import mammoth

    return mammoth


def _docx_text(data: bytes) -> str:
    mammoth = _mammoth(data)
    try:
        text: str = mammoth.extract_raw_text(io.BytesIO(data)).value
    except Exception:  # mammoth and its XML parser raise many types on damaged parts
        raise unreadable("docx") from None
    lines = [line.rstrip() for line in text.replace("\r", "").split("\n")]
    # Paragraphs come separated by blank lines; keep one line per paragraph.
    return "\n".join(line for line in lines if line)[:MAX_TEXT]


def docx_html(data: bytes, *, images: bool) -> SafeString:
    """The DOCX as clean HTML; images embedded (`images`, for the PDF, which fetches no
    URL) or named by their alternative text (pages: their security policy loads none).

    :raises ValidationError: (field `file`) when it cannot be read.
    """
    mammoth = _mammoth(data)

    def image(element: Any) -> dict[str, str]:
        alt = (getattr(element, "alt_text", None) or "image").strip()[:120]
        content_type = getattr(element, "content_type", "") or ""
        if not images:
            return {"alt": f"[{alt}]"}
        if content_type not in _IMAGE_TYPES:
            # EMF, WMF, SVG, TIFF: named on the copy, never dropped in silence.
            kind = content_type.rsplit("/", 1)[-1].upper() or "unknown"
            return {"alt": f"[{alt}: a {kind} image, not shown here; see the DOCX]"}
        import base64

        with element.open() as stream:  # bounded: the package's unpacked size is checked
            encoded = base64.b64encode(stream.read()).decode()
        return {"src": f"data:{content_type};base64,{encoded}", "alt": alt}

    try:
        html: str = mammoth.convert_to_html(
            io.BytesIO(data), convert_image=mammoth.images.img_element(image)).value
    except Exception:  # as in _docx_text
        raise unreadable("docx") from None
    import nh3

    # An image shown by its words (pages: their policy loads no image; the copy: a kind
    # WeasyPrint does not draw).
    html = _IMG.sub(lambda m: f"<em>{m[1]}</em>", html)
    tags = _TAGS | ({"img"} if images else set())
    schemes = {"http", "https", "mailto"} | ({"data"} if images else set())
    cleaned = nh3.clean(html, tags=tags, attributes=_ATTRIBUTES, url_schemes=schemes,
                        link_rel="noopener noreferrer")
    return mark_safe(cleaned)  # noqa: S308  (nh3 has cleaned it against the allow-list)


# --- the content as a page shows it -------------------------------------------------------

@lru_cache(maxsize=64)
def _shown(attachment_id: int, sha256: str) -> SafeString:
    """A stored DOCX converted for pages, once per file (by its id and SHA-256; the cache
    is thread-safe)."""
    from cyberqms.platform.core.models import Attachment

    return _converted(Attachment.objects.get(pk=attachment_id))


def content_html(version: Any) -> SafeString:
    """The version's content for a page: its Markdown, its DOCX converted (images named,
    not shown), or its PDF's text page by page (the PDF itself is the controlled copy)."""
    from django.utils.html import format_html_join

    from .content import render_markdown

    source = version.source if version.source_id is not None else None
    if source is None:
        return render_markdown(version.body)
    if extension(source.filename) == "docx":
        return _shown(source.pk, source.sha256)
    pages = [block.strip() for block in version.source_text.split("\n\n") if block.strip()]
    return format_html_join("", "<p class=\"pdf-text\">{}</p>", ((p,) for p in pages))


def _converted(source: Any) -> SafeString:
    from cyberqms.platform.kit.attachments import AttachmentIntegrityError
    from cyberqms.platform.kit.record_parts import attachment_read

    try:
        return docx_html(attachment_read(source), images=False)
    except AttachmentIntegrityError:
        return mark_safe(
            '<p class="error">The stored content file failed its integrity check: it was '
            "altered outside cyberqms. Tell QA and IT security.</p>")
    except ValidationError:
        return mark_safe('<p class="error">The content file cannot be shown.</p>')
