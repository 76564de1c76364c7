"""Background work of the security incidents: automatic escalation of new alerts at or
above CYBERQMS_AUTO_ESCALATE_LEVEL, queued from monitoring's `alert_created` signal when
the ingest that raised them commits (ingest itself is not slowed by it)."""

from __future__ import annotations

from typing import Any

from django.tasks import task

from cyberqms.platform.core.context import RequestContext, acting_context
from cyberqms.platform.core.outbox import queue_with_change


@task
def escalate_alert(alert_id: int) -> dict[str, Any]:
    """Open the incident for alert `alert_id` as the system, unless it already has one."""
    from cyberqms.security.monitoring.models import Alert

    from .services import incident_auto_escalate

    alert = Alert.objects.select_related("source", "site").filter(pk=alert_id).first()
    if alert is None:
        return {"alert": alert_id, "incident": None}
    with acting_context(RequestContext(channel="system")):
        incident = incident_auto_escalate(alert)
    return {"alert": alert.number, "incident": incident.number if incident else None}


def escalate_on_commit(sender: Any, *, alert: Any, **kwargs: Any) -> None:
    """Monitoring's `alert_created`: at or above CYBERQMS_AUTO_ESCALATE_LEVEL, the worker
    opens the incident. Queued with the ingest's transaction (core/outbox.py), so the task
    exists once the alert with all its events does, and runs only after that commit."""
    from .services import escalates_automatically

    if escalates_automatically(alert.level):
        queue_with_change(escalate_alert, alert.pk)
