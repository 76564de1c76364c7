"""The shared parts of every quality record, under /api/v1/records/{kind}/{id}/.

Transitions (with the reason and the re-authentication fields for signed ones),
attachments, comments, links, due-date extensions, logical deletion and the PDF/JSON
copies work the same for every record family. The gate admits users with a role on
quality records (`records.use`); the services then decide on the record itself, and a
record one may not see answers 404 like a missing one.
"""

import datetime as dt
import json
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from cyberqms.platform.core.api_gate import api_actor as _actor
from cyberqms.platform.core.api_gate import gate
from cyberqms.platform.core.client_address import request_client_address
from cyberqms.platform.core.models import DueDateExtension, RecordLink
from cyberqms.platform.kit.api_gate import api_record

from .record_export import record_document, render_pdf
from .record_pages import record_json
from .record_parts import (
    RecordNotFound,
    attachment_add,
    attachment_get,
    attachment_read,
    comment_add,
    extension_decide,
    extension_request,
    link_add,
    link_remove,
    record_delete,
)
from .records import RecordKind, kind_by_slug
from .signatures import SignatureRequest, SigningError, commitment_accept, has_commitment
from .views import USE

router = Router(tags=["Quality records"])
R = "/records/{slug}/{record_id}"


def _named(name: str) -> Any:
    """The operation id doubles as the URL name (`api:record_transition`)."""
    return {"operation_id": name, "url_name": name}


class TransitionIn(Schema):
    reason: str = Field("", max_length=1000)
    password: str = Field("", max_length=1024, description="Required for signed actions.")
    otp: str = Field("", max_length=12, description="TOTP code: first signature of a session.")
    expected_hash: str = Field(
        "", max_length=64,
        description="content_hash of the version you reviewed; refused (409) if it changed.",
    )
    accept_statement: bool = Field(
        False, description="Acknowledge the accountability statement (first signature only)."
    )


class CommentIn(Schema):
    body: str = Field(..., max_length=5000)


class LinkIn(Schema):
    target: str = Field(..., max_length=40, description="The other record's number.")
    relation: str = Field("related", max_length=30)
    note: str = Field("", max_length=300)


class ReasonIn(Schema):
    reason: str = Field(..., max_length=1000)


class ExtensionIn(Schema):
    requested_due: dt.date
    justification: str = Field(..., max_length=2000)


class DecisionIn(Schema):
    approve: bool
    note: str = Field("", max_length=1000)


def _load(request: HttpRequest, slug: str, record_id: int) -> tuple[RecordKind, Any]:
    record = api_record(request, slug, record_id)
    return kind_by_slug(slug), record


@router.get(R, **_named("record_detail"))
@gate(USE)
def record_detail(request: HttpRequest, slug: str, record_id: int) -> dict[str, Any]:
    """The shared parts of a record: state, signature manifestations, available actions,
    links, attachments and comments."""
    _kind, record = _load(request, slug, record_id)
    return record_json(record, _actor(request))


@router.post(R + "/transitions/{action}",
             **_named("record_transition"))
@gate(USE)
def record_transition(
    request: HttpRequest, slug: str, record_id: int, action: str, payload: TransitionIn
) -> dict[str, Any]:
    """Take a workflow action. 409 with `allowed_actions` when not possible in this state;
    403 on a wrong password or code (counted toward lockout) or segregation of duties;
    422 naming the field for a missing reason or an unmet condition."""
    kind, record = _load(request, slug, record_id)
    t = kind.workflow.transition(action, record.state)
    signature = None
    if t is not None and t.sign:
        if not has_commitment(_actor(request)):
            if not payload.accept_statement:
                raise SigningError(
                    "Acknowledge the accountability statement (accept_statement: true) "
                    "before your first signature.", field="accept_statement",
                )
            commitment_accept(_actor(request), source_ip=request_client_address(request) or None)
        signature = SignatureRequest(password=payload.password, otp=payload.otp, request=request)
    record = kind.workflow.run(
        record, action, actor=_actor(request), reason=payload.reason, signature=signature,
        expected_hash=payload.expected_hash,
    )
    return record_json(record, _actor(request))


@router.get(R + "/attachments", **_named("attachment_list"))
@gate(USE)
def attachment_list(request: HttpRequest, slug: str, record_id: int) -> list[dict[str, Any]]:
    _kind, record = _load(request, slug, record_id)
    result: list[dict[str, Any]] = record_json(record)["attachments"]
    return result


@router.post(R + "/attachments", **_named("attachment_create"),
             response={201: dict[str, Any]})
@gate(USE)
def attachment_create_op(
    request: HttpRequest, slug: str, record_id: int, file: File[UploadedFile],
    description: Form[str] = "",
) -> Any:
    """Upload a file (multipart): type and size checked, SHA-256 taken, encrypted at rest."""
    _kind, record = _load(request, slug, record_id)
    from django.conf import settings
    from django.core.exceptions import ValidationError

    if (file.size or 0) > settings.CYBERQMS_ATTACHMENT_MAX_BYTES:
        raise ValidationError({"file": [
            f"The file is larger than {settings.CYBERQMS_ATTACHMENT_MAX_BYTES // 1024} KiB."
        ]})
    attachment = attachment_add(record, actor=_actor(request), filename=file.name or "",
                                data=file.read(), description=description[:200])
    return Status(201, {"id": attachment.pk, "filename": attachment.filename,
                        "sha256": attachment.sha256, "size": attachment.size,
                        "content_type": attachment.content_type})


