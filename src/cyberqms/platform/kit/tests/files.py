"""Small, valid files for tests: a PDF with text on its pages (built with pypdf, which the
product reads them with) and a DOCX package (the demo's writer, documents.office)."""

from __future__ import annotations

import io

from cyberqms.quality.documents.office import CONTENT_TYPES, docx_bytes


def pdf_file(*pages: str, size: tuple[float, float] = (595.0, 842.0)) -> bytes:
    """A PDF with one page per text (Helvetica, one line each, A4 by default)."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    font = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica")}))
    for text in pages or ("",):
        page = writer.add_blank_page(*size)
        stream = DecodedStreamObject()
        safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream.set_data(f"BT /F1 12 Tf 72 {size[1] - 100} Td ({safe}) Tj ET".encode("latin-1"))
        page[NameObject("/Contents")] = writer._add_object(stream)
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject(
            {NameObject("/F1"): font})})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx_file(*paragraphs: str, heading: str = "", extra: dict[str, bytes] | None = None,
              content_types: str = CONTENT_TYPES) -> bytes:
    """A DOCX with an optional heading (style Heading1) and the paragraphs."""
    blocks: list[tuple[str, object]] = [("h1", heading)] if heading else []
    blocks += [("p", text) for text in paragraphs]
    return docx_bytes(blocks, extra=extra, content_types=content_types)
