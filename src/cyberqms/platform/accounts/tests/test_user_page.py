"""A person's page shows their current roles, with site and granter, in the same number
of queries for one role as for six (issue 14)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cyberqms.platform.accounts.services import role_grant
from cyberqms.platform.accounts.tests.factories import SiteFactory

pytestmark = pytest.mark.django_db


def test_current_roles_cost_the_same_queries_for_1_and_6(
    personas: dict[str, Any], make_user: Callable[..., Any], login: Any,
) -> None:
    bob = make_user("bob", "author")
    client = login(personas["admin"])
    url = f"/admin-area/users/{bob.pk}/"
    client.get(url)  # the administrator's roles, looked up once, are known from here on

    def shown() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            page = client.get(url).content.decode()
        return page.count("Revoke</button>"), len(captured.captured_queries)

    one = shown()
    for n in range(5):
        role_grant(bob, "process_owner", actor=personas["admin"], reason="Covers the site",
                   site=SiteFactory.create(code=f"Z{n}"))
    assert (one, shown()) == ((1, one[1]), (6, one[1]))


def test_the_api_reads_current_roles_in_the_same_queries_for_1_and_6(
    personas: dict[str, Any], make_user: Callable[..., Any], login: Any,
) -> None:
    bob = make_user("bob", "author")
    client = login(personas["admin"])
    url = f"/api/v1/users/{bob.pk}"
    client.get(url)

    def shown() -> tuple[list[str], int]:
        with CaptureQueriesContext(connection) as captured:
            roles = client.get(url).json()["roles"]
        return sorted(r["site"] or "" for r in roles), len(captured.captured_queries)

    one = shown()
    for n in range(5):
        role_grant(bob, "process_owner", actor=personas["admin"], reason="Covers the site",
                   site=SiteFactory.create(code=f"Z{n}"))
    assert (one, shown()) == (([""], one[1]), (["", "Z0", "Z1", "Z2", "Z3", "Z4"], one[1]))
