"""Rate limits per client address (issue 12, item 7): failed sign-ins across usernames,
and rejected API tokens, each answered 429 with Retry-After once over the limit; repeated
rejections are one security event with a count, not a row (and a task, and a raw event)
each. The per-account lockout of django-axes is tested with identity (P11-33)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from axes.models import AccessFailureLog
from django.test import Client
from django.urls import reverse

from cyberqms.conftest import PASSWORD
from cyberqms.platform.core.events import repeat_count
from cyberqms.platform.core.models import SecurityEvent

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
ATTACKER = {"REMOTE_ADDR": "192.0.2.44"}
NEIGHBOUR = {"REMOTE_ADDR": "192.0.2.45"}
BAD_TOKEN = {"HTTP_AUTHORIZATION": "Bearer cqms_abcdefgh_not-the-secret"}


@pytest.fixture(autouse=True)
def limits(settings: Any) -> None:
    """Low limits for every test here (pytest-django's `settings` restores them after; a
    shared `override_settings` decorator leaked its values into later tests)."""
    settings.CYBERQMS_SIGNIN_FAILURES_PER_ADDRESS = 3
    settings.CYBERQMS_TOKEN_FAILURES_PER_ADDRESS = 3
    settings.CYBERQMS_RATE_LIMIT_WINDOW_MINUTES = 15


def sign_in(username: str, password: str, at: dt.datetime, address: dict[str, str]) -> Any:
    with time_machine.travel(at, tick=False):
        return Client().post("/accounts/login/", {"login": username, "password": password},
                             **address)


def spray(usernames: list[str], at: dt.datetime = T0) -> None:
    for name in usernames:
        sign_in(name, "Winter2026!", at, ATTACKER)


def bad_token(at: dt.datetime, address: dict[str, str] = ATTACKER) -> Any:
    with time_machine.travel(at, tick=False):
        return Client().get("/api/v1/me", **address, **BAD_TOKEN)


def test_sign_in_is_refused_from_an_address_after_failures_across_usernames(
        personas: dict[str, Any]) -> None:
    spray(["author", "auditor", "qa_manager"])
    response = sign_in("process_owner", PASSWORD, T0, ATTACKER)
    assert (response.status_code, response["Retry-After"]) == (429, "900")


def test_the_refusal_says_when_the_oldest_counted_failure_ages_out(
        personas: dict[str, Any]) -> None:
    spray(["author"], T0)
    spray(["auditor"], T0 + dt.timedelta(minutes=5))
    spray(["qa_manager"], T0 + dt.timedelta(minutes=10))
    response = sign_in("process_owner", PASSWORD, T0 + dt.timedelta(minutes=11), ATTACKER)
    assert (response.status_code, response["Retry-After"]) == (429, "240")


def test_the_refusal_page_says_when_to_try_again(personas: dict[str, Any]) -> None:
    spray(["author", "auditor", "qa_manager"])
    response = sign_in("process_owner", PASSWORD, T0, ATTACKER)
    assert response.context["message"] == (
        "Too many failed sign-ins from your network address. Try again in 15 minutes.")


def test_another_address_still_signs_in(personas: dict[str, Any]) -> None:
    spray(["author", "auditor", "qa_manager"])
    response = sign_in("process_owner", PASSWORD, T0, NEIGHBOUR)
    assert (response.status_code, response["Location"]) == (302, "/")


def test_the_address_signs_in_again_once_its_failures_age_out(
        personas: dict[str, Any]) -> None:
    spray(["author", "auditor", "qa_manager"])
    response = sign_in("process_owner", PASSWORD, T0 + dt.timedelta(minutes=15, seconds=1),
                       ATTACKER)
    assert (response.status_code, response["Location"]) == (302, "/")


def test_refused_sign_ins_are_one_event_with_a_count_and_no_failure_rows(
        personas: dict[str, Any]) -> None:
    spray(["author", "auditor", "qa_manager"])
    spray(["process_owner", "it_security", "system_owner", "admin"],
          T0 + dt.timedelta(minutes=1))
    events = list(SecurityEvent.objects.filter(kind="auth.login.rate_limited")
                  .values_list("source_ip", "data"))
    assert (events, AccessFailureLog.objects.count(),
            SecurityEvent.objects.filter(kind="auth.login.failure").count()) == (
        [("192.0.2.44", {"limit": 3, "count": 4, "last_at": "2026-11-20T09:01:00+00:00"})],
        3, 3)


def test_rejected_tokens_are_one_event_with_a_count() -> None:
    for second in range(3):
        bad_token(T0 + dt.timedelta(seconds=second))
    events = list(SecurityEvent.objects.filter(kind="auth.token.rejected")
                  .values_list("source_ip", "message", "data"))
    assert events == [("192.0.2.44", "Unknown API token presented",
                       {"prefix": "abcdefgh", "count": 3,
                        "last_at": "2026-11-20T09:00:02+00:00"})]


def test_tokens_are_refused_with_429_once_over_the_limit() -> None:
    for _ in range(3):
        bad_token(T0)
    response = bad_token(T0 + dt.timedelta(minutes=10))
    assert (response.status_code, response["Retry-After"], response["Content-Type"],
            response.json()["detail"]) == (
        429, "300", "application/problem+json",
        "Too many rejected API tokens from this address; try again in 300 s.")


def test_a_valid_token_from_a_limited_address_is_refused_too(personas: dict[str, Any]) -> None:
    from cyberqms.platform.accounts.services import token_create

    author = personas["author"]
    secret = token_create(actor=author, owner=author, name="cli", scopes=["account.self"],
                          days=5).secret
    for _ in range(3):
        bad_token(T0)
    with time_machine.travel(T0, tick=False):
        response = Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}",
                                **ATTACKER)
    assert response.status_code == 429


def test_refusals_over_the_limit_are_counted_in_the_same_event() -> None:
    for _ in range(5):
        bad_token(T0)
    assert list(SecurityEvent.objects.filter(kind="auth.token.rejected")
                .values_list("data__count", flat=True)) == [5]


def test_the_token_limit_is_per_address() -> None:
    for _ in range(3):
        bad_token(T0)
    assert bad_token(T0, NEIGHBOUR).status_code == 401


def test_a_new_window_opens_a_new_event() -> None:
    for _ in range(3):
        bad_token(T0)
    response = bad_token(T0 + dt.timedelta(minutes=15))
    counts = [repeat_count(event) for event in
              SecurityEvent.objects.filter(kind="auth.token.rejected").order_by("id")]
    assert (response.status_code, counts) == (401, [3, 1])


def test_coalesced_rejections_reach_monitoring_once(settings: Any,
                                                    django_capture_on_commit_callbacks: Any) -> None:
    from cyberqms.security.monitoring.models import RawEvent

    settings.CYBERQMS_MONITOR_OWN_EVENTS = True
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            bad_token(T0)
    assert list(RawEvent.objects.values_list("src_ip", flat=True)) == ["192.0.2.44"]



def test_the_events_api_gives_the_count(personas: dict[str, Any], login: Any) -> None:
    for _ in range(3):
        bad_token(T0)
    response = login(personas["it_security"]).get("/api/v1/security-events",
                                                  {"kind": "auth.token.rejected"})
    assert [(e["source_ip"], e["count"]) for e in response.json()] == [("192.0.2.44", 3)]


def test_the_events_page_shows_the_count(personas: dict[str, Any], login: Any) -> None:
    for _ in range(3):
        bad_token(T0)
    page = login(personas["it_security"]).get(reverse("accounts:security_events")).content.decode()
    assert '<span class="muted">× 3</span>' in page
