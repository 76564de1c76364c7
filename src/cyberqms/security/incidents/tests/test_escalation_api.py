"""Escalating an alert over the API (CYB-05): the same service as the alert page's button,
the incident pre-filled from the alert; refusals as problem+json."""

from __future__ import annotations

from typing import Any

import pytest

from cyberqms.security.incidents.models import Incident
from cyberqms.security.monitoring.models import Alert

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def escalate(client: Any, alert_id: int, body: dict[str, Any] | None = None) -> Any:
    return client.post(f"/api/v1/incidents/from-alert/{alert_id}", body or {},
                       content_type="application/json")


def test_it_security_escalates_an_alert_over_the_api_cyb_05(
    people: dict[str, Any], alert: Alert, login: Any
) -> None:
    response = escalate(login(people["it_security"]), alert.pk)
    incident = Incident.objects.get()
    assert (response.status_code, response.json()) == (201, {
        "id": incident.pk, "number": incident.number, "title": incident.title,
        "state": "open", "url": f"/incidents/{incident.pk}/", "alert": alert.number})


def test_the_escalated_alert_moves_to_investigating(
    people: dict[str, Any], alert: Alert, login: Any
) -> None:
    escalate(login(people["it_security"]), alert.pk)
    assert Alert.objects.get(pk=alert.pk).state == "investigating"


def test_the_owner_and_title_can_be_chosen(
    people: dict[str, Any], alert: Alert, login: Any, make_user: Any
) -> None:
    colleague = make_user("second_officer", "it_security")
    escalate(login(people["it_security"]), alert.pk,
             {"owner": "second_officer", "title": "LIMS password guessing"})
    incident = Incident.objects.get()
    assert (incident.owner, incident.originator, incident.title) == (
        colleague, people["it_security"], "LIMS password guessing")


def test_an_alert_escalated_twice_is_refused_naming_it(
    people: dict[str, Any], alert: Alert, login: Any
) -> None:
    client = login(people["it_security"])
    escalate(client, alert.pk)
    again = escalate(client, alert.pk)
    assert (again.status_code, again["Content-Type"], [e["field"] for e in again.json()["errors"]]
            ) == (422, PROBLEM, ["alert"])


def test_an_unknown_owner_is_refused_naming_it(
    people: dict[str, Any], alert: Alert, login: Any
) -> None:
    response = escalate(login(people["it_security"]), alert.pk, {"owner": "nobody_here"})
    assert (response.status_code, response.json()["errors"]) == (
        422, [{"field": "owner", "message": "No user 'nobody_here'."}])


def test_a_qa_manager_does_not_escalate(
    people: dict[str, Any], alert: Alert, login: Any
) -> None:
    response = escalate(login(people["qa_manager"]), alert.pk)
    assert (response.status_code, Incident.objects.count()) == (403, 0)


def test_a_missing_alert_is_404(people: dict[str, Any], login: Any) -> None:
    response = escalate(login(people["it_security"]), 999999)
    assert (response.status_code, response["Content-Type"]) == (404, PROBLEM)
