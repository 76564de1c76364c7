"""The approved supplier list (A11-03): assessments set the next re-assessment, approval
needs a current one, agreements are checked and their expiry is a task, bad scores and
dates are refused naming the field."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from cyberqms.assets.suppliers.tasks_home import supplier_tasks
from cyberqms.platform.kit.record_rows import row_add, rows_of_kind
from cyberqms.platform.kit.records import kind_by_slug
from cyberqms.platform.kit.tests.kit import ready_to_sign, record_in_state
from cyberqms.platform.trail.models import AuditEntry

pytestmark = pytest.mark.django_db
SUPPLIERS = kind_by_slug("suppliers")
TODAY = timezone.localdate()


def _errors(response: Any) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


def _assess(supplier: Any, people: dict[str, Any], **values: Any) -> Any:
    return row_add(supplier, rows_of_kind(SUPPLIERS, "assessments"),
                   actor=people["qa_approver"], values={
                       "method": "questionnaire", "assessed_on": TODAY, "score": 80,
                       "outcome": "approved", "next_due": TODAY + dt.timedelta(days=365),
                       **values})


def test_a_score_outside_0_to_100_is_refused_naming_it(
        personas: dict[str, Any], login: Any) -> None:
    supplier = record_in_state(SUPPLIERS, "candidate", personas)
    response = login(personas["author"]).post(
        reverse("api:supplier_assessments_add", args=[supplier.pk]),
        {"method": "questionnaire", "assessed_on": TODAY.isoformat(), "score": 140,
         "outcome": "approved", "next_due": (TODAY + dt.timedelta(days=30)).isoformat()},
        content_type="application/json")
    assert (response.status_code, _errors(response)) == (422, ["score"])


def test_an_agreement_that_expires_before_it_starts_is_refused_naming_the_expiry(
        personas: dict[str, Any], login: Any) -> None:
    supplier = record_in_state(SUPPLIERS, "candidate", personas)
    response = login(personas["author"]).post(
        reverse("api:supplier_agreements_add", args=[supplier.pk]),
        {"kind": "quality", "reference": "QAG-1", "starts_on": "2026-06-01",
         "expires_on": "2026-05-31"}, content_type="application/json")
    assert (response.status_code, _errors(response)) == (422, ["expires_on"])


def test_the_latest_assessment_sets_the_next_reassessment_date(
        personas: dict[str, Any]) -> None:
    supplier = record_in_state(SUPPLIERS, "candidate", personas)
    _assess(supplier, personas, assessed_on=TODAY - dt.timedelta(days=400),
            next_due=TODAY - dt.timedelta(days=35))
    _assess(supplier, personas, next_due=TODAY + dt.timedelta(days=700))
    supplier.refresh_from_db()
    assert supplier.due_date == TODAY + dt.timedelta(days=700)
    assert AuditEntry.objects.filter(action="suppliers.supplier.reassessment_due",
                                     object_id=str(supplier.pk)).count() == 2


def test_withdrawing_the_latest_assessment_brings_back_the_one_before(
        personas: dict[str, Any]) -> None:
    from cyberqms.platform.kit.record_rows import row_remove

    supplier = record_in_state(SUPPLIERS, "candidate", personas)
    _assess(supplier, personas, assessed_on=TODAY - dt.timedelta(days=10),
            next_due=TODAY + dt.timedelta(days=100))
    latest = _assess(supplier, personas, next_due=TODAY + dt.timedelta(days=700))
    row_remove(latest, rows_of_kind(SUPPLIERS, "assessments"), actor=personas["qa_approver"],
               reason="Entered for the wrong supplier")
    supplier.refresh_from_db()
    assert supplier.due_date == TODAY + dt.timedelta(days=100)


def test_approval_needs_a_current_assessment_a11_03(
        personas: dict[str, Any], login: Any) -> None:
    supplier = record_in_state(SUPPLIERS, "candidate", personas)
    _assess(supplier, personas, assessed_on=TODAY - dt.timedelta(days=400),
            next_due=TODAY - dt.timedelta(days=35))
    client = login(ready_to_sign(personas["qa_manager"], personas["admin"]))
    response = client.post(f"/api/v1/records/suppliers/{supplier.pk}/transitions/approve", {},
                           content_type="application/json")
    assert (response.status_code, response.json()["errors"][0]["message"]) == (
        422, f"The last assessment ({(TODAY - dt.timedelta(days=400)).isoformat()}) was due "
             f"for renewal on {(TODAY - dt.timedelta(days=35)).isoformat()}: assess the "
             "supplier again first.")


def test_an_overdue_reassessment_is_a_task_of_the_responsible_person(
        personas: dict[str, Any]) -> None:
    supplier = record_in_state(SUPPLIERS, "approved", personas)
    type(supplier)._default_manager.filter(pk=supplier.pk).update(
        due_date=TODAY - dt.timedelta(days=4))
    [task] = supplier_tasks(supplier.owner)
    assert (task.title, task.priority, task.due) == (
        f"Re-assessment of {supplier.number} LabSys GmbH is overdue", "high",
        TODAY - dt.timedelta(days=4))


def test_an_overdue_reassessment_shows_as_overdue(personas: dict[str, Any]) -> None:
    supplier = record_in_state(SUPPLIERS, "approved", personas)
    _assess(supplier, personas, assessed_on=TODAY - dt.timedelta(days=400),
            next_due=TODAY - dt.timedelta(days=35))
    supplier.assessments.exclude(assessed_on=TODAY - dt.timedelta(days=400)).update(
        removed_at=timezone.now(), removed_by=personas["qa_approver"], removed_reason="test")
    from cyberqms.assets.suppliers.family import reassessment_due

    reassessment_due(supplier.assessments.first(), personas["qa_approver"])
    supplier.refresh_from_db()
    assert supplier.is_overdue() is True
    assert list(SUPPLIERS.overdue()) == [supplier]


def test_an_agreement_expiring_soon_is_a_task_of_the_responsible_person(
        personas: dict[str, Any]) -> None:
    supplier = record_in_state(SUPPLIERS, "approved", personas)
    row_add(supplier, rows_of_kind(SUPPLIERS, "agreements"), actor=supplier.owner, values={
        "kind": "security", "reference": "DPA-2024-11", "starts_on": TODAY - dt.timedelta(
            days=700), "expires_on": TODAY + dt.timedelta(days=20)})
    [task] = supplier_tasks(supplier.owner)
    assert (task.title, task.priority, task.due) == (
        f"Security agreement (incl. data processing) with LabSys GmbH expires on "
        f"{(TODAY + dt.timedelta(days=20)).isoformat()}", "medium",
        TODAY + dt.timedelta(days=20))


def test_a_renewed_agreement_is_no_longer_a_task(personas: dict[str, Any]) -> None:
    supplier = record_in_state(SUPPLIERS, "approved", personas)
    agreements = rows_of_kind(SUPPLIERS, "agreements")
    for starts, expires in ((-700, 20), (15, 1110)):
        row_add(supplier, agreements, actor=supplier.owner, values={
            "kind": "quality", "reference": f"QAG-{starts}",
            "starts_on": TODAY + dt.timedelta(days=starts),
            "expires_on": TODAY + dt.timedelta(days=expires)})
    assert supplier_tasks(supplier.owner) == []


def test_the_supplier_page_lists_the_systems_it_provides(
        personas: dict[str, Any], login: Any) -> None:
    supplier = record_in_state(SUPPLIERS, "approved", personas)
    system = record_in_state(kind_by_slug("systems"), "planned", personas, supplier=supplier)
    page = login(personas["qa_approver"]).get(SUPPLIERS.detail_url(supplier)).content.decode()
    assert f"{system.number} LIMS LabWare" in page
