"""Incidents in words (CYB-05): an escalated incident's title names what the alert is grouped
on as people say it, its description the alert's true number of events; the step that waits
for the containment says so; the incident and chain pages show no requirement ids or
setting names."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pytest

from cyberqms.security.incidents import services
from cyberqms.security.incidents.models import Incident
from cyberqms.security.incidents.workflow import INCIDENT_WORKFLOW
from cyberqms.security.monitoring import services as monitoring
from cyberqms.security.monitoring.models import Alert

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
REQUIREMENT_ID = re.compile(r"\b(?:P11|A11D?|CYB|AL|DI|IT)-\d\d\b")


def test_an_escalated_incident_is_titled_in_words_cyb_05(
    people: dict[str, Any], alert: Alert
) -> None:
    incident = services.incident_from_alert(alert, actor=people["it_security"])
    assert incident.title == (
        "Brute force against one account: account qc_analyst, source address 10.20.0.7")


def test_the_description_counts_every_event_of_the_alert_cyb_05(
    people: dict[str, Any], alert: Alert
) -> None:
    more = [
        f"<38>1 {(T0 + dt.timedelta(seconds=60 + 5 * i)).strftime('%Y-%m-%dT%H:%M:%S')}Z "
        "lims01 sshd 4242 - - Failed password for qc_analyst from 10.20.0.7 port 22 ssh2"
        for i in range(10)
    ]
    monitoring.ingest(alert.source, more, channel="syslog-tcp", received_at=T0)
    alert.refresh_from_db()
    incident = services.incident_from_alert(alert, actor=people["it_security"])
    assert (alert.count, incident.description) == (20, (
        f"Escalated from {alert.number} (20 events): Failed password for qc_analyst from "
        "10.20.0.7 port 22 ssh2"))


def test_the_assessment_waits_for_the_containment_in_words(
    people: dict[str, Any], alert: Alert
) -> None:
    incident = services.incident_from_alert(alert, actor=people["it_security"])
    refusals = {t.action: refusal
                for t, refusal in INCIDENT_WORKFLOW.available(incident, people["it_security"])}
    assert refusals["assess"] == "Fill in the containment (what was done to stop it)."


def test_the_owners_home_task_says_to_fill_in_the_containment(
    people: dict[str, Any], alert: Alert, login: Any
) -> None:
    incident = services.incident_from_alert(alert, actor=people["it_security"])
    home = login(people["it_security"]).get("/")
    [task] = [t for t in home.context["tasks"] if t.title.startswith(incident.number)]
    assert (task.title, task.first) == (
        f"{incident.number}: Contained: assess impact",
        "Fill in the containment (what was done to stop it).")


def test_incident_and_chain_pages_show_no_requirement_ids(
    people: dict[str, Any], alert: Alert, login: Any
) -> None:
    incident = services.incident_from_alert(alert, actor=people["it_security"])
    client = login(people["qa_manager"])
    found = {url: REQUIREMENT_ID.findall(client.get(url).content.decode())
             for url in (f"/incidents/{incident.pk}/", f"/incidents/{incident.pk}/chain/")}
    assert found == {url: [] for url in found}


def test_an_automatic_incident_is_explained_without_setting_names(
    people: dict[str, Any], alert: Alert, login: Any
) -> None:
    incident = services.incident_from_alert(alert, actor=people["it_security"])
    Incident.objects.filter(pk=incident.pk).update(auto_escalated=True)
    client = login(people["qa_manager"])
    pages = [html.unescape(client.get(url).content.decode())
             for url in (f"/incidents/{incident.pk}/", "/incidents/")]
    assert ["Opened by the system: the alert's level calls for an incident" in page
            for page in pages] == [True, True]
    assert ["CYBERQMS_AUTO_ESCALATE_LEVEL" in page for page in pages] == [False, False]
