"""Office files for the document library of the demo (and for the tests): a DOCX written
by the Office Open XML package layout (ECMA-376: content types, relationships, the main
document part; headings by their built-in style ids, tables as `w:tbl`), and a PDF laid
out by WeasyPrint, as a department's own tools would have made them. Not product code:
the product reads such files (documents.files), it never writes them."""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/></Types>')
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>')
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _paragraph(text: str, style: str = "") -> str:
    props = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    return (f'<w:p>{props}<w:r><w:t xml:space="preserve">{escape(text)}</w:t></w:r>'
            "</w:p>")


def _table(rows: list[tuple[str, ...]]) -> str:
    cells = "".join("<w:tr>" + "".join(f"<w:tc>{_paragraph(c)}</w:tc>" for c in row)
                    + "</w:tr>" for row in rows)
    return f"<w:tbl>{cells}</w:tbl>"


def docx_bytes(blocks: list[tuple[str, object]], *, extra: dict[str, bytes] | None = None,
               content_types: str = CONTENT_TYPES) -> bytes:
    """A DOCX of `blocks`: ("h1"|"h2", text), ("p", text), ("table", [row, …]).
    `extra` adds parts as they are (tests: a macro project); `content_types` replaces the
    content-types part (tests: a macro-enabled document)."""
    body = []
    for kind, value in blocks:
        if kind == "table":
            assert isinstance(value, list)
            body.append(_table(value))
        else:
            style = {"h1": "Heading1", "h2": "Heading2"}.get(kind, "")
            body.append(_paragraph(str(value), style))
    document = (f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W}">'
                f"<w:body>{''.join(body)}</w:body></w:document>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", content_types)
        package.writestr("_rels/.rels", RELS)
        package.writestr("word/document.xml", document)
        for name, data in (extra or {}).items():
            package.writestr(name, data)
    return out.getvalue()


PDF_CSS = """
@page { size: A4; margin: 22mm 20mm; @bottom-right { content: "Page " counter(page);
        font: 8pt sans-serif; color: #555; } }
body { font: 10.5pt/1.45 "DejaVu Sans", sans-serif; color: #111; }
h1 { font-size: 15pt; border-bottom: 1pt solid #333; padding-bottom: 2mm; }
h2 { font-size: 12pt; margin-top: 6mm; }
table { width: 100%; border-collapse: collapse; }
td, th { border: 0.5pt solid #777; padding: 2mm; text-align: left; vertical-align: top; }
td.box { height: 18mm; }
"""


def pdf_bytes(html_body: str) -> bytes:
    """A PDF of `html_body` (trusted demo HTML), as a form designed outside cyberqms."""
    from weasyprint import CSS, HTML

    pdf: bytes = HTML(string=f"<!DOCTYPE html><html><body>{html_body}</body></html>").write_pdf(
        stylesheets=[CSS(string=PDF_CSS)])
    return pdf
