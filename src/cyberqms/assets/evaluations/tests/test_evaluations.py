"""Periodic evaluation of a computerized system (A11-18): what the period held is gathered
and kept when it goes to QA, QA's signed approval dates the next evaluation, a conclusion
of "no longer validated" takes the system back to validation, the copies carry the
evidence."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from cyberqms.assets.systems.workflow import next_evaluation
from cyberqms.platform.kit.record_parts import link_add
from cyberqms.platform.kit.records import kind_by_slug
from cyberqms.platform.kit.tests.kit import record_in_state, walk
from cyberqms.platform.trail.models import AuditEntry
from cyberqms.quality.deviations.tests.factories import a_site

pytestmark = pytest.mark.django_db
EVALUATIONS = kind_by_slug("evaluations")
TODAY = timezone.localdate()


@pytest.fixture
def system(personas: dict[str, Any]) -> Any:
    return record_in_state(kind_by_slug("systems"), "validated", personas)


def _evaluation(system: Any, people: dict[str, Any], state: str = "draft", **fields: Any) -> Any:
    """An evaluation of `system` for the year to today (the records the tests make today
    fall in it)."""
    return record_in_state(EVALUATIONS, state, people, site=system.site, system=system,
                           **{"period_end": TODAY, **fields})


def _affecting(system: Any, slug: str, people: dict[str, Any], state: str) -> Any:
    record = record_in_state(kind_by_slug(slug), state, people, site=system.site)
    link_add(record, actor=record.owner, target_number=system.number, relation="affects")
    return record


def test_the_records_of_the_period_are_kept_when_it_goes_to_qa_a11_18(
        system: Any, personas: dict[str, Any]) -> None:
    change = _affecting(system, "changes", personas, "draft")
    deviation = _affecting(system, "deviations", personas, "open")
    evaluation = walk(EVALUATIONS, _evaluation(system, personas), "in_review", personas)
    records = evaluation.evidence["records"]
    assert {label: [r["number"] for r in rows] for label, rows in records.items()} == {
        "Change control": [change.number], "Deviations": [deviation.number]}


def test_a_record_closed_before_the_period_is_not_part_of_it(
        system: Any, personas: dict[str, Any]) -> None:
    change = _affecting(system, "changes", personas, "draft")
    type(change)._default_manager.filter(pk=change.pk).update(
        state="closed", closed_at=timezone.now() - dt.timedelta(days=400))
    evaluation = walk(EVALUATIONS, _evaluation(system, personas), "in_review", personas)
    assert evaluation.evidence["records"] == {}


def test_approval_dates_the_next_evaluation_of_the_system(
        system: Any, personas: dict[str, Any]) -> None:
    evaluation = _evaluation(system, personas, "approved")
    system.refresh_from_db()
    assert (system.last_evaluated_on, system.due_date, system.state) == (
        evaluation.period_end, next_evaluation(system, evaluation.period_end), "validated")
    assert AuditEntry.objects.get(action="systems.system.evaluated").reason == (
        f"{evaluation.number}: Remains in a validated state")


def test_no_longer_validated_takes_the_system_back_to_validation(
        system: Any, personas: dict[str, Any]) -> None:
    evaluation = _evaluation(system, personas, "approved", conclusion="revalidate",
                             follow_up="CHG-2026-0031 revalidates the audit-trail settings.")
    system.refresh_from_db()
    entry = AuditEntry.objects.get(action="systems.system.revalidate")
    assert (system.state, entry.reason) == (
        "in_validation", f"{evaluation.number} concluded it is no longer validated")


def test_no_longer_validated_needs_the_follow_up_naming_it(
        system: Any, personas: dict[str, Any], login: Any) -> None:
    evaluation = _evaluation(system, personas, conclusion="revalidate")
    response = login(evaluation.owner).post(
        f"/api/v1/records/evaluations/{evaluation.pk}/transitions/submit", {},
        content_type="application/json")
    assert (response.status_code, [e["field"] for e in response.json()["errors"]]) == (
        422, ["follow_up"])


def test_the_copy_carries_the_period_s_records(
        system: Any, personas: dict[str, Any], login: Any) -> None:
    change = _affecting(system, "changes", personas, "draft")
    evaluation = _evaluation(system, personas, "approved")
    copy = login(personas["qa_manager"]).get(
        reverse("records:json", args=["evaluations", evaluation.pk])).json()
    tables = {s["title"]: s["rows"] for s in copy["sections"]}
    assert tables["Change control in the period"] == [
        [change.number, change.title, change.get_state_display(),
         change.created_at.date().isoformat(), ""]]
    assert [row[0] for row in tables["Security posture at the end of the period"]] == [
        "Patch level", "Vulnerability scan", "Penetration test", "Network zone",
        "Access review", "Backup restore test"]


def test_a_system_of_another_site_is_refused_naming_it(
        system: Any, personas: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as refused:
        record_in_state(EVALUATIONS, "draft", personas, site=a_site("DUB"), system=system)
    assert list(refused.value.message_dict) == ["system"]


def test_a_period_ending_in_the_future_is_refused_naming_its_end(
        system: Any, personas: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as refused:
        _evaluation(system, personas, period_end=TODAY + dt.timedelta(days=3))
    assert list(refused.value.message_dict) == ["period_end"]


def test_the_system_page_offers_the_evaluation_since_the_last(
        system: Any, personas: dict[str, Any], login: Any) -> None:
    page = login(personas["author"]).get(f"/systems/{system.pk}/").content.decode()
    assert 'data-testid="start-evaluation"' in page
    assert f"period_start={system.validated_at.date().isoformat()}" in page
