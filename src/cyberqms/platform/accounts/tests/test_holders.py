"""Who is told a step waits (`holders_of`): the people the gate would let take it, read in
the same number of queries for one holder as for fifty (issue 14)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cyberqms.platform.accounts.queries import holders_of
from cyberqms.platform.accounts.tests.factories import SiteFactory

pytestmark = pytest.mark.django_db


def holders(action: str, site: Any) -> tuple[list[str], int]:
    """The holders' usernames, and the queries it took to choose them."""
    with CaptureQueriesContext(connection) as captured:
        chosen = holders_of(action, site.pk)
    return sorted(p.username for p in chosen), len(captured.captured_queries)


def test_holders_cost_the_same_queries_for_1_and_50(make_user: Callable[..., Any]) -> None:
    """Each person's roles and second factor come with them (it was two queries each);
    a manager of another site, an author and a deactivated manager are not chosen."""
    basel, geneva = SiteFactory.create(code="BSL"), SiteFactory.create(code="GVA")
    make_user("elsewhere", "qa_manager", site=geneva)
    make_user("writer", "author", site=basel)
    gone = make_user("gone", "qa_manager", site=basel)
    type(gone).objects.filter(pk=gone.pk).update(is_active=False)
    make_user("qa00", "qa_manager", site=basel)
    one = holders("deviations.approve", basel)
    for n in range(1, 50):
        make_user(f"qa{n:02d}", "qa_manager", mfa=n % 2 == 0)
    assert (one, holders("deviations.approve", basel)) == (
        (["qa00"], one[1]), ([f"qa{n:02d}" for n in range(50)], one[1]))


def test_owner_choices_cost_the_same_queries_for_1_site_and_5(
    make_user: Callable[..., Any],
) -> None:
    """The owner picker of a creation page offers the people able to do the work at any
    site the creator may choose: read for all sites at once (it was per site)."""
    from cyberqms.platform.accounts.models import User

    sites = [SiteFactory.create(code=f"S{n}") for n in range(5)]
    make_user("everywhere", "author")
    for n, site in enumerate(sites):
        make_user(f"local{n}", "author", site=site)

    def offered(among: list[Any]) -> tuple[list[str], int]:
        with CaptureQueriesContext(connection) as captured:
            names = [p.username for p in User.able_to("deviations.work",
                                                      [s.pk for s in among])]
        return names, len(captured.captured_queries)

    one = offered(sites[:1])
    assert (one, offered(sites)) == (
        (["everywhere", "local0"], one[1]),
        (["everywhere", "local0", "local1", "local2", "local3", "local4"], one[1]),
    )
