"""Emit security events from anywhere in cyberqms.

Events are written at once. A caller that rolls back its own work (a rejected signature, a
refused transition) raises its event after leaving the atomic block, so the event survives.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from .compiled import Compiled, Param
from .context import current_context
from .models import SecurityEvent, Severity

logger = logging.getLogger("cyberqms.security")

# Who else hears of each event: security monitoring feeds them into its pipeline, the SIEM
# forwarder sends them on (core knows no consumer; apps register here). A sink is called
# in the transaction that writes the event and queues its work with it (core/outbox.py),
# so the work exists exactly when the event does.
EventSink = Callable[[SecurityEvent], None]
_SINKS: list[EventSink] = []


def add_event_sink(sink: EventSink) -> None:
    if sink not in _SINKS:
        _SINKS.append(sink)


def emit_security_event(
    kind: str,
    *,
    severity: Severity | str,
    message: str,
    actor_id: int | None = None,
    username: str = "",
    source_ip: str | None = None,
    data: dict[str, Any] | None = None,
) -> SecurityEvent:
    """Record a security event with the acting context's channel and source address."""
    ctx = current_context()
    event = SecurityEvent(
        created_at=timezone.now(),
        kind=kind,
        severity=str(severity),
        actor_id=actor_id,
        username=username[:150],
        source_ip=source_ip if source_ip is not None else (ctx.source_ip or None),
        channel=ctx.channel,
        message=message[:500],
        data=data or {},
    )
    logger.debug("security event %s severity=%s user=%s", kind, severity, username or "-")
    with transaction.atomic():  # the event and the work its sinks queue: one commit
        event.save()
        for sink in _SINKS:
            sink(event)
    return event


def _open_events(address: Any) -> Compiled[SecurityEvent]:
    """The newest event of a kind since a moment, from `address` (a `Param`, or None for
    events without one)."""
    return Compiled(lambda: SecurityEvent.objects.filter(
        kind=Param("kind", models.CharField()), source_ip=address,
        created_at__gt=Param("since", models.DateTimeField()),
    ).order_by("-created_at", "-id")[:1])


# Asked on every API request (the token rate limit): compiled once (core.compiled).
_OPEN_FROM = _open_events(Param("source_ip", models.GenericIPAddressField()))
_OPEN_WITHOUT_ADDRESS = _open_events(None)


def open_security_event(kind: str, source_ip: str, window: timedelta) -> SecurityEvent | None:
    """The event of ``kind`` from ``source_ip`` whose window is still open: written less
    than ``window`` ago (see `emit_repeated_security_event`)."""
    since = timezone.now() - window
    if source_ip:
        return _OPEN_FROM.first(kind=kind, source_ip=source_ip, since=since)
    return _OPEN_WITHOUT_ADDRESS.first(kind=kind, since=since)


def repeat_count(event: SecurityEvent) -> int:
    """How many occurrences a coalesced event stands for (1 for any other event)."""
    return int(event.data.get("count", 1))


def emit_repeated_security_event(
    kind: str,
    *,
    source_ip: str,
    window: timedelta,
    severity: Severity | str,
    message: str,
    actor_id: int | None = None,
    username: str = "",
    data: dict[str, Any] | None = None,
) -> SecurityEvent:
    """Record one more occurrence of ``kind`` from ``source_ip``, one event per window.

    The first occurrence writes the event as `emit_security_event` does, and it reaches
    the sinks (monitoring, the SIEM) like any other. Later occurrences less than
    ``window`` after it only set its `data.count` (absent: 1) and `data.last_at`: one
    UPDATE, no new event, task or raw event. The first occurrence after the window writes
    a new event. Two first occurrences in the same instant may both write one.
    """
    now = timezone.now()
    with transaction.atomic():
        event = (
            SecurityEvent.objects.select_for_update()
            .filter(kind=kind, source_ip=source_ip or None, created_at__gt=now - window)
            .order_by("-created_at", "-id").first()
        )
        if event is not None:
            event.data = {**event.data, "count": repeat_count(event) + 1,
                          "last_at": now.isoformat()}
            event.save(update_fields=["data"])
            return event
        return emit_security_event(
            kind, severity=severity, message=message, actor_id=actor_id, username=username,
            source_ip=source_ip or None, data=data,
        )
