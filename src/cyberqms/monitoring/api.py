"""Monitoring API: the HTTP batch endpoint through which registered sources send events."""
# No "from __future__ import annotations": django-ninja resolves operation annotations
# through the gate wrapper, whose globals are not this module's.

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status

from cyberqms.accounts.models import Integration
from cyberqms.api import gate
from cyberqms.core.problems import problem_response

from . import services
from .models import EventSource

router = Router(tags=["monitoring"])

BODY_TYPES = frozenset({"application/x-ndjson", "application/jsonl", "text/plain"})


class IngestOut(Schema):
    received: int
    accepted: int
    quarantined: int
    reasons: dict[str, int]
    alerts: list[str]


def _lines(body: bytes) -> list[bytes]:
    return [line.removesuffix(b"\r") for line in body.split(b"\n") if line.strip(b"\r")]


@router.post(
    "/monitoring/events", response={202: IngestOut}, operation_id="monitoring_ingest",
    summary="Send a batch of events, one per line",
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
    holder = request.auth  # type: ignore[attr-defined]
    source = None
    if isinstance(holder, Integration):
        source = EventSource.objects.select_related("site").filter(integration=holder).first()
    if source is None:
        raise PermissionDenied("This token's holder is not registered as an event source.")
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
    except services.SourceRefused as exc:
        raise PermissionDenied(f"{exc}.") from exc
    return Status(202, {
        "received": result.received, "accepted": result.accepted,
        "quarantined": result.quarantined, "reasons": dict(result.reasons),
        "alerts": [alert.number for alert in result.alerts],
    })
