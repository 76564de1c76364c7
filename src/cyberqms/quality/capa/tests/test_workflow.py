"""The CAPA transition table, segregation of duties, guards and signatures (P11-10, P11-11,
P11-20). Every (state, action) pair is the record kit's test (kit/tests/test_families.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from cyberqms.platform.core.models import Signature
from cyberqms.platform.kit.record_pages import signatures_of
from cyberqms.platform.kit.workflow import GuardFailed, SegregationOfDuties, TransitionNotAllowed
from cyberqms.quality.capa import services
from cyberqms.quality.capa.enums import CapaState, EffectivenessResult
from cyberqms.quality.capa.models import Capa
from cyberqms.quality.capa.workflow import CAPA_WORKFLOW

from .factories import add_plan, capa_in_state, make_capa, prepare_signers, sign

pytestmark = pytest.mark.django_db

S = CapaState


@pytest.fixture
def people(personas: dict[str, Any]) -> dict[str, Any]:
    return prepare_signers(personas)


def test_table_is_as_documented() -> None:
    rows = {(s, t.action, t.target, t.permission, t.sign, t.not_by)
            for t in CAPA_WORKFLOW.transitions for s in t.sources}
    assert rows == {
        (S.DRAFT, "submit", S.OPEN, "capa.submit", None, ()),
        (S.OPEN, "approve_plan", S.IMPLEMENTATION, "capa.approve", "Approved",
         ("owner", "originator")),
        (S.OPEN, "return_plan", S.DRAFT, "capa.review", None, ("owner",)),
        (S.IMPLEMENTATION, "complete_implementation", S.EFFECTIVENESS_CHECK, "capa.work",
         None, ()),
        (S.EFFECTIVENESS_CHECK, "close", S.CLOSED, "capa.close", "Closed", ("owner", "originator")),
        (S.EFFECTIVENESS_CHECK, "reopen", S.IMPLEMENTATION, "capa.review", None, ()),
        (S.DRAFT, "cancel", S.CANCELLED, "capa.cancel", None, ()),
        (S.OPEN, "cancel", S.CANCELLED, "capa.cancel", None, ()),
    }


def test_effectiveness_record_is_refused_outside_the_check(people: dict[str, Any]) -> None:
    capa = capa_in_state(S.IMPLEMENTATION, people)
    with pytest.raises(TransitionNotAllowed) as refused:
        services.capa_effectiveness_record(capa, actor=people["qa_approver"], result="passed",
                                           evidence="x", signature=sign(people["qa_approver"]))
    assert refused.value.allowed == ["complete_implementation"]


def test_main_path_signatures_and_closure_date_p11_20(people: dict[str, Any]) -> None:
    capa = capa_in_state(S.CLOSED, people)
    meanings = list(Signature.objects.filter(record_type="capa.capa", record_id=str(capa.pk))
                    .order_by("pk").values_list("meaning", "signer__username"))
    assert meanings == [("Approved", "qa_approver"), ("Verified", "qa_approver"),
                        ("Closed", "qa_manager")]
    assert capa.closed_at is not None
    assert capa.effectiveness_checked_by == people["qa_approver"]
    current = [s["superseded"] for s in signatures_of(capa)]
    # the effectiveness result is filled after the plan approval, which did not vouch for
    # it: recording it supersedes nothing, and closing (closed_at) neither
    assert current == [False, False, False]


def test_plan_approval_is_superseded_when_the_plan_changes_p11_20(
    people: dict[str, Any],
) -> None:
    capa = capa_in_state(S.IMPLEMENTATION, people)
    assert [s["superseded"] for s in signatures_of(capa)] == [False]
    action = capa.actions.first()
    assert action is not None
    services.capa_action_complete(action, actor=people["author"], evidence="WO-1")
    assert [s["superseded"] for s in signatures_of(capa)] == [False]  # progress, not plan
    services.capa_action_add(capa, actor=people["author"], kind="preventive",
                             description="Train the night shift", owner=people["author"],
                             due_date=timezone.localdate() + dt.timedelta(days=5))
    assert [s["superseded"] for s in signatures_of(capa)] == [True]


# --- segregation of duties (P11-11) --------------------------------------------------------


def test_owner_never_approves_the_plan_p11_11(people: dict[str, Any]) -> None:
    approver = people["qa_approver"]
    capa = make_capa(people, owner=approver)
    add_plan(capa, people)
    CAPA_WORKFLOW.run(capa, "submit", actor=people["author"])
    refusals = {t.action: why for t, why in CAPA_WORKFLOW.available(capa, approver)}
    assert refusals["approve_plan"] == (
        "You are the owner of this record: someone else must take the step “Approve plan”."
    )
    with pytest.raises(SegregationOfDuties):
        CAPA_WORKFLOW.run(capa, "approve_plan", actor=approver, signature=sign(approver))
    assert Signature.objects.count() == 0
    capa.refresh_from_db()
    assert capa.state == S.OPEN


def test_originator_never_approves_the_plan_p11_11(people: dict[str, Any]) -> None:
    manager = people["qa_manager"]
    capa = make_capa(people, actor=manager, owner=people["author"])
    add_plan(capa, people)
    CAPA_WORKFLOW.run(capa, "submit", actor=people["author"])
    with pytest.raises(SegregationOfDuties) as barred:
        CAPA_WORKFLOW.run(capa, "approve_plan", actor=manager, signature=sign(manager))
    assert "originator" in barred.value.text


def test_owner_never_verifies_effectiveness_p11_11(people: dict[str, Any]) -> None:
    approver = people["qa_approver"]
    capa = capa_in_state(S.IMPLEMENTATION, people)
    # hand the CAPA to the approver after the plan approval, then finish implementation
    for action in capa.actions.all():
        services.capa_action_complete(action, actor=people["author"], evidence="done")
    services.capa_update(capa, actor=people["author"], changes={"description": "x"},
                         reason="detail")
    Capa.objects.filter(pk=capa.pk).update(owner=approver)  # as if reassigned
    capa.refresh_from_db()
    CAPA_WORKFLOW.run(capa, "complete_implementation", actor=approver)
    assert services.effectiveness_refusal(capa, approver) == (
        "You are the owner of this CAPA; someone else must verify its effectiveness."
    )
    with pytest.raises(SegregationOfDuties):
        services.capa_effectiveness_record(capa, actor=approver, result="passed",
                                           evidence="data", signature=sign(approver))
    assert Signature.objects.filter(meaning="Verified").count() == 0


def test_owner_never_closes_p11_11(people: dict[str, Any]) -> None:
    manager = people["qa_manager"]
    capa = capa_in_state(S.EFFECTIVENESS_CHECK, people, result="passed")
    Capa.objects.filter(pk=capa.pk).update(owner=manager)  # as if reassigned
    capa.refresh_from_db()
    refusals = {t.action: why for t, why in CAPA_WORKFLOW.available(capa, manager)}
    assert refusals["close"] == "You are the owner of this record: someone else must take the step “Close”."
    with pytest.raises(SegregationOfDuties):
        CAPA_WORKFLOW.run(capa, "close", actor=manager, signature=sign(manager))


# --- guards --------------------------------------------------------------------------------


def test_plan_needs_actions_and_effectiveness_criteria(people: dict[str, Any]) -> None:
    capa = make_capa(people)
    CAPA_WORKFLOW.run(capa, "submit", actor=people["author"])
    with pytest.raises(GuardFailed) as refused:
        CAPA_WORKFLOW.run(capa, "approve_plan", actor=people["qa_approver"],
                                   signature=sign(people["qa_approver"]))
    assert refused.value.text == "Add at least one corrective or preventive action first."
    services.capa_action_add(capa, actor=people["author"], kind="corrective",
                             description="Fix", owner=people["author"],
                             due_date=timezone.localdate())
    with pytest.raises(GuardFailed) as refused:
        CAPA_WORKFLOW.run(capa, "approve_plan", actor=people["qa_approver"],
                                   signature=sign(people["qa_approver"]))
    assert refused.value.text == "Set the effectiveness criteria first."


def test_no_closure_before_the_effectiveness_check_passes(people: dict[str, Any]) -> None:
    capa = capa_in_state(S.EFFECTIVENESS_CHECK, people)
    message = "The effectiveness check has not passed: a CAPA closes only after it passes."
    with pytest.raises(GuardFailed) as refused:
        CAPA_WORKFLOW.run(capa, "close", actor=people["qa_manager"],
                            signature=sign(people["qa_manager"]))
    assert refused.value.text == message
    services.capa_effectiveness_record(capa, actor=people["qa_approver"], result="failed",
                                       evidence="Two excursions in June",
                                       signature=sign(people["qa_approver"]))
    with pytest.raises(GuardFailed) as refused:
        CAPA_WORKFLOW.run(capa, "close", actor=people["qa_manager"],
                            signature=sign(people["qa_manager"]))
    assert refused.value.text == message
    capa.refresh_from_db()
    assert (capa.state, capa.closed_at) == (S.EFFECTIVENESS_CHECK, None)


def test_failed_check_reopens_for_new_actions(people: dict[str, Any]) -> None:
    capa = capa_in_state(S.EFFECTIVENESS_CHECK, people, result="passed")
    with pytest.raises(GuardFailed) as refused:
        CAPA_WORKFLOW.run(capa, "reopen", actor=people["qa_manager"], reason="why")
    assert refused.value.text == "Only a failed effectiveness check reopens the implementation."
    capa = capa_in_state(S.EFFECTIVENESS_CHECK, people, result="failed")
    capa = CAPA_WORKFLOW.run(capa, "reopen", actor=people["qa_manager"], reason="Excursions again")
    assert (capa.state, capa.effectiveness_result, capa.effectiveness_checked_by) == (
        S.IMPLEMENTATION, EffectivenessResult.PENDING, None)
    action = services.capa_action_add(capa, actor=people["author"], kind="corrective",
                                      description="Replace the compressor",
                                      owner=people["author"], due_date=timezone.localdate())
    services.capa_action_complete(action, actor=people["author"], evidence="WO-77")
    capa = CAPA_WORKFLOW.run(capa, "complete_implementation", actor=people["author"])
    capa = services.capa_effectiveness_record(capa, actor=people["qa_approver"],
                                              result="passed", evidence="No excursion",
                                              signature=sign(people["qa_approver"]))
    capa = CAPA_WORKFLOW.run(capa, "close", actor=people["qa_manager"],
                               signature=sign(people["qa_manager"]))
    assert capa.state == S.CLOSED


def test_implementation_completes_only_with_actions_finished(people: dict[str, Any]) -> None:
    capa = capa_in_state(S.IMPLEMENTATION, people)
    first, second = list(capa.actions.all())
    with pytest.raises(GuardFailed) as refused:
        CAPA_WORKFLOW.run(capa, "complete_implementation", actor=people["author"])
    assert refused.value.text == "Complete or cancel every open action first."
    services.capa_action_cancel(first, actor=people["author"], reason="Not needed")
    services.capa_action_cancel(second, actor=people["author"], reason="Not needed")
    with pytest.raises(GuardFailed) as refused:
        CAPA_WORKFLOW.run(capa, "complete_implementation", actor=people["author"])
    assert refused.value.text == "At least one action must be done."


def test_effectiveness_result_is_recorded_once(people: dict[str, Any]) -> None:
    capa = capa_in_state(S.EFFECTIVENESS_CHECK, people, result="passed")
    with pytest.raises(GuardFailed) as refused:
        services.capa_effectiveness_record(capa, actor=people["qa_manager"], result="failed",
                                           evidence="x", signature=sign(people["qa_manager"]))
    assert refused.value.text == "The result was already recorded (passed)."
