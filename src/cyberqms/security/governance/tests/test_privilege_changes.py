"""Least privilege from use, accepted through change control (issue 17, item 5): the
suggestion raises a change control with its evidence, the role changes wait for its
approval, an administrator applies them (each grant naming the change control), and
cancelling the change control cancels them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from cyberqms.platform.accounts.models import RoleAssignment
from cyberqms.platform.core.access import can
from cyberqms.platform.kit.record_services import record_update
from cyberqms.platform.kit.records import kind_by_type
from cyberqms.platform.kit.tests.kit import ready_to_sign, walk
from cyberqms.quality.deviations.tests.factories import a_site
from cyberqms.security.governance.models import PrivilegeChange
from cyberqms.security.governance.privilege_changes import (
    privilege_change_apply,
    suggestion_propose,
    waiting_for,
)

pytestmark = pytest.mark.django_db
LONG_AGO = timezone.now() - dt.timedelta(days=400)
CHANGES = "changes.change"


@pytest.fixture
def reviewers(personas: dict[str, Any], make_user: Any) -> list[Any]:
    """Three QA reviewers at BSL for 400 days, none of whom ever approved anything."""
    site = a_site("BSL")
    made = [make_user(f"reviewer{n}", "qa_reviewer", site=site) for n in (1, 2, 3)]
    RoleAssignment.objects.filter(user__in=made).update(valid_from=LONG_AGO)
    return made


def propose(personas: dict[str, Any]) -> PrivilegeChange:
    return suggestion_propose(actor=personas["qa_manager"], role="qa_reviewer", site="BSL",
                              action="deviations.approve")


def change_of(pc: PrivilegeChange) -> Any:
    return kind_by_type(CHANGES).model.objects.get(pk=pc.change_id)


def test_accepting_a_suggestion_raises_a_change_control_in_draft(
        reviewers: list[Any], personas: dict[str, Any]) -> None:
    pc = propose(personas)
    change = change_of(pc)
    assert (change.state, change.owner, change.site.code, change.title) == (
        "draft", personas["qa_manager"], "BSL",
        "Least privilege: QA reviewer at BSL without “Approve a deviation”")


def test_the_change_control_carries_the_evidence_and_the_people(
        reviewers: list[Any], personas: dict[str, Any]) -> None:
    change = change_of(propose(personas))
    assert change.description == (
        "3 of 3 holders of QA reviewer at BSL never used deviations.approve (Approve a "
        "deviation (QA, e-signature)) in 180 days. Proposed: change to Author / originator for the 3 holders "
        "who never used it: reviewer1, reviewer2, reviewer3.")


def test_the_role_changes_are_kept_with_the_change_control(
        reviewers: list[Any], personas: dict[str, Any]) -> None:
    pc = propose(personas)
    assert (pc.state, pc.new_role, [a["username"] for a in pc.assignments]) == (
        "proposed", "author", ["reviewer1", "reviewer2", "reviewer3"])


def test_the_same_suggestion_is_not_proposed_twice(reviewers: list[Any],
                                                   personas: dict[str, Any]) -> None:
    pc = propose(personas)
    with pytest.raises(ValidationError) as caught:
        propose(personas)
    assert caught.value.message_dict == {"action": [f"Already proposed in {pc.change_number}."]}


def test_a_suggestion_that_does_not_hold_is_refused_naming_the_field(
        reviewers: list[Any], personas: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as caught:
        suggestion_propose(actor=personas["qa_manager"], role="qa_reviewer", site="BSL",
                           action="capa.approve.nothing")
    assert caught.value.message_dict == {"action": [
        "QA reviewer at BSL is not suggested to give up capa.approve.nothing now."]}


def test_nothing_applies_before_the_change_control_is_approved(
        reviewers: list[Any], personas: dict[str, Any]) -> None:
    pc = propose(personas)
    with pytest.raises(ValidationError) as caught:
        privilege_change_apply(pc, actor=personas["admin"])
    assert caught.value.message_dict == {"__all__": [
        f"{pc.change_number} is draft: role changes wait for its approval."]}


def approve(pc: PrivilegeChange, personas: dict[str, Any]) -> None:
    for person in personas.values():
        if person.username not in ("admin", "outsider"):
            ready_to_sign(person, personas["admin"])
    change = change_of(pc)
    record_update(change, actor=change.owner, changes={
        "product_quality_impact": "None: the QA reviewers keep authoring.",
        "validation_impact": "None: roles are configuration verified by the access tests.",
        "regulatory_impact": "No filing.", "severity": 2, "probability": 2,
        "detectability": 2})
    walk(kind_by_type(CHANGES), change, "approved", personas, values={})


def test_an_approved_change_waits_for_the_administrators(
        reviewers: list[Any], personas: dict[str, Any]) -> None:
    pc = propose(personas)
    approve(pc, personas)
    assert ([p.pk for p in waiting_for(personas["admin"])],
            waiting_for(personas["qa_manager"])) == ([pc.pk], [])


def test_applying_changes_each_idle_holder_to_the_lesser_role_at_once(
        reviewers: list[Any], personas: dict[str, Any]) -> None:
    pc = propose(personas)
    approve(pc, personas)
    done = privilege_change_apply(pc, actor=personas["admin"])
    first = reviewers[0]
    first.forget_access_cache()
    held = sorted(RoleAssignment.objects.held_on(timezone.now()).filter(
        user=first).values_list("role", "approval_ref"))
    assert (done.state, done.changed, held, can(first, "deviations.approve")) == (
        "applied", 3, [("author", pc.change_number)], False)


def test_applying_twice_is_refused(reviewers: list[Any], personas: dict[str, Any]) -> None:
    pc = propose(personas)
    approve(pc, personas)
    privilege_change_apply(pc, actor=personas["admin"])
    with pytest.raises(ValidationError) as caught:
        privilege_change_apply(pc, actor=personas["admin"])
    assert caught.value.message_dict == {"__all__": ["These role changes are applied."]}


def test_cancelling_the_change_control_cancels_the_role_changes(
        reviewers: list[Any], personas: dict[str, Any]) -> None:
    pc = propose(personas)
    kind_by_type(CHANGES).workflow.run(change_of(pc), "cancel", actor=personas["qa_manager"],
                                       reason="Decided against it")
    pc.refresh_from_db()
    assert pc.state == "cancelled"


def test_the_overview_offers_to_raise_the_change_control(
        reviewers: list[Any], personas: dict[str, Any], login: Any) -> None:
    client = login(personas["qa_manager"])
    page = client.get(reverse("governance:overview")).content.decode()
    response = client.post(reverse("governance:privilege_propose"), {
        "role": "qa_reviewer", "site": "BSL", "action": "deviations.approve"})
    pc = PrivilegeChange.objects.get()
    assert ('data-testid="propose-change"' in page, response.status_code,
            response["Location"]) == (True, 302, f"/changes/{pc.change_id}/")


def test_the_api_proposes_and_the_administrator_applies(
        reviewers: list[Any], personas: dict[str, Any], login: Any) -> None:
    proposed = login(personas["qa_manager"]).post(
        "/api/v1/access/suggestions/propose", {"role": "qa_reviewer", "site": "BSL",
                                               "action": "deviations.approve"},
        content_type="application/json")
    pc = PrivilegeChange.objects.get()
    approve(pc, personas)
    applied = login(personas["admin"]).post(f"/api/v1/access/privilege-changes/{pc.pk}/apply",
                                            content_type="application/json")
    assert (proposed.status_code, proposed.json()["people"], applied.status_code,
            applied.json()["state"], applied.json()["changed"]) == (
        201, ["reviewer1", "reviewer2", "reviewer3"], 200, "applied", 3)


def test_the_api_refuses_an_unknown_field(reviewers: list[Any], personas: dict[str, Any],
                                          login: Any) -> None:
    response = login(personas["qa_manager"]).post(
        "/api/v1/access/suggestions/propose", {"role": "qa_reviewer", "site": "BSL",
                                               "action": "deviations.approve", "x": 1},
        content_type="application/json")
    assert (response.status_code, response["Content-Type"]) == (
        422, "application/problem+json")
