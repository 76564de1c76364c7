"""REST operations on deviations: list, create, detail, update, spawn a CAPA.

Transitions, attachments, comments and links are served by the generic record API
(`/api/v1/records/deviations/{id}/…`).
"""

import math
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse
from ninja import Query, Router, Schema, Status

from cyberqms.accounts.models import Department, Site
from cyberqms.api import api_record, gate
from cyberqms.core.record_pages import record_json

from . import services
from .enums import Classification, DeviationState
from .models import Deviation
from .queries import deviations_filtered, linked_capas
from .schemas import (
    DeviationDetailOut,
    DeviationIn,
    DeviationPage,
    DeviationUpdateIn,
    SpawnCapaIn,
    SpawnedCapaOut,
)

router = Router(tags=["Deviations"])

PAGE_SIZE_MAX = 200


class ListFilters(Schema):
    q: str = ""
    state: str = ""
    classification: str = ""
    site: str = ""
    cyber_related: bool | None = None
    overdue: bool = False
    mine: bool = False
    sort: str = "-created"
    page: int = 1
    page_size: int = 50


def _load(request: HttpRequest, deviation_id: int, for_: str = "view") -> Deviation:
    record: Deviation = api_record(request, "deviations", deviation_id, for_=for_)
    return record


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


def _department(code: str | None, site: Site) -> Department | None:
    if not code:
        return None
    department = Department.objects.filter(site=site, code=code.strip()).first()
    if department is None:
        raise ValidationError({"department": [f"No department {code!r} at {site.code}."]})
    return department


def deviation_out(d: Deviation) -> dict[str, Any]:
    return {
        "id": d.pk, "number": d.number, "title": d.title, "state": d.state,
        "classification": d.classification, "site": d.site.code,
        "owner": d.owner.username, "originator": d.originator.username,
        "due_date": d.due_date, "overdue": d.is_overdue(), "cyber_related": d.cyber_related,
        "security_reference": d.security_reference, "gxp_impact": d.gxp_impact,
        "data_integrity_impact": d.data_integrity_impact, "created_at": d.created_at,
        "url": reverse("deviations:detail", args=[d.pk]),
    }


def deviation_detail_out(d: Deviation, actor: Any) -> dict[str, Any]:
    return {
        **deviation_out(d),
        **{name: getattr(d, name) for name in (
            "description", "event_at", "late_entry", "late_entry_reason", "area",
            "product_reference", "gxp_impact_text", "data_integrity_impact_text",
            "immediate_actions", "investigation_summary", "root_cause_category",
            "root_cause", "capa_required", "qa_comments", "closed_at",
        )},
        "department": d.department.code if d.department else None,
        "editable_fields": sorted(services.editable_fields(d, actor)),
        "capas": [{"id": c.pk, "number": c.number, "title": c.title, "state": c.state}
                  for c in linked_capas(d)],
        "common": record_json(d, actor),
    }


@router.get("/deviations", response=DeviationPage, operation_id="deviation_list")
@gate("deviations.view")
def deviation_list(request: HttpRequest, filters: Query[ListFilters]) -> dict[str, Any]:
    """Deviations visible to the caller (their sites), filtered and paginated."""
    if filters.state and filters.state not in DeviationState.values:
        raise ValidationError({"state": [f"Choose one of {', '.join(DeviationState.values)}."]})
    if filters.classification and filters.classification not in (*Classification.values,
                                                                  "none"):
        raise ValidationError({"classification": [
            f"Choose one of {', '.join(Classification.values)} or none."
        ]})
    if not 1 <= filters.page_size <= PAGE_SIZE_MAX:
        raise ValidationError({"page_size": [f"Between 1 and {PAGE_SIZE_MAX}."]})
    cyber = "" if filters.cyber_related is None else ("yes" if filters.cyber_related else "no")
    rows = deviations_filtered(
        request.auth, q=filters.q.strip()[:100], state=filters.state,  # type: ignore[attr-defined]
        classification=filters.classification, site=filters.site, cyber=cyber,
        overdue=filters.overdue, mine=filters.mine, sort=filters.sort,
    )
    count = rows.count()
    pages = max(1, math.ceil(count / filters.page_size))
    page = min(max(1, filters.page), pages)
    start = (page - 1) * filters.page_size
    return {"count": count, "page": page, "pages": pages,
            "results": [deviation_out(d) for d in rows[start:start + filters.page_size]]}


