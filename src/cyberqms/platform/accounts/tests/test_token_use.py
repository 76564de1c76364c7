"""An API token's "last used" (time and address) is kept to the minute: a script that calls
the API every second does not write the token row on every call (issue 14)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from cyberqms.platform.accounts.models import ApiToken
from cyberqms.platform.accounts.services import token_authenticate, token_create
from cyberqms.platform.core.context import RequestContext, acting_context

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def secret(personas: dict[str, Any]) -> str:
    author = personas["author"]
    with acting_context(RequestContext(channel="cli")):
        return token_create(actor=author, owner=author, name="script", scopes=["*"],
                            days=30).secret


def used(secret: str, address: str, at: dt.datetime) -> tuple[Any, Any]:
    with time_machine.travel(at, tick=False):
        token = token_authenticate(secret, address)
    assert token is not None
    row = ApiToken.objects.get(pk=token.pk)
    return row.last_used_at, row.last_used_ip


def test_the_first_use_is_recorded(secret: str) -> None:
    assert used(secret, "10.0.0.5", T0) == (T0, "10.0.0.5")


def test_a_use_within_the_minute_from_the_same_address_writes_nothing(
    secret: str, django_assert_num_queries: Any,
) -> None:
    used(secret, "10.0.0.5", T0)
    with time_machine.travel(T0 + dt.timedelta(seconds=59), tick=False), \
            django_assert_num_queries(2):  # the rate-limit window, the token: no update
        assert token_authenticate(secret, "10.0.0.5") is not None
    assert used(secret, "10.0.0.5", T0 + dt.timedelta(seconds=59)) == (T0, "10.0.0.5")


def test_a_use_a_minute_later_is_recorded(secret: str) -> None:
    used(secret, "10.0.0.5", T0)
    later = T0 + dt.timedelta(minutes=1)
    assert used(secret, "10.0.0.5", later) == (later, "10.0.0.5")


def test_a_use_from_another_address_is_recorded_at_once(secret: str) -> None:
    used(secret, "10.0.0.5", T0)
    soon = T0 + dt.timedelta(seconds=5)
    assert used(secret, "10.0.0.9", soon) == (soon, "10.0.0.9")
