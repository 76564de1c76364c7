"""The feedback loop (CYB-05): a brute-force alert becomes a security incident with a
data-integrity impact assessment, the incident opens a cyber-related deviation, the
deviation a CAPA; the incident's page shows the chain, links run both ways (AL-10)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from cyberqms.platform.core.access import AccessDenied
from cyberqms.platform.kit.record_parts import lineage, links_of
from cyberqms.platform.kit.workflow import GuardFailed, SegregationOfDuties
from cyberqms.quality.deviations.tests.factories import signature
from cyberqms.security.incidents import services
from cyberqms.security.incidents.workflow import INCIDENT_WORKFLOW
from cyberqms.security.monitoring.models import Alert

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def assessed(incident: Any, people: dict[str, Any]) -> Any:
    return services.incident_update(incident, actor=people["it_security"], changes={
        "containment": "Account locked; source host isolated.",
        "affected_systems": "LabWare LIMS BSL",
        "affected_records": "No result entries in the window.",
        "gxp_impact": True, "data_integrity_impact": True,
        "impact_assessment": "Failed attempts only; audit trail reviewed, no changes made.",
    })


def test_escalation_carries_the_alert_window_and_moves_the_alert_cyb_05(
    people: dict[str, Any], alert: Alert
) -> None:
    incident = services.incident_from_alert(alert, actor=people["it_security"])
    alert.refresh_from_db()
    assert (incident.number, incident.state, alert.state) == (
        f"SEC-{incident.created_at.year}-0001", "open", "investigating")
    assert (incident.window_start, incident.window_end) == (alert.first_seen, alert.last_seen)
    assert incident.affected_systems == "LabWare LIMS"
    assert list(incident.alerts.all()) == [alert]
    with pytest.raises(ValidationError) as again:
        services.incident_from_alert(alert, actor=people["it_security"])
    assert list(again.value.message_dict) == ["alert"]


def test_the_loop_alert_incident_deviation_capa_cyb_05_al_10(
    people: dict[str, Any], alert: Alert
) -> None:
    security, manager = people["it_security"], people["qa_manager"]
    incident = services.incident_from_alert(alert, actor=security)
    with pytest.raises(GuardFailed):
        INCIDENT_WORKFLOW.run(incident, "assess", actor=security)  # not contained yet
    incident = assessed(incident, people)
    INCIDENT_WORKFLOW.run(incident, "assess", actor=security)
    INCIDENT_WORKFLOW.run(incident, "submit", actor=security)
    # QA cannot close an incident with quality impact before its deviation exists
    with pytest.raises(GuardFailed):
        INCIDENT_WORKFLOW.run(incident, "close", actor=manager,
                                     signature=signature(manager))
    deviation = services.incident_open_deviation(incident, actor=security,
                                                 owner=people["author"])
    assert (deviation.cyber_related, deviation.security_reference) == (True, incident.number)
    assert [(link["other_label"].split()[0], link["relation"])
            for link in links_of(incident)] == [(deviation.number, "related")]
    assert [link["other_label"].split()[0] for link in links_of(deviation)] == [incident.number]
    # the deviation's CAPA joins the chain
    from cyberqms.quality.capa.services import capa_create

    capa = capa_create(actor=people["author"], site=deviation.site, title="Lock out brute force",
                       owner=people["author"], source="deviation",
                       source_reference=deviation.number)
    chain = [node["chain"] for node in lineage(incident)]
    assert chain == [f"{incident.number} → {deviation.number}",
                     f"{incident.number} → {deviation.number} → {capa.number}"]
    with pytest.raises(AccessDenied):  # closing is QA's decision, not IT security's
        INCIDENT_WORKFLOW.run(incident, "close", actor=security,
                                     signature=signature(security))
    closed = INCIDENT_WORKFLOW.run(incident, "close", actor=manager,
                                          signature=signature(manager))
    assert (closed.state, closed.closed_at is not None) == ("closed", True)


def test_pages_show_the_alerts_and_the_chain(
    people: dict[str, Any], alert: Alert, login: Any
) -> None:
    incident = services.incident_from_alert(alert, actor=people["it_security"])
    incident = assessed(incident, people)
    services.incident_open_deviation(incident, actor=people["it_security"],
                                     owner=people["author"])
    page = login(people["qa_manager"]).get(f"/incidents/{incident.pk}/").content.decode()
    assert alert.number in page
    assert 'data-testid="lineage"' in page
    listing = login(people["auditor"]).get("/incidents/").content.decode()
    assert incident.number in listing
    assert login(people["author"]).get("/incidents/").status_code == 403


def test_the_originator_never_closes_their_own_incident_p11_11(
    people: dict[str, Any], alert: Alert
) -> None:
    manager = people["qa_manager"]
    from cyberqms.security.incidents.models import Incident

    incident = services.incident_from_alert(alert, actor=people["it_security"])
    Incident.objects.filter(pk=incident.pk).update(originator=manager, state="qa_review")
    incident.refresh_from_db()
    with pytest.raises(SegregationOfDuties):
        INCIDENT_WORKFLOW.run(incident, "close", actor=manager,
                                     signature=signature(manager))


def test_escalating_from_the_alert_page_cyb_05(
    people: dict[str, Any], alert: Alert, login: Any
) -> None:
    client = login(people["it_security"])
    page = client.get(f"/monitoring/alerts/{alert.pk}/").content.decode()
    assert 'data-testid="escalate"' in page
    response = client.post(f"/incidents/from-alert/{alert.pk}/")
    incident = alert.incidents.get()
    assert response["Location"] == f"/incidents/{incident.pk}/"
    page = client.get(f"/monitoring/alerts/{alert.pk}/").content.decode()
    assert f"Escalated to <a href=\"/incidents/{incident.pk}/\">{incident.number}</a>" in page
    # QA managers read alerts but escalation is IT security's
    assert login(people["qa_manager"]).post(f"/incidents/from-alert/{alert.pk}/").status_code == 403


def test_saving_the_assessment_keeps_the_window_to_the_microsecond_cyb_05(
    people: dict[str, Any], alert: Alert, login: Any
) -> None:
    """The form shows the window to the second; an untouched field must not cut the alert's
    window short (its end would then miss the last events)."""
    from cyberqms.security.incidents.models import Incident

    incident = services.incident_from_alert(alert, actor=people["it_security"])
    start, end = T0 + dt.timedelta(microseconds=250_000), T0 + dt.timedelta(seconds=45.75)
    Incident.objects.filter(pk=incident.pk).update(window_start=start, window_end=end)
    client = login(people["it_security"])
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert 'value="2026-11-20T09:00:00"' in page
    assert 'value="2026-11-20T09:00:45"' in page
    form = {"title": incident.title, "description": incident.description,
            "owner": people["it_security"].pk, "due_date": incident.due_date.isoformat(),
            "containment": "Locked.", "affected_systems": "LabWare LIMS",
            "window_start": "2026-11-20T09:00:00", "window_end": "2026-11-20T09:00:45"}
    client.post(f"/incidents/{incident.pk}/edit/", form)
    incident.refresh_from_db()
    assert (incident.containment, incident.window_start, incident.window_end) == (
        "Locked.", start, end)
    client.post(f"/incidents/{incident.pk}/edit/", {**form, "window_end": "2026-11-20T09:05:00"})
    incident.refresh_from_db()
    assert (incident.window_start, incident.window_end) == (
        start, dt.datetime(2026, 11, 20, 9, 5, tzinfo=dt.UTC))
