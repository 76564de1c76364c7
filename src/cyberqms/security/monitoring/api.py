"""Monitoring API: the HTTP batch endpoint through which registered sources send events, and
the monitoring metrics."""
# No "from __future__ import annotations": django-ninja resolves operation annotations
# through the gate wrapper, whose globals are not this module's.

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status

from cyberqms.platform.accounts.models import Integration
from cyberqms.platform.core.api_gate import api_actor, gate
from cyberqms.platform.core.events import emit_security_event
from cyberqms.platform.core.models import Severity
from cyberqms.platform.core.problems import problem_response

from . import metrics, services
from .forms import MetricsFilterForm
from .models import EventSource
from .schemas import MetricsOut

router = Router(tags=["monitoring"])

BODY_TYPES = frozenset({"application/x-ndjson", "application/jsonl", "text/plain"})


class IngestOut(Schema):
    received: int
    accepted: int
    quarantined: int
    reasons: dict[str, int]
    alerts: list[str]


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
) -> Status | HttpResponse:
    actor = api_actor(request)
    form = MetricsFilterForm({"period": period, "start": start, "end": end, "site": site},
                             sites=metrics.sites_for(actor))
    if not form.is_valid():
        problems = form.problems()
        return problem_response(400, f"Invalid filter: {problems[0]['field']}: "
                                     f"{problems[0]['message']}", errors=problems)
    window = form.window()
    figures = metrics.overview(actor, start=window.start, end=window.end,
                               site_id=window.site.pk if window.site else None)
    return Status(200, {
        "period": {"start": window.start, "end": window.end, "period": window.period,
                   "site": window.site.code if window.site else None},
        "alerts": figures.alerts, "events": figures.events,
    })
