"""Reads of the CAPA family: the filtered list, overdue tracking, KPI figures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from cyberqms.platform.core.access import can

from .enums import ActionState, CapaState
from .models import Capa, CapaAction

CLOSED_STATES = (CapaState.CLOSED, CapaState.CANCELLED)

SORTS = {
    "number": "number", "-number": "-number",
    "title": "title", "-title": "-title",
    "state": "state", "-state": "-state",
    "due": "due_date", "-due": "-due_date",
    "created": "created_at", "-created": "-created_at",
}


def _today(today: dt.date | None) -> dt.date:
    return today or timezone.localdate()


def overdue_actions(today: dt.date | None = None) -> QuerySet[CapaAction]:
    """Open actions past their due date on CAPAs still in progress (for overdue notices).

    Each row has `capa` (with site) and `owner` loaded; the owner is who to tell.
    """
    return CapaAction.objects.filter(
        state=ActionState.OPEN, due_date__lt=_today(today), capa__is_deleted=False,
    ).exclude(capa__state__in=CLOSED_STATES).select_related(
        "capa", "capa__site", "owner"
    ).order_by("due_date", "pk")


def overdue_capas(today: dt.date | None = None) -> QuerySet[Capa]:
    """CAPAs in progress past their own due date."""
    return Capa.objects.filter(is_deleted=False, due_date__lt=_today(today)).exclude(
        state__in=CLOSED_STATES
    )


def _overdue_q(today: dt.date) -> Any:
    late_action = CapaAction.objects.filter(
        capa=OuterRef("pk"), state=ActionState.OPEN, due_date__lt=today
    )
    return ~Q(state__in=CLOSED_STATES) & (Q(due_date__lt=today) | Exists(late_action))


def capas_filtered(
    actor: Any, *, q: str = "", state: str = "", source: str = "", site: str = "",
    overdue: bool = False, cyber: bool = False, mine: bool = False, sort: str = "-created",
    today: dt.date | None = None,
) -> QuerySet[Capa]:
    """CAPAs `actor` may see (their roles' sites), filtered and sorted for the list."""
    today = _today(today)
    late_action = CapaAction.objects.filter(
        capa=OuterRef("pk"), state=ActionState.OPEN, due_date__lt=today
    )
    rows = Capa.objects.filter(is_deleted=False).select_related("site", "owner").annotate(
        has_late_action=Exists(late_action)
    )
    rows = rows.filter(site_id__in=visible_site_ids(actor)) if not _all_sites(actor) else rows
    if q:
        rows = rows.filter(
            Q(number__icontains=q) | Q(title__icontains=q) | Q(source_reference__icontains=q)
        )
    if state in CapaState.values:
        rows = rows.filter(state=state)
    elif state == "active":
        rows = rows.exclude(state__in=CLOSED_STATES)
    if source:
        rows = rows.filter(source=source)
    if site:
        rows = rows.filter(site__code=site)
    if overdue:
        rows = rows.filter(_overdue_q(today))
    if cyber:
        rows = rows.filter(cyber_related=True)
    if mine:
        mine_q = Q(owner=actor) | Q(actions__owner=actor, actions__state=ActionState.OPEN)
        rows = rows.filter(mine_q).distinct()
    return rows.order_by(SORTS.get(sort, "-created_at"), "-pk")


def _all_sites(actor: Any) -> bool:
    return any(g.site_id is None and g.covers("capa.view", None)
               for g in actor.access_profile().grants)


def visible_site_ids(actor: Any) -> list[int]:
    return sorted({g.site_id for g in actor.access_profile().grants
                   if g.site_id is not None and g.covers("capa.view", g.site_id)})


def capa_is_overdue(capa: Capa, today: dt.date | None = None) -> bool:
    """The CAPA or one of its open actions is past due."""
    return capa.is_overdue(today)


def actions_of(capa: Capa) -> list[CapaAction]:
    return list(capa.actions.select_related("owner", "completed_by", "capa"))


def closure_days(
    capas: Iterable[Capa] | None = None, *, site: Any = None,
    since: dt.datetime | None = None,
) -> list[tuple[str, float]]:
    """(number, days from creation to closure) of closed CAPAs, for the KPI dashboard.

    `capas` defaults to every closed, not deleted CAPA; `site` and `since` (closed at or
    after) narrow it. Days are fractional (hours count), oldest closure first.
    """
    if capas is None:
        rows = Capa.objects.filter(state=CapaState.CLOSED, is_deleted=False,
                                   closed_at__isnull=False)
        if site is not None:
            rows = rows.filter(site=site)
        if since is not None:
            rows = rows.filter(closed_at__gte=since)
        capas = rows.order_by("closed_at", "pk")
    return [
        (c.number, round((c.closed_at - c.created_at).total_seconds() / 86400, 2))
        for c in capas
        if c.state == CapaState.CLOSED and c.closed_at is not None
    ]


def action_children(record_type: str, record_id: str) -> list[tuple[str, str]]:
    """The actions of a CAPA, for its history tab (trail child provider)."""
    if record_type != "capa.capa":
        return []
    try:
        pk = int(record_id)
    except ValueError:
        return []
    ids = CapaAction.objects.filter(capa_id=pk).values_list("pk", flat=True)
    return [("capa.action", str(i)) for i in ids]


def may(actor: Any, action: str, capa: Capa) -> bool:
    return can(actor, action, capa)
