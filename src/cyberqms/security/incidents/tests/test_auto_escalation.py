"""Automatic escalation by rule severity (CYB-05): a new alert at or above
CYBERQMS_AUTO_ESCALATE_LEVEL opens a security incident once the ingest commits, through
a task, as the system; pre-filled from the alert; never twice for one alert."""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
import sys
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from cyberqms.platform.notifications.models import Notification
from cyberqms.platform.trail.models import AuditEntry
from cyberqms.quality.deviations.tests.factories import a_site
from cyberqms.security.incidents import services
from cyberqms.security.incidents.models import Incident
from cyberqms.security.incidents.tasks import escalate_alert
from cyberqms.security.monitoring import services as monitoring
from cyberqms.security.monitoring.models import Alert, EventSource

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def lims(personas: dict[str, Any]) -> EventSource:
    monitoring.reload_rules()
    return monitoring.source_create(
        actor=personas["it_security"], name="LIMS BSL", kind="lims", system="LabWare LIMS",
        format="syslog", site=a_site("BSL"),
    )


def brute_force(source: EventSource, *, user: str = "qc_analyst") -> list[str]:
    return [
        f"<38>1 {(T0 + dt.timedelta(seconds=5 * i)).strftime('%Y-%m-%dT%H:%M:%S')}Z lims01 "
        f"sshd 4242 - [gxp@32473 batch=\"B-2026-117\" recordtype=\"result\"] "
        f"Failed password for {user} from 10.20.0.7 port 22 ssh2"
        for i in range(10)
    ]


def ingest_committed(source: EventSource, lines: list[str], capture: Any) -> Alert:
    """Ingest as the listener does, then run what waits for the commit (the task queue)."""
    with capture(execute=True):
        result = monitoring.ingest(source, lines, channel="syslog-tcp", received_at=T0)
    [alert] = result.alerts
    return alert


