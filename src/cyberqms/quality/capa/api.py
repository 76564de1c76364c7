"""The CAPA's own REST operations: its actions and the effectiveness check (list, create,
detail and update are the record kit's; transitions, attachments, comments and links the
shared record API `/api/v1/records/capa/{id}/…`).
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from ninja import Router, Status

from cyberqms.platform.core.api_gate import api_actor as _actor
from cyberqms.platform.core.api_gate import gate
from cyberqms.platform.kit.api_gate import api_record
from cyberqms.platform.kit.family_api import detail_out, detail_schema
from cyberqms.platform.kit.records import kind_by_slug
from cyberqms.platform.kit.signatures import SignatureRequest

from . import services
from .models import Capa, CapaAction
from .schemas import (
    ActionCompleteIn,
    ActionIn,
    ActionOut,
    EffectivenessIn,
    ReasonIn,
)

router = Router(tags=["CAPA"])

PAGE_SIZE_MAX = 200


def _load(request: HttpRequest, capa_id: int, for_: str = "view") -> Capa:
    record: Capa = api_record(request, "capa", capa_id, for_=for_)
    return record


def _action(request: HttpRequest, capa_id: int, action_id: int) -> CapaAction:
    capa = _load(request, capa_id)
    action = capa.actions.filter(pk=action_id).first()
    if action is None:
        raise Http404
    action.capa = capa
    return action


def _user(username: str | None, field: str) -> Any:
    user = get_user_model()._default_manager.filter(username=(username or "").strip()).first()
    if user is None:
        raise ValidationError({field: [f"No user {username!r}."]})
    return user


def action_out(a: CapaAction) -> dict[str, Any]:
    return {
        "id": a.pk, "kind": a.kind, "description": a.description, "owner": a.owner.username,
        "due_date": a.due_date, "state": a.state, "overdue": a.is_overdue(),
        "created_at": a.created_at, "completed_at": a.completed_at,
        "completed_by": a.completed_by.username if a.completed_by else None,
        "completion_note": a.completion_note, "evidence": a.evidence,
        "cancel_reason": a.cancel_reason, "document_number": a.document_number,
    }


@router.post("/capa/{capa_id}/actions", response={201: ActionOut},
             operation_id="capa_action_add")
@gate("capa.edit")
def capa_action_add(request: HttpRequest, capa_id: int, payload: ActionIn) -> Status:
    """Add a corrective or preventive action; its owner is notified. An action that revises
    a controlled document names it and is done only once its new version is in force."""
    capa = _load(request, capa_id, for_="edit")
    action = services.capa_action_add(
        capa, actor=_actor(request), kind=payload.kind, description=payload.description,
        owner=_user(payload.owner, "owner"), due_date=payload.due_date,
        document_number=payload.document_number,
    )
    return Status(201, action_out(action))


@router.post("/capa/{capa_id}/actions/{action_id}/complete", response=ActionOut,
             operation_id="capa_action_complete")
@gate("capa.work")
def capa_action_complete(
    request: HttpRequest, capa_id: int, action_id: int, payload: ActionCompleteIn
) -> dict[str, Any]:
    """Mark an action done with its evidence (the action's or the CAPA's owner)."""
    action = services.capa_action_complete(
        _action(request, capa_id, action_id), actor=_actor(request),
        evidence=payload.evidence, note=payload.note,
    )
    return action_out(action)


@router.post("/capa/{capa_id}/actions/{action_id}/cancel", response=ActionOut,
             operation_id="capa_action_cancel")
@gate("capa.edit")
def capa_action_cancel(
    request: HttpRequest, capa_id: int, action_id: int, payload: ReasonIn
) -> dict[str, Any]:
    """Cancel an open action, with a reason."""
    action = services.capa_action_cancel(
        _action(request, capa_id, action_id), actor=_actor(request), reason=payload.reason,
    )
    return action_out(action)


@router.post("/capa/{capa_id}/effectiveness", response=detail_schema(kind_by_slug("capa")),
             operation_id="capa_effectiveness_record")
@gate("capa.verify")
def capa_effectiveness_record(
    request: HttpRequest, capa_id: int, payload: EffectivenessIn
) -> dict[str, Any]:
    """Record the effectiveness check (passed/failed, evidence), signed "Verified" with
    your password (and authenticator code); never by the CAPA's owner."""
    actor = _actor(request)
    capa = _load(request, capa_id)
    capa = services.capa_effectiveness_record(
        capa, actor=actor, result=payload.result, evidence=payload.evidence,
        signature=SignatureRequest(password=payload.password, otp=payload.otp, request=request),
    )
    return detail_out(kind_by_slug("capa"), capa, actor)
