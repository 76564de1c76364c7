"""Background work of the security incidents: automatic escalation of new alerts at or
above CYBERQMS_AUTO_ESCALATE_LEVEL, queued by `monitoring.notices` when the ingest that
raised them commits (ingest itself is not slowed by it)."""

from __future__ import annotations

from typing import Any

from django.tasks import task

from cyberqms.core.context import RequestContext, acting_context


@task
def escalate_alert(alert_id: int) -> dict[str, Any]:
    """Open the incident for alert `alert_id` as the system, unless it already has one."""
    from cyberqms.monitoring.models import Alert

    from .services import incident_auto_escalate

    alert = Alert.objects.select_related("source", "site").filter(pk=alert_id).first()
    if alert is None:
        return {"alert": alert_id, "incident": None}
    with acting_context(RequestContext(channel="system")):
        incident = incident_auto_escalate(alert)
    return {"alert": alert.number, "incident": incident.number if incident else None}
