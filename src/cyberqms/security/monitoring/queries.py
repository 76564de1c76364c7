"""Reads for the monitoring pages: alerts and events an actor may see, list filters,
counts by level, and the live banner's count."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet

from cyberqms.platform.core.access import can
from cyberqms.platform.core.access import sites_for as visible_sites
from cyberqms.platform.core.keyset import TAB_CAP, CappedCount, capped_counts

from .enums import LEVEL_ORDER, OPEN_ALERT_STATES, RawStatus
from .models import Alert, EventSource, RawEvent

ALERT_VIEW = "monitoring.alert.view"
ALERT_TYPE = "monitoring.alert"  # the alert's type in the audit trail and in record links
DEVIATION_TYPE = "deviations.deviation"
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


UNASSIGNED = 0  # `assignee_id` for the alerts nobody is assigned to


def alerts_filtered(
    actor: Any, *, state: str = "open", level: str = "", site: str = "", rule: str = "",
    q: str = "", sort: str = DEFAULT_ALERT_SORT, assignee_id: int | None = None,
    since: datetime | None = None, until: datetime | None = None,
) -> QuerySet[Alert]:
    """`state` is a lifecycle state, "open" (new, acknowledged, investigating) or "" (any).
    `assignee_id`: one person's alerts, or `UNASSIGNED`; `since`/`until`: alerts whose
    events overlap [since, until) (last seen at or after `since`, first seen before
    `until`)."""
    rows = alerts_visible(actor)
    if assignee_id == UNASSIGNED:
        rows = rows.filter(assignee__isnull=True)
    elif assignee_id is not None:
        rows = rows.filter(assignee_id=assignee_id)
    if since is not None:
        rows = rows.filter(last_seen__gte=since)
    if until is not None:
        rows = rows.filter(first_seen__lt=until)
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


def level_counts(rows: QuerySet[Alert], listed: QuerySet[Alert]
                 ) -> tuple[list[dict[str, Any]], CappedCount]:
    """Alerts of `rows` per level, critical first, every level listed, and the count of
    `listed`, capped (`keyset.TAB_CAP`, `keyset.COUNT_CAP`), in one query."""
    found = capped_counts({"": listed, **{level: rows.filter(level=level) for level in LEVELS}},
                          caps=dict.fromkeys(LEVELS, TAB_CAP))
    return [{"level": level, "count": found[level]} for level in LEVELS], found[""]


def alert_rules(actor: Any) -> list[tuple[str, str]]:
    """(rule id, title) of the rules that raised alerts the actor may see, by title."""
    rows = alerts_visible(actor).order_by("title", "rule_id").values_list("rule_id", "title")
    return list(dict(rows.distinct()).items())


def alert_events(alert: Alert) -> QuerySet[RawEvent]:
    return alert.events.select_related("source").order_by("-event_time", "-id")


def alert_records(alert: Alert, actor: Any) -> dict[str, list[Any]]:
    """The quality records an alert led to, as `actor` may see them: the incidents it was
    escalated to and the deviations linked to the alert or to those incidents (either
    direction, any relation), each in number order. Records of other families are reached
    through the kit's registry, never imported."""
    from cyberqms.platform.core.models import RecordLink
    from cyberqms.platform.kit.records import kind_by_type, kind_of

    incidents = [i for i in alert.incidents.order_by("number")
                 if can(actor, kind_of(i).view_action, i)]
    ends = Q(from_type=ALERT_TYPE, from_id=str(alert.pk)) | Q(to_type=ALERT_TYPE,
                                                              to_id=str(alert.pk))
    for incident in incidents:
        type_name = kind_of(incident).type_name
        ends |= Q(from_type=type_name, from_id=str(incident.pk))
        ends |= Q(to_type=type_name, to_id=str(incident.pk))
    ids = set()
    for link in RecordLink.objects.filter(ends, removed_at__isnull=True).filter(
            Q(from_type=DEVIATION_TYPE) | Q(to_type=DEVIATION_TYPE)):
        ids.add(link.from_id if link.from_type == DEVIATION_TYPE else link.to_id)
    try:
        deviations = kind_by_type(DEVIATION_TYPE)
    except LookupError:  # the deviations family is not installed
        return {"incidents": incidents, "deviations": []}
    found = deviations.model._default_manager.filter(
        pk__in=[int(i) for i in ids if i.isdigit()]).order_by("number")
    return {"incidents": incidents,
            "deviations": [d for d in found if can(actor, deviations.view_action, d)]}


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
    """The sources the actor sees, each with what it has sent (`totals`, kept by ingest;
    missing for a source that has sent nothing) in the same query."""
    rows = EventSource.objects.select_related("site", "integration", "totals", "gxp_system",
                                              "gxp_system__owner")
    sites = visible_sites(actor, EVENT_VIEW)
    return rows if sites is None else rows.filter(site_id__in=sites)