@router.post("/deviations", response={201: DeviationDetailOut}, operation_id="deviation_create")
@gate("deviations.create")
def deviation_create(request: HttpRequest, payload: DeviationIn) -> Status:
    """Record a deviation (draft). Field errors answer 422 naming the field."""
    actor = request.auth  # type: ignore[attr-defined]
    site = _site(payload.site)
    data = payload.dict()
    data.update(site=site, owner=_user(payload.owner, "owner"),
                department=_department(payload.department, site))
    deviation = services.deviation_create(actor=actor, **data)
    return Status(201, deviation_detail_out(deviation, actor))


@router.get("/deviations/{deviation_id}", response=DeviationDetailOut,
            operation_id="deviation_detail")
@gate("deviations.view")
def deviation_detail(request: HttpRequest, deviation_id: int) -> dict[str, Any]:
    """One deviation with its shared parts (`common`: signatures, links, actions…)."""
    return deviation_detail_out(_load(request, deviation_id), request.auth)  # type: ignore[attr-defined]


@router.post("/deviations/{deviation_id}/update", response=DeviationDetailOut,
             operation_id="deviation_update")
@gate("deviations.edit")
def deviation_update(
    request: HttpRequest, deviation_id: int, payload: DeviationUpdateIn
) -> dict[str, Any]:
    """Change fields editable in the current state (a reason once out of draft)."""
    actor = request.auth  # type: ignore[attr-defined]
    deviation = _load(request, deviation_id, for_="edit")
    changes = dict(payload.changes)
    if "owner" in changes:
        changes["owner"] = _user(changes["owner"], "owner")
    if "department" in changes:
        changes["department"] = _department(changes["department"], deviation.site)
    for name in ("event_at", "due_date"):
        if name in changes and changes[name] is not None:
            changes[name] = _parse(name, changes[name])
    updated = services.deviation_update(deviation, actor=actor, changes=changes,
                                        reason=payload.reason)
    return deviation_detail_out(updated, actor)


def _parse(name: str, value: Any) -> Any:
    from django.utils.dateparse import parse_date, parse_datetime

    parsed: Any = None
    if isinstance(value, str):
        try:
            parsed = parse_datetime(value) if name == "event_at" else parse_date(value)
        except ValueError:
            parsed = None
    if parsed is None:
        raise ValidationError({name: ["Not a valid date" + (" and time." if name == "event_at"
                                                              else ".")]})
    if name == "event_at" and parsed.tzinfo is None:
        raise ValidationError({name: ["Give the time zone (e.g. 2026-03-01T10:00:00Z)."]})
    return parsed


@router.post("/deviations/{deviation_id}/capa", response={201: SpawnedCapaOut},
             operation_id="deviation_spawn_capa")
@gate("deviations.edit")
def deviation_spawn_capa(
    request: HttpRequest, deviation_id: int, payload: SpawnCapaIn
) -> Status:
    """Open a CAPA from the deviation; both records show the "spawned" link."""
    actor = request.auth  # type: ignore[attr-defined]
    deviation = _load(request, deviation_id, for_="edit")
    capa = services.deviation_spawn_capa(
        deviation, actor=actor, title=payload.title, owner=_user(payload.owner, "owner"),
        due_date=payload.due_date, description=payload.description,
    )
    return Status(201, {"id": capa.pk, "number": capa.number, "title": capa.title,
                        "state": capa.state, "url": reverse("capa:detail", args=[capa.pk])})
