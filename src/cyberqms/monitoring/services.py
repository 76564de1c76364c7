"""Ingestion and alerting: every write of the monitoring layer.

`ingest` is the one path from received bytes to alerts, whatever the transport (HTTP
batch, syslog listener, file import, cyberqms's own events): each payload is hashed and
kept; it is parsed and normalized to OCSF or quarantined with the reason; accepted events
are evaluated by the Sigma engine; matches raise or extend alerts. One batch is one
transaction.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cyberqms.core.access import require
from cyberqms.core.events import emit_security_event
from cyberqms.core.models import Severity
from cyberqms.core.records import next_number
from cyberqms.trail.record import audit_record

from . import ocsf
from .detection import Engine, Match, load_configured_rules
from .enums import LEVEL_ORDER, OPEN_ALERT_STATES, RawStatus
from .models import Alert, EventSource, RawEvent
from .notices import alert_raised
from .parsers import parse_line
from .parsers.errors import ParseError
from .workflow import ALERT_WORKFLOW

MAX_PAYLOAD_BYTES = 64 * 1024


class SourceRefused(Exception):
    """The sender is unknown, inactive or not allowed (recorded as a security event)."""


@dataclass
class IngestResult:
    received: int = 0
    accepted: int = 0
    quarantined: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    alerts: list[Alert] = field(default_factory=list)  # raised or extended by this batch


# --- the detection engine -------------------------------------------------------------------

_engine: Engine | None = None
_engine_lock = threading.Lock()


def detection_engine() -> Engine:
    """The process's engine over the shipped pack and the site's folder (loaded once).

    Correlation windows live in this engine, so one process should ingest a given
    source's stream (the syslog listener and the web server each keep their own)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = Engine(load_configured_rules())
        return _engine


def reload_rules() -> Engine:
    global _engine
    with _engine_lock:
        _engine = Engine(load_configured_rules())
        return _engine


# --- ingestion --------------------------------------------------------------------------------


def source_info(source: EventSource) -> ocsf.SourceInfo:
    return ocsf.SourceInfo(
        name=source.name, kind=source.kind, site=source.site.code if source.site else "",
        system=source.system,
    )


def _search_columns(event: dict[str, Any]) -> dict[str, Any]:
    ms = event.get("time")
    when = datetime.fromtimestamp(ms / 1000, tz=UTC) if isinstance(ms, (int, float)) else None
    actor = ocsf.get(event, "actor.user.name") or ""
    src = ocsf.get(event, "src_endpoint.ip") or ""
    uid = event.get("class_uid")
    return {
        "event_time": when,
        "class_uid": uid if isinstance(uid, int) and uid >= 0 else None,
        "actor": str(actor)[:150],
        "src_ip": str(src)[:45],
    }


def ingest(
    source: EventSource,
    payloads: Iterable[bytes | str],
    *,
    channel: str,
    received_at: datetime | None = None,
) -> IngestResult:
    """Keep, parse, normalize and evaluate one batch from `source`.

    Side effects: RawEvent rows (accepted or quarantined, never dropped, A11-10); alerts
    raised or extended (`monitoring.alert.create` audited); a `monitoring.quarantine`
    security event when part of the batch was quarantined.
    :raises SourceRefused: the source is inactive (nothing is stored).
    """
    if not source.is_active:
        raise SourceRefused(f"source {source.name} is not active")
    received_at = received_at or timezone.now()
    info = source_info(source)
    engine = detection_engine()
    result = IngestResult()
    rows: list[RawEvent] = []
    matches: list[tuple[Match, int]] = []
    for payload in payloads:
        data = payload.encode("utf-8", "surrogatepass") if isinstance(payload, str) else payload
        result.received += 1
        row = RawEvent(
            source=source, received_at=received_at, channel=channel,
            sha256=hashlib.sha256(data).hexdigest(), size=len(data),
            payload=data[:MAX_PAYLOAD_BYTES],
        )
        try:
            if len(data) > MAX_PAYLOAD_BYTES:
                raise ParseError("oversized", f"{len(data)} bytes")
            parsed = parse_line(data, source.format, received_at=received_at)  # type: ignore[arg-type]
            event = ocsf.normalize(parsed, source=info, received_at=received_at)
        except ParseError as exc:
            row.status, row.reason = RawStatus.QUARANTINED, exc.reason[:40]
            row.detail = str(exc)[:300]
            result.quarantined += 1
            result.reasons[row.reason] += 1
            rows.append(row)
            continue
        row.status, row.event = RawStatus.ACCEPTED, event
        for name, value in _search_columns(event).items():
            setattr(row, name, value)
        rows.append(row)
        result.accepted += 1
        for match in engine.evaluate(event):
            matches.append((match, len(rows) - 1))
    with transaction.atomic():
        RawEvent.objects.bulk_create(rows, batch_size=500)
        result.alerts = _raise_alerts(source, matches, rows, received_at)
    if result.quarantined:
        emit_security_event(
            "monitoring.quarantine", severity=Severity.LOW,
            message=f"{result.quarantined} of {result.received} events from {source.name} "
                    f"quarantined: " + ", ".join(f"{r} ×{n}" for r, n in
                                                 sorted(result.reasons.items())),
            data={"source": source.name, "reasons": dict(result.reasons)},
        )
    return result


