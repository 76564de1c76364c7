"""Computerized systems (A11-02, A11-05, A11-18, A11-24, A11D-03): release as validated
needs the four people, the version's summary report and, when critical, continuity targets;
change control moves validated systems; monitoring and incidents land on them; the owner
is told of posture facts overdue."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from cyberqms.assets.systems.models import System
from cyberqms.assets.systems.posture import entered_posture
from cyberqms.assets.systems.tasks_home import system_owner_tasks
from cyberqms.assets.systems.workflow import next_evaluation
from cyberqms.platform.kit.record_parts import link_add
from cyberqms.platform.kit.record_rows import row_add, rows_of_kind
from cyberqms.platform.kit.record_services import record_create, record_update
from cyberqms.platform.kit.records import kind_by_slug
from cyberqms.platform.kit.tests.kit import ready_to_sign, record_in_state, walk
from cyberqms.platform.trail.models import AuditEntry
from cyberqms.quality.deviations.tests.factories import a_site

from .kit import CREATE

pytestmark = pytest.mark.django_db
SYSTEMS = kind_by_slug("systems")
PROBLEM = "application/problem+json"


def _transition(client: Any, system: System, action: str) -> Any:
    """The step over the API, by a signer who accepted the statement: the conditions are
    checked before the password."""
    return client.post(f"/api/v1/records/systems/{system.pk}/transitions/{action}", {},
                       content_type="application/json")


def _errors(response: Any) -> list[tuple[str, str]]:
    return [(e["field"], e["message"]) for e in response.json()["errors"]]


def test_a_system_is_released_only_with_its_four_people_a11_02(
        personas: dict[str, Any], login: Any) -> None:
    system = record_in_state(SYSTEMS, "in_validation", personas)
    response = _transition(login(ready_to_sign(personas["qa_approver"], personas["admin"])),
                           system, "validate")
    assert (response.status_code, response["Content-Type"], _errors(response)) == (
        422, PROBLEM, [("process_owner", "Name the process owner, QA contact and IT-security "
                                         "contact first: a validated system has all four "
                                         "(Annex 11 §2).")])


def test_release_needs_the_summary_report_of_the_version_in_production(
        personas: dict[str, Any], login: Any) -> None:
    system = record_in_state(SYSTEMS, "in_validation", personas)
    record_update(system, actor=system.owner, reason="People named", changes={
        "process_owner": personas["process_owner"], "qa_contact": personas["qa_approver"],
        "security_contact": personas["it_security"]})
    row_add(system, rows_of_kind(SYSTEMS, "deliverables"), actor=system.owner, values={
        "kind": "report", "system_version": "8.0", "reference": "VSR-LIMS-8.0",
        "approved_on": timezone.localdate()})
    response = _transition(login(ready_to_sign(personas["qa_approver"], personas["admin"])),
                           system, "validate")
    assert (response.status_code, _errors(response)) == (422, [(
        "__all__", "Record the validation summary report for version 8.1.2 among the "
                   "deliverables first.")])


def test_a_critical_system_states_its_recovery_time_objective_a11_24(
        personas: dict[str, Any], login: Any) -> None:
    system = record_in_state(SYSTEMS, "in_validation", personas, rto_hours=None,
                             process_owner=personas["process_owner"],
                             qa_contact=personas["qa_approver"],
                             security_contact=personas["it_security"])
    response = _transition(login(ready_to_sign(personas["qa_approver"], personas["admin"])),
                           system, "validate")
    assert (response.status_code, [f for f, _m in _errors(response)]) == (422, ["rto_hours"])


def test_release_keeps_the_validated_version_and_dates_the_next_evaluation_a11_18(
        personas: dict[str, Any]) -> None:
    system = record_in_state(SYSTEMS, "validated", personas)
    today = timezone.localdate()
    assert (system.validated_version, system.due_date) == ("8.1.2", next_evaluation(
        system, today))
    assert next_evaluation(system, dt.date(2026, 1, 31)) == dt.date(2027, 1, 28)


def test_the_system_owner_does_not_release_their_own_system_p11_11(
        personas: dict[str, Any], login: Any) -> None:
    system = record_in_state(SYSTEMS, "in_validation", personas)
    response = _transition(login(system.owner), system, "validate")
    assert response.status_code == 403


def test_a_qa_contact_who_cannot_approve_systems_is_refused_naming_the_field(
        personas: dict[str, Any]) -> None:
    system = record_in_state(SYSTEMS, "planned", personas)
    with pytest.raises(ValidationError) as refused:
        record_update(system, actor=system.owner, changes={"qa_contact": personas["author"]})
    assert list(refused.value.message_dict) == ["qa_contact"]


def test_an_interface_to_itself_is_refused_naming_the_system(
        personas: dict[str, Any], login: Any) -> None:
    system = record_in_state(SYSTEMS, "planned", personas)
    response = login(system.owner).post(
        reverse("api:system_interfaces_add", args=[system.pk]),
        {"direction": "sends", "other": system.number, "data": "loop"},
        content_type="application/json")
    assert (response.status_code, _errors(response)) == (
        422, [("other", "A system has no interface to itself.")])


def test_a_deliverable_approved_in_the_future_is_refused_naming_the_date(
        personas: dict[str, Any], login: Any) -> None:
    system = record_in_state(SYSTEMS, "planned", personas)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = login(system.owner).post(
        reverse("api:system_deliverables_add", args=[system.pk]),
        {"kind": "iq", "system_version": "8.1.2", "reference": "IQ-1",
         "approved_on": tomorrow.isoformat()}, content_type="application/json")
    assert (response.status_code, [f for f, _m in _errors(response)]) == (422, ["approved_on"])


# --- change control moves validated systems ----------------------------------------------


def _change_affecting(systems: list[System], people: dict[str, Any]) -> Any:
    changes = kind_by_slug("changes")
    change = record_in_state(changes, "draft", people)
    for system in systems:
        link_add(change, actor=change.owner, target_number=system.number, relation="affects")
    return change


def test_approving_a_change_puts_the_validated_systems_it_affects_under_change_a11_05(
        personas: dict[str, Any]) -> None:
    system = record_in_state(SYSTEMS, "validated", personas)
    change = walk(kind_by_slug("changes"), _change_affecting([system], personas),
                  "approved", personas)
    system.refresh_from_db()
    entry = AuditEntry.objects.get(action="systems.system.start_change")
    assert (system.state, entry.reason, entry.actor_id) == (
        "under_change", f"{change.number} approved", None)


def test_closing_the_change_returns_the_system_to_validated(
        personas: dict[str, Any]) -> None:
    system = record_in_state(SYSTEMS, "validated", personas)
    walk(kind_by_slug("changes"), _change_affecting([system], personas), "closed", personas)
    system.refresh_from_db()
    assert system.state == "validated"


def test_a_system_held_by_two_changes_returns_when_the_last_ends(
        personas: dict[str, Any]) -> None:
    changes = kind_by_slug("changes")
    system = record_in_state(SYSTEMS, "validated", personas)
    first = walk(changes, _change_affecting([system], personas), "approved", personas)
    second = walk(changes, _change_affecting([system], personas), "approved", personas)
    walk(changes, first, "closed", personas)
    system.refresh_from_db()
    held = system.state
    walk(changes, second, "closed", personas)
    system.refresh_from_db()
    assert (held, system.state) == ("under_change", "validated")


def test_a_system_not_yet_validated_stays_where_it_is(personas: dict[str, Any]) -> None:
    system = record_in_state(SYSTEMS, "in_validation", personas)
    walk(kind_by_slug("changes"), _change_affecting([system], personas), "approved",
         personas)
    system.refresh_from_db()
    assert system.state == "in_validation"


# --- posture (A11D-03) ---------------------------------------------------------------------


def test_the_owner_is_told_of_posture_never_entered(personas: dict[str, Any]) -> None:
    system = record_in_state(SYSTEMS, "validated", personas)
    [task] = system_owner_tasks(system.owner)
    assert (task.title, task.detail) == (
        f"Security posture of {system.number} LIMS LabWare",
        "Never entered: patch level, vulnerability scan, penetration test, network zone, "
        "access review, backup restore test.")


def test_an_entry_past_its_age_is_overdue_and_a_fresh_one_is_not(
        personas: dict[str, Any]) -> None:
    system = record_in_state(SYSTEMS, "validated", personas)
    today = timezone.localdate()
    row_add(system, rows_of_kind(SYSTEMS, "posture"), actor=system.owner, values={
        "item": "patch_level", "value": "CU 2026-09", "assessed_on": today - dt.timedelta(
            days=91), "evidence": "WSUS report"})
    row_add(system, rows_of_kind(SYSTEMS, "posture"), actor=system.owner, values={
        "item": "network_zone", "value": "Level 3 (site operations)",
        "assessed_on": today, "evidence": "Firewall rule review FW-2026-11"})
    facts = {f.item: (f.overdue, f.due) for f in entered_posture([system])[system.pk]}
    assert facts["patch_level"] == (True, today - dt.timedelta(days=1))
    assert facts["network_zone"] == (False, today + dt.timedelta(days=365))


def test_a_system_in_planning_gives_its_owner_no_posture_task(
        personas: dict[str, Any]) -> None:
    system = record_in_state(SYSTEMS, "planned", personas)
    assert system_owner_tasks(system.owner) == []


def test_a_validated_system_whose_supplier_is_disqualified_is_flagged_a11_03(
        personas: dict[str, Any], login: Any) -> None:
    supplier = record_in_state(kind_by_slug("suppliers"), "disqualified", personas)
    system = record_in_state(SYSTEMS, "validated", personas, supplier=supplier)
    titles = [t.title for t in system_owner_tasks(system.owner)]
    page = login(system.owner).get(SYSTEMS.detail_url(system)).content.decode()
    assert f"{system.number} LIMS LabWare: its supplier is disqualified" in titles
    assert 'data-testid="supplier-flag"' in page


def test_a_system_created_at_a_site_numbers_on_across_years(personas: dict[str, Any]) -> None:
    author = personas["author"]
    site = a_site("BSL")
    first = record_create(SYSTEMS, actor=author, site=site, values={**CREATE, "owner": author})
    second = record_create(SYSTEMS, actor=author, site=site,
                           values={**CREATE, "title": "MES", "owner": author})
    assert (first.number, second.number) == ("SYS-0001", "SYS-0002")


def test_a_penetration_test_is_asked_of_critical_systems_only(
        personas: dict[str, Any]) -> None:
    system = record_in_state(SYSTEMS, "validated", personas, criticality="medium")
    facts = {f.item: (f.needed, f.overdue) for f in entered_posture([system])[system.pk]}
    assert (facts["penetration_test"], facts["patch_level"]) == ((False, False), (True, True))


def test_an_overdue_periodic_evaluation_is_a_task_of_the_owner_a11_18(
        personas: dict[str, Any]) -> None:
    system = record_in_state(SYSTEMS, "validated", personas)
    System.objects.filter(pk=system.pk).update(
        due_date=timezone.localdate() - dt.timedelta(days=3))
    task = next(t for t in system_owner_tasks(system.owner) if t.priority == "high")
    assert (task.title, task.due) == (
        f"Periodic evaluation of {system.number} LIMS LabWare is overdue",
        timezone.localdate() - dt.timedelta(days=3))
