"""Reads: the deviations an actor may see, list filters, counts, linked CAPAs, QA people."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from cyberqms.core.access import sites_for
from cyberqms.core.models import RecordLink

from .enums import DeviationState
from .models import Deviation

TYPE_NAME = "deviations.deviation"
CAPA_TYPE = "capa.capa"
VIEW = "deviations.view"

SORTS = {
    "number": "number", "-number": "-number",
    "title": "title", "-title": "-title",
    "state": "state", "-state": "-state",
    "classification": "classification", "-classification": "-classification",
    "due": "due_date", "-due": "-due_date",
    "created": "created_at", "-created": "-created_at",
}
DEFAULT_SORT = "-created"


def visible_sites(actor: Any, action: str = VIEW) -> set[int] | None:
    """Sites where `actor` may view deviations (None: every site)."""
    return sites_for(actor, action)


def deviations_visible(actor: Any) -> QuerySet[Deviation]:
    rows = Deviation.objects.filter(is_deleted=False).select_related("site", "owner")
    sites = visible_sites(actor)
    if sites is None:
        return rows
    return rows.filter(site_id__in=sites)


def deviations_filtered(
    actor: Any, *, q: str = "", state: str = "", classification: str = "", site: str = "",
    cyber: str = "", overdue: bool = False, mine: bool = False, sort: str = DEFAULT_SORT,
) -> QuerySet[Deviation]:
    rows = deviations_visible(actor)
    if q:
        rows = rows.filter(
            Q(number__icontains=q) | Q(title__icontains=q) | Q(security_reference__icontains=q)
            | Q(product_reference__icontains=q)
        )
    if state:
        rows = rows.filter(state=state)
    if classification == "none":
        rows = rows.filter(classification="")
    elif classification:
        rows = rows.filter(classification=classification)
    if site:
        rows = rows.filter(site__code=site)
    if cyber == "yes":
        rows = rows.filter(cyber_related=True)
    elif cyber == "no":
        rows = rows.filter(cyber_related=False)
    if overdue:
        rows = rows.filter(due_date__lt=timezone.localdate()).exclude(
            state__in=(DeviationState.CLOSED, DeviationState.CANCELLED)
        )
    if mine:
        rows = rows.filter(owner=actor)
    return rows.order_by(SORTS.get(sort, SORTS[DEFAULT_SORT]), "-id")


def state_counts(rows: QuerySet[Deviation]) -> list[dict[str, Any]]:
    """Counts by state, every state listed in workflow order (zeros included)."""
    found = dict(rows.order_by().values_list("state").annotate(n=Count("id")))
    return [{"state": s.value, "label": s.label, "count": found.get(s.value, 0)}
            for s in DeviationState]


def capa_links(deviation: Deviation) -> QuerySet[RecordLink]:
    """Current "spawned" links from this deviation to CAPA records."""
    return RecordLink.objects.filter(
        removed_at__isnull=True, from_type=TYPE_NAME, from_id=str(deviation.pk),
        to_type=CAPA_TYPE, relation="spawned",
    )


def linked_capas(deviation: Deviation) -> list[Any]:
    """The CAPA records this deviation spawned (empty while the CAPA app is absent)."""
    from cyberqms.core.records import kind_by_type

    ids = list(capa_links(deviation).values_list("to_id", flat=True))
    if not ids:
        return []
    try:
        kind = kind_by_type(CAPA_TYPE)
    except LookupError:
        return []
    return list(kind.model._default_manager.filter(pk__in=ids).order_by("number"))


def holds_role(user: Any, roles: tuple[str, ...], site_id: int | None) -> bool:
    """Does `user` hold one of `roles` now, for all sites or for `site_id`?"""
    from cyberqms.accounts.models import RoleAssignment

    return RoleAssignment.objects.held_on(timezone.now()).filter(
        Q(site__isnull=True) | Q(site_id=site_id), user_id=user.pk, role__in=roles,
    ).exists()


def qa_people(site_id: int | None) -> list[Any]:
    """Active QA reviewers and managers responsible for `site_id` (or all sites)."""
    from cyberqms.accounts.models import RoleAssignment, User

    ids = RoleAssignment.objects.held_on(timezone.now()).filter(
        Q(site__isnull=True) | Q(site_id=site_id), role__in=("qa_manager", "qa_reviewer"),
    ).values("user_id")
    return list(User.objects.filter(pk__in=models.Subquery(ids), is_active=True))
