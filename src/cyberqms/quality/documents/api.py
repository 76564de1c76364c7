"""The document's own REST operations besides the kit's (list, create, detail, update;
transitions, attachments, comments and links under `/api/v1/records/documents/{id}/…`):
start a revision, upload the content file, the controlled copy, and the comparison of two
versions."""

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from ninja import Field, File, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import ConfigDict

from cyberqms.platform.core.api_gate import api_actor, gate
from cyberqms.platform.kit.api_gate import api_record
from cyberqms.platform.kit.family_api import detail_out, detail_schema
from cyberqms.platform.kit.records import kind_of

from .content import diff_rows
from .copies import controlled_copy
from .enums import ChangeSize
from .models import DocumentVersion
from .services import document_content_upload, document_revise

router = Router(tags=["Documents"])


class RevisionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    size: ChangeSize = Field(description="major (x.0, retrained) or minor (x.y)")
    change_summary: str = Field(max_length=5000, description="What the revision changes.")
    change_number: str = Field("", max_length=40,
                               description="The change control it implements (CC-2026-0001).")


class DiffRowOut(Schema):
    kind: str = Field(description="same, changed, added, removed, or gap")
    old_line: int | None
    old: str
    new_line: int | None
    new: str


class CompareOut(Schema):
    older: str
    newer: str
    rows: list[DiffRowOut]


def _version(request: HttpRequest, record_id: int) -> DocumentVersion:
    version: DocumentVersion = api_record(request, "documents", record_id)
    return version


@router.post("/documents/{record_id}/revise",
             response={201: detail_schema(kind_of(DocumentVersion))},
             operation_id="document_revise", url_name="document_revise")
@gate("documents.create")
def document_revise_op(request: HttpRequest, record_id: int, payload: RevisionIn) -> Status:
    """Start the next version of the document in force as a draft (201: the new version)."""
    actor = api_actor(request)
    created = document_revise(_version(request, record_id), actor=actor,
                              size=payload.size.value, change_summary=payload.change_summary,
                              change_number=payload.change_number)
    return Status(201, detail_out(kind_of(DocumentVersion), created, actor))


@router.post("/documents/{record_id}/content",
             response={200: detail_schema(kind_of(DocumentVersion))},
             operation_id="document_content", url_name="document_content")
@gate("documents.edit")
def document_content_op(request: HttpRequest, record_id: int,
                        file: File[UploadedFile]) -> Any:
    """Upload a DOCX or PDF as a draft's content (multipart, field `file`): checked by its
    content (damaged, encrypted, macros, active content and archive bombs refused, 422
    naming `file`), hashed, stored encrypted; its text is kept for comparisons."""
    actor = api_actor(request)
    if (file.size or 0) > settings.CYBERQMS_ATTACHMENT_MAX_BYTES:
        raise ValidationError({"file": [
            f"The file is larger than {settings.CYBERQMS_ATTACHMENT_MAX_BYTES // 1024} KiB."]})
    version = document_content_upload(_version(request, record_id), actor=actor,
                                      filename=file.name or "", data=file.read())
    return detail_out(kind_of(DocumentVersion), version, actor)


@router.get("/documents/{record_id}/controlled-copy", operation_id="document_copy",
            response={200: None})
@gate("documents.view")
def document_copy(request: HttpRequest, record_id: int) -> HttpResponse:
    """The version's controlled copy as PDF (header and footer on every page, the signature
    manifestation; "uncontrolled when printed")."""
    version = _version(request, record_id)
    with timezone.override(dt.UTC):  # copies never depend on who asked
        pdf = controlled_copy(version, api_actor(request))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        True, f"{version.number.replace(' ', '_')}.pdf")
    return response


@router.get("/documents/{record_id}/compare/{other_id}", response=CompareOut,
            operation_id="document_compare")
@gate("documents.view")
def document_compare(request: HttpRequest, record_id: int, other_id: int) -> dict[str, Any]:
    """The lines of the later version's text against the earlier's (the Markdown written in
    cyberqms, or the text of the DOCX or PDF content file)."""
    first, second = _version(request, record_id), _version(request, other_id)
    if first.document_id != second.document_id:
        raise Http404
    older, newer = sorted((first, second), key=lambda v: (v.major, v.minor))
    return {"older": older.number, "newer": newer.number, "rows": [
        {"kind": r.kind, "old_line": r.old_no, "old": r.old, "new_line": r.new_no,
         "new": r.new} for r in diff_rows(older.text(), newer.text())]}
