"""Change-control workflow: the table, CYB-06 IT-security approval, segregation of duties,
guards and signatures (P11-10, P11-11, P11-20, CYB-06). Every (state, action) pair is
the record kit's test (core/tests/test_families.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cyberqms.platform.core.access import AccessDenied
from cyberqms.platform.core.models import Signature
from cyberqms.platform.kit.signatures import manifestation
from cyberqms.platform.kit.workflow import GuardFailed, SegregationOfDuties, TransitionNotAllowed
from cyberqms.platform.trail.models import AuditEntry

from .. import services
from ..enums import ChangeState, PirOutcome, TaskState
from ..workflow import CHANGE_WORKFLOW
from .factories import change_draft, change_in, ready_to_sign, signature

pytestmark = pytest.mark.django_db
S = ChangeState


def test_the_table_p11_10() -> None:
    assert [(t.action, t.sources, t.target, t.permission, t.sign) for t in
            CHANGE_WORKFLOW.transitions] == [
        ("submit", ("draft",), "assessment", "changes.submit", None),
        ("qa_approve", ("assessment",), "qa_approved", "changes.approve", "Approved"),
        ("security_approve", ("qa_approved",), "approved", "changes.security_approve",
         "Approved (IT security)"),
        ("release", ("qa_approved",), "approved", "changes.approve", None),
        ("start_implementation", ("approved",), "implementation", "changes.work", None),
        ("complete_implementation", ("implementation",), "review", "changes.work", None),
        ("close", ("review",), "closed", "changes.close", "Closed"),
        ("reopen", ("review",), "implementation", "changes.review", None),
        ("return", ("assessment", "qa_approved"), "draft", "changes.review", None),
        ("cancel", ("draft", "assessment", "qa_approved", "approved"), "cancelled",
         "changes.cancel", None),
    ]


# --- CYB-06 ------------------------------------------------------------------------------


def test_cyber_change_needs_it_security_signature_to_be_approved_cyb_06(
    personas: dict[str, Any],
) -> None:
    change = change_in(S.QA_APPROVED, personas, cyber=True)
    assert change.cyber_impact is True
    # QA cannot release it without IT security
    with pytest.raises(GuardFailed) as guard:
        CHANGE_WORKFLOW.run(change, "release", actor=personas["qa_approver"])
    assert guard.value.text == "This change has cybersecurity impact: IT security must approve it."
    # nor can QA sign the security approval: the right is IT security's
    qa = ready_to_sign(personas["qa_manager"], personas["admin"])
    with pytest.raises(AccessDenied):
        CHANGE_WORKFLOW.run(change, "security_approve", actor=qa, signature=signature(qa))
    # and implementation cannot start before approval (409)
    with pytest.raises(TransitionNotAllowed) as early:
        CHANGE_WORKFLOW.run(change, "start_implementation", actor=personas["author"])
    assert early.value.allowed == ["security_approve", "release", "return", "cancel"]
    change.refresh_from_db()
    assert change.state == S.QA_APPROVED
    sec = ready_to_sign(personas["it_security"], personas["admin"])
    approved = CHANGE_WORKFLOW.run(change, "security_approve", actor=sec, signature=signature(sec))
    assert approved.state == S.APPROVED
    signed = Signature.objects.filter(record_type="changes.change", record_id=str(change.pk))
    assert sorted((s.meaning, s.signer.username) for s in signed) == [
        ("Approved", "qa_approver"), ("Approved (IT security)", "it_security"),
    ]


def test_change_without_cyber_impact_is_released_by_qa_alone_cyb_06(
    personas: dict[str, Any],
) -> None:
    change = change_in(S.QA_APPROVED, personas, cyber=False)
    sec = ready_to_sign(personas["it_security"], personas["admin"])
    with pytest.raises(GuardFailed) as guard:
        CHANGE_WORKFLOW.run(change, "security_approve", actor=sec, signature=signature(sec))
    assert guard.value.text == "This change has no cybersecurity impact: QA releases it."
    released = CHANGE_WORKFLOW.run(change, "release", actor=personas["qa_approver"])
    assert released.state == S.APPROVED
    signed = Signature.objects.filter(record_type="changes.change", record_id=str(change.pk))
    assert [s.meaning for s in signed] == ["Approved"]


@pytest.mark.parametrize("question", ["new_interfaces", "new_accounts", "network_exposure",
                                      "data_flow_change"])
def test_any_cyber_question_flags_the_change_cyb_06(
    question: str, personas: dict[str, Any]
) -> None:
    change = change_draft(personas["author"], **{question: True})
    assert change.cyber_impact is True
    services.change_update(change, actor=personas["author"], changes={question: False})
    assert change.cyber_impact is False


def test_cyber_flag_is_frozen_after_qa_approval_cyb_06(personas: dict[str, Any]) -> None:
    """The flag cannot be cleared after QA approval to skip IT security."""
    change = change_in(S.QA_APPROVED, personas, cyber=True)
    with pytest.raises(ValidationError) as refused:
        services.change_update(change, actor=personas["qa_approver"], reason="oops",
                               changes={"new_interfaces": False, "data_flow_change": False})
    assert refused.value.message_dict == {
        "data_flow_change": ["This field cannot be changed while the change is qa approved."],
        "new_interfaces": ["This field cannot be changed while the change is qa approved."],
    }


# --- segregation of duties ---------------------------------------------------------------------


def test_originator_never_approves_or_closes_their_own_change_p11_11(
    personas: dict[str, Any],
) -> None:
    manager = ready_to_sign(personas["qa_manager"], personas["admin"])
    own = change_draft(manager, cyber=True)
    CHANGE_WORKFLOW.run(own, "submit", actor=manager)
    with pytest.raises(SegregationOfDuties) as barred:
        CHANGE_WORKFLOW.run(own, "qa_approve", actor=manager, signature=signature(manager))
    assert barred.value.text == (
        "You are the originator of this record: someone else must take the step “QA approve”."
    )
    refusals = {t.action: why for t, why in CHANGE_WORKFLOW.available(own, manager)}
    assert refusals["qa_approve"] == barred.value.text
    assert Signature.objects.count() == 0


def test_it_security_originator_cannot_approve_own_cyber_change_p11_11(
    personas: dict[str, Any],
) -> None:
    sec = ready_to_sign(personas["it_security"], personas["admin"])
    change = change_draft(sec, cyber=True)
    CHANGE_WORKFLOW.run(change, "submit", actor=sec)
    qa = ready_to_sign(personas["qa_approver"], personas["admin"])
    CHANGE_WORKFLOW.run(change, "qa_approve", actor=qa, signature=signature(qa))
    with pytest.raises(SegregationOfDuties):
        CHANGE_WORKFLOW.run(change, "security_approve", actor=sec, signature=signature(sec))


def test_author_may_not_approve_p11_11(personas: dict[str, Any]) -> None:
    change = change_in(S.ASSESSMENT, personas)
    author = ready_to_sign(personas["author"], personas["admin"])
    with pytest.raises(AccessDenied):
        CHANGE_WORKFLOW.run(change, "qa_approve", actor=author, signature=signature(author))


# --- guards -------------------------------------------------------------------------------------


def test_submit_needs_complete_assessment_and_risk_score(personas: dict[str, Any]) -> None:
    change = change_draft(personas["author"], assessed=False)
    with pytest.raises(GuardFailed) as guard:
        CHANGE_WORKFLOW.run(change, "submit", actor=personas["author"])
    assert guard.value.text == (
        "Complete the impact assessment first: product quality, validation, regulatory and "
        "cybersecurity."
    )
    services.change_update(change, actor=personas["author"], changes={
        "product_quality_impact": "none", "validation_impact": "none",
        "regulatory_impact": "none", "cyber_assessment": "none", "severity": 2,
    })
    with pytest.raises(GuardFailed) as guard:
        CHANGE_WORKFLOW.run(change, "submit", actor=personas["author"])
    assert guard.value.text == "Score the risk first (severity, probability and detectability)."
    services.change_update(change, actor=personas["author"],
                           changes={"probability": 1, "detectability": 1})
    assert CHANGE_WORKFLOW.run(change, "submit", actor=personas["author"]).state == S.ASSESSMENT


def test_complete_implementation_needs_tasks_finished(personas: dict[str, Any]) -> None:
    change = change_in(S.IMPLEMENTATION, personas)
    author = personas["author"]
    with pytest.raises(GuardFailed) as guard:
        CHANGE_WORKFLOW.run(change, "complete_implementation", actor=author)
    assert guard.value.text == "At least one implementation task must be done."
    first = services.change_task_add(change, actor=author, description="A", owner=author)
    second = services.change_task_add(change, actor=author, description="B", owner=author)
    services.change_task_complete(first, actor=author)
    with pytest.raises(GuardFailed) as guard:
        CHANGE_WORKFLOW.run(change, "complete_implementation", actor=author)
    assert guard.value.text == "Finish or cancel every open implementation task first."
    services.change_task_cancel(second, actor=author, reason="Not needed after all")
    assert CHANGE_WORKFLOW.run(change, "complete_implementation", actor=author).state == S.REVIEW
    assert sorted(change.tasks.values_list("state", flat=True)) == [
        TaskState.CANCELLED, TaskState.DONE]


def test_close_needs_effective_review_and_reopen_clears_outcome(
    personas: dict[str, Any],
) -> None:
    change = change_in(S.REVIEW, personas)
    qa = ready_to_sign(personas["qa_manager"], personas["admin"])
    with pytest.raises(GuardFailed) as guard:
        CHANGE_WORKFLOW.run(change, "close", actor=qa, signature=signature(qa))
    assert guard.value.text == "Write the post-implementation review first."
    services.change_update(change, actor=qa, reason="PIR", changes={
        "post_implementation_review": "Alarm flood on start-up.",
        "pir_outcome": PirOutcome.NOT_EFFECTIVE})
    with pytest.raises(GuardFailed) as guard:
        CHANGE_WORKFLOW.run(change, "close", actor=qa, signature=signature(qa))
    assert guard.value.text == (
        "Only a change whose post-implementation review found it effective is closed."
    )
    reopened = CHANGE_WORKFLOW.run(change, "reopen", actor=qa, reason="Fix the alarm flood")
    assert (reopened.state, reopened.pir_outcome) == (S.IMPLEMENTATION, "")


def test_reason_required_for_return_cancel_reopen(personas: dict[str, Any]) -> None:
    change = change_in(S.ASSESSMENT, personas)
    for action in ("return", "cancel"):
        with pytest.raises(GuardFailed) as guard:
            CHANGE_WORKFLOW.run(change, action, actor=personas["qa_manager"], reason="  ")
        assert guard.value.field == "reason"


# --- signatures and closure -----------------------------------------------------------------------


def test_close_signs_sets_closed_at_and_signature_superseded_by_later_edit_p11_20(
    personas: dict[str, Any],
) -> None:
    change = change_in(S.ASSESSMENT, personas)
    qa = ready_to_sign(personas["qa_approver"], personas["admin"])
    CHANGE_WORKFLOW.run(change, "qa_approve", actor=qa, signature=signature(qa))
    approval = Signature.objects.get(record_type="changes.change", record_id=str(change.pk))
    assert (approval.meaning, approval.action) == ("Approved", "changes.change.qa_approve")
    assert manifestation(approval, current_hash=CHANGE_WORKFLOW.content_hash(change))[
        "superseded"] is False
    CHANGE_WORKFLOW.run(change, "return", actor=personas["qa_manager"], reason="Rework")
    services.change_update(change, actor=personas["author"], changes={"severity": 5})
    assert manifestation(approval, current_hash=CHANGE_WORKFLOW.content_hash(change))[
        "superseded"] is True

    closed = change_in(S.CLOSED, personas)
    assert closed.closed_at is not None
    assert closed.closed_at <= timezone.now()
    entry = AuditEntry.objects.filter(object_type="changes.change",
                                      object_id=str(closed.pk)).order_by("-seq").first()
    assert entry is not None
    assert entry.action == "changes.change.close"
    assert entry.signature_id is not None
