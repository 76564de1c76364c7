"""Pages for the parts every quality record shares, at /records/<kind>/<pk>/….

The gate lets any user with a role on quality records through (`records.use`); the
services then decide on the record itself (its kind's actions, its site), so a record one
may not see answers 404 like a missing one. Every write is one service call; errors come
back to the record's page as messages naming what was wrong, with a 4xx status where the
request is answered directly (htmx).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.dateparse import parse_date
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from cyberqms.platform.core.access import AccessDenied, declare
from cyberqms.platform.core.client_address import request_client_address
from cyberqms.platform.core.models import DueDateExtension, RecordLink
from cyberqms.platform.core.moments import in_utc
from cyberqms.platform.core.pages import gated

from .attachments import AttachmentIntegrityError
from .family_pages import detail_page
from .record_export import record_document, render_pdf
from .record_pages import available_actions
from .record_parts import (
    RecordNotFound,
    attachment_add,
    attachment_get,
    attachment_read,
    attachment_remove,
    comment_add,
    extension_decide,
    extension_request,
    get_record,
    link_add,
    link_remove,
    record_delete,
)
from .records import RecordKind, kind_by_slug
from .signatures import SignatureRequest, SigningError, commitment_accept, has_commitment
from .words import problem_text
from .workflow import GuardFailed, SegregationOfDuties, TransitionNotAllowed

USE = declare(
    "records.use",
    "Reach the shared parts of quality records (the record's own rights decide next)",
    gxp=True,
)


def _load(request: HttpRequest, slug: str, pk: Any) -> tuple[RecordKind, Any]:
    try:
        kind = kind_by_slug(slug)
        return kind, get_record(request.user, kind, pk)
    except (LookupError, RecordNotFound):
        raise Http404 from None


def _run(
    request: HttpRequest, kind: RecordKind, record: Any, call: Callable[[], Any], done: str,
    *, again: Callable[[SigningError | GuardFailed], HttpResponse] | None = None,
    tab: str = "",
) -> HttpResponse:
    """Run one service call and come back to the record's page with the outcome, on the
    `tab` the form was on (attachments, comments, links); `again` answers a refusal of
    what was typed in the form itself (a step's card)."""
    try:
        call()
    except AccessDenied:
        messages.error(request, "You do not have the right to do this on this record.")
    except (TransitionNotAllowed, SegregationOfDuties, SigningError, GuardFailed,
            ValidationError, PermissionDenied) as exc:
        if again is not None and isinstance(exc, SigningError | GuardFailed):
            return again(exc)
        messages.error(request, problem_text(exc, kind.model))
    else:
        messages.success(request, done)
    return redirect(kind.detail_url(record) + (f"#{tab}" if tab else ""))


@gated(USE)
@require_POST
def transition(request: HttpRequest, slug: str, pk: int, action: str) -> HttpResponse:
    kind, record = _load(request, slug, pk)
    t = kind.workflow.transition(action, record.state)
    post = request.POST

    def call() -> None:
        signature = None
        if t is not None and t.sign:
            if not has_commitment(request.user):
                if post.get("accept_statement") != "yes":
                    raise SigningError(
                        "Tick the accountability statement to sign for the first time.",
                        field="statement",
                    )
                commitment_accept(request.user, source_ip=request_client_address(request) or None)
            signature = SignatureRequest(
                password=post.get("password", ""), otp=post.get("otp", ""), request=request
            )
        kind.workflow.run(
            record, action, actor=request.user, reason=post.get("reason", ""),
            signature=signature, expected_hash=post.get("expected_hash", ""),
        )

    title = t.title if t else action
    signed = f" and signed ({t.sign})" if t and t.sign else ""
    return _run(request, kind, record, call, f"{title}: done{signed}.",
                again=lambda exc: _step_again(request, kind, record, action, exc))


# The inputs of a step's card a refusal can stand next to; any other (an identity not yet
# verified, an unmet condition) heads the card.
CARD_INPUTS = ("reason", "statement", "password", "otp")


def _step_again(request: HttpRequest, kind: RecordKind, record: Any, action: str,
                exc: SigningError | GuardFailed) -> HttpResponse:
    """The record's page with the step's card open again after a refusal of what was typed:
    the reason kept (never the password or code), the refusal next to its input, and for a
    wrong password or code the attempts left before the lockout (P11-33)."""
    failure = {"field": exc.field if exc.field in CARD_INPUTS else "", "message": exc.text,
               "reason": request.POST.get("reason", "")[:1000]}
    actions = [{**a, "failure": failure if a["action"] == action else None}
               for a in available_actions(record, request.user, covered_only=True)]
    if not any(a["failure"] for a in actions):
        messages.error(request, problem_text(exc, kind.model))
    return detail_page(request, kind, record, status=422, actions=actions)


@gated(USE)
@require_POST
def attachment_upload(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    kind, record = _load(request, slug, pk)
    upload = request.FILES.get("file")

    def call() -> None:
        if upload is None:
            raise ValidationError({"file": ["Choose a file to attach."]})
        limit = int(getattr(upload, "size", 0) or 0)
        from django.conf import settings

        if limit > settings.CYBERQMS_ATTACHMENT_MAX_BYTES:
            raise ValidationError({"file": [
                f"The file is larger than {settings.CYBERQMS_ATTACHMENT_MAX_BYTES // 1024} KiB."
            ]})
        attachment_add(record, actor=request.user, filename=upload.name or "",
                       data=upload.read(), description=request.POST.get("description", ""))

    return _run(request, kind, record, call, "File attached (encrypted at rest).",
                tab="attachments")


@gated(USE)
@require_GET
def attachment_download(request: HttpRequest, slug: str, pk: int, attachment_id: int
                        ) -> HttpResponse:
    _kind, record = _load(request, slug, pk)
    try:
        attachment = attachment_get(request.user, record, attachment_id)
    except RecordNotFound:
        raise Http404 from None
    try:
        data = attachment_read(attachment)
    except AttachmentIntegrityError as exc:
        return HttpResponse(f"Integrity failure: {exc}.", status=500,
                            content_type="text/plain; charset=utf-8")
    response = HttpResponse(data, content_type=attachment.content_type)
    response["Content-Disposition"] = content_disposition_header(True, f"{attachment.filename}")
    response["X-Content-Type-Options"] = "nosniff"
    response["Digest"] = f"sha-256={attachment.sha256}"
    return response


@gated(USE)
@require_POST
def attachment_withdraw(request: HttpRequest, slug: str, pk: int, attachment_id: int
                        ) -> HttpResponse:
    kind, record = _load(request, slug, pk)
    try:
        attachment = attachment_get(request.user, record, attachment_id)
    except RecordNotFound:
        raise Http404 from None
    return _run(request, kind, record, lambda: attachment_remove(
        attachment, actor=request.user, reason=request.POST.get("reason", "")
    ), f"{attachment.filename} removed (kept in the trail).", tab="attachments")


@gated(USE)
@require_POST
def comment(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    kind, record = _load(request, slug, pk)
    return _run(request, kind, record, lambda: comment_add(
        record, actor=request.user, body=request.POST.get("body", "")
    ), "Comment added.", tab="comments")


@gated(USE)
@require_POST
def link(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    kind, record = _load(request, slug, pk)
    post = request.POST
    return _run(request, kind, record, lambda: link_add(
        record, actor=request.user, target_number=post.get("target", ""),
        relation=post.get("relation", "related"), note=post.get("note", ""),
    ), "Link added; it shows on both records.", tab="links")


@gated(USE)
@require_POST
def unlink(request: HttpRequest, slug: str, pk: int, link_id: int) -> HttpResponse:
    kind, record = _load(request, slug, pk)
    found = RecordLink.objects.filter(pk=link_id).first()
    mine = found is not None and (
        (found.from_type, found.from_id) == (kind.type_name, str(record.pk))
        or (found.to_type, found.to_id) == (kind.type_name, str(record.pk))
    )
    if found is None or not mine:
        raise Http404
    return _run(request, kind, record, lambda: link_remove(
        found, actor=request.user, reason=request.POST.get("reason", ""), record=record
    ), "Link removed (kept in the trail).", tab="links")


@gated(USE)
@require_POST
def extension(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    kind, record = _load(request, slug, pk)

    def call() -> None:
        raw = request.POST.get("requested_due", "")
        try:
            due = parse_date(raw)
        except ValueError:
            due = None
        if due is None:
            raise ValidationError({"requested_due": ["Enter a date as YYYY-MM-DD."]})
        extension_request(record, actor=request.user, requested_due=due,
                          justification=request.POST.get("justification", ""))

    return _run(request, kind, record, call, "Extension requested; someone else decides it.",
                tab="links")


@gated(USE)
@require_POST
def extension_decision(request: HttpRequest, slug: str, pk: int, extension_id: int
                       ) -> HttpResponse:
    kind, record = _load(request, slug, pk)
    ext = DueDateExtension.objects.filter(
        pk=extension_id, record_type=kind.type_name, record_id=str(record.pk)
    ).first()
    if ext is None:
        raise Http404
    approve = request.POST.get("decision") == "approve"
    return _run(request, kind, record, lambda: extension_decide(
        ext, actor=request.user, approve=approve, note=request.POST.get("note", "")
    ), "Extension approved; the due date moved." if approve else "Extension rejected.",
        tab="links")


@gated(USE)
@require_POST
def delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    kind, record = _load(request, slug, pk)
    return _run(request, kind, record, lambda: record_delete(
        record, actor=request.user, reason=request.POST.get("reason", "")
    ), f"{record.number} deleted (kept, with the reason, in the trail).")


@gated(USE)
@require_GET
@in_utc
def pdf(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    _kind, record = _load(request, slug, pk)
    document = record_document(record, request.user)
    response = HttpResponse(render_pdf(document), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, f"{record.number}.pdf")
    return response


@gated(USE)
@require_GET
@in_utc
def json_export(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    import json

    _kind, record = _load(request, slug, pk)
    document = record_document(record, request.user)
    response = HttpResponse(
        json.dumps(document.as_json(), indent=2, ensure_ascii=False),
        content_type="application/json",
    )
    response["Content-Disposition"] = content_disposition_header(True, f"{record.number}.json")
    return response
