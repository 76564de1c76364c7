"""Movers (issue 17, item 4): a role change of someone who keeps other roles starts a
review of the access they keep, once the change commits."""

from __future__ import annotations

from typing import Any

import pytest

from cyberqms.platform.accounts.services import role_grant
from cyberqms.security.governance.models import AccessReview, ReviewItem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("a_site")]


@pytest.fixture
def a_site() -> Any:
    from cyberqms.platform.accounts.tests.factories import SiteFactory

    return SiteFactory.create(code="BSL")


def test_a_second_role_starts_a_review_of_the_persons_access(
        personas: dict[str, Any], django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        role_grant(personas["author"], "process_owner", actor=personas["admin"],
                   reason="Promoted to line lead")
    review = AccessReview.objects.get()
    assert (review.review_kind, review.person_id, review.state,
            sorted(ReviewItem.objects.filter(review=review).values_list("role", flat=True))
            ) == ("mover", personas["author"].pk, "open", ["author", "process_owner"])


def test_a_first_role_is_a_joiner_not_a_mover(
        personas: dict[str, Any], make_user: Any,
        django_capture_on_commit_callbacks: Any) -> None:
    newcomer = make_user("newcomer", None)
    with django_capture_on_commit_callbacks(execute=True):
        role_grant(newcomer, "author", actor=personas["admin"], reason="Joined")
    assert AccessReview.objects.count() == 0


def test_one_open_mover_review_at_a_time(
        personas: dict[str, Any], django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        role_grant(personas["author"], "process_owner", actor=personas["admin"],
                   reason="Promoted")
        role_grant(personas["author"], "system_owner", actor=personas["admin"],
                   reason="LIMS deputy")
    assert AccessReview.objects.filter(review_kind="mover").count() == 1
