"""REST operations on change control: list, create, detail, update, implementation tasks.

Transitions (submit, QA and IT-security approvals, close …), attachments, comments and
links are served by the generic record API (`/api/v1/records/changes/{id}/…`).
"""

import math
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.urls import reverse
from ninja import Query, Router, Schema, Status

from cyberqms.accounts.models import Site
from cyberqms.api import api_actor as _actor
from cyberqms.api import api_record, gate
from cyberqms.core.record_pages import record_json

from . import services
from .enums import ChangeState, ChangeType, RiskLevel
from .models import Change, ChangeTask
from .queries import changes_filtered
from .schemas import (
    ChangeDetailOut,
    ChangeIn,
    ChangePage,
    ChangeUpdateIn,
    ReasonIn,
    TaskCompleteIn,
    TaskIn,
    TaskOut,
)

router = Router(tags=["Change control"])

PAGE_SIZE_MAX = 200


class ListFilters(Schema):
    q: str = ""
    state: str = ""
    change_type: str = ""
    site: str = ""
    cyber: str = ""
    risk: str = ""
    overdue: bool = False
    mine: bool = False
    sort: str = "-created"
    page: int = 1
    page_size: int = 50


def _load(request: HttpRequest, change_id: int, for_: str = "view") -> Change:
    record: Change = api_record(request, "changes", change_id, for_=for_)
    return record


def _task(request: HttpRequest, change_id: int, task_id: int) -> ChangeTask:
    change = _load(request, change_id)
    task = change.tasks.select_related("owner").filter(pk=task_id).first()
    if task is None:
        raise Http404
    task.change = change
    return task


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


def change_out(c: Change) -> dict[str, Any]:
    return {
        "id": c.pk, "number": c.number, "title": c.title, "state": c.state,
        "change_type": c.change_type, "site": c.site.code, "owner": c.owner.username,
        "originator": c.originator.username, "due_date": c.due_date,
        "overdue": c.is_overdue(), "cyber_impact": c.cyber_impact,
        "risk_score": c.risk_score, "risk_level": c.risk_level,
        "planned_implementation_date": c.planned_implementation_date,
        "created_at": c.created_at, "closed_at": c.closed_at,
        "url": reverse("changes:detail", args=[c.pk]),
    }


def task_out(t: ChangeTask) -> dict[str, Any]:
    return {
        "id": t.pk, "description": t.description, "owner": t.owner.username,
        "due_date": t.due_date, "state": t.state, "completed_at": t.completed_at,
        "note": t.note,
    }


DETAIL_FIELDS = (
    "description", "justification", "scope", "product_quality_impact", "validation_impact",
    "revalidation_required", "regulatory_impact", "regulatory_filing_required",
    "new_interfaces", "new_accounts", "network_exposure", "data_flow_change",
    "cyber_assessment", "severity", "probability", "detectability",
    "post_implementation_review", "pir_outcome", "event_at", "late_entry",
    "late_entry_reason",
)


def change_detail_out(c: Change, actor: Any) -> dict[str, Any]:
    return {
        **change_out(c),
        **{name: getattr(c, name) for name in DETAIL_FIELDS},
        "editable_fields": list(services.editable_fields(c)),
        "tasks": [task_out(t) for t in c.tasks.select_related("owner")],
        "common": record_json(c, actor),
    }


def _choice(value: str, allowed: list[str], field: str) -> str:
    if value and value not in allowed:
        raise ValidationError({field: [f"Choose one of {', '.join(allowed)}."]})
    return value


