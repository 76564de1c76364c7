"""The deviation an incident opens (CYB-05): due with the incident, and its two impact
assessments each from the incident's own fields, never the same text twice."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from cyberqms.quality.deviations.tests.factories import a_site, security_incident
from cyberqms.security.incidents import services

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
END = dt.datetime(2026, 11, 20, 10, 30, tzinfo=dt.UTC)


def _incident(people: dict[str, Any], **fields: Any) -> Any:
    values: dict[str, Any] = {
        "containment": "Workstation isolated.",
        "affected_systems": "LabWare LIMS BSL\nEmpower CDS",
        "affected_records": "Release results of the window",
        "affected_batches": "24-0117\n24-0118",
        "involved_accounts": "Accounts: qc_lab\nFrom: 10.20.0.7",
        "window_start": START, "window_end": END,
        "gxp_impact": True, "data_integrity_impact": True,
        "impact_assessment": "Two release results were entered under a shared account.",
    }
    values.update(fields)
    return security_incident(people, a_site("BSL"), **values)


def _open(people: dict[str, Any], incident: Any) -> Any:
    return services.incident_open_deviation(incident, actor=people["it_security"],
                                            owner=people["author"])


def test_the_deviation_is_due_with_its_incident_cyb_05(people: dict[str, Any]) -> None:
    due = timezone.localdate() + dt.timedelta(days=9)
    deviation = _open(people, _incident(people, due_date=due))
    assert deviation.due_date == due


def test_an_incident_past_its_date_makes_the_deviation_due_today(
    people: dict[str, Any]
) -> None:
    incident = _incident(people, due_date=timezone.localdate() + dt.timedelta(days=1))
    with time_machine.travel(timezone.now() + dt.timedelta(days=4), tick=False):
        deviation = _open(people, incident)
        assert deviation.due_date == timezone.localdate()


def test_each_assessment_comes_from_its_own_incident_fields_cyb_05(
    people: dict[str, Any]
) -> None:
    deviation = _open(people, _incident(people))
    assert deviation.gxp_impact_text == (
        "Two release results were entered under a shared account.\n"
        "Batches possibly affected: 24-0117; 24-0118")
    assert deviation.data_integrity_impact_text == (
        "Systems: LabWare LIMS BSL; Empower CDS\n"
        "GxP records possibly touched: Release results of the window\n"
        "Time window: 2026-11-20 09:00 → 2026-11-20 10:30 UTC\n"
        "Accounts and addresses involved: Accounts: qc_lab; From: 10.20.0.7")


def test_an_impact_the_incident_does_not_mark_stays_empty(people: dict[str, Any]) -> None:
    deviation = _open(people, _incident(people, gxp_impact=False))
    assert (deviation.gxp_impact, deviation.gxp_impact_text) == (False, "")
    assert deviation.data_integrity_impact_text.startswith("Systems: LabWare LIMS BSL")


def test_an_assessment_the_incident_has_no_words_for_is_left_to_qa(
    people: dict[str, Any]
) -> None:
    deviation = _open(people, _incident(people, impact_assessment="", affected_batches=""))
    assert (deviation.gxp_impact, deviation.gxp_impact_text) == (True, "")
    assert deviation.data_integrity_impact_text != ""
