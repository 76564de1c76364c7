"""Least privilege from use (issue 17, item 5): the deciding rights most holders of a role
at a site never use, from the counts of use."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from cyberqms.platform.accounts.models import RoleAssignment
from cyberqms.platform.accounts.services import role_grant
from cyberqms.platform.accounts.tests.factories import SiteFactory
from cyberqms.security.access.least_privilege import suggestions
from cyberqms.security.access.models import RightUse

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewers(personas: dict[str, Any], make_user: Any) -> list[Any]:
    """Four QA reviewers at Dublin for a year; one approves deviations every month."""
    site = SiteFactory.create(code="DUB")
    people = [make_user(f"rev{n}", None) for n in range(4)]
    for person in people:
        role_grant(person, "qa_reviewer", actor=personas["admin"], site=site, reason="QA")
    RoleAssignment.objects.filter(user__in=people).update(
        valid_from=timezone.now() - dt.timedelta(days=400))
    RightUse.objects.create(user_id=people[0].pk, action="deviations.approve",
                            site_id=site.pk, month=timezone.localdate().replace(day=1),
                            uses=9, last_used_at=timezone.now() - dt.timedelta(days=4))
    return people


def test_a_right_most_holders_never_use_is_suggested(reviewers: list[Any]) -> None:
    found = [s for s in suggestions() if s.action == "capa.approve"]
    assert [(s.role, s.site, s.holders, s.unused, s.text) for s in found] == [
        ("qa_reviewer", "DUB", 4, 4,
         "4 of 4 holders of QA reviewer at DUB never used capa.approve (Approve a CAPA (QA, "
         "e-signature)) in 180 days")]


def test_a_right_a_quarter_of_the_holders_use_is_not_suggested(reviewers: list[Any]) -> None:
    assert [s for s in suggestions() if s.action == "deviations.approve"] == []
