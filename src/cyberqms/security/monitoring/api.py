"""Monitoring API: the HTTP batch endpoint through which registered sources send events, the
monitoring metrics, and the alerts (list, detail, lifecycle steps, assignment) through the
same services as the pages."""
# No "from __future__ import annotations": django-ninja resolves operation annotations
# through the gate wrapper, whose globals are not this module's.

from typing import Any, Literal

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from cyberqms.platform.accounts.models import Integration, Site
from cyberqms.platform.core.access import can
from cyberqms.platform.core.api_gate import api_actor, gate
from cyberqms.platform.core.events import emit_security_event
from cyberqms.platform.core.models import Severity
from cyberqms.platform.core.paging import api_page
from cyberqms.platform.core.problems import problem_response
from cyberqms.platform.kit.records import kind_of

from . import describe, metrics, queries, services
from .enums import AlertState
from .forms import MetricsFilterForm
from .models import Alert, EventSource
from .schemas import (
    AlertAssignIn,
    AlertDetailOut,
    AlertFilters,
    AlertPageOut,
    AlertTransitionIn,
    MetricsOut,
)
from .workflow import ALERT_WORKFLOW

router = Router(tags=["monitoring"])

BODY_TYPES = frozenset({"application/x-ndjson", "application/jsonl", "text/plain"})


class IngestOut(Schema):
    received: int
    accepted: int
    quarantined: int
    reasons: dict[str, int]
    alerts: list[str] = Field(description=(
        "Numbers of the alerts the batch raised or extended, when it was detected as it was "
        "received (`detection` inline); empty when the detector detects it shortly after."))
    detection: Literal["inline", "detector"] = Field(description=(
        "Where the batch is detected: here and now (inline), or by the installation's one "
        "detector within about a second (detector; docs/operations.md)."))


def _refused(holder: object, detail: str, why: str) -> None:
    """Record an HTTP sender refused for its source (P11-12), as the listener does for
    unknown addresses."""
    name = getattr(holder, "name", "") or getattr(holder, "username", "") or "?"
    person = not isinstance(holder, Integration)
    emit_security_event(
        "monitoring.source.unknown", severity=Severity.MEDIUM,
        message=f"Events sent over HTTP by {name} refused: {why}",
        actor_id=getattr(holder, "pk", None) if person else None,
        username=name if person else "",
        data={"channel": "http", "holder": name, "detail": detail},
    )


def _lines(body: bytes) -> list[bytes]:
    return [line.removesuffix(b"\r") for line in body.split(b"\n") if line.strip(b"\r")]


@router.post(
    "/monitoring/events", response={202: IngestOut}, operation_id="monitoring_ingest",
    summary="Send a batch of events, one per line",
    openapi_extra={"responses": {
        413: {"description": "The batch is too large."},
        415: {"description": "The body is not one of the line formats."},
        422: {"description": "The body holds no events."},
    }},
    description=(
        "The body holds one event per line in the source's registered format: JSON lines "
        "(`application/x-ndjson`) or syslog, CEF or LEEF lines (`text/plain`). The bearer "
        "token belongs to the integration the event source is registered with and carries "
        "the `monitoring.ingest` scope. Every line is kept; lines that do not parse are "
        "quarantined with the reason (counted in the answer)."
    ),
)
@gate("monitoring.ingest")
def monitoring_ingest(request: HttpRequest) -> Status | HttpResponse:
    holder = api_actor(request)
    source = None
    if isinstance(holder, Integration):
        source = EventSource.objects.select_related("site").filter(integration=holder).first()
    if source is None:
        _refused(holder, "unregistered", "no event source is registered for it")
        raise PermissionDenied("This token's holder is not registered as an event source.")
    if not source.is_active:
        _refused(holder, "inactive", f"its event source {source.name} is not active")
        raise PermissionDenied(f"source {source.name} is not active.")
    content_type = (request.content_type or "").lower()
    if content_type not in BODY_TYPES:
        return problem_response(
            415, f"Send the events as {', '.join(sorted(BODY_TYPES))}, one per line.",
            errors=[{"field": "Content-Type", "message": f"unsupported: {content_type!r}"}],
        )
    lines = _lines(request.body)
    if not lines:
        return problem_response(
            422, "The body holds no events.",
            errors=[{"field": "body", "message": "at least one non-empty line"}],
        )
    try:
        result = services.ingest(source, lines, channel="http")
    except services.SourceRefused as exc:  # deactivated meanwhile
        _refused(holder, "inactive", str(exc))
        raise PermissionDenied(f"{exc}.") from exc
    return Status(202, {
        "received": result.received, "accepted": result.accepted,
        "quarantined": result.quarantined, "reasons": dict(result.reasons),
        "alerts": [alert.number for alert in result.alerts],
        "detection": "inline" if result.detected else "detector",
    })


