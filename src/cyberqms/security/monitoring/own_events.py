"""cyberqms's own security events (sign-ins, failures, lockouts, MFA, roles, gate refusals,
signature failures, trail-verification failures, exports) flow into the same pipeline as
the plant's (issue 5, deliverable 3): each committed event is queued for the background
worker, which ingests it as a JSON line from the `cyberqms` source. One worker process
keeps the correlation windows, so five failed sign-ins across web workers still add up.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from cyberqms.platform.core.models import SecurityEvent
from cyberqms.platform.core.outbox import queue_with_change
from cyberqms.platform.trail.record import audit_record

from .enums import EventFormat
from .models import EventSource

SOURCE_NAME = "cyberqms"
# Events the pipeline itself raises about ingestion: feeding them back would only echo.
NOT_FORWARDED = ("monitoring.",)


def as_line(event: SecurityEvent, site: str = "") -> str:
    """The event as a JSON line; `site`: the site of the account it is about, if known
    (the alert it may raise then belongs to that site)."""
    data = dict(event.data or {})
    if site and "site" not in data:
        data["site"] = site
    return json.dumps({
        "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
        "kind": event.kind, "severity": event.severity, "username": event.username,
        "actor_id": event.actor_id, "source_ip": event.source_ip, "channel": event.channel,
        "message": event.message, "data": data,
    }, separators=(",", ":"), ensure_ascii=False, default=str)


def account_sites(events: list[SecurityEvent]) -> dict[str, str]:
    """Lower-cased username → site code, for the accounts the events name (one query)."""
    from django.db.models.functions import Lower

    from cyberqms.platform.accounts.models import User

    names = {e.username.lower() for e in events if e.username}
    names |= {str(e.data.get("subject", "")).lower() for e in events
              if isinstance(e.data, dict) and e.data.get("subject")}
    rows = User.objects.filter(site__isnull=False).annotate(name=Lower("username")).filter(
        name__in=[n for n in names if n]).values_list("username", "site__code")
    return {name.lower(): code for name, code in rows}


def qms_source() -> EventSource:
    """The `cyberqms` source, registered on first use (audited as the system)."""
    found = EventSource.objects.filter(name=SOURCE_NAME).first()
    if found is not None:
        return found
    with transaction.atomic():
        source, created = EventSource.objects.get_or_create(
            name=SOURCE_NAME,
            defaults={"kind": "other", "system": "cyberqms eQMS", "format": EventFormat.JSONL,
                      "created_at": timezone.now()},
        )
        if created:
            audit_record("monitoring.source.create", source, actor=None, created=True)
    return source


def forward(event: SecurityEvent) -> None:
    """The event sink: queue the committed event for the worker (on, unless turned off)."""
    if not settings.CYBERQMS_MONITOR_OWN_EVENTS or event.kind.startswith(NOT_FORWARDED):
        return
    queue_with_change(ingest_own_events, [event.pk])


@task
def ingest_own_events(ids: list[int]) -> dict[str, Any]:
    from .services import ingest

    events = list(SecurityEvent.objects.filter(pk__in=ids).order_by("pk"))
    if not events:
        return {"received": 0}
    sites = account_sites(events)

    def site_of(event: SecurityEvent) -> str:
        subject = event.data.get("subject") if isinstance(event.data, dict) else None
        return sites.get(event.username.lower(), "") or sites.get(str(subject or "").lower(), "")

    result = ingest(qms_source(), [as_line(e, site_of(e)) for e in events], channel="qms")
    return {"received": result.received, "accepted": result.accepted,
            "alerts": [a.number for a in result.alerts]}
