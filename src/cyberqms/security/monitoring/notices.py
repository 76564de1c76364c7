"""What follows a new alert: the inboxes of IT security and QA managers (A11D-04), and
for alerts at or above CYBERQMS_AUTO_ESCALATE_LEVEL a security incident (CYB-05).

`alert_raised` runs inside the ingest transaction that raised the alert; `notify` defers
delivery to its commit and the escalation is queued for the worker on commit, so a batch
that rolls back tells nobody anything and opens nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.dispatch import Signal
from django.urls import reverse

from cyberqms.platform.accounts.queries import holders_of
from cyberqms.platform.notifications.services import notify

from .models import Alert

# Who hears of a new alert: whoever the gate lets triage alerts at its site (IT security
# and QA managers).
ALERT_ACTION = "monitoring.alert.triage"
NOTIFIED_LEVELS = frozenset({"high", "critical"})


# Sent inside the ingest's transaction for each new alert; the incidents app escalates
# from it (monitoring knows no incidents).
alert_created = Signal()  # sender: Alert; alert


def alert_raised(alert: Alert) -> None:
    """A new alert (called once, when it is created; alerts extended by later events are
    not announced again): announce it, and tell whoever escalates alerts."""
    announce(alert)
    alert_created.send(Alert, alert=alert)


def announce(alert: Alert) -> None:
    """A new high or critical alert: one inbox entry per person who may triage it (IT
    security officers and QA managers of its site)."""
    if alert.level not in NOTIFIED_LEVELS:
        return
    notify(
        holders_of(ALERT_ACTION, alert.site_id), kind="info",
        subject=f"{alert.number} {alert.level} security alert: {alert.title}",
        body=f"{alert.summary}\nRule {alert.rule_id}"
             f"{f', grouped on {alert.group_key}' if alert.group_key else ''}.",
        url=reverse("monitoring:alert", args=[alert.pk]), record_type="monitoring.alert",
        record_id=alert.pk, record_number=alert.number,
    )


def alerts_raised(alerts: Iterable[Alert]) -> None:
    for alert in alerts:
        alert_raised(alert)