@router.get(
    "/monitoring/metrics", response={200: MetricsOut}, operation_id="monitoring_metrics",
    summary="Detection and response metrics over a period",
    openapi_extra={"responses": {400: {"description": "A filter that does not validate."}}},
    description=(
        "The figures of the monitoring page: alerts created in the period per day, level "
        "and rule; median and mean time to detect (creation − first event), to acknowledge "
        "and to resolve; false-positive rate (false positives / closed); open alerts by "
        "state (now); and, for callers who may view events, events per second (last "
        "minute, average, peak minute, series) with accepted and quarantined counts by "
        "reason. Sites are limited to those the caller may see. A filter that does not "
        "validate answers 400 (problem+json naming the field)."
    ),
)
@gate("monitoring.alert.view")
def monitoring_metrics(
    request: HttpRequest,
    period: str = Query("", description="24h, 7d, 30d (default) or 90d"),
    start: str = Query("", description="First UTC day (YYYY-MM-DD); with `end`, wins over "
                                        "`period`"),
    end: str = Query("", description="Last UTC day, inclusive (default: today)"),
    site: str = Query("", description="Site code; default: every site the caller sees"),
    drills: str = Query("", description="include: count the alerts raised by attack drills "
                                        "(left out by default)"),
) -> Status | HttpResponse:
    actor = api_actor(request)
    form = MetricsFilterForm({"period": period, "start": start, "end": end, "site": site,
                              "drills": drills},
                             sites=metrics.sites_for(actor))
    if not form.is_valid():
        problems = form.problems()
        return problem_response(400, f"Invalid filter: {problems[0]['field']}: "
                                     f"{problems[0]['message']}", errors=problems)
    window = form.window()
    figures = metrics.overview(actor, start=window.start, end=window.end,
                               site_id=window.site.pk if window.site else None,
                               drills=window.drills)
    return Status(200, {
        "period": {"start": window.start, "end": window.end, "period": window.period,
                   "site": window.site.code if window.site else None,
                   "drills": window.drills},
        "alerts": figures.alerts, "events": figures.events,
    })


# --- alerts ------------------------------------------------------------------------------------


def _alert_out(alert: Alert) -> dict[str, Any]:
    person = alert.assignee
    return {
        "id": alert.pk, "number": alert.number,
        "url": reverse("monitoring:alert", args=[alert.pk]), "title": alert.title,
        "rule_id": alert.rule_id, "level": alert.level, "state": alert.state,
        "state_label": AlertState(alert.state).label,
        "site": alert.site.code if alert.site else None,
        "source": alert.source.name if alert.source else None,
        "group_key": alert.group_key,
        "grouped_on": [{"label": label, "value": value}
                       for label, value in describe.grouped_on(alert.group_key)],
        "assignee": {"username": person.get_username(), "name": person.printed_name}
        if person is not None else None,
        "count": alert.count, "first_seen": alert.first_seen, "last_seen": alert.last_seen,
        "created_at": alert.created_at, "acknowledged_at": alert.acknowledged_at,
        "closed_at": alert.closed_at,
    }


def _record_ref(record: Any) -> dict[str, Any]:
    return {"number": record.number, "title": record.title, "state": record.state,
            "state_label": record.get_state_display(),
            "url": kind_of(record).detail_url(record)}


