"""A version's content as an uploaded DOCX or PDF: checked by content, stored through the
attachment kit (hashed, encrypted), its text read for comparisons, shown converted (DOCX)
and kept page for page, stamped, on the controlled copy (PDF)."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfReader

from cyberqms.platform.accounts.tests.factories import SiteFactory
from cyberqms.platform.core.models import Attachment
from cyberqms.platform.kit.record_services import record_create
from cyberqms.platform.kit.records import kind_by_slug
from cyberqms.platform.kit.tests.files import docx_file, pdf_file
from cyberqms.platform.kit.tests.kit import record_in_state
from cyberqms.platform.trail.models import AuditEntry

from ..copies import controlled_copy
from ..enums import DocumentState
from ..models import DocumentVersion
from ..services import document_content_upload, document_revise
from .kit import CREATE

pytestmark = pytest.mark.django_db
S = DocumentState
DOCX = docx_file("Access is requested in the service desk.", "The system owner approves it.",
                 heading="1 Procedure")


@pytest.fixture
def kind() -> Any:
    return kind_by_slug("documents")


@pytest.fixture
def site() -> Any:
    return SiteFactory.create(code="MUC", name="Site MUC")


@pytest.fixture
def draft(kind: Any, personas: dict[str, Any], site: Any) -> DocumentVersion:
    created = record_create(kind, actor=personas["author"], site=site,
                            values={**CREATE, "body": ""})
    assert isinstance(created, DocumentVersion)
    return created


def test_a_docx_becomes_the_content_and_its_text_is_kept(
        draft: DocumentVersion, personas: dict[str, Any]) -> None:
    document_content_upload(draft, actor=personas["author"], filename="SOP access.docx",
                            data=DOCX)
    draft.refresh_from_db()
    attachment = Attachment.objects.get()
    assert (draft.source_id, attachment.sha256, draft.source_text) == (
        attachment.pk, hashlib.sha256(DOCX).hexdigest(),
        "1 Procedure\nAccess is requested in the service desk.\nThe system owner approves it.")


def test_the_content_file_is_stored_encrypted(draft: DocumentVersion,
                                               personas: dict[str, Any]) -> None:
    document_content_upload(draft, actor=personas["author"], filename="sop.docx", data=DOCX)
    stored = bytes(Attachment.objects.get().ciphertext)
    assert (b"word/document.xml" in stored, len(stored)) == (False, len(DOCX) + 16)


def test_a_pdfs_text_is_kept_page_by_page(draft: DocumentVersion,
                                          personas: dict[str, Any]) -> None:
    document_content_upload(draft, actor=personas["author"], filename="sop.pdf",
                            data=pdf_file("Scope: GxP systems", "Records kept 10 years"))
    draft.refresh_from_db()
    assert draft.text() == "[Page 1]\nScope: GxP systems\n\n[Page 2]\nRecords kept 10 years"


def test_the_upload_is_in_the_versions_history(draft: DocumentVersion,
                                               personas: dict[str, Any]) -> None:
    document_content_upload(draft, actor=personas["author"], filename="sop.docx", data=DOCX)
    entry = AuditEntry.objects.filter(action="documents.document.content").get()
    assert (entry.actor_id, sorted(entry.changes)) == (
        personas["author"].pk, ["source_id", "source_text", "updated_at"])


@pytest.mark.parametrize(("filename", "data", "message"), [
    ("sop.txt", b"plain text", "The content file must be a DOCX or a PDF."),
    ("sop.pdf", b"%PDF-1.7\nnot really\n%%EOF\n", "The PDF is damaged: it cannot be read."),
    ("sop.docx", b"PK\x03\x04broken", "The DOCX file is damaged: it cannot be opened as a "
                                      "ZIP package."),
    ("sop.docx", docx_file("x", extra={"word/vbaProject.bin": b"\x00" * 64}),
     "The DOCX file holds macros or ActiveX controls, which are not accepted: save it as a "
     "plain .docx without macros."),
    ("sop.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504,
     "This is not a plain .docx file: it is password-protected or in the old binary Office "
     "format. Save it as a .docx without a password."),
])
def test_a_bad_content_file_is_refused_naming_the_field(
        draft: DocumentVersion, personas: dict[str, Any], filename: str, data: bytes,
        message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        document_content_upload(draft, actor=personas["author"], filename=filename, data=data)
    assert (refused.value.message_dict, Attachment.objects.count()) == ({"file": [message]}, 0)


def test_an_encrypted_pdf_is_refused(draft: DocumentVersion, personas: dict[str, Any]) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=io.BytesIO(pdf_file("secret")))
    writer.encrypt("pass")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(ValidationError) as refused:
        document_content_upload(draft, actor=personas["author"], filename="sop.pdf",
                                data=out.getvalue())
    assert refused.value.message_dict == {"file": [
        "The PDF is encrypted or password-protected; upload it without protection, so that "
        "it can be read, rendered and verified."]}


def test_only_a_drafts_content_changes(kind: Any, personas: dict[str, Any], site: Any) -> None:
    in_force = record_in_state(kind, S.EFFECTIVE, personas, site=site)
    with pytest.raises(ValidationError) as refused:
        document_content_upload(in_force, actor=personas["author"], filename="sop.docx",
                                data=DOCX)
    assert refused.value.message_dict == {"__all__": [
        "SOP-IT-0001 v1.0 is effective: only a draft's content changes."]}


def test_a_revision_starts_from_the_content_file_in_force(
        kind: Any, personas: dict[str, Any], site: Any) -> None:
    version = record_in_state(kind, S.DRAFT, personas, site=site)
    document_content_upload(version, actor=personas["author"], filename="sop.docx", data=DOCX)
    DocumentVersion.objects.filter(pk=version.pk).update(state=S.EFFECTIVE)
    version.refresh_from_db()
    revision = document_revise(version, actor=personas["author"], size="minor",
                               change_summary="Typo.")
    assert (revision.source_id != version.source_id, revision.source.record_id,
            revision.source.sha256, revision.source_text) == (
        True, str(revision.pk), version.source.sha256, version.source_text)


def test_a_draft_with_a_content_file_and_no_text_goes_to_review(
        draft: DocumentVersion, personas: dict[str, Any], kind: Any) -> None:
    from cyberqms.platform.kit.record_services import record_update

    document_content_upload(draft, actor=personas["author"], filename="sop.docx", data=DOCX)
    record_update(draft, actor=personas["author"],
                  changes={"reviewer": personas["process_owner"]})
    assert kind.workflow.run(draft, "submit", actor=personas["author"]).state == S.IN_REVIEW


# --- the controlled copy ---------------------------------------------------------------------


def test_a_pdfs_pages_are_kept_under_the_header_and_footer(
        draft: DocumentVersion, personas: dict[str, Any]) -> None:
    document_content_upload(draft, actor=personas["author"], filename="sop.pdf",
                            data=pdf_file("Scope: GxP systems", "Records kept 10 years",
                                          size=(842.0, 595.0)))
    draft.refresh_from_db()
    pages = PdfReader(io.BytesIO(controlled_copy(draft, personas["author"]))).pages
    stamped = [p for p in pages if "Scope:" in p.extract_text()
               or "Records kept" in p.extract_text()]
    assert [(round(float(p.mediabox.width)), "SOP-IT-0001 · Version 1.0" in p.extract_text(),
             "UNCONTROLLED WHEN PRINTED" in p.extract_text()) for p in stamped] == [
        (842, True, True), (842, True, True)]


def test_the_copy_of_a_pdf_numbers_every_page_of_the_whole(
        draft: DocumentVersion, personas: dict[str, Any]) -> None:
    document_content_upload(draft, actor=personas["author"], filename="sop.pdf",
                            data=pdf_file("One", "Two", "Three"))
    draft.refresh_from_db()
    pages = PdfReader(io.BytesIO(controlled_copy(draft, personas["author"]))).pages
    # The cover, the three pages of the PDF, the signature manifestation.
    assert [f"Page {n} of 5" in p.extract_text() for n, p in enumerate(pages, 1)] == [True] * 5


def test_a_docx_is_converted_on_the_controlled_copy(
        draft: DocumentVersion, personas: dict[str, Any]) -> None:
    document_content_upload(draft, actor=personas["author"], filename="sop.docx", data=DOCX)
    draft.refresh_from_db()
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(
        controlled_copy(draft, personas["author"]))).pages)
    assert ("The system owner approves it." in text, "Converted from the DOCX sop.docx" in text
            ) == (True, True)


def test_an_altered_content_file_gives_no_copy(
        draft: DocumentVersion, personas: dict[str, Any]) -> None:
    document_content_upload(draft, actor=personas["author"], filename="sop.pdf",
                            data=pdf_file("One"))
    # An attacker with database access swaps a byte of the stored ciphertext.
    attachment = Attachment.objects.get()
    tampered = bytearray(attachment.ciphertext)
    tampered[5] ^= 1
    Attachment.objects.filter(pk=attachment.pk).update(ciphertext=bytes(tampered))
    draft.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        controlled_copy(draft, personas["author"])
    assert refused.value.messages == [
        "The stored content file failed its integrity check: it was altered outside "
        "cyberqms, and no copy is made of it. Tell QA and IT security."]


# --- pages and API ---------------------------------------------------------------------------


def test_the_page_shows_the_converted_docx(draft: DocumentVersion, personas: dict[str, Any],
                                          login: Any) -> None:
    document_content_upload(draft, actor=personas["author"], filename="sop.docx", data=DOCX)
    html = login(personas["author"]).get(f"/documents/{draft.pk}/").content.decode()
    assert ("<h1>1 Procedure</h1><p>Access is requested in the service desk.</p>" in html,
            'data-testid="content-file"' in html) == (True, True)


def test_the_page_uploads_the_content_file(draft: DocumentVersion, personas: dict[str, Any],
                                           login: Any) -> None:
    response = login(personas["author"]).post(
        f"/documents/{draft.pk}/content/",
        {"file": SimpleUploadedFile("sop.docx", DOCX)}, follow=True)
    draft.refresh_from_db()
    assert (response.status_code, draft.source.filename,
            "sop.docx is now the content of SOP-IT-0001 v1.0." in response.content.decode()) == (
        200, "sop.docx", True)


def test_a_refused_upload_on_the_page_says_why(draft: DocumentVersion,
                                               personas: dict[str, Any], login: Any) -> None:
    response = login(personas["author"]).post(
        f"/documents/{draft.pk}/content/",
        {"file": SimpleUploadedFile("sop.pdf", b"%PDF-1.4 broken")}, follow=True)
    assert (response.status_code,
            "The PDF is damaged: it cannot be read." in response.content.decode()) == (200, True)


def test_a_reader_cannot_upload_content(draft: DocumentVersion, personas: dict[str, Any],
                                        login: Any) -> None:
    response = login(personas["auditor"]).post(
        f"/documents/{draft.pk}/content/", {"file": SimpleUploadedFile("sop.docx", DOCX)})
    assert (response.status_code, Attachment.objects.count()) == (403, 0)


def test_the_api_uploads_the_content_file(draft: DocumentVersion, personas: dict[str, Any],
                                          login: Any) -> None:
    response = login(personas["author"]).post(
        f"/api/v1/documents/{draft.pk}/content",
        {"file": SimpleUploadedFile("sop.docx", DOCX)})
    assert (response.status_code, response.json()["number"]) == (200, "SOP-IT-0001 v1.0")


def test_a_bad_file_over_the_api_is_422_naming_the_field(
        draft: DocumentVersion, personas: dict[str, Any], login: Any) -> None:
    response = login(personas["author"]).post(
        f"/api/v1/documents/{draft.pk}/content",
        {"file": SimpleUploadedFile("sop.docx", b"PK\x03\x04broken")})
    assert (response.status_code, response["Content-Type"],
            [e["field"] for e in response.json()["errors"]]) == (
        422, "application/problem+json", ["file"])


def test_versions_with_content_files_compare_by_their_text(
        kind: Any, personas: dict[str, Any], site: Any, login: Any) -> None:
    version = record_in_state(kind, S.DRAFT, personas, site=site)
    document_content_upload(version, actor=personas["author"], filename="sop.docx",
                            data=docx_file("Keep", "Old line"))
    DocumentVersion.objects.filter(pk=version.pk).update(state=S.EFFECTIVE)
    version.refresh_from_db()
    revision = document_revise(version, actor=personas["author"], size="minor",
                               change_summary="Line.")
    document_content_upload(revision, actor=personas["author"], filename="sop.docx",
                            data=docx_file("Keep", "New line"))
    rows = login(personas["author"]).get(
        f"/api/v1/documents/{revision.pk}/compare/{version.pk}").json()["rows"]
    assert [(r["kind"], r["old"], r["new"]) for r in rows] == [
        ("same", "Keep", "Keep"), ("changed", "Old line", "New line")]


def test_a_pdf_page_without_a_size_is_refused_at_upload(
        draft: DocumentVersion, personas: dict[str, Any]) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=io.BytesIO(pdf_file("One", "Two")))
    writer.pages[1].mediabox.upper_right = (0, 0)
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(ValidationError) as refused:
        document_content_upload(draft, actor=personas["author"], filename="sop.pdf",
                                data=out.getvalue())
    assert refused.value.message_dict == {"file": [
        "Page 2 of the PDF has no valid size or rotation; print it to a plain PDF first."]}


def test_a_new_content_file_withdraws_the_one_it_replaces(
        draft: DocumentVersion, personas: dict[str, Any]) -> None:
    document_content_upload(draft, actor=personas["author"], filename="v1.docx", data=DOCX)
    document_content_upload(draft, actor=personas["author"], filename="v2.docx",
                            data=docx_file("Second draft."))
    assert list(Attachment.objects.order_by("pk").values_list(
        "filename", "removed_reason")) == [
        ("v1.docx", "Replaced by v2.docx as the content"), ("v2.docx", "")]


def test_the_content_file_is_not_withdrawn_from_the_attachments(
        draft: DocumentVersion, personas: dict[str, Any]) -> None:
    from cyberqms.platform.kit.record_parts import attachment_remove

    document_content_upload(draft, actor=personas["author"], filename="sop.docx", data=DOCX)
    with pytest.raises(ValidationError) as refused:
        attachment_remove(Attachment.objects.get(), actor=personas["author"], reason="Wrong")
    assert refused.value.messages == [
        "sop.docx is the content file of SOP-IT-0001 v1.0: upload another file to replace it."]
