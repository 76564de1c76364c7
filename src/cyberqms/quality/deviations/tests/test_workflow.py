"""The deviation workflow table: every (state, action) pair, segregation of duties,
guards and signatures (P11-10, P11-11, P11-20)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from cyberqms.platform.core.access import AccessDenied
from cyberqms.platform.core.models import Signature
from cyberqms.platform.kit.signatures import manifestation
from cyberqms.platform.kit.workflow import (
    GuardFailed,
    SegregationOfDuties,
    mermaid,
)
from cyberqms.platform.trail.models import AuditEntry
from cyberqms.quality.deviations import services
from cyberqms.quality.deviations.models import Deviation
from cyberqms.quality.deviations.workflow import DEVIATION_WORKFLOW as FLOW

from .factories import deviation_in_state, security_alert, signature

pytestmark = pytest.mark.django_db

TABLE = {
    ("draft", "submit"): "open",
    ("draft", "cancel"): "cancelled",
    ("open", "triage"): "investigation",
    ("open", "cancel"): "cancelled",
    ("investigation", "complete_investigation"): "qa_review",
    ("qa_review", "return"): "investigation",
    ("qa_review", "approve"): "approved",
    ("approved", "close"): "closed",
}
STATES = ["draft", "open", "investigation", "qa_review", "approved", "closed", "cancelled"]
ACTIONS = ["submit", "triage", "complete_investigation", "return", "approve", "close",
           "cancel"]


# Every (state, action) pair runs for every family on the kit: core/tests/test_families.py.


def test_the_declared_table_is_the_documented_one() -> None:
    declared = {(s, t.action): t.target for t in FLOW.transitions for s in t.sources}
    assert declared == TABLE
    assert sorted(FLOW.states()) == sorted(STATES)


def test_happy_path_audits_each_step_and_signs_approval_and_closure(
    people: dict[str, Any]
) -> None:
    d = deviation_in_state(people, "closed")
    actions = list(AuditEntry.objects.filter(
        object_type="deviations.deviation", object_id=str(d.pk)
    ).order_by("seq").values_list("action", flat=True))
    assert actions == [
        "deviations.deviation.create", "deviations.deviation.submit",
        "deviations.deviation.triage", "deviations.deviation.update",
        "deviations.deviation.complete_investigation", "deviations.deviation.approve",
        "deviations.deviation.close",
    ]
    sigs = Signature.objects.filter(record_type="deviations.deviation", record_id=str(d.pk))
    assert [(s.meaning, s.action, s.signer_id) for s in sigs.order_by("id")] == [
        ("Approved", "deviations.deviation.approve", people["qa_manager"].pk),
        ("Closed", "deviations.deviation.close", people["qa_manager"].pk),
    ]
    assert d.closed_at is not None
    assert d.number.startswith("DEV-")


def test_originator_and_owner_never_approve_p11_11(people: dict[str, Any]) -> None:
    manager = people["qa_manager"]
    own = deviation_in_state(people, "qa_review", owner=manager)
    with pytest.raises(SegregationOfDuties) as barred:
        FLOW.run(own, "approve", actor=manager, signature=signature(manager))
    assert barred.value.text == "You are the owner of this record: someone else must take the step “Approve”."
    refusals = {t.action: why for t, why in FLOW.available(own, manager)}
    assert refusals["approve"] == barred.value.text
    assert Signature.objects.count() == 0


def test_originator_is_barred_from_approval_p11_11(people: dict[str, Any], site: Any) -> None:
    manager, author = people["qa_manager"], people["author"]
    d = services.deviation_create(actor=manager, site=site, owner=author,
                                  classification="minor", title="Label mix-up",
                                  description="Wrong labels", event_at=_recent())
    FLOW.run(d, "submit", actor=manager)
    FLOW.run(d, "triage", actor=people["qa_approver"])
    services.deviation_update(d, actor=author, changes=_investigation(), reason="findings")
    FLOW.run(d, "complete_investigation", actor=author)
    with pytest.raises(SegregationOfDuties) as barred:
        FLOW.run(d, "approve", actor=manager, signature=signature(manager))
    assert barred.value.text == (
        "You are the originator of this record: someone else must take the step “Approve”."
    )


def test_a_qa_manager_never_triages_what_she_raised_p11_11(
        people: dict[str, Any], site: Any) -> None:
    manager, author = people["qa_manager"], people["author"]
    d = services.deviation_create(actor=manager, site=site, owner=author,
                                  classification="minor", title="Label mix-up",
                                  description="Wrong labels", event_at=_recent())
    FLOW.run(d, "submit", actor=manager)
    with pytest.raises(SegregationOfDuties) as barred:
        FLOW.run(d, "triage", actor=manager)
    assert barred.value.text == (
        "You are the originator of this record: someone else must take the step “Triage: start investigation”.")


def test_the_originator_never_closes(people: dict[str, Any]) -> None:
    manager = people["qa_manager"]
    d = deviation_in_state(people, "approved")
    Deviation.objects.filter(pk=d.pk).update(originator=manager)
    d.refresh_from_db()
    with pytest.raises(SegregationOfDuties):
        FLOW.run(d, "close", actor=manager, signature=signature(manager))


def test_owner_never_closes(people: dict[str, Any]) -> None:
    manager = people["qa_manager"]
    d = deviation_in_state(people, "approved")
    Deviation.objects.filter(pk=d.pk).update(owner=manager)
    d.refresh_from_db()
    with pytest.raises(SegregationOfDuties):
        FLOW.run(d, "close", actor=manager, signature=signature(manager))


def test_roles_without_the_right_are_refused(people: dict[str, Any]) -> None:
    d = deviation_in_state(people, "open")
    with pytest.raises(AccessDenied):
        FLOW.run(d, "triage", actor=people["author"])
    with pytest.raises(AccessDenied):
        FLOW.run(d, "triage", actor=people["auditor"])
    q = deviation_in_state(people, "qa_review")
    with pytest.raises(AccessDenied):  # QA reviewers approve but do not close or cancel
        FLOW.run(deviation_in_state(people, "draft"), "cancel",
                                  actor=people["qa_approver"], reason="x")
    with pytest.raises(AccessDenied):
        FLOW.run(q, "approve", actor=people["it_security"],
                                   signature=signature(people["it_security"]))


def test_submit_needs_description_and_event_time(people: dict[str, Any]) -> None:
    d = deviation_in_state(people, "draft", description="", event_at=None)
    with pytest.raises(GuardFailed) as refused:
        FLOW.run(d, "submit", actor=people["author"])
    assert refused.value.text == (
        "Before submitting, give a description of what happened and when it happened "
        "(event date and time)."
    )


def test_impact_marked_needs_its_assessment(people: dict[str, Any]) -> None:
    d = deviation_in_state(people, "draft", data_integrity_impact=True)
    with pytest.raises(GuardFailed) as refused:
        FLOW.run(d, "submit", actor=people["author"])
    assert refused.value.text == (
        "Describe the data-integrity impact (it is marked as having one)."
    )


def test_triage_needs_a_classification(people: dict[str, Any]) -> None:
    d = deviation_in_state(people, "open", classification="")
    with pytest.raises(GuardFailed) as refused:
        FLOW.run(d, "triage", actor=people["qa_approver"])
    assert refused.value.text == (
        "Classify the deviation (minor, major or critical) before triage."
    )
    services.deviation_update(d, actor=people["qa_approver"],
                              changes={"classification": "minor"}, reason="triage")
    assert FLOW.run(d, "triage", actor=people["qa_approver"]).state == "investigation"


def test_investigation_needs_summary_category_and_root_cause(people: dict[str, Any]) -> None:
    d = deviation_in_state(people, "investigation")
    with pytest.raises(GuardFailed) as refused:
        FLOW.run(d, "complete_investigation", actor=people["author"])
    assert refused.value.text == (
        "Fill in the investigation summary, the root-cause category and the root cause before "
        "completing the investigation."
    )


def test_cyber_root_cause_needs_cyber_flag_and_security_reference_cyb(
    people: dict[str, Any]
) -> None:
    author = people["author"]
    d = deviation_in_state(people, "investigation")
    services.deviation_update(d, actor=author, reason="findings", changes={
        **_investigation(), "root_cause_category": "cybersecurity"})
    with pytest.raises(GuardFailed) as refused:
        FLOW.run(d, "complete_investigation", actor=author)
    assert refused.value.text == (
        "A cybersecurity root cause makes the deviation cyber-related: mark it so."
    )
    services.deviation_update(d, actor=author, changes={"cyber_related": True}, reason="cyber")
    with pytest.raises(GuardFailed) as refused:
        FLOW.run(d, "complete_investigation", actor=author)
    assert refused.value.text == (
        "A cyber-related deviation names the security alert or incident it is linked to "
        "(security reference)."
    )
    security_alert(d.site, number="ALERT-2026-0042")  # QA may see alerts; an author may not
    services.deviation_update(d, actor=people["qa_manager"],
                              changes={"security_reference": "alert-2026-0042"}, reason="alert")
    assert FLOW.run(d, "complete_investigation", actor=author).state == "qa_review"
    assert d.security_reference == "ALERT-2026-0042"


def test_critical_deviation_is_approved_by_a_qa_manager(people: dict[str, Any]) -> None:
    reviewer = people["qa_approver"]
    d = deviation_in_state(people, "qa_review", classification="critical")
    with pytest.raises(GuardFailed) as refused:
        FLOW.run(d, "approve", actor=reviewer, signature=signature(reviewer))
    assert refused.value.text == "A critical deviation is approved by a QA manager."
    minor = deviation_in_state(people, "qa_review", classification="minor")
    approved = FLOW.run(minor, "approve", actor=reviewer, signature=signature(reviewer))
    assert approved.state == "approved"
    manager = people["qa_manager"]
    done = FLOW.run(d, "approve", actor=manager, signature=signature(manager))
    assert done.state == "approved"


def test_return_needs_a_reason(people: dict[str, Any]) -> None:
    d = deviation_in_state(people, "qa_review")
    with pytest.raises(GuardFailed) as refused:
        FLOW.run(d, "return", actor=people["qa_approver"], reason=" ")
    assert refused.value.field == "reason"
    back = FLOW.run(d, "return", actor=people["qa_approver"], reason="Root cause thin")
    assert back.state == "investigation"


def test_close_requires_a_spawned_capa_when_one_is_required(people: dict[str, Any]) -> None:
    manager = people["qa_manager"]
    d = deviation_in_state(people, "approved", capa_required=True)
    with pytest.raises(GuardFailed) as refused:
        FLOW.run(d, "close", actor=manager, signature=signature(manager))
    assert refused.value.text == (
        "A CAPA is required: spawn (or link as spawned) a CAPA before closing."
    )
    d.refresh_from_db()
    assert (d.state, d.closed_at) == ("approved", None)


def test_approval_signature_is_superseded_by_a_later_content_edit_p11_20(
    people: dict[str, Any]
) -> None:
    d = deviation_in_state(people, "approved")
    sig = Signature.objects.get(record_type="deviations.deviation", record_id=str(d.pk))
    assert manifestation(sig, current_hash=FLOW.content_hash(d))["superseded"] is False
    services.deviation_update(d, actor=people["qa_manager"],
                              changes={"qa_comments": "Checked trend data."},
                              reason="QA note after approval")
    d.refresh_from_db()
    assert manifestation(sig, current_hash=FLOW.content_hash(d))["superseded"] is True


def test_signed_steps_need_a_valid_signature(people: dict[str, Any]) -> None:
    from cyberqms.platform.kit.signatures import SignatureRequest, SigningError

    manager = people["qa_manager"]
    d = deviation_in_state(people, "qa_review")
    with pytest.raises(SigningError):
        FLOW.run(d, "approve", actor=manager, signature=None)
    with pytest.raises(SigningError):
        FLOW.run(d, "approve", actor=manager, signature=SignatureRequest(
            password="wrong password!", otp="000000"))
    d.refresh_from_db()
    assert d.state == "qa_review"
    assert Signature.objects.filter(record_id=str(d.pk),
                                    record_type="deviations.deviation").count() == 0


def test_mermaid_diagram() -> None:
    text = mermaid(FLOW)
    assert ("    qa_review --> approved: approve [deviations.approve] "
            "(signed: Approved; not by originator, owner)") in text
    assert text.count("-->") == 8


def test_cancel_needs_a_reason_and_records_it(people: dict[str, Any]) -> None:
    d = deviation_in_state(people, "open")
    with pytest.raises(ValidationError):
        FLOW.run(d, "cancel", actor=people["qa_manager"], reason="")
    FLOW.run(d, "cancel", actor=people["qa_manager"], reason="Duplicate of DEV-1")
    entry = AuditEntry.objects.filter(object_type="deviations.deviation",
                                      object_id=str(d.pk)).order_by("-seq").first()
    assert entry is not None
    assert (entry.action, entry.reason) == ("deviations.deviation.cancel", "Duplicate of DEV-1")


def _recent() -> Any:
    import datetime as dt

    from django.utils import timezone

    return timezone.now() - dt.timedelta(hours=1)


def _investigation() -> dict[str, str]:
    from .factories import INVESTIGATION

    return dict(INVESTIGATION)
