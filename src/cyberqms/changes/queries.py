"""Reads of change control: what an actor may see, filtered and sorted lists."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from cyberqms.core.access import AccessProfile, can

from .enums import ChangeState
from .models import Change

SORTS = {
    "number": "number", "title": "title", "state": "state", "type": "change_type",
    "risk": "risk_score", "due": "due_date", "planned": "planned_implementation_date",
    "created": "created_at", "site": "site__code", "owner": "owner__username",
}
CLOSED = (ChangeState.CLOSED, ChangeState.CANCELLED)


def visible_changes(actor: Any) -> QuerySet[Change]:
    """Changes at the sites where `actor` holds `changes.view` (none without it)."""
    rows = Change.objects.filter(is_deleted=False).select_related("site", "owner")
    if not can(actor, "changes.view"):
        return rows.none()
    profile: AccessProfile = actor.access_profile()
    covering = [g for g in profile.grants if g.covers("changes.view", None)]
    if any(g.site_id is None for g in covering):
        return rows
    return rows.filter(site_id__in={g.site_id for g in covering})


def changes_filtered(
    actor: Any,
    *,
    q: str = "",
    state: str = "",
    change_type: str = "",
    site: str = "",
    cyber: str = "",
    risk: str = "",
    overdue: bool = False,
    mine: bool = False,
    sort: str = "-created",
) -> QuerySet[Change]:
    rows = visible_changes(actor)
    if q:
        rows = rows.filter(Q(number__icontains=q) | Q(title__icontains=q))
    if state == "open":
        rows = rows.exclude(state__in=CLOSED)
    elif state:
        rows = rows.filter(state=state)
    if change_type:
        rows = rows.filter(change_type=change_type)
    if site:
        rows = rows.filter(site__code=site)
    if cyber in ("yes", "no"):
        rows = rows.filter(cyber_impact=cyber == "yes")
    if risk:
        rows = rows.filter(risk_level=risk)
    if overdue:
        rows = rows.exclude(state__in=CLOSED).filter(due_date__lt=timezone.localdate())
    if mine:
        rows = rows.filter(owner=actor)
    key = sort.lstrip("-")
    column = SORTS.get(key, "created_at")
    descending = sort.startswith("-") if key in SORTS else True
    return rows.order_by(f"-{column}" if descending else column, "-id")