def _alert_detail(alert: Alert, actor: Any) -> dict[str, Any]:
    why = describe.explanation(alert.context)
    records = queries.alert_records(alert, actor)
    return {
        **_alert_out(alert), "summary": alert.summary, "resolution": alert.resolution,
        "techniques": [str(t) for t in alert.techniques or []],
        "requirements": [str(r) for r in alert.requirements or []],
        "events": alert.events.count(),
        "explanation": None if why is None else {
            "baseline": why.baseline, "subject": why.subject, "score": why.score,
            "threshold": why.threshold, "events_learned": why.events_learned,
            "learning_since": why.learning_since,
            "features": [{"feature": f.feature, "label": f.label, "value": f.value,
                          "usual": f.usual, "contribution": f.contribution}
                         for f in why.features]},
        "incidents": [_record_ref(i) for i in records["incidents"]],
        "deviations": [_record_ref(d) for d in records["deviations"]],
        "actions": [{"action": t.action, "title": t.title, "reason_required": t.reason,
                     "refusal": refusal}
                    for t, refusal in ALERT_WORKFLOW.available(alert, actor)],
        "gxp_system": _system_out(alert, actor),
    }


def _system_out(alert: Alert, actor: Any) -> dict[str, Any] | None:
    system = alert.source.gxp_system if alert.source_id and alert.source else None
    if system is None or not can(actor, "systems.view", system):
        return None
    return {"number": system.number, "name": system.title,
            "url": reverse("systems:detail", args=[system.pk]), "state": system.state,
            "state_label": system.get_state_display(), "gamp_category": system.gamp_category,
            "criticality": system.criticality, "validated_version": system.validated_version,
            "owner": {"username": system.owner.get_username(),
                      "name": system.owner.printed_name}}


def _visible_alert(request: HttpRequest, alert_id: int) -> Alert:
    """The alert the caller may see; 404 for missing and hidden alike."""
    alert = queries.alerts_visible(api_actor(request)).filter(pk=alert_id).first()
    if alert is None:
        raise Http404
    return alert


def _person(username: str, field: str) -> Any:
    person = get_user_model()._default_manager.filter(username=username.strip()).first()
    if person is None:
        raise ValidationError({field: [f"No user {username.strip()!r}."]})
    return person


def _assignee_id(value: str | None, actor: Any) -> int | None:
    if not value:
        return None
    if value == "me":
        return int(actor.pk)
    if value == "none":
        return queries.UNASSIGNED
    return int(_person(value, "assignee").pk)


@router.get(
    "/monitoring/alerts", response=AlertPageOut, operation_id="alert_list",
    url_name="alert_list", summary="Security alerts, filtered and paginated",
    description=(
        "The alerts of the sites the caller may see, as the alert list shows them: open ones "
        "by default. An unknown site or username, or `until` not after `since`, answers 422 "
        "naming the field. Paginated by `page`, or by `cursor` (follow `next`), whose pages "
        "cost the same however deep."
    ),
)
@gate(queries.ALERT_VIEW)
def alert_list(request: HttpRequest, filters: Query[AlertFilters]) -> dict[str, Any]:
    actor = api_actor(request)
    if filters.site and not Site.objects.filter(code=filters.site).exists():
        raise ValidationError({"site": [f"No site {filters.site!r}."]})
    if filters.since and filters.until and filters.until <= filters.since:
        raise ValidationError({"until": ["Choose a moment after `since`."]})
    rows = queries.alerts_filtered(
        actor, state="" if filters.state == "any" else filters.state,
        level=filters.level or "", site=filters.site or "", rule=filters.rule or "",
        q=(filters.q or "").strip(), sort=filters.sort,
        assignee_id=_assignee_id(filters.assignee, actor), since=filters.since,
        until=filters.until)
    return api_page(rows, filters.page, filters.page_size, _alert_out, cursor=filters.cursor)