def _group_key(match: Match) -> str:
    if match.group:
        return "|".join(f"{name}={value}" for name, value in match.group)[:300]
    event = match.event
    for path in ("actor.user.name", "src_endpoint.ip", "device.hostname", "gxp.system"):
        value = ocsf.get(event, path)
        if value:
            return f"{path}={value}"[:300]
    return ""


def _raise_alerts(
    source: EventSource, matches: list[tuple[Match, int]], rows: list[RawEvent],
    received_at: datetime,
) -> list[Alert]:
    touched: dict[int, Alert] = {}
    for match, index in matches:
        row = rows[index]
        seen = row.event_time or received_at
        key = _group_key(match)
        alert = Alert.objects.select_for_update().filter(
            rule_id=match.rule_id, group_key=key, state__in=OPEN_ALERT_STATES
        ).first()
        if alert is None:
            alert = Alert(
                number=next_number("ALERT", received_at), rule_id=match.rule_id,
                title=match.title[:300], level=match.level or "medium",
                techniques=list(match.techniques), requirements=list(match.requirements),
                group_key=key, site=source.site, source=source, first_seen=seen,
                last_seen=seen, count=match.count or 1, summary=_summary(match),
                context=dict(match.context or {}), created_at=received_at,
            )
            alert.save()
            audit_record("monitoring.alert.create", alert, actor=None, created=True)
            alert_raised(alert)  # inbox and e-mail for high and critical ones, on commit
        else:
            alert.count += match.count or 1
            alert.last_seen = max(alert.last_seen, seen)
            alert.summary = _summary(match)
            alert.save(update_fields=["count", "last_seen", "summary", "updated_at"])
        alert.events.add(row)
        touched[alert.pk] = alert
    return sorted(touched.values(), key=lambda a: -LEVEL_ORDER.get(a.level, 0))


def _summary(match: Match) -> str:
    event = match.event
    parts = [str(event.get("message") or match.title)]
    if match.count:
        parts.append(f"{match.count} events")
    return " · ".join(parts)[:500]


# --- sources ----------------------------------------------------------------------------------


def source_create(
    *, actor: Any, name: str, kind: str, system: str, format: str, site: Any = None,
    integration: Any = None, addresses: list[str] | None = None,
) -> EventSource:
    """Register an event source (P11-12). Side effects: audit `monitoring.source.create`."""
    require(actor, "monitoring.source.manage")
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["Name the source."]})
    if EventSource.objects.filter(name=name).exists():
        raise ValidationError({"name": [f"A source named {name!r} exists."]})
    with transaction.atomic():
        source = EventSource.objects.create(
            name=name, kind=kind, system=system, format=format, site=site,
            integration=integration, addresses=addresses or [], created_at=timezone.now(),
        )
        audit_record("monitoring.source.create", source, actor=actor, created=True)
    return source


# --- alert lifecycle --------------------------------------------------------------------------


def alert_transition(alert: Alert, action: str, *, actor: Any, reason: str = "") -> Alert:
    """Move an alert through its lifecycle (acknowledge, investigate, resolve,
    false_positive, reopen). Side effects: audit `monitoring.alert.<action>`."""
    return ALERT_WORKFLOW.run(alert, action, actor=actor, reason=reason)
