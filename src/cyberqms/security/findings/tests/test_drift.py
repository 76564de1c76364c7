"""Drift findings, continuously (issue 17, item 2; CYB-07): each detector on the state
that makes it fire and the state that does not, the scan's lifecycle (raised once, found
again, resolved by cyberqms, suppressed when accepted), high findings as security events,
and a constant number of queries whatever the number of people."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cyberqms.platform.accounts.models import RoleAssignment, User
from cyberqms.platform.accounts.services import role_grant, role_revoke, token_create
from cyberqms.platform.accounts.tests.factories import SiteFactory
from cyberqms.platform.core.models import SecurityEvent
from cyberqms.security.access.models import RightUse
from cyberqms.security.findings.drift import detect, load_world
from cyberqms.security.findings.models import AccessFinding
from cyberqms.security.findings.scan import drift_scan

pytestmark = pytest.mark.django_db
LONG_AGO = timezone.now() - dt.timedelta(days=400)
CHANGE = ""  # the approved change control the people fixture makes
SOD = ("sod_conflict",)  # the scans of the lifecycle tests look at conflicts only


@pytest.fixture
def people(personas: dict[str, Any]) -> dict[str, Any]:
    """The personas signed in recently, each with a manager and grants approved by a
    change control, so that a test sees only the drift it makes."""
    from cyberqms.platform.kit.records import kind_by_slug
    from cyberqms.platform.kit.tests.kit import record_in_state

    global CHANGE
    CHANGE = record_in_state(kind_by_slug("changes"), "approved", personas).number
    qa = personas["qa_manager"]
    User.objects.filter(pk__in=[p.pk for p in personas.values()]).update(
        last_login=timezone.now(), manager=qa)
    User.objects.filter(pk=qa.pk).update(manager=personas["it_security"])
    RoleAssignment.objects.update(approval_ref=CHANGE)
    for person in personas.values():
        person.refresh_from_db()
    return personas


def kinds_for(username: str) -> set[str]:
    world = load_world()
    person = User.objects.get(username=username)
    return {f.kind for f in detect(world).values() if f.subject_id == person.pk}


def old_grant(person: Any, role: str, *, site: Any = None) -> RoleAssignment:
    """A role held for 400 days (grants are made now; their start is moved back)."""
    assignment = RoleAssignment.objects.get(user=person, role=role, site=site,
                                            revoked_at__isnull=True)
    RoleAssignment.objects.filter(pk=assignment.pk).update(valid_from=LONG_AGO,
                                                           granted_at=LONG_AGO)
    return assignment


def test_roles_one_person_must_not_hold_together_are_a_high_finding(
        people: dict[str, Any]) -> None:
    author = people["author"]
    role_grant(author, "qa_manager", actor=people["admin"], reason="Cover",
               approval_ref=CHANGE)
    result = drift_scan(people=[author.pk], kinds=SOD)
    [finding] = result.raised
    assert (finding.kind, finding.severity, finding.subject_id, finding.fingerprint) == (
        "sod_conflict", "high", author.pk, f"sod:author-approver:{author.pk}")


def test_a_high_finding_is_a_security_event_for_monitoring(people: dict[str, Any]) -> None:
    author = people["author"]
    role_grant(author, "qa_manager", actor=people["admin"], reason="Cover",
               approval_ref=CHANGE)
    [finding] = drift_scan(people=[author.pk], kinds=SOD).raised
    event = SecurityEvent.objects.get(kind="access.finding.raised")
    assert (event.severity, event.data["finding"], event.username) == (
        "high", finding.number, "author")


def test_a_grant_scans_its_person_for_conflicts_once_it_commits(
        people: dict[str, Any], django_capture_on_commit_callbacks: Any) -> None:
    author = people["author"]
    with django_capture_on_commit_callbacks(execute=True):
        role_grant(author, "qa_manager", actor=people["admin"], reason="Cover",
                   approval_ref=CHANGE)
    assert list(AccessFinding.objects.values_list("kind", "state")) == [
        ("sod_conflict", "open")]


def test_a_conflict_ended_is_resolved_by_cyberqms(
        people: dict[str, Any], django_capture_on_commit_callbacks: Any) -> None:
    author = people["author"]
    with django_capture_on_commit_callbacks(execute=True):
        granted = role_grant(author, "qa_manager", actor=people["admin"], reason="Cover",
                             approval_ref=CHANGE)
    with django_capture_on_commit_callbacks(execute=True):
        role_revoke(granted, actor=people["admin"], reason="Cover ended")
    finding = AccessFinding.objects.get()
    assert (finding.state, finding.closed_at is not None) == ("resolved", True)


def test_a_finding_found_again_is_the_same_finding(people: dict[str, Any]) -> None:
    role_grant(people["author"], "qa_manager", actor=people["admin"], reason="Cover",
               approval_ref=CHANGE)
    first = drift_scan(people=[people["author"].pk], kinds=SOD)
    second = drift_scan(people=[people["author"].pk], kinds=SOD)
    assert (len(first.raised), len(second.raised), second.still_open,
            AccessFinding.objects.count()) == (1, 0, 1, 1)


def test_an_accepted_finding_is_not_raised_again(people: dict[str, Any]) -> None:
    from cyberqms.platform.kit.tests.kit import ready_to_sign, signature
    from cyberqms.security.findings.workflow import FINDING_WORKFLOW

    role_grant(people["author"], "qa_manager", actor=people["admin"], reason="Cover",
               approval_ref=CHANGE)
    [finding] = drift_scan(people=[people["author"].pk], kinds=SOD).raised
    accepter = ready_to_sign(people["it_security"], people["admin"])
    FINDING_WORKFLOW.run(finding, "accept", actor=accepter, reason="Site of two people",
                         signature=signature(accepter))
    again = drift_scan(people=[people["author"].pk], kinds=SOD)
    assert (again.raised, AccessFinding.objects.get().state) == ([], "accepted")


def test_a_privileged_account_without_a_second_factor(people: dict[str, Any],
                                                      make_user: Any) -> None:
    person = make_user("qa_lead", "qa_manager", mfa=False)  # signed in below
    User.objects.filter(pk=person.pk).update(last_login=timezone.now(),
                                             manager=people["it_security"])
    RoleAssignment.objects.filter(user=person).update(approval_ref=CHANGE)
    assert kinds_for("qa_lead") == {"mfa_missing"}


def test_no_sign_in_nor_use_for_the_dormancy_period_is_a_dormant_account(
        people: dict[str, Any]) -> None:
    User.objects.filter(pk=people["author"].pk).update(last_login=LONG_AGO)
    assert kinds_for("author") == {"dormant"}


def test_a_right_used_lately_keeps_an_account_from_dormancy(people: dict[str, Any]) -> None:
    User.objects.filter(pk=people["author"].pk).update(last_login=LONG_AGO)
    RightUse.objects.create(user_id=people["author"].pk, action="deviations.create",
                            site_id=0, month=timezone.localdate().replace(day=1), uses=1,
                            last_used_at=timezone.now() - dt.timedelta(days=2))
    assert kinds_for("author") == set()


def test_a_privileged_account_that_never_signed_in_enrols_first(
        people: dict[str, Any], make_user: Any) -> None:
    person = make_user("qa_new", "qa_manager", mfa=False)
    User.objects.filter(pk=person.pk).update(last_login=None, manager=people["it_security"])
    RoleAssignment.objects.filter(user=person).update(approval_ref=CHANGE)
    assert kinds_for("qa_new") == set()


def test_a_person_with_roles_and_no_manager(people: dict[str, Any]) -> None:
    User.objects.filter(pk=people["author"].pk).update(manager=None)
    assert kinds_for("author") == {"no_manager"}


def test_a_person_past_their_leaver_date_still_active(people: dict[str, Any]) -> None:
    User.objects.filter(pk=people["author"].pk).update(
        leaver_at=timezone.now() - dt.timedelta(hours=3))
    assert kinds_for("author") == {"leaver_active"}


def test_a_grant_without_an_approved_change_control(people: dict[str, Any]) -> None:
    RoleAssignment.objects.filter(user=people["author"]).update(approval_ref="")
    assert kinds_for("author") == {"grant_unapproved"}


def test_a_grant_citing_an_approved_change_control_is_approved(
        people: dict[str, Any]) -> None:
    assert (RoleAssignment.objects.get(user=people["author"]).approval_ref,
            kinds_for("author")) == (CHANGE, set())


def test_a_grant_citing_a_change_not_yet_approved_is_unapproved(
        people: dict[str, Any]) -> None:
    from cyberqms.platform.kit.records import kind_by_slug
    from cyberqms.platform.kit.tests.kit import record_in_state

    change = record_in_state(kind_by_slug("changes"), "assessment", people)
    RoleAssignment.objects.filter(user=people["author"]).update(approval_ref=change.number)
    assert kinds_for("author") == {"grant_unapproved"}


def test_deciding_rights_unused_for_the_period(people: dict[str, Any]) -> None:
    old_grant(people["qa_approver"], "qa_reviewer")
    [finding] = [f for f in detect(load_world()).values() if f.kind == "unused_rights"]
    assert (finding.subject_id, finding.severity, finding.facts[-1]) == (
        people["qa_approver"].pk, "medium", ("Suggestion", "change to Author / originator"))


def test_deciding_rights_used_in_the_period_are_no_finding(people: dict[str, Any]) -> None:
    old_grant(people["qa_approver"], "qa_reviewer")
    RightUse.objects.create(user_id=people["qa_approver"].pk, action="deviations.approve",
                            site_id=0, month=timezone.localdate().replace(day=1), uses=3,
                            last_used_at=timezone.now() - dt.timedelta(days=20))
    assert "unused_rights" not in kinds_for("qa_approver")


def test_an_api_token_unused_and_past_rotation(people: dict[str, Any]) -> None:
    from cyberqms.platform.accounts.models import ApiToken

    issued = token_create(actor=people["author"], owner=people["author"], name="script",
                          scopes=["deviations.view"], days=5)
    ApiToken.objects.filter(pk=issued.token.pk).update(created_at=LONG_AGO)
    assert kinds_for("author") == {"token_unused", "token_rotation"}


def test_auditor_access_longer_than_the_time_box(people: dict[str, Any]) -> None:
    RoleAssignment.objects.filter(user=people["auditor"]).update(valid_until=None)
    assert kinds_for("auditor") == {"auditor_timebox"}


def test_the_world_costs_the_same_queries_for_1_and_20_people(
        people: dict[str, Any], make_user: Any) -> None:
    site = SiteFactory.create(code="CRK")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            detect(load_world())
        return len(captured)

    one = queries()
    for n in range(20):
        make_user(f"analyst{n}", "author", site=site)
    assert queries() == one