def test_an_alert_at_the_level_opens_an_incident_as_the_system_cyb_05(
    lims: EventSource, personas: dict[str, Any], settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.CYBERQMS_AUTO_ESCALATE_LEVEL = "high"
    alert = ingest_committed(lims, brute_force(lims), django_capture_on_commit_callbacks)
    incident = Incident.objects.get()
    security = personas["it_security"]
    assert (incident.number, incident.auto_escalated, incident.state, incident.title) == (
        f"SEC-{incident.created_at.year}-0001", True, "open", "Brute force against one account: account qc_analyst, source address 10.20.0.7")
    assert list(incident.alerts.all()) == [alert]
    assert (incident.owner, incident.originator, incident.site) == (security, security,
                                                                    alert.site)
    # pre-filled from the alert: the window, the system, batches, records, accounts
    assert (incident.window_start, incident.window_end, incident.event_at) == (
        alert.first_seen, alert.last_seen, alert.first_seen)
    assert (incident.affected_systems, incident.affected_batches,
            incident.affected_records, incident.involved_accounts) == (
        "LabWare LIMS", "B-2026-117", "Record type: result",
        "Accounts: qc_analyst\nFrom: 10.20.0.7")
    # audited as the system, saying why
    entry = AuditEntry.objects.get(object_type="incidents.incident", object_id=str(incident.pk))
    assert (entry.action, entry.actor_id, entry.data["reason"]) == (
        "incidents.incident.create", None,
        f"Opened automatically: {alert.number} is high, at or above "
        "CYBERQMS_AUTO_ESCALATE_LEVEL (high)")
    # the alert waits for a person: its time to respond stays a human figure
    alert.refresh_from_db()
    assert (alert.state, alert.acknowledged_at) == ("new", None)
    told = sorted((n.recipient.username, n.kind, n.subject)
                  for n in Notification.objects.filter(record_type="incidents.incident"))
    assert told == [
        ("it_security", "assignment",
         f"{incident.number} opened automatically from {alert.number}: {incident.title}"),
        ("qa_manager", "info",
         f"{incident.number} opened automatically from {alert.number} (high)"),
    ]


def test_the_escalation_waits_for_the_commit_of_the_ingest_cyb_05(
    lims: EventSource, personas: dict[str, Any], settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.CYBERQMS_AUTO_ESCALATE_LEVEL = "high"
    with django_capture_on_commit_callbacks(execute=False) as queued:
        monitoring.ingest(lims, brute_force(lims), channel="syslog-tcp", received_at=T0)
        assert Incident.objects.count() == 0  # ingest itself opens nothing
    # the test settings' queue is not the database: the task is handed over on commit
    escalations = [c for c in queued if escalate_alert in getattr(c, "args", ())]
    assert len(escalations) == 1
    # a batch that rolls back queues nothing
    with django_capture_on_commit_callbacks(execute=True) as queued:
        rolled_back(lambda: monitoring.ingest(lims, brute_force(lims, user="lab_admin"),
                                              channel="syslog-tcp", received_at=T0))
    assert (queued, Incident.objects.count()) == ([], 0)


def rolled_back(work: Any) -> None:
    try:
        with transaction.atomic():
            work()
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass


@pytest.mark.parametrize(("level", "opened"), [("critical", 0), ("", 0), ("high", 1),
                                               ("medium", 1)])
def test_only_alerts_at_or_above_the_level_escalate(
    lims: EventSource, personas: dict[str, Any], settings: Any,
    django_capture_on_commit_callbacks: Any, level: str, opened: int,
) -> None:
    settings.CYBERQMS_AUTO_ESCALATE_LEVEL = level
    ingest_committed(lims, brute_force(lims), django_capture_on_commit_callbacks)
    assert Incident.objects.count() == opened


def test_an_alert_is_escalated_once_cyb_05(
    lims: EventSource, personas: dict[str, Any], settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.CYBERQMS_AUTO_ESCALATE_LEVEL = "high"
    alert = ingest_committed(lims, brute_force(lims), django_capture_on_commit_callbacks)
    [incident] = Incident.objects.all()
    # the task again (a retry, a second worker): nothing new
    assert escalate_alert.call(alert.pk) == {"alert": alert.number, "incident": None}
    # a person escalating it: told where it went
    with pytest.raises(ValidationError) as refused:
        services.incident_from_alert(alert, actor=personas["it_security"])
    assert refused.value.message_dict == {
        "alert": [f"{alert.number} is already escalated to {incident.number}."]}
    assert Incident.objects.count() == 1


def test_an_alert_a_person_escalated_first_is_left_alone(
    lims: EventSource, personas: dict[str, Any], settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as queued:
        result = monitoring.ingest(lims, brute_force(lims), channel="syslog-tcp",
                                   received_at=T0)
    settings.CYBERQMS_AUTO_ESCALATE_LEVEL = "high"
    [alert] = result.alerts
    by_hand = services.incident_from_alert(alert, actor=personas["it_security"])
    assert queued  # (the notices)
    assert services.incident_auto_escalate(alert) is None
    assert [i.number for i in Incident.objects.all()] == [by_hand.number]
    assert by_hand.auto_escalated is False


def test_an_alert_closed_before_the_worker_ran_is_not_escalated(
    lims: EventSource, personas: dict[str, Any], settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        [alert] = monitoring.ingest(lims, brute_force(lims), channel="syslog-tcp",
                                    received_at=T0).alerts
    monitoring.alert_transition(alert, "false_positive", actor=personas["it_security"],
                                reason="Penetration test, ticket PT-7.")
    settings.CYBERQMS_AUTO_ESCALATE_LEVEL = "high"
    assert escalate_alert.call(alert.pk) == {"alert": alert.number, "incident": None}
    assert Incident.objects.count() == 0


def test_nobody_to_assign_it_to_is_logged_and_opens_nothing(
    lims: EventSource, personas: dict[str, Any], settings: Any,
    django_capture_on_commit_callbacks: Any, caplog: Any,
) -> None:
    settings.CYBERQMS_AUTO_ESCALATE_LEVEL = "high"
    type(personas["it_security"]).objects.filter(username="it_security").update(is_active=False)
    with caplog.at_level(logging.WARNING, logger="cyberqms.security.incidents"):
        alert = ingest_committed(lims, brute_force(lims), django_capture_on_commit_callbacks)
    assert Incident.objects.count() == 0
    assert caplog.messages == [
        f"{alert.number}: not escalated automatically, nobody holds IT security at BSL"]


def test_a_wrong_level_setting_is_refused_at_start() -> None:
    env = {**os.environ, "CYBERQMS_AUTO_ESCALATE_LEVEL": "severe",
           "DJANGO_SETTINGS_MODULE": "cyberqms.settings"}
    run = subprocess.run(  # our own interpreter, fixed arguments
        [sys.executable, "-c", "import cyberqms.settings"], env=env, capture_output=True,
        text=True, check=False,
    )
    assert run.returncode == 1
    assert ("CYBERQMS_AUTO_ESCALATE_LEVEL must be informational, low, medium, high, critical "
            "or empty (off), not 'severe'") in run.stderr
