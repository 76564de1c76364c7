"""Access-review campaigns (issue 17, item 3; A11D-01): who reviews what with which
evidence and suggestion, decisions with reasons, one signed attestation per reviewer that
applies the revocations at once, and the campaign closed once every reviewer has signed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cyberqms.platform.accounts.models import RoleAssignment, User
from cyberqms.platform.core.access import can
from cyberqms.platform.kit.record_services import record_create
from cyberqms.platform.kit.records import kind_by_slug
from cyberqms.platform.kit.tests.kit import ready_to_sign, signature
from cyberqms.platform.kit.workflow import GuardFailed
from cyberqms.security.access.models import RightUse
from cyberqms.security.governance.campaigns import item_decide, review_attest
from cyberqms.security.governance.models import ReviewItem
from cyberqms.security.governance.workflow import REVIEW_WORKFLOW

pytestmark = pytest.mark.django_db
LONG_AGO = timezone.now() - dt.timedelta(days=400)


@pytest.fixture
def people(personas: dict[str, Any]) -> dict[str, Any]:
    """Everyone reports to the process owner, who reports to the QA manager; roles held
    for 400 days; the QA reviewer approved deviations last month, nobody else decided
    anything."""
    boss, qa = personas["process_owner"], personas["qa_manager"]
    User.objects.filter(pk__in=[p.pk for p in personas.values()]).update(
        manager=boss, site=_site(personas))
    User.objects.filter(pk=boss.pk).update(manager=qa)
    RoleAssignment.objects.update(valid_from=LONG_AGO)
    for name, person in personas.items():
        person.refresh_from_db()
        if name not in ("admin", "outsider"):
            ready_to_sign(person, personas["admin"])
    return personas


def campaign(people: dict[str, Any], *, person: Any = None) -> Any:
    qa = people["qa_manager"]
    review = record_create(kind_by_slug("access-reviews"), actor=qa, site=_site(people),
                           values={"title": "Q4 access review",
                                   "review_kind": "ad_hoc",
                                   **({"person": person} if person else {})})
    return REVIEW_WORKFLOW.run(review, "launch", actor=qa)


def _site(people: dict[str, Any]) -> Any:
    from cyberqms.platform.accounts.tests.factories import SiteFactory

    return SiteFactory.create(code="BSL")


def item_of(review: Any, username: str, role: str) -> ReviewItem:
    return ReviewItem.objects.get(review=review, person__username=username, role=role)


def test_launching_lists_each_role_in_force_with_its_reviewer(people: dict[str, Any]) -> None:
    review = campaign(people, person=people["qa_approver"])
    item = item_of(review, "qa_approver", "qa_reviewer")
    assert (ReviewItem.objects.filter(review=review).count(), item.reviewer_id,
            review.state) == (1, people["process_owner"].pk, "open")


def test_unused_deciding_rights_are_suggested_for_a_lesser_role(
        people: dict[str, Any]) -> None:
    review = campaign(people, person=people["qa_approver"])
    item = item_of(review, "qa_approver", "qa_reviewer")
    assert (item.suggestion, item.suggestion_reason.endswith("Author / originator would do"),
            item.evidence["lesser_role"]) == ("change", True, "author")


def test_used_rights_are_suggested_to_keep(people: dict[str, Any]) -> None:
    RightUse.objects.create(user_id=people["qa_approver"].pk, action="deviations.approve",
                            site_id=0, month=timezone.localdate().replace(day=1), uses=4,
                            last_used_at=timezone.now() - dt.timedelta(days=3))
    review = campaign(people, person=people["qa_approver"])
    item = item_of(review, "qa_approver", "qa_reviewer")
    used = next(r for r in item.evidence["rights"] if r["action"] == "deviations.approve")
    assert (item.suggestion, used["uses"]) == ("keep", 4)


def test_someone_nobody_can_review_stops_the_launch(people: dict[str, Any]) -> None:
    User.objects.filter(pk=people["qa_manager"].pk).update(manager=None)
    qa = people["qa_manager"]
    review = record_create(kind_by_slug("access-reviews"), actor=qa, site=_site(people),
                           values={"title": "Own access", "person": qa})
    with pytest.raises(GuardFailed) as refused:
        REVIEW_WORKFLOW.run(review, "launch", actor=qa)
    assert refused.value.messages == [
        "Nobody can review qa_manager: name their manager first (nobody reviews their own "
        "access)."]


def test_only_the_named_reviewer_decides(people: dict[str, Any]) -> None:
    review = campaign(people, person=people["qa_approver"])
    item = item_of(review, "qa_approver", "qa_reviewer")
    with pytest.raises(PermissionDenied) as refused:
        item_decide(item, actor=people["qa_manager"], decision="keep", reason="Fine")
    assert str(refused.value) == "Only the reviewer named for this person decides."


def test_a_decision_needs_a_reason(people: dict[str, Any]) -> None:
    item = item_of(campaign(people, person=people["qa_approver"]), "qa_approver",
                   "qa_reviewer")
    with pytest.raises(ValidationError) as refused:
        item_decide(item, actor=people["process_owner"], decision="revoke", reason=" ")
    assert refused.value.message_dict == {"reason": ["Say why."]}


def test_a_change_names_another_role(people: dict[str, Any]) -> None:
    item = item_of(campaign(people, person=people["qa_approver"]), "qa_approver",
                   "qa_reviewer")
    with pytest.raises(ValidationError) as refused:
        item_decide(item, actor=people["process_owner"], decision="change", reason="Less",
                    new_role="qa_reviewer")
    assert refused.value.message_dict == {"new_role": [
        "Choose another role than the one held."]}


def test_signing_with_a_decision_missing_is_refused(people: dict[str, Any]) -> None:
    review = campaign(people)
    reviewer = people["process_owner"]
    with pytest.raises(ValidationError) as refused:
        review_attest(review, actor=reviewer, signature=signature(reviewer))
    assert refused.value.messages[0].startswith("Decide every item first:")


def test_a_signed_revocation_refuses_the_persons_next_request_at_once(
        people: dict[str, Any]) -> None:
    person, reviewer = people["qa_approver"], people["process_owner"]
    review = campaign(people, person=person)
    item = item_of(review, "qa_approver", "qa_reviewer")
    assert can(person, "deviations.approve")
    item_decide(item, actor=reviewer, decision="revoke", reason="Never approves")
    review_attest(review, actor=reviewer, signature=signature(reviewer))
    person = User.objects.get(pk=person.pk)  # the next request reads the person afresh
    assignment = RoleAssignment.objects.get(pk=item.assignment_id)
    assert (can(person, "deviations.approve"), assignment.revoked_by_id,
            assignment.revoke_reason) == (
        False, reviewer.pk, f"Access review {review.number}: Never approves")


def test_a_signed_change_grants_the_lesser_role_citing_the_campaign(
        people: dict[str, Any]) -> None:
    person, reviewer = people["qa_approver"], people["process_owner"]
    review = campaign(people, person=person)
    item = item_of(review, "qa_approver", "qa_reviewer")
    item_decide(item, actor=reviewer, decision="change", reason="Authors only",
                new_role="author")
    review_attest(review, actor=reviewer, signature=signature(reviewer))
    held = {(a.role, a.approval_ref) for a in
            RoleAssignment.objects.held_on(timezone.now()).filter(user=person)}
    assert held == {("author", review.number)}


def test_the_attestation_signature_binds_the_decisions(people: dict[str, Any]) -> None:
    from cyberqms.security.governance.campaigns import attestation_hash

    person, reviewer = people["qa_approver"], people["process_owner"]
    review = campaign(people, person=person)
    item = item_of(review, "qa_approver", "qa_reviewer")
    item_decide(item, actor=reviewer, decision="keep", reason="Approves weekly")
    attestation = review_attest(review, actor=reviewer, signature=signature(reviewer))
    signed = attestation.signature
    assert signed is not None
    assert (signed.meaning, signed.record_type, signed.record_hash, signed.signer_id) == (
        "Access reviewed", "governance.attestation",
        attestation_hash(review, [ReviewItem.objects.get(pk=item.pk)]), reviewer.pk)


def test_a_signed_decision_cannot_change(people: dict[str, Any]) -> None:
    person, reviewer = people["qa_approver"], people["process_owner"]
    review = campaign(people, person=person)
    item = item_of(review, "qa_approver", "qa_reviewer")
    item_decide(item, actor=reviewer, decision="keep", reason="Approves weekly")
    review_attest(review, actor=reviewer, signature=signature(reviewer))
    with pytest.raises(ValidationError) as refused:
        item_decide(ReviewItem.objects.get(pk=item.pk), actor=reviewer, decision="revoke",
                    reason="Second thoughts")
    assert refused.value.messages == ["This decision is signed: it cannot change."]


def test_the_campaign_closes_once_every_reviewer_has_signed(people: dict[str, Any]) -> None:
    person, reviewer, qa = people["qa_approver"], people["process_owner"], people["qa_manager"]
    review = campaign(people, person=person)
    with pytest.raises(GuardFailed) as early:
        REVIEW_WORKFLOW.run(review, "close", actor=qa, signature=signature(qa))
    item_decide(item_of(review, "qa_approver", "qa_reviewer"), actor=reviewer,
                decision="keep", reason="Approves weekly")
    review_attest(review, actor=reviewer, signature=signature(reviewer))
    closed = REVIEW_WORKFLOW.run(review, "close", actor=qa, signature=signature(qa))
    assert (early.value.messages, closed.state) == (
        ["Waiting for the attestation of process_owner."], "closed")


def test_nothing_is_decided_after_the_campaign_closed(people: dict[str, Any]) -> None:
    person, reviewer = people["qa_approver"], people["process_owner"]
    review = campaign(people, person=person)
    item = item_of(review, "qa_approver", "qa_reviewer")
    REVIEW_WORKFLOW.run(review, "cancel", actor=people["qa_manager"], reason="Wrong scope")
    with pytest.raises(ValidationError) as refused:
        item_decide(ReviewItem.objects.select_related("review").get(pk=item.pk),
                    actor=reviewer, decision="keep", reason="Fine")
    assert refused.value.messages == ["The campaign is not open for decisions."]


def test_the_campaign_copy_lists_every_decision_with_its_signature(
        people: dict[str, Any]) -> None:
    person, reviewer = people["qa_approver"], people["process_owner"]
    review = campaign(people, person=person)
    item_decide(item_of(review, "qa_approver", "qa_reviewer"), actor=reviewer,
                decision="revoke", reason="Never approves")
    attestation = review_attest(review, actor=reviewer, signature=signature(reviewer))
    decisions = review.document_sections()[0]
    local = timezone.localtime(attestation.signature.signed_at)  # type: ignore[union-attr]
    assert decisions.rows == [[
        "Qa Approver", "QA reviewer at every site", "Change to another role", "Revoke",
        "Never approves", "Process Owner",
        f"Access reviewed by Process Owner on {local:%Y-%m-%d %H:%M:%S %Z}"]]


def test_the_reviewer_finds_the_campaign_on_the_home_page(people: dict[str, Any]) -> None:
    from cyberqms.security.governance.pages import home_tasks

    review = campaign(people, person=people["qa_approver"])
    [task] = home_tasks(people["process_owner"])
    assert (task.title, task.detail) == (f"{review.number} Q4 access review",
                                         "Access review: 1 role to decide and sign")


def test_reviewers_of_an_overdue_campaign_are_reminded(people: dict[str, Any]) -> None:
    from cyberqms.platform.notifications.models import Notification
    from cyberqms.security.governance.campaigns import remind_reviewers

    review = campaign(people, person=people["qa_approver"])
    told = remind_reviewers(today=review.due_date + dt.timedelta(days=1))
    notice = Notification.objects.get(kind="overdue", recipient=people["process_owner"])
    assert (told, notice.subject) == (
        1, f"{review.number}: access review overdue since {review.due_date}: decide and "
           "sign")


def test_the_evidence_is_what_revoking_the_role_would_take_away(
        people: dict[str, Any]) -> None:
    from cyberqms.platform.accounts.services import role_grant

    person = people["qa_approver"]
    role_grant(person, "system_owner", actor=people["admin"], reason="LIMS deputy")
    RoleAssignment.objects.update(valid_from=LONG_AGO)
    review = campaign(people, person=person)
    item = item_of(review, "qa_approver", "system_owner")
    shown = [r["action"] for r in item.evidence["rights"]]
    assert ("capa.create" in shown, "trail.verify.run" in shown, item.suggestion,
            item.suggestion_reason) == (
        False, True, "revoke", f"None of its {len(shown)} rights used in 180 days")
