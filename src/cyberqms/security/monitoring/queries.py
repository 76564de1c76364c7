"""Reads for the monitoring pages: alerts and events an actor may see, list filters,
counts by level, and the live banner's count."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet

from cyberqms.platform.core.access import sites_for as visible_sites

from .enums import LEVEL_ORDER, OPEN_ALERT_STATES, RawStatus
from .models import Alert, EventSource, RawEvent

ALERT_VIEW = "monitoring.alert.view"
EVENT_VIEW = "monitoring.event.view"
LEVELS = sorted(LEVEL_ORDER, key=lambda level: -LEVEL_ORDER[level])  # critical first
BANNER_LEVELS = ("high", "critical")

ALERT_SORTS = {
    "number": "number", "-number": "-number",
    "title": "title", "-title": "-title",
    "state": "state", "-state": "-state",
    "count": "count", "-count": "-count",
    "first": "first_seen", "-first": "-first_seen",
    "last": "last_seen", "-last": "-last_seen",
}
DEFAULT_ALERT_SORT = "-last"


def alerts_visible(actor: Any) -> QuerySet[Alert]:
    rows = Alert.objects.select_related("site", "source", "assignee")
    sites = visible_sites(actor, ALERT_VIEW)
    return rows if sites is None else rows.filter(site_id__in=sites)


def alerts_filtered(
    actor: Any, *, state: str = "open", level: str = "", site: str = "", rule: str = "",
    q: str = "", sort: str = DEFAULT_ALERT_SORT,
) -> QuerySet[Alert]:
    """`state` is a lifecycle state, "open" (new, acknowledged, investigating) or "" (any)."""
    rows = alerts_visible(actor)
    if state == "open":
        rows = rows.filter(state__in=OPEN_ALERT_STATES)
    elif state:
        rows = rows.filter(state=state)
    if level:
        rows = rows.filter(level=level)
    if site:
        rows = rows.filter(site__code=site)
    if rule:
        rows = rows.filter(rule_id=rule)
    if q:
        rows = rows.filter(
            Q(number__icontains=q) | Q(title__icontains=q) | Q(group_key__icontains=q)
            | Q(summary__icontains=q)
        )
    return rows.order_by(ALERT_SORTS.get(sort, ALERT_SORTS[DEFAULT_ALERT_SORT]), "-id")


def level_counts(rows: QuerySet[Alert]) -> list[dict[str, Any]]:
    """Alerts per level, critical first, every level listed (one query)."""
    found = dict(rows.order_by().values_list("level").annotate(n=Count("id")))
    return [{"level": level, "count": found.get(level, 0)} for level in LEVELS]


def alert_rules(actor: Any) -> list[tuple[str, str]]:
    """(rule id, title) of the rules that raised alerts the actor may see, by title."""
    rows = alerts_visible(actor).order_by("title", "rule_id").values_list("rule_id", "title")
    return list(dict(rows.distinct()).items())


def alert_events(alert: Alert) -> QuerySet[RawEvent]:
    return alert.events.select_related("source").order_by("-event_time", "-id")


def banner_count(actor: Any) -> int:
    """New high or critical alerts the actor may see: what the live banner announces."""
    return alerts_visible(actor).filter(state="new", level__in=BANNER_LEVELS).count()


def events_filtered(
    actor: Any, *, status: str = "", source: str = "", class_uid: int | None = None,
    actor_name: str = "", ip: str = "", since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[RawEvent]:
    rows = RawEvent.objects.select_related("source").defer("payload", "event")
    sites = visible_sites(actor, EVENT_VIEW)
    if sites is not None:
        rows = rows.filter(source__site_id__in=sites)
    if status in RawStatus.values:
        rows = rows.filter(status=status)
    if source:
        rows = rows.filter(source__name=source)
    if class_uid is not None:
        rows = rows.filter(class_uid=class_uid)
    if actor_name:
        rows = rows.filter(actor__icontains=actor_name)
    if ip:
        rows = rows.filter(src_ip__startswith=ip)
    if since:
        rows = rows.filter(received_at__gte=since)
    if until:
        rows = rows.filter(received_at__lt=until)
    return rows.order_by("-received_at", "-id")


def quarantine_reasons(rows: QuerySet[RawEvent]) -> list[tuple[str, int]]:
    found = (rows.filter(status=RawStatus.QUARANTINED).order_by().values_list("reason")
             .annotate(n=Count("id")).order_by("-n", "reason"))
    return [(reason, n) for reason, n in found]


def banner_context(user: Any) -> dict[str, Any]:
    """What the live banner shows: the count of new high or critical alerts the user may
    see and the newest of them."""
    from django.urls import reverse

    count = banner_count(user)
    newest = None
    if count:
        newest = (alerts_visible(user).filter(state="new", level__in=BANNER_LEVELS)
                  .order_by("-last_seen", "-id").first())
    return {"count": count, "newest": newest,
            "alerts_url": reverse("monitoring:alerts") + "?state=new"}


def sources_with_counts(actor: Any) -> QuerySet[EventSource]:
    rows = EventSource.objects.select_related("site", "integration")
    sites = visible_sites(actor, EVENT_VIEW)
    return rows if sites is None else rows.filter(site_id__in=sites)
