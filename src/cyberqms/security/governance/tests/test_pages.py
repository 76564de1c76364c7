"""Access governance over HTTP (issue 17, items 3 and 6): the reviewer's page decides and
signs, the overview and a person's access show what the scans and the log hold, and the
API under /api/v1/access/ does what the pages do."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from cyberqms.conftest import PASSWORD
from cyberqms.platform.accounts.models import RoleAssignment, User
from cyberqms.platform.accounts.services import role_grant
from cyberqms.platform.accounts.tests.factories import SiteFactory
from cyberqms.platform.core.models import AccessDecision
from cyberqms.platform.kit.record_services import record_create
from cyberqms.platform.kit.records import kind_by_slug
from cyberqms.platform.kit.tests.kit import ready_to_sign
from cyberqms.security.access.usage import usage_fold
from cyberqms.security.governance.models import ReviewItem
from cyberqms.security.governance.workflow import REVIEW_WORKFLOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(personas: dict[str, Any]) -> dict[str, Any]:
    boss = personas["process_owner"]
    site = SiteFactory.create(code="BSL")
    User.objects.filter(pk__in=[p.pk for p in personas.values()]).update(manager=boss,
                                                                          site=site)
    User.objects.filter(pk=boss.pk).update(manager=personas["qa_manager"])
    RoleAssignment.objects.update(valid_from=timezone.now() - dt.timedelta(days=400))
    for name, person in personas.items():
        person.refresh_from_db()
        if name not in ("admin", "outsider"):
            ready_to_sign(person, personas["admin"])
    return personas


def review_of(people: dict[str, Any], person: Any) -> Any:
    qa = people["qa_manager"]
    review = record_create(kind_by_slug("access-reviews"), actor=qa, site=person.site,
                           values={"title": "Review of one", "person": person})
    return REVIEW_WORKFLOW.run(review, "launch", actor=qa)


def test_the_reviewer_decides_and_signs_on_their_page(people: dict[str, Any],
                                                      login: Any) -> None:
    review = review_of(people, people["qa_approver"])
    item = ReviewItem.objects.get(review=review)
    client = login(people["process_owner"])
    url = reverse("governance:decide", args=[review.pk])
    decided = client.post(url, {"item": item.pk, "decision": "revoke",
                                "reason": "Never approves"})
    signed = client.post(reverse("governance:attest", args=[review.pk]),
                         {"password": PASSWORD})
    item.refresh_from_db()
    assert (decided.status_code, signed.status_code, item.decision,
            item.attestation is not None, item.applied_at is not None) == (
        302, 302, "revoke", True, True)


def test_a_wrong_password_signs_nothing_and_says_why(people: dict[str, Any],
                                                     login: Any) -> None:
    review = review_of(people, people["qa_approver"])
    item = ReviewItem.objects.get(review=review)
    client = login(people["process_owner"])
    client.post(reverse("governance:decide", args=[review.pk]),
                {"item": item.pk, "decision": "keep", "reason": "Weekly approvals"})
    answer = client.post(reverse("governance:attest", args=[review.pk]),
                         {"password": "not-the-password"})
    item.refresh_from_db()
    assert (answer.status_code, item.attestation_id,
            "wrong password" in answer.content.decode()) == (422, None, True)


def test_someone_not_named_reviewer_does_not_see_the_page(people: dict[str, Any],
                                                          login: Any) -> None:
    review = review_of(people, people["qa_approver"])
    answer = login(people["author"]).get(reverse("governance:decide", args=[review.pk]))
    assert answer.status_code == 404


def test_the_overview_shows_the_figures_and_the_matrix(people: dict[str, Any],
                                                       login: Any) -> None:
    role_grant(people["author"], "qa_manager", actor=people["admin"], reason="Cover")
    from cyberqms.security.findings.scan import drift_scan

    drift_scan(people=[people["author"].pk], kinds=["sod_conflict"])
    page = login(people["it_security"]).get(reverse("governance:overview"))
    text = page.content.decode()
    assert (page.status_code, 'data-testid="kpi-sod">1<' in text,
            "Authoring and approving the same families at one site" in text) == (
        200, True, True)


def test_a_persons_page_shows_each_right_with_its_last_use(people: dict[str, Any],
                                                           login: Any) -> None:
    person = people["qa_approver"]
    AccessDecision.objects.create(
        created_at=timezone.now() - dt.timedelta(days=3), actor_id=person.pk,
        actor_username=person.username, action="deviations.approve", allowed=True,
        reason="granted", channel="web")
    usage_fold(lag=0)
    page = login(people["qa_manager"]).get(reverse("governance:person", args=[person.pk]))
    day = timezone.localtime(timezone.now() - dt.timedelta(days=3)).strftime("%Y-%m-%d")
    assert (page.status_code, f"deviations.approve</span></td>\n    <td class=\"nowrap\">{day}"
            in page.content.decode()) == (200, True)


def test_the_api_decides_and_signs_for_the_reviewer(people: dict[str, Any],
                                                    login: Any) -> None:
    review = review_of(people, people["qa_approver"])
    item = ReviewItem.objects.get(review=review)
    client = login(people["process_owner"])
    decided = client.post(
        reverse("api:access_review_decide", args=[review.pk, item.pk]),
        {"decision": "change", "reason": "Authoring only", "new_role": "author"},
        content_type="application/json")
    signed = client.post(reverse("api:access_review_attest", args=[review.pk]),
                         {"password": PASSWORD}, content_type="application/json")
    held = set(RoleAssignment.objects.held_on(timezone.now()).filter(
        user=people["qa_approver"]).values_list("role", flat=True))
    assert (decided.status_code, decided.json()["decision"], signed.status_code,
            signed.json()["revoked"], held) == (200, "change", 200, 1, {"author"})


def test_the_api_refuses_a_decision_without_a_reason_naming_the_field(
        people: dict[str, Any], login: Any) -> None:
    review = review_of(people, people["qa_approver"])
    item = ReviewItem.objects.get(review=review)
    answer = login(people["process_owner"]).post(
        reverse("api:access_review_decide", args=[review.pk, item.pk]),
        {"decision": "keep", "reason": ""}, content_type="application/json")
    assert (answer.status_code, answer["Content-Type"], answer.json()["errors"]) == (
        422, "application/problem+json", [{"field": "reason", "message": "Say why."}])


def test_the_api_hides_a_campaign_from_someone_with_nothing_in_it(
        people: dict[str, Any], login: Any) -> None:
    review = review_of(people, people["qa_approver"])
    answer = login(people["author"]).get(reverse("api:access_review_items",
                                                 args=[review.pk]))
    assert answer.status_code == 404


def test_a_persons_usage_over_the_api(people: dict[str, Any], login: Any) -> None:
    answer = login(people["auditor"]).get(reverse("api:access_person_usage",
                                                  args=["qa_approver"]))
    body = answer.json()
    [role] = body["roles"]
    approve = next(r for r in role["rights"] if r["action"] == "deviations.approve")
    assert (answer.status_code, role["role"], approve["criticality"], approve["uses"],
            approve["last_used"]) == (200, "qa_reviewer", "high", 0, None)
