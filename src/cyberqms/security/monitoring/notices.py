"""What follows a new alert: the inboxes of IT security and QA managers (A11D-04), and
for alerts at or above CYBERQMS_AUTO_ESCALATE_LEVEL a security incident (CYB-05).

`alert_raised` runs inside the ingest transaction that raised the alert; `notify` defers
delivery to its commit and the escalation is queued for the worker on commit, so a batch
that rolls back tells nobody anything and opens nothing.

Each person has one notice per alert (`alert_key`), in words (the rule's title, what the
alert is grouped on), resolved when the alert is closed (resolved or a false positive);
its escalation to an incident says it again on the same notice.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.dispatch import Signal
from django.urls import reverse

from cyberqms.platform.accounts.queries import holders_of
from cyberqms.platform.notifications.enums import NotificationKind
from cyberqms.platform.notifications.services import notify

from .describe import grouped_on_text
from .enums import OPEN_ALERT_STATES
from .models import Alert

# Who hears of a new alert: whoever the gate lets triage alerts at its site (IT security
# and QA managers).
ALERT_ACTION = "monitoring.alert.triage"
NOTIFIED_LEVELS = frozenset({"high", "critical"})


# Sent inside the ingest's transaction for each new alert; the incidents app escalates
# from it (monitoring knows no incidents).
alert_created = Signal()  # sender: Alert; alert


def alert_key(alert: Alert) -> str:
    """The subject key of an alert's notices: one notice per alert and person."""
    return f"monitoring.alert:{alert.pk}"


def alert_raised(alert: Alert) -> None:
    """A new alert (called once, when it is created; alerts extended by later events are
    not announced again): announce it, and tell whoever escalates alerts."""
    announce(alert)
    alert_created.send(Alert, alert=alert)


def alert_words(alert: Alert) -> str:
    """What an alert's notice says besides its title: what was seen, about whom, how
    often."""
    lines = [alert.summary] if alert.summary else []
    about = grouped_on_text(alert.group_key)
    if about:
        lines.append(f"{about[:1].upper()}{about[1:]}.")
    events = f"{alert.count} event{'' if alert.count == 1 else 's'}"
    source = f" from {alert.source.name}" if alert.source_id and alert.source else ""
    lines.append(f"{events}{source} so far.")
    return "\n".join(lines)


def announce(alert: Alert) -> None:
    """A new high or critical alert: one inbox entry per person who may triage it (IT
    security officers and QA managers of its site), open until the alert is closed."""
    if alert.level not in NOTIFIED_LEVELS:
        return
    notify(
        holders_of(ALERT_ACTION, alert.site_id), kind=NotificationKind.ALERT,
        subject=f"{alert.number} {alert.level} security alert: {alert.title}",
        body=alert_words(alert),
        url=reverse("monitoring:alert", args=[alert.pk]), record_type="monitoring.alert",
        record_id=alert.pk, record_number=alert.number,
        awaits=OPEN_ALERT_STATES, subject_key=alert_key(alert),
    )


def alerts_raised(alerts: Iterable[Alert]) -> None:
    for alert in alerts:
        alert_raised(alert)
