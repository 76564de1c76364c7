"""Joiners, movers and leavers (issue 17, item 4): a person's manager and leaver date, set
through the account services with clear refusals, and the account disabled by the
scheduler at the leaver date (P11-05, A11D-01)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from cyberqms.platform.accounts.employment import leavers_disable, user_employment_set
from cyberqms.platform.accounts.models import ApiToken, User
from cyberqms.platform.accounts.services import token_create
from cyberqms.platform.core.models import SecurityEvent
from cyberqms.platform.trail.models import AuditEntry

pytestmark = pytest.mark.django_db


def refused(**kwargs: Any) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        user_employment_set(**kwargs)
    return caught.value.message_dict


def test_a_manager_is_set_with_a_reason_and_audited(personas: dict[str, Any]) -> None:
    author, manager = personas["author"], personas["qa_manager"]
    user_employment_set(author, actor=personas["admin"], reason="HR update",
                        manager=manager)
    entry = AuditEntry.objects.filter(action="accounts.user.employment").latest("seq")
    assert (User.objects.get(pk=author.pk).manager_id, entry.reason) == (
        manager.pk, "HR update")


def test_nobody_is_their_own_manager(personas: dict[str, Any]) -> None:
    author = personas["author"]
    assert refused(user=author, actor=personas["admin"], reason="x", manager=author) == {
        "manager": ["Nobody is their own manager."]}


def test_managers_cannot_go_round_in_a_circle(personas: dict[str, Any]) -> None:
    a, b, c = personas["author"], personas["process_owner"], personas["qa_manager"]
    admin = personas["admin"]
    user_employment_set(a, actor=admin, reason="HR", manager=b)
    user_employment_set(b, actor=admin, reason="HR", manager=c)
    assert refused(user=c, actor=admin, reason="HR", manager=a) == {"manager": [
        "author reports to qa_manager, directly or through others: managers cannot go "
        "round in a circle."]}


def test_a_leaver_date_in_the_past_is_refused(personas: dict[str, Any]) -> None:
    assert refused(user=personas["author"], actor=personas["admin"], reason="HR",
                   leaver_at=timezone.now() - dt.timedelta(hours=1)) == {"leaver_at": [
        "The leaving date is in the past: deactivate the account instead."]}


def test_an_employee_id_belongs_to_one_person(personas: dict[str, Any]) -> None:
    admin = personas["admin"]
    user_employment_set(personas["author"], actor=admin, reason="HR", employee_id="E-100")
    assert refused(user=personas["qa_manager"], actor=admin, reason="HR",
                   employee_id="E-100") == {
        "employee_id": ["Another person has the employee id 'E-100'."]}


def test_only_user_managers_set_employment(personas: dict[str, Any]) -> None:
    from cyberqms.platform.core.access import AccessDenied

    with pytest.raises(AccessDenied):
        user_employment_set(personas["qa_approver"], actor=personas["qa_manager"],
                            reason="HR", manager=personas["qa_manager"])


def test_the_account_is_disabled_at_the_leaver_date_with_its_tokens(
        personas: dict[str, Any]) -> None:
    author = personas["author"]
    leaves = timezone.now() + dt.timedelta(hours=2)
    user_employment_set(author, actor=personas["admin"], reason="Resigned", leaver_at=leaves)
    token_create(actor=author, owner=author, name="script", scopes=["deviations.view"], days=5)
    with time_machine.travel(leaves - dt.timedelta(seconds=1), tick=False):
        early = leavers_disable()
    with time_machine.travel(leaves + dt.timedelta(seconds=30), tick=False):
        disabled = leavers_disable()
    author.refresh_from_db()
    assert (early, [u.username for u in disabled], author.is_active,
            ApiToken.objects.get(owner=author).revoked_at is not None) == (
        [], ["author"], False, True)


def test_the_disabling_reports_the_seconds_from_the_leaver_date(
        personas: dict[str, Any]) -> None:
    author = personas["author"]
    leaves = timezone.now() + dt.timedelta(hours=2)
    user_employment_set(author, actor=personas["admin"], reason="Resigned", leaver_at=leaves)
    with time_machine.travel(leaves + dt.timedelta(seconds=42), tick=False):
        leavers_disable()
    event = SecurityEvent.objects.filter(kind="account.deactivated").latest("id")
    entry = AuditEntry.objects.filter(action="accounts.user.deactivate").latest("seq")
    assert (event.data["leaver_to_disable_s"], entry.actor_id, entry.reason.endswith(
        "disabled 42 s after)")) == (42.0, None, True)


def test_the_approving_change_is_linked_to_a_grant_afterwards(
        personas: dict[str, Any]) -> None:
    from cyberqms.platform.accounts.employment import role_approval_link
    from cyberqms.platform.accounts.models import RoleAssignment

    assignment = RoleAssignment.objects.get(user=personas["author"])
    role_approval_link(assignment, actor=personas["admin"], approval_ref=" cc-2026-0007 ",
                       reason="Approved under the go-live change")
    entry = AuditEntry.objects.filter(action="accounts.role.approval").latest("seq")
    assert (RoleAssignment.objects.get(pk=assignment.pk).approval_ref, entry.reason) == (
        "CC-2026-0007", "Approved under the go-live change")


def test_the_user_page_sets_manager_and_leaving_date(personas: dict[str, Any],
                                                     login: Any) -> None:
    author, manager = personas["author"], personas["qa_manager"]
    leaves = timezone.localtime(timezone.now() + dt.timedelta(days=30)).replace(
        second=0, microsecond=0)
    answer = login(personas["admin"]).post(
        f"/admin-area/users/{author.pk}/employment/",
        {"manager": manager.pk, "leaver_at": leaves.strftime("%Y-%m-%dT%H:%M"),
         "employee_id": "E-4711", "reason": "HR update"})
    author.refresh_from_db()
    assert (answer.status_code, author.manager_id, author.leaver_at, author.employee_id) == (
        302, manager.pk, leaves, "E-4711")


def test_a_leaver_owes_no_more_training(personas: dict[str, Any]) -> None:
    from cyberqms.platform.accounts.services import user_deactivate
    from cyberqms.quality.training.models import TrainingAssignment

    author = personas["author"]
    open_before = TrainingAssignment.objects.filter(person=author, state="open").count()
    user_deactivate(author, actor=personas["admin"], reason="Left the company")
    assert (TrainingAssignment.objects.filter(person=author, state="open").count(),
            TrainingAssignment.objects.filter(
                person=author, state="cancelled",
                cancelled_reason="Account deactivated: Left the company").count()) == (
        0, open_before)