@router.get("/changes", response=ChangePage, operation_id="change_list")
@gate("changes.view")
def change_list(request: HttpRequest, filters: Query[ListFilters]) -> dict[str, Any]:
    """Changes at the sites you may see, filtered, sorted and paged."""
    _choice(filters.state, ["open", *ChangeState.values], "state")
    _choice(filters.change_type, list(ChangeType.values), "change_type")
    _choice(filters.cyber, ["yes", "no"], "cyber")
    _choice(filters.risk, list(RiskLevel.values), "risk")
    if not 1 <= filters.page_size <= PAGE_SIZE_MAX:
        raise ValidationError({"page_size": [f"From 1 to {PAGE_SIZE_MAX}."]})
    if filters.page < 1:
        raise ValidationError({"page": ["From 1 on."]})
    rows = changes_filtered(
        _actor(request), q=filters.q.strip()[:100], state=filters.state,
        change_type=filters.change_type, site=filters.site, cyber=filters.cyber,
        risk=filters.risk, overdue=filters.overdue, mine=filters.mine, sort=filters.sort,
    )
    count = rows.count()
    start = (filters.page - 1) * filters.page_size
    return {
        "count": count, "page": filters.page,
        "pages": max(1, math.ceil(count / filters.page_size)),
        "results": [change_out(c) for c in rows[start:start + filters.page_size]],
    }


@router.post("/changes", response={201: ChangeDetailOut}, operation_id="change_create")
@gate("changes.create")
def change_create(request: HttpRequest, payload: ChangeIn) -> Status:
    """Raise a change request (draft); 422 names the fields that are wrong."""
    data = payload.dict(exclude_unset=True)
    site = _site(data.pop("site"))
    owner = data.pop("owner", None)
    change = services.change_create(
        actor=_actor(request), site=site, title=data.pop("title"),
        change_type=data.pop("change_type"), justification=data.pop("justification"),
        owner=_user(owner, "owner") if owner else None,
        event_at=data.pop("event_at", None), late_entry_reason=data.pop("late_entry_reason", ""),
        **{k: v for k, v in data.items() if v is not None or k in services.RATING_FIELDS},
    )
    return Status(201, change_detail_out(change, _actor(request)))


@router.get("/changes/{change_id}", response=ChangeDetailOut, operation_id="change_detail")
@gate("changes.view")
def change_detail(request: HttpRequest, change_id: int) -> dict[str, Any]:
    return change_detail_out(_load(request, change_id), _actor(request))


@router.patch("/changes/{change_id}", response=ChangeDetailOut, operation_id="change_update")
@gate("changes.edit")
def change_update(request: HttpRequest, change_id: int, payload: ChangeUpdateIn) -> dict[str, Any]:
    """Change the fields sent (those editable in the current state; a reason after draft)."""
    change = _load(request, change_id, for_="edit")
    data = payload.dict(exclude_unset=True)
    reason = data.pop("reason", "")
    if "owner" in data:
        data["owner"] = _user(data["owner"], "owner")
    for name in ("title", "change_type", "justification", "pir_outcome"):
        if name in data and data[name] is None:
            data[name] = ""
    change = services.change_update(change, actor=_actor(request), changes=data, reason=reason)
    return change_detail_out(change, _actor(request))


@router.post("/changes/{change_id}/tasks", response={201: TaskOut},
             operation_id="change_task_add")
@gate("changes.edit")
def change_task_add(request: HttpRequest, change_id: int, payload: TaskIn) -> Status:
    change = _load(request, change_id)
    task = services.change_task_add(
        change, actor=_actor(request), description=payload.description,
        owner=_user(payload.owner, "owner"), due_date=payload.due_date,
    )
    return Status(201, task_out(task))


@router.post("/changes/{change_id}/tasks/{task_id}/complete", response=TaskOut,
             operation_id="change_task_complete")
@gate("changes.work")
def change_task_complete(request: HttpRequest, change_id: int, task_id: int,
                         payload: TaskCompleteIn) -> dict[str, Any]:
    task = _task(request, change_id, task_id)
    return task_out(services.change_task_complete(task, actor=_actor(request),
                                                  note=payload.note))


@router.post("/changes/{change_id}/tasks/{task_id}/cancel", response=TaskOut,
             operation_id="change_task_cancel")
@gate("changes.edit")
def change_task_cancel(request: HttpRequest, change_id: int, task_id: int,
                       payload: ReasonIn) -> dict[str, Any]:
    task = _task(request, change_id, task_id)
    return task_out(services.change_task_cancel(task, actor=_actor(request),
                                                reason=payload.reason))
