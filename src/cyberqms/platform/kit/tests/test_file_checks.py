"""Uploads are judged by their content (kit.file_checks): damaged, encrypted, macro-carrying
or active files and archive bombs are refused with a sentence on the field `file`, and no
input, however crafted, makes the checks or the text extractors raise anything else."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfWriter

from cyberqms.platform.kit.attachments import check_content
from cyberqms.platform.kit.tests.files import CONTENT_TYPES, docx_file, pdf_file
from cyberqms.quality.documents.files import docx_html, extract_text

VALID_PDF = pdf_file("Cleaning record, line 4", "Signed by the shift lead")
VALID_DOCX = docx_file("Purpose", "Scope", heading="1 General")


def _refusal(name: str, data: bytes) -> list[str]:
    with pytest.raises(ValidationError) as refused:
        check_content(name, data)
    return refused.value.message_dict["file"]


def _pdf(build: Callable[[PdfWriter], object]) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(VALID_PDF))
    build(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_valid_pdf_is_accepted() -> None:
    assert check_content("record.pdf", VALID_PDF) == "application/pdf"


def test_a_valid_docx_is_accepted() -> None:
    assert check_content("sop.docx", VALID_DOCX) == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")


def test_a_pdf_that_is_only_its_signature_is_refused() -> None:
    assert _refusal("x.pdf", b"%PDF-1.7\n%%EOF\n") == ["The PDF is damaged: it cannot be read."]


def test_an_encrypted_pdf_is_refused() -> None:
    assert _refusal("x.pdf", _pdf(lambda w: w.encrypt("secret"))) == [
        "The PDF is encrypted or password-protected; upload it without protection, so that "
        "it can be read, rendered and verified."]


def test_a_pdf_running_javascript_on_open_is_refused() -> None:
    def script(writer: PdfWriter) -> None:
        from pypdf.generic import DictionaryObject, NameObject, TextStringObject

        writer._root_object[NameObject("/OpenAction")] = DictionaryObject({
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert(1)")})

    assert _refusal("x.pdf", _pdf(script)) == [
        "The PDF holds active content (JavaScript), which is not accepted: print it to a "
        "plain PDF first."]


def test_a_pdf_with_an_embedded_file_is_refused() -> None:
    assert _refusal("x.pdf", _pdf(lambda w: w.add_attachment("run.exe", b"MZ"))) == [
        "The PDF holds active content (embedded files), which is not accepted: print it to a "
        "plain PDF first."]


def test_a_pdf_with_a_launch_link_is_refused() -> None:
    def launch(writer: PdfWriter) -> None:
        from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, NameObject

        annotation = writer._add_object(DictionaryObject({
            NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject(
                "/Link"), NameObject("/Rect"): ArrayObject([FloatObject(0)] * 4),
            NameObject("/A"): DictionaryObject({NameObject("/S"): NameObject("/Launch")})}))
        writer.pages[0][NameObject("/Annots")] = ArrayObject([annotation])

    assert _refusal("x.pdf", _pdf(launch)) == [
        "The PDF holds active content (a launch action), which is not accepted: print it to "
        "a plain PDF first."]


def test_a_docx_without_its_main_part_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("[Content_Types].xml", CONTENT_TYPES)
    assert _refusal("x.docx", out.getvalue()) == [
        "The file is not a valid DOCX package: its part word/document.xml is missing."]


def test_a_macro_enabled_document_renamed_docx_is_refused() -> None:
    macro = CONTENT_TYPES.replace("document.main+xml", "document.macroEnabled.main+xml")
    assert _refusal("x.docx", docx_file("x", content_types=macro)) == [
        "The DOCX file holds macros or ActiveX controls, which are not accepted: save it as a "
        "plain .docx without macros."]


@override_settings(CYBERQMS_ATTACHMENT_MAX_EXPANDED_BYTES=1024 * 1024)
def test_an_archive_bomb_stops_at_the_limit() -> None:
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("zeros.txt", b"\x00" * (4 * 1024 * 1024))
    assert (len(bomb.getvalue()) < 10_000, _refusal("x.zip", bomb.getvalue())) == (True, [
        "The archive expands to more than 1 MiB when unpacked; it is refused as a possible "
        "archive bomb."])


@override_settings(CYBERQMS_ATTACHMENT_MAX_EXPANDED_BYTES=1024 * 1024)
def test_a_bomb_whose_headers_lie_about_its_size_is_measured_anyway() -> None:
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("zeros.txt", b"\x00" * (4 * 1024 * 1024))
    data = bytearray(bomb.getvalue())
    # Both the local header and the central directory claim 10 bytes unpacked.
    for offset in (22, data.rfind(b"PK\x01\x02") + 24):
        data[offset:offset + 4] = (10).to_bytes(4, "little")
    assert _refusal("x.zip", bytes(data))[0].startswith("The archive ")


@override_settings(CYBERQMS_ATTACHMENT_MAX_MEMBERS=3)
def test_an_archive_of_too_many_files_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        for n in range(4):
            package.writestr(f"{n}.txt", b"x")
    assert _refusal("x.zip", out.getvalue()) == ["The archive holds more than 3 files."]


def test_a_docx_link_to_javascript_loses_its_target() -> None:
    rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId9" Type="'
            'http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" '
            'Target="javascript:alert(1)" TargetMode="External"/></Relationships>')
    data = docx_file(extra={"word/_rels/document.xml.rels": rels.encode()})
    package = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(package, "w") as out:
        for info in source.infolist():
            body = source.read(info)
            if info.filename == "word/document.xml":
                body = body.replace(
                    b"<w:body>", b'<w:body><w:p><w:hyperlink xmlns:r="http://schemas.'
                    b'openxmlformats.org/officeDocument/2006/relationships" r:id="rId9"><w:r>'
                    b"<w:t>Click</w:t></w:r></w:hyperlink></w:p>")
            out.writestr(info, body)
    assert str(docx_html(package.getvalue(), images=False)) == (
        '<p><a rel="noopener noreferrer">Click</a></p>')


# --- fuzzing: nothing but a refusal, whatever the bytes ------------------------------------

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _refused_on(call: Callable[..., object], *args: object) -> list[str]:
    """The fields a refusal names ([] when `call` accepted the input)."""
    try:
        call(*args)
    except ValidationError as refused:
        return list(refused.message_dict)
    return []


def _only_refused(ext: str, data: bytes) -> None:
    assert _refused_on(check_content, f"file.{ext}", data) in ([], ["file"])
    assert _refused_on(extract_text, ext, data) in ([], ["file"])


def _mutated(base: bytes) -> st.SearchStrategy[bytes]:
    """`base` with a few bytes changed, cut short, or with bytes inserted."""
    return st.tuples(
        st.lists(st.tuples(st.integers(0, len(base) - 1), st.integers(0, 255)), max_size=12),
        st.integers(min_value=8, max_value=len(base)), st.binary(max_size=32),
        st.integers(0, len(base) - 1),
    ).map(lambda p: _apply(base, *p))


def _apply(base: bytes, flips: list[tuple[int, int]], cut: int, extra: bytes,
           at: int) -> bytes:
    data = bytearray(base)
    for i, value in flips:
        data[i] = value
    data = data[:cut]
    return bytes(data[:at] + extra + data[at:])


@FUZZ
@given(_mutated(VALID_PDF))
def test_fuzz_a_damaged_pdf_is_read_or_refused(data: bytes) -> None:
    _only_refused("pdf", data)


@FUZZ
@given(st.binary(max_size=2000).map(lambda b: b"%PDF-1.7\n" + b))
def test_fuzz_random_bytes_behind_a_pdf_signature_are_refused(data: bytes) -> None:
    _only_refused("pdf", data)


@FUZZ
@given(_mutated(VALID_DOCX))
def test_fuzz_a_damaged_docx_is_read_or_refused(data: bytes) -> None:
    _only_refused("docx", data)
    assert _refused_on(lambda: docx_html(data, images=True)) in ([], ["file"])


@FUZZ
@given(st.dictionaries(st.sampled_from(["[Content_Types].xml", "word/document.xml",
                                        "_rels/.rels", "word/_rels/document.xml.rels",
                                        "word/styles.xml", "word/numbering.xml"]),
                       st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode),
                                 st.just(CONTENT_TYPES.encode())), min_size=1))
def test_fuzz_a_package_of_crafted_parts_is_read_or_refused(parts: dict[str, bytes]) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        for name, body in parts.items():
            package.writestr(name, body)
    _only_refused("docx", out.getvalue())


def test_a_web_of_actions_pointing_at_itself_is_checked_once_each() -> None:
    def web(writer: PdfWriter) -> None:
        from pypdf.generic import ArrayObject, DictionaryObject, NameObject

        action = DictionaryObject({NameObject("/S"): NameObject("/GoTo"),
                                   NameObject("/D"): ArrayObject([])})
        ref = writer._add_object(action)
        action[NameObject("/Next")] = ArrayObject([ref] * 12)
        writer._root_object[NameObject("/OpenAction")] = ref

    # 12 ** 9 walks without the record of what was seen; one with it.
    assert check_content("x.pdf", _pdf(web)) == "application/pdf"


def test_javascript_in_a_bookmark_is_refused() -> None:
    def bookmark(writer: PdfWriter) -> None:
        from pypdf.generic import DictionaryObject, NameObject, TextStringObject

        item = writer.add_outline_item(title="Section 1", page_number=0)
        item.get_object()[NameObject("/A")] = DictionaryObject({
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert(1)")})

    assert _refusal("x.pdf", _pdf(bookmark)) == [
        "The PDF holds active content (JavaScript), which is not accepted: print it to a "
        "plain PDF first."]


def test_an_xfa_form_is_refused() -> None:
    def xfa(writer: PdfWriter) -> None:
        from pypdf.generic import ArrayObject, DictionaryObject, NameObject

        writer._root_object[NameObject("/AcroForm")] = DictionaryObject({
            NameObject("/Fields"): ArrayObject([]), NameObject("/XFA"): ArrayObject([])})

    assert _refusal("x.pdf", _pdf(xfa)) == [
        "The PDF holds active content (an XFA form), which is not accepted: print it to a "
        "plain PDF first."]


def test_a_docx_with_a_template_from_outside_is_refused() -> None:
    rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
            'http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'attachedTemplate" Target="https://evil.example/t.dotm" TargetMode="External"/>'
            '</Relationships>')
    data = docx_file("x", extra={"word/_rels/settings.xml.rels": rels.encode()})
    assert _refusal("x.docx", data) == [
        "The DOCX file loads a template or object from outside itself, which is not "
        "accepted: save it as a plain .docx with no attached template."]


def test_a_docx_embedding_a_program_object_is_refused() -> None:
    data = docx_file("x", extra={"word/embeddings/oleObject1.bin": b"\xd0\xcf\x11\xe0"})
    assert _refusal("x.docx", data) == [
        "The DOCX file embeds a program object (OLE), which is not accepted: paste its "
        "content as a picture or a table instead."]


def test_a_damaged_lzma_member_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_LZMA) as package:
        package.writestr("log.txt", b"line\n" * 2000)
    data = bytearray(out.getvalue())
    data[60] ^= 0xFF  # inside the compressed stream
    assert _refusal("x.zip", bytes(data))[0].startswith("The archive is damaged")
