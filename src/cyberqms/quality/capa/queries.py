"""Reads of the CAPA family: the filtered list, overdue tracking, KPI figures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from cyberqms.platform.core.access import can

from .enums import ActionState, CapaState
from .models import Capa, CapaAction

CLOSED_STATES = (CapaState.CLOSED, CapaState.CANCELLED)

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
