"""Emit security events from anywhere in cyberqms.

Events are written at once. A caller that rolls back its own work (a rejected signature, a
refused transition) raises its event after leaving the atomic block, so the event survives.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from .context import current_context
from .models import SecurityEvent, Severity

logger = logging.getLogger("cyberqms.security")

# Who else hears of each event once it is committed: security monitoring feeds them into
# its pipeline (core knows no consumer; apps register here).
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
    event.save()
    for sink in _SINKS:
        transaction.on_commit(partial(sink, event))
    return event
