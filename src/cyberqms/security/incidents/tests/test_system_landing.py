"""Security events land on the system of the inventory behind their source (A11-05,
CYB-05): the alert names the system, its validation state, GAMP category and owner; the
incident escalated from it carries the system, starts its impact assessment from it and
links to it; the system's page lists both."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from cyberqms.platform.core.models import RecordLink
from cyberqms.platform.kit.records import kind_by_slug
from cyberqms.platform.kit.tests.kit import record_in_state
from cyberqms.quality.deviations.tests.factories import a_site
from cyberqms.security.incidents import services
from cyberqms.security.monitoring import services as monitoring
from cyberqms.security.monitoring.models import Alert

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def scada(people: dict[str, Any]) -> Any:
    return record_in_state(kind_by_slug("systems"), "validated", people, site=a_site("BSL"),
                           title="SCADA Line 2", gamp_category="4")


@pytest.fixture
def scada_alert(people: dict[str, Any], scada: Any) -> Alert:
    source = monitoring.source_create(
        actor=people["it_security"], name="SCADA relay BSL", kind="scada",
        system="WinCC relay", format="syslog", site=scada.site, gxp_system=scada)
    lines = [
        f"<38>1 {(T0 + dt.timedelta(seconds=5 * i)).strftime('%Y-%m-%dT%H:%M:%S')}Z hmi02 "
        "sshd 4242 - - Failed password for operator from 10.30.0.9 port 22 ssh2"
        for i in range(10)
    ]
    return monitoring.ingest(source, lines, channel="syslog-tcp", received_at=T0).alerts[0]


def test_the_alert_names_its_system_and_owner_a11_05(
        people: dict[str, Any], scada: Any, scada_alert: Alert, login: Any) -> None:
    client = login(people["it_security"])
    detail = client.get(reverse("api:alert_detail", args=[scada_alert.pk])).json()
    page = client.get(reverse("monitoring:alert", args=[scada_alert.pk])).content.decode()
    assert detail["gxp_system"] == {
        "number": scada.number, "name": "SCADA Line 2", "url": f"/systems/{scada.pk}/",
        "state": "validated", "state_label": "Validated", "gamp_category": "4",
        "criticality": "high", "validated_version": "8.1.2",
        "owner": {"username": scada.owner.username, "name": scada.owner.printed_name}}
    assert 'data-testid="gxp-system-owner">' + scada.owner.printed_name in page


def test_the_escalated_incident_starts_its_assessment_from_the_system_cyb_05(
        people: dict[str, Any], scada: Any, scada_alert: Alert) -> None:
    incident = services.incident_from_alert(scada_alert, actor=people["it_security"])
    assert incident.system == scada
    assert incident.impact_assessment.splitlines()[:2] == [
        f"Starting point: the events come from {scada.number} SCADA Line 2, GAMP category 4, "
        "high criticality, data-integrity relevant.",
        "Validation state: validated (version 8.1.2)."]
    assert incident.affected_systems.splitlines()[0] == (
        f"{scada.number} SCADA Line 2 (GAMP 4, validated v8.1.2, high criticality, system "
        f"owner {scada.owner.printed_name})")


def test_the_incident_is_linked_to_the_system_it_affects(
        people: dict[str, Any], scada: Any, scada_alert: Alert) -> None:
    incident = services.incident_from_alert(scada_alert, actor=people["it_security"])
    link = RecordLink.objects.get(from_type="incidents.incident", from_id=str(incident.pk))
    assert (link.to_type, link.to_id, link.relation) == (
        "systems.system", str(scada.pk), "affects")


def test_the_system_page_lists_its_alerts_and_incidents(
        people: dict[str, Any], scada: Any, scada_alert: Alert, login: Any) -> None:
    incident = services.incident_from_alert(scada_alert, actor=people["it_security"])
    page = login(people["it_security"]).get(f"/systems/{scada.pk}/").content.decode()
    assert f"{scada_alert.number} {scada_alert.title}" in page
    assert f"{incident.number} {incident.title}" in page
    assert "Monitoring source SCADA relay BSL" in page


def test_a_source_cannot_report_on_a_system_at_another_site(
        people: dict[str, Any], scada: Any, login: Any) -> None:
    source = monitoring.source_create(
        actor=people["it_security"], name="Firewall MUC", kind="firewall",
        system="Fortigate", format="syslog", site=a_site("MUC"))
    response = login(people["it_security"]).post(
        reverse("api:source_system_set", args=[source.pk]), {"gxp_system": scada.number},
        content_type="application/json")
    assert (response.status_code, [e["field"] for e in response.json()["errors"]]) == (
        422, ["gxp_system"])


def test_the_source_is_set_to_its_system_over_the_api_and_audited(
        people: dict[str, Any], scada: Any, login: Any) -> None:
    from cyberqms.platform.trail.models import AuditEntry

    source = monitoring.source_create(
        actor=people["it_security"], name="Historian BSL", kind="other", system="PI",
        format="syslog", site=scada.site)
    response = login(people["it_security"]).post(
        reverse("api:source_system_set", args=[source.pk]), {"gxp_system": scada.number},
        content_type="application/json")
    assert response.json() == {"name": "Historian BSL", "site": "BSL", "system": "PI",
                               "gxp_system": scada.number}
    assert AuditEntry.objects.filter(action="monitoring.source.system",
                                     object_id=str(source.pk)).count() == 1


def test_the_deviation_the_incident_opens_affects_its_system_too(
        people: dict[str, Any], scada: Any, scada_alert: Alert) -> None:
    incident = services.incident_from_alert(scada_alert, actor=people["it_security"])
    services.incident_update(incident, actor=people["it_security"], changes={
        "gxp_impact": True, "impact_assessment": "Operator account guessed at; no sign-in."})
    deviation = services.incident_open_deviation(incident, actor=people["it_security"],
                                                 owner=people["author"])
    link = RecordLink.objects.get(from_type="deviations.deviation", from_id=str(deviation.pk),
                                  to_type="systems.system")
    assert (link.to_id, link.relation) == (str(scada.pk), "affects")
