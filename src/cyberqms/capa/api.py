"""REST operations on CAPAs: list, create, detail, update, actions, effectiveness check.

Transitions, attachments, comments and links are served by the generic record API
(`/api/v1/records/capa/{id}/…`).
"""

import math
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.dateparse import parse_date
from ninja import Query, Router, Schema, Status

from cyberqms.accounts.models import Site
from cyberqms.api import api_actor as _actor
from cyberqms.api import api_record, gate
from cyberqms.core.record_pages import record_json
from cyberqms.core.signatures import SignatureRequest

from . import services
from .enums import CapaSource, CapaState
from .models import Capa, CapaAction
from .queries import actions_of, capa_is_overdue, capas_filtered
from .schemas import (
    ActionCompleteIn,
    ActionIn,
    ActionOut,
    CapaDetailOut,
    CapaIn,
    CapaPage,
    CapaUpdateIn,
    EffectivenessIn,
    ReasonIn,
)

router = Router(tags=["CAPA"])

PAGE_SIZE_MAX = 200


class ListFilters(Schema):
    q: str = ""
    state: str = ""
    source: str = ""
    site: str = ""
    cyber_related: bool = False
    overdue: bool = False
    mine: bool = False
    sort: str = "-created"
    page: int = 1
    page_size: int = 50


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


def _site(code: str) -> Site:
    site = Site.objects.filter(code=(code or "").strip()).first()
    if site is None:
        raise ValidationError({"site": [f"No site {code!r}."]})
    return site


def capa_out(c: Capa) -> dict[str, Any]:
    return {
        "id": c.pk, "number": c.number, "title": c.title, "state": c.state,
        "source": c.source, "source_reference": c.source_reference, "site": c.site.code,
        "owner": c.owner.username, "originator": c.originator.username,
        "due_date": c.due_date, "overdue": capa_is_overdue(c),
        "cyber_related": c.cyber_related, "effectiveness_result": c.effectiveness_result,
        "created_at": c.created_at, "closed_at": c.closed_at,
        "url": reverse("capa:detail", args=[c.pk]),
    }


def action_out(a: CapaAction) -> dict[str, Any]:
    return {
        "id": a.pk, "kind": a.kind, "description": a.description, "owner": a.owner.username,
        "due_date": a.due_date, "state": a.state, "overdue": a.is_overdue(),
        "created_at": a.created_at, "completed_at": a.completed_at,
        "completed_by": a.completed_by.username if a.completed_by else None,
        "completion_note": a.completion_note, "evidence": a.evidence,
        "cancel_reason": a.cancel_reason,
    }


def capa_detail_out(c: Capa, actor: Any) -> dict[str, Any]:
    checker = c.effectiveness_checked_by
    return {
        **capa_out(c),
        **{name: getattr(c, name) for name in (
            "description", "problem_statement", "root_cause", "event_at", "late_entry",
            "late_entry_reason", "effectiveness_criteria", "effectiveness_due",
            "effectiveness_evidence", "effectiveness_checked_at",
        )},
        "effectiveness_checked_by": checker.username if checker else None,
        "editable_fields": list(services.editable_fields(c)),
        "actions": [action_out(a) for a in actions_of(c)],
        "common": record_json(c, actor),
    }


def _date(name: str, value: Any) -> Any:
    if value is None or value == "":
        return None
    parsed = None
    if isinstance(value, str):
        try:
            parsed = parse_date(value)
        except ValueError:
            parsed = None
    if parsed is None:
        raise ValidationError({name: ["Not a valid date (YYYY-MM-DD)."]})
    return parsed


@router.get("/capa", response=CapaPage, operation_id="capa_list")
@gate("capa.view")
def capa_list(request: HttpRequest, filters: Query[ListFilters]) -> dict[str, Any]:
    """CAPAs visible to the caller (their sites), filtered and paginated."""
    if filters.state and filters.state not in (*CapaState.values, "active"):
        raise ValidationError({"state": [f"Choose one of {', '.join(CapaState.values)}."]})
    if filters.source and filters.source not in CapaSource.values:
        raise ValidationError({"source": [f"Choose one of {', '.join(CapaSource.values)}."]})
    if not 1 <= filters.page_size <= PAGE_SIZE_MAX:
        raise ValidationError({"page_size": [f"Between 1 and {PAGE_SIZE_MAX}."]})
    rows = capas_filtered(
        _actor(request), q=filters.q.strip()[:100], state=filters.state, source=filters.source,
        site=filters.site, overdue=filters.overdue, cyber=filters.cyber_related,
        mine=filters.mine, sort=filters.sort,
    )
    count = rows.count()
    pages = max(1, math.ceil(count / filters.page_size))
    page = min(max(1, filters.page), pages)
    start = (page - 1) * filters.page_size
    return {"count": count, "page": page, "pages": pages,
            "results": [capa_out(c) for c in rows[start:start + filters.page_size]]}


@router.post("/capa", response={201: CapaDetailOut}, operation_id="capa_create")
@gate("capa.create")
def capa_create(request: HttpRequest, payload: CapaIn) -> Status:
    """Open a CAPA (draft). A `source_reference` that is a record number is linked
    ("spawned"). Field errors answer 422 naming the field."""
    actor = _actor(request)
    data = payload.dict()
    data.update(site=_site(payload.site), owner=_user(payload.owner, "owner"))
    capa = services.capa_create(actor=actor, **data)
    return Status(201, capa_detail_out(capa, actor))


@router.get("/capa/{capa_id}", response=CapaDetailOut, operation_id="capa_detail")
@gate("capa.view")
def capa_detail(request: HttpRequest, capa_id: int) -> dict[str, Any]:
    """One CAPA with its actions and shared parts (`common`: signatures, links…)."""
    return capa_detail_out(_load(request, capa_id), _actor(request))


@router.post("/capa/{capa_id}/update", response=CapaDetailOut, operation_id="capa_update")
@gate("capa.edit")
def capa_update(request: HttpRequest, capa_id: int, payload: CapaUpdateIn) -> dict[str, Any]:
    """Change fields editable in the current state (a reason once out of draft)."""
    actor = _actor(request)
    capa = _load(request, capa_id, for_="edit")
    changes = dict(payload.changes)
    if "owner" in changes:
        changes["owner"] = _user(changes["owner"], "owner")
    for name in ("due_date", "effectiveness_due"):
        if name in changes:
            changes[name] = _date(name, changes[name])
    updated = services.capa_update(capa, actor=actor, changes=changes, reason=payload.reason)
    return capa_detail_out(updated, actor)


@router.post("/capa/{capa_id}/actions", response={201: ActionOut},
             operation_id="capa_action_add")
@gate("capa.edit")
def capa_action_add(request: HttpRequest, capa_id: int, payload: ActionIn) -> Status:
    """Add a corrective or preventive action; its owner is notified."""
    capa = _load(request, capa_id, for_="edit")
    action = services.capa_action_add(
        capa, actor=_actor(request), kind=payload.kind, description=payload.description,
        owner=_user(payload.owner, "owner"), due_date=payload.due_date,
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


@router.post("/capa/{capa_id}/effectiveness", response=CapaDetailOut,
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
    return capa_detail_out(capa, actor)