@router.get(
    "/monitoring/alerts/{alert_id}", response=AlertDetailOut, operation_id="alert_detail",
    url_name="alert_detail", summary="One security alert",
    description=(
        "The alert with the number of events kept with it, the behaviour baseline's "
        "explanation (its top features, for anomaly alerts), the incidents it was escalated "
        "to and the deviations linked to it or to them (those the caller may see), and the "
        "lifecycle steps from its state with, for each, why the caller cannot take it."
    ),
)
@gate(queries.ALERT_VIEW)
def alert_detail(request: HttpRequest, alert_id: int) -> dict[str, Any]:
    return _alert_detail(_visible_alert(request, alert_id), api_actor(request))


@router.post(
    "/monitoring/alerts/{alert_id}/transitions/{action}", response=AlertDetailOut,
    operation_id="alert_transition", url_name="alert_transition",
    summary="Take a lifecycle step of an alert",
    description=(
        "`acknowledge`, `investigate`, `resolve`, `false_positive` or `reopen`, as the alert "
        "page does (`services.alert_transition`). 409 with `allowed_actions` when the step "
        "is not open from the alert's state; 422 naming `reason` when a step that needs a "
        "reason gets none."
    ),
)
@gate(services.ALERT_WORK)
def alert_transition(
    request: HttpRequest, alert_id: int, action: str, payload: AlertTransitionIn
) -> dict[str, Any]:
    actor = api_actor(request)
    alert = services.alert_transition(_visible_alert(request, alert_id), action[:30],
                                      actor=actor, reason=payload.reason)
    return _alert_detail(alert, actor)


@router.post(
    "/monitoring/alerts/{alert_id}/assign", response=AlertDetailOut,
    operation_id="alert_assign", url_name="alert_assign",
    summary="Assign an alert to a person, or hand it on",
    description=(
        "The assignee must be a named person who may work alerts at the alert's site (422 "
        "naming `assignee` otherwise); a closed alert answers 409. The new assignee is told "
        "in their inbox (`services.alert_assign`)."
    ),
)
@gate(services.ALERT_WORK)
def alert_assign(request: HttpRequest, alert_id: int, payload: AlertAssignIn) -> dict[str, Any]:
    actor = api_actor(request)
    alert = _visible_alert(request, alert_id)
    assigned = services.alert_assign(alert, actor=actor,
                                     assignee=_person(payload.assignee, "assignee"))
    return _alert_detail(assigned, actor)


class SourceSystemIn(Schema):
    model_config = ConfigDict(extra="forbid")

    gxp_system: str | None = Field(None, max_length=32, description=(
        "The number of the system of the inventory (SYS-0007), or null for none"))


class SourceOut(Schema):
    name: str
    site: str | None
    system: str  # what the source says it is
    gxp_system: str | None  # the inventory's number


@router.post(
    "/monitoring/sources/{source_id}/system", response=SourceOut,
    operation_id="source_system_set", url_name="source_system_set",
    summary="Say which system of the inventory a source reports on",
    description=(
        "From then on its alerts, and the incidents they open, land on that system (its "
        "page, the incident's impact assessment). A retired or unknown system, or one at "
        "another site, answers 422 naming `gxp_system`."
    ),
)
@gate("monitoring.source.manage")
def source_system_set(request: HttpRequest, source_id: int,
                      payload: SourceSystemIn) -> dict[str, Any]:
    from django.apps import apps

    source = queries.sources_with_counts(api_actor(request)).filter(pk=source_id).first()
    if source is None:
        raise Http404
    system = None
    if payload.gxp_system:
        model = apps.get_model("systems", "System")
        system = model._default_manager.filter(number__iexact=payload.gxp_system.strip(),
                                                is_deleted=False).first()
        if system is None:
            raise ValidationError({"gxp_system": [f"No system {payload.gxp_system!r}."]})
    saved = services.source_system_set(source, actor=api_actor(request), gxp_system=system)
    return {"name": saved.name, "site": saved.site.code if saved.site else None,
            "system": saved.system,
            "gxp_system": saved.gxp_system.number if saved.gxp_system else None}