@router.get(R + "/attachments/{attachment_id}",
            **_named("attachment_download"))
@gate(USE)
def attachment_download_op(
    request: HttpRequest, slug: str, record_id: int, attachment_id: int
) -> HttpResponse:
    _kind, record = _load(request, slug, record_id)
    try:
        attachment = attachment_get(_actor(request), record, attachment_id)
    except RecordNotFound:
        raise Http404 from None
    response = HttpResponse(attachment_read(attachment), content_type=attachment.content_type)
    response["Content-Disposition"] = content_disposition_header(True, f"{attachment.filename}")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@router.post(R + "/comments", **_named("comment_create"),
             response={201: dict[str, Any]})
@gate(USE)
def comment_create_op(request: HttpRequest, slug: str, record_id: int, payload: CommentIn) -> Any:
    _kind, record = _load(request, slug, record_id)
    comment = comment_add(record, actor=_actor(request), body=payload.body)
    return Status(201, {"id": comment.pk, "body": comment.body,
                        "created_at": comment.created_at.isoformat()})


@router.post(R + "/links", **_named("link_create"),
             response={201: dict[str, Any]})
@gate(USE)
def link_create_op(request: HttpRequest, slug: str, record_id: int, payload: LinkIn) -> Any:
    """Link to another record by its number; the link shows on both records (AL-10)."""
    _kind, record = _load(request, slug, record_id)
    link = link_add(record, actor=_actor(request), target_number=payload.target,
                    relation=payload.relation, note=payload.note)
    return Status(201, {"id": link.pk, "to": link.to_label, "relation": link.relation})


@router.post(R + "/links/{link_id}/remove", **_named("link_delete"))
@gate(USE)
def link_delete_op(
    request: HttpRequest, slug: str, record_id: int, link_id: int, payload: ReasonIn
) -> dict[str, Any]:
    kind, record = _load(request, slug, record_id)
    here = (kind.type_name, str(record.pk))
    link = RecordLink.objects.filter(pk=link_id).first()
    if link is not None and here not in ((link.from_type, link.from_id),
                                         (link.to_type, link.to_id)):
        link = None
    if link is None:
        raise Http404
    link_remove(link, actor=_actor(request), reason=payload.reason, record=record)
    return {"id": link.pk, "removed": True}


@router.post(R + "/extensions", **_named("extension_create"),
             response={201: dict[str, Any]})
@gate(USE)
def extension_create_op(
    request: HttpRequest, slug: str, record_id: int, payload: ExtensionIn
) -> Any:
    _kind, record = _load(request, slug, record_id)
    ext = extension_request(record, actor=_actor(request), requested_due=payload.requested_due,
                            justification=payload.justification)
    return Status(201, {"id": ext.pk, "state": ext.state,
                        "requested_due": ext.requested_due.isoformat()})


@router.post(R + "/extensions/{extension_id}/decision",
             **_named("extension_decide"))
@gate(USE)
def extension_decide_op(
    request: HttpRequest, slug: str, record_id: int, extension_id: int, payload: DecisionIn
) -> dict[str, Any]:
    kind, record = _load(request, slug, record_id)
    ext = DueDateExtension.objects.filter(
        pk=extension_id, record_type=kind.type_name, record_id=str(record.pk)
    ).first()
    if ext is None:
        raise Http404
    ext = extension_decide(ext, actor=_actor(request), approve=payload.approve, note=payload.note)
    return {"id": ext.pk, "state": ext.state}


@router.post(R + "/delete", **_named("record_delete"))
@gate(USE)
def record_delete_op(request: HttpRequest, slug: str, record_id: int, payload: ReasonIn
           ) -> dict[str, Any]:
    """Logical deletion of a record entered in error, with a reason (AL-06)."""
    _kind, record = _load(request, slug, record_id)
    record = record_delete(record, actor=_actor(request), reason=payload.reason)
    return record_json(record, _actor(request))


@router.get(R + "/pdf", **_named("record_pdf"))
@gate(USE)
def record_pdf(request: HttpRequest, slug: str, record_id: int) -> HttpResponse:
    """The record with its signature manifestations and audit trail, as PDF (P11-03)."""
    _kind, record = _load(request, slug, record_id)
    response = HttpResponse(render_pdf(record_document(record, _actor(request))),
                            content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, f"{record.number}.pdf")
    return response


@router.get(R + "/export", **_named("record_export"))
@gate(USE)
def record_export(request: HttpRequest, slug: str, record_id: int) -> HttpResponse:
    """The same document as the PDF, as JSON, with a SHA-256 of its content."""
    _kind, record = _load(request, slug, record_id)
    document = record_document(record, _actor(request)).as_json()
    return HttpResponse(json.dumps(document, ensure_ascii=False), content_type="application/json")
