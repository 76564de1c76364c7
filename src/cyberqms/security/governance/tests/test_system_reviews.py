"""Access reviews per computerized system (issue 17, item 3): the system's accounts from its
user list, each reviewed by the system owner with the evidence of its sign-ins and person;
a signed revocation asks the owner to remove the account, the next user list shows it
done, and an account still listed after the grace period is a high finding."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from cyberqms.assets.systems.models import System
from cyberqms.platform.accounts.models import User
from cyberqms.platform.kit.record_services import record_create
from cyberqms.platform.kit.records import kind_by_slug
from cyberqms.platform.kit.tests.kit import ready_to_sign, record_in_state, signature
from cyberqms.platform.notifications.models import Notification
from cyberqms.quality.deviations.tests.factories import a_site
from cyberqms.security.access.models import SystemAccount
from cyberqms.security.access.system_accounts import accounts_import
from cyberqms.security.findings.models import AccessFinding
from cyberqms.security.findings.scan import drift_scan
from cyberqms.security.governance.campaigns import item_decide, launch_scheduled, review_attest
from cyberqms.security.governance.models import AccessReview, ReviewItem
from cyberqms.security.governance.system_review import removal_tasks
from cyberqms.security.governance.workflow import REVIEW_WORKFLOW

pytestmark = pytest.mark.django_db
HEADER = "account,privilege,person,privileged,last_login\n"
LIST = (HEADER + "author,Analyst,,no,{recent}\n"
        "qa_approver,Reviewer,,no,2025-01-10\n"
        "shared_lab,Operator,,no,{recent}\n"
        "system_owner,Administrator,,yes,{recent}\n")


@pytest.fixture
def lims(personas: dict[str, Any]) -> System:
    for person in personas.values():
        if person.username not in ("outsider", "admin"):
            ready_to_sign(person, personas["admin"])
    system = record_in_state(kind_by_slug("systems"), "planned", personas, site=a_site("BSL"),
                             owner=personas["system_owner"], title="LabWare LIMS")
    system.qa_contact = personas["qa_manager"]
    system.security_contact = personas["it_security"]
    system.save(update_fields=["qa_contact", "security_contact"])
    recent = (timezone.now() - dt.timedelta(days=2)).date().isoformat()
    accounts_import(system, LIST.format(recent=recent), actor=personas["system_owner"],
                    reason="Export", apply=True)
    SystemAccount.objects.update(first_listed_at=timezone.now() - dt.timedelta(days=400))
    assert isinstance(system, System)
    return system


def launch(system: System, personas: dict[str, Any]) -> AccessReview:
    qa = personas["qa_manager"]
    review = record_create(kind_by_slug("access-reviews"), actor=qa, site=system.site,
                           values={"title": "LIMS accounts Q4", "review_kind": "ad_hoc",
                                   "system": system})
    launched = REVIEW_WORKFLOW.run(review, "launch", actor=qa)
    assert isinstance(launched, AccessReview)
    return launched


def item(review: AccessReview, account: str) -> ReviewItem:
    return ReviewItem.objects.select_related("account").get(review=review,
                                                           account__account=account)


def test_launching_lists_every_account_in_force(lims: System,
                                                personas: dict[str, Any]) -> None:
    review = launch(lims, personas)
    assert sorted(ReviewItem.objects.filter(review=review).values_list(
        "account__account", flat=True)) == ["author", "qa_approver", "shared_lab",
                                            "system_owner"]


def test_the_system_owner_reviews_the_accounts(lims: System,
                                               personas: dict[str, Any]) -> None:
    review = launch(lims, personas)
    assert item(review, "author").reviewer == personas["system_owner"]


def test_the_owners_own_account_goes_to_the_qa_contact(lims: System,
                                                        personas: dict[str, Any]) -> None:
    review = launch(lims, personas)
    assert item(review, "system_owner").reviewer == personas["qa_manager"]


def test_an_account_used_lately_is_suggested_to_keep(lims: System,
                                                     personas: dict[str, Any]) -> None:
    found = item(launch(lims, personas), "author")
    assert (found.suggestion, found.suggestion_reason.startswith("In use: last sign-in ")) == (
        "keep", True)


def test_an_account_unused_for_the_period_is_suggested_for_revocation(
        lims: System, personas: dict[str, Any]) -> None:
    found = item(launch(lims, personas), "qa_approver")
    assert (found.suggestion, found.suggestion_reason) == (
        "revoke", "No sign-in for 180 days (last 2025-01-10)")


def test_a_shared_account_is_suggested_for_revocation(lims: System,
                                                      personas: dict[str, Any]) -> None:
    found = item(launch(lims, personas), "shared_lab")
    assert (found.person, found.suggestion, found.suggestion_reason) == (
        None, "revoke", "No person in cyberqms answers for it (a shared or unknown account)")


def test_the_account_of_a_deactivated_person_is_suggested_for_revocation(
        lims: System, personas: dict[str, Any]) -> None:
    User.objects.filter(pk=personas["author"].pk).update(is_active=False)
    found = item(launch(lims, personas), "author")
    assert (found.suggestion, found.suggestion_reason) == (
        "revoke", f"{personas['author'].printed_name}'s account in cyberqms is deactivated")


def test_an_account_cannot_be_changed_to_a_role(lims: System,
                                                personas: dict[str, Any]) -> None:
    found = item(launch(lims, personas), "author")
    with pytest.raises(ValidationError) as caught:
        item_decide(found, actor=personas["system_owner"], decision="change", reason="x",
                    new_role="author")
    assert caught.value.message_dict == {"decision": [
        "An account in a system is kept or revoked: its privilege there changes in the "
        "system."]}


def test_the_owner_cannot_decide_their_own_account(lims: System,
                                                   personas: dict[str, Any]) -> None:
    found = item(launch(lims, personas), "system_owner")
    with pytest.raises(PermissionDenied):
        item_decide(found, actor=personas["system_owner"], decision="keep", reason="mine")


def sign_owner(review: AccessReview, personas: dict[str, Any]) -> Any:
    owner = personas["system_owner"]
    for found in ReviewItem.objects.filter(review=review, reviewer=owner):
        decision = "keep" if found.account.account == "author" else "revoke"
        item_decide(found, actor=owner, decision=decision, reason="Checked with the lab lead")
    return review_attest(review, actor=owner, signature=signature(owner))


def test_a_signed_revocation_asks_for_the_accounts_removal(
        lims: System, personas: dict[str, Any]) -> None:
    review = launch(lims, personas)
    attestation = sign_owner(review, personas)
    shared = SystemAccount.objects.get(account="shared_lab")
    assert (attestation.revoked, shared.removal_ref, shared.removal_asked_at is not None,
            shared.removed_at) == (2, review.number, True, None)


def test_the_owner_and_security_contact_are_told_to_remove_it(
        lims: System, personas: dict[str, Any]) -> None:
    sign_owner(launch(lims, personas), personas)
    told = set(Notification.objects.filter(
        subject__contains="remove the account shared_lab").values_list(
        "recipient__username", flat=True))
    assert told == {"system_owner", "it_security"}


def test_the_removal_waits_on_the_owners_home_page_until_the_list_shows_it_gone(
        lims: System, personas: dict[str, Any]) -> None:
    sign_owner(launch(lims, personas), personas)
    before = [t.detail for t in removal_tasks(personas["it_security"])]
    recent = timezone.now().date().isoformat()
    accounts_import(lims, HEADER + f"author,Analyst,,no,{recent}\n"
                                   f"system_owner,Administrator,,yes,{recent}\n",
                    actor=personas["system_owner"], reason="After the removals", apply=True)
    assert (len(before), removal_tasks(personas["it_security"])) == (2, [])


def test_an_account_still_listed_after_the_grace_period_is_a_high_finding(
        lims: System, personas: dict[str, Any]) -> None:
    review = launch(lims, personas)
    sign_owner(review, personas)
    SystemAccount.objects.filter(account="qa_approver").update(
        removal_asked_at=timezone.now() - dt.timedelta(days=6))
    drift_scan()
    finding = AccessFinding.objects.get(kind="account_kept")
    assert (finding.severity, finding.subject, finding.title) == (
        "high", personas["qa_approver"],
        f"qa_approver in LabWare LIMS: revoked in {review.number}, still in the system")


def test_a_shared_account_is_a_finding_without_a_person(lims: System,
                                                        personas: dict[str, Any]) -> None:
    drift_scan()
    finding = AccessFinding.objects.get(kind="account_orphan")
    assert (finding.severity, finding.subject, finding.title) == (
        "medium", None, "shared_lab in LabWare LIMS: no person in cyberqms answers for it")


def test_the_scheduler_launches_a_review_of_each_system_with_accounts(
        lims: System, personas: dict[str, Any]) -> None:
    launched = launch_scheduled()
    mine = [r for r in launched if r.system_id == lims.pk]
    assert ([(r.state, r.review_kind) for r in mine],
            ReviewItem.objects.filter(review__in=mine).count()) == ([("open", "scheduled")], 4)


def test_a_system_of_another_site_is_refused_naming_the_field(
        lims: System, personas: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as caught:
        record_create(kind_by_slug("access-reviews"), actor=personas["qa_manager"],
                      site=a_site("DUB"), values={"title": "Wrong site",
                                                  "review_kind": "ad_hoc", "system": lims})
    assert caught.value.message_dict == {"system": [f"{lims.number} is at BSL: choose that "
                                                    "site."]}


def test_the_reviewers_page_shows_each_accounts_evidence(
        lims: System, personas: dict[str, Any], login: Any) -> None:
    review = launch(lims, personas)
    body = login(personas["system_owner"]).get(
        reverse("governance:decide", args=[review.pk])).content.decode()
    assert (body.count('data-testid="review-item"'), body.count('data-testid="account-evidence"'),
            'name="new_role"' in body) == (3, 3, False)


def test_the_campaign_pdf_names_each_account(lims: System, personas: dict[str, Any]) -> None:
    review = launch(lims, personas)
    sign_owner(review, personas)
    sections = review.document_sections()
    rows = {r[1]: r[3] for r in sections[0].rows}
    assert rows == {"author: Analyst in LabWare LIMS": "Keep",
                    "qa_approver: Reviewer in LabWare LIMS": "Revoke",
                    "shared_lab: Operator in LabWare LIMS": "Revoke",
                    "system_owner: Administrator in LabWare LIMS": "undecided"}


def test_the_reviewers_page_reads_the_same_queries_for_few_accounts_and_many(
        lims: System, personas: dict[str, Any], login: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(personas["system_owner"])
    few = launch(lims, personas)
    url = reverse("governance:decide", args=[few.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    recent = timezone.now().date().isoformat()
    accounts_import(lims, LIST.format(recent=recent) + "".join(
        f"shared{n},Operator,,no,{recent}\n" for n in range(6)),
        actor=personas["system_owner"], reason="More", apply=True)
    many = launch(lims, personas)
    url = reverse("governance:decide", args=[many.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as more:
        client.get(url)
    assert (ReviewItem.objects.filter(review=many, reviewer=personas["system_owner"]).count(),
            len(more)) == (9, len(one))
