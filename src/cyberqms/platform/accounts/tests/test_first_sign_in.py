"""The first sign-in through HTTP: one password entry for the one-time password, the forced
change and the TOTP enrolment while that entry is recent; asked again once it is not
(P11-28, A11-19); the recovery codes that end it lead on (accounts/first_sign_in.py)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.test import Client

from cyberqms.conftest import PASSWORD, totp_code
from cyberqms.platform.accounts.models import User
from cyberqms.platform.accounts.services import IssuedPassword, role_grant, user_create
from cyberqms.platform.core.context import RequestContext, acting_context

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
CHANGE = "/accounts/password/change/"
ACTIVATE = "/accounts/2fa/totp/activate/"
CODES = "/accounts/2fa/recovery-codes/"
NEW_PASSWORD = "Quartz-Harbour-Lantern-917"
# The inputs by which a page asks for the password a person already has (sign-in,
# current password, password confirmation); a new password's fields are not among them.
CURRENT_PASSWORD_INPUTS = ("password", "oldpassword")
# Ten seconds into a TOTP step, so that no code is read at the end of its step.
START = dt.datetime(2026, 3, 2, 9, 0, 10, tzinfo=dt.UTC)
WINDOW = 300  # ACCOUNT_REAUTHENTICATION_TIMEOUT


class Person:
    """A browser-like client that notes every current-password entry it submits."""

    def __init__(self) -> None:
        self.client = Client()
        self.entries: list[str] = []

    def post(self, path: str, data: dict[str, str]) -> Any:
        self.entries += [name for name in CURRENT_PASSWORD_INPUTS if name in data]
        return self.client.post(path, data)

    def get(self, path: str) -> Any:
        return self.client.get(path)


@pytest.fixture
def clock() -> Iterator[Any]:
    """The wall clock, frozen at START for the whole test (accounts and roles included)."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def newcomer(clock: Any, make_user: Any) -> IssuedPassword:
    """A new IT security officer (a privileged role: MFA required) with a one-time password."""
    admin = make_user("admin", "administrator")
    with acting_context(RequestContext(channel="cli")):
        issued = user_create(actor=admin, username="nora", full_name="Nora Secops",
                             email="nora@x.test", reason="joiner, ticket HR-1")
        role_grant(issued.user, "it_security", actor=admin, reason="joiner, ticket HR-1")
    return issued


def _inputs(page: Any) -> list[str]:
    """The names of the inputs a page's main form asks for."""
    main = re.split(r"<main[^>]*>", page.content.decode(), maxsplit=1)[1]
    return [n for n in re.findall(r'<input [^>]*name="(\w+)"', main)
            if n != "csrfmiddlewaretoken"]


def _secret(page: Any) -> str:
    """The TOTP secret the enrolment page shows (in words, beside the QR code)."""
    tag = re.search(r'<input [^>]*id="authenticator_secret"[^>]*>', page.content.decode())
    assert tag is not None
    found = re.search(r'value="([A-Z2-7]{16,})"', tag.group(0))
    assert found is not None
    return found.group(1)


def _sign_in_and_change(person: Person, issued: IssuedPassword, **extra: str) -> None:
    signed_in = person.post(LOGIN, {"login": "nora", "password": issued.password, **extra})
    assert signed_in.status_code == 302
    changed = person.post(CHANGE, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert (changed.status_code, changed["Location"]) == (302, extra.get("next", "/"))


def _enrol(person: Person) -> Any:
    page = person.get(ACTIVATE)
    assert page.status_code == 200
    return person.post(ACTIVATE, {"code": totp_code(_secret(page))})


def test_first_sign_in_asks_for_the_password_once_p11_28_a11_19(
    newcomer: IssuedPassword,
) -> None:
    """P11-28, A11-19: sign-in with the one-time password, forced change and TOTP enrolment
    within the minute take one entry of the current password: the sign-in."""
    person = Person()
    _sign_in_and_change(person, newcomer)
    assert person.get("/")["Location"] == ACTIVATE
    enrolled = _enrol(person)
    assert (enrolled.status_code, enrolled["Location"]) == (302, CODES)
    assert person.get("/").status_code == 200
    assert person.entries == ["password"]


def test_the_forced_change_right_after_sign_in_asks_only_for_the_new_password_p11_28(
    newcomer: IssuedPassword,
) -> None:
    person = Person()
    person.post(LOGIN, {"login": "nora", "password": newcomer.password})
    assert _inputs(person.get(CHANGE)) == ["password1", "password2"]


def test_the_change_is_still_forced_p11_28(newcomer: IssuedPassword) -> None:
    person = Person()
    person.post(LOGIN, {"login": "nora", "password": newcomer.password})
    assert person.get("/security/events/")["Location"] == CHANGE


def test_the_one_time_password_cannot_be_kept_p11_28(newcomer: IssuedPassword) -> None:
    """P11-28: the administrator who issued it knows it; the new password must differ."""
    person = Person()
    person.post(LOGIN, {"login": "nora", "password": newcomer.password})
    refused = person.post(CHANGE, {"password1": newcomer.password,
                                   "password2": newcomer.password})
    assert refused.context["form"].errors == {
        "password1": ["Choose a password other than your current one."]}
    assert User.objects.get(username="nora").must_change_password is True


def test_the_forced_change_asks_for_the_current_password_once_the_window_passed_p11_28(
    newcomer: IssuedPassword, clock: Any,
) -> None:
    person = Person()
    person.post(LOGIN, {"login": "nora", "password": newcomer.password})
    clock.shift(WINDOW + 1)
    page = person.get(CHANGE)
    refused = person.post(CHANGE, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert _inputs(page) == ["oldpassword", "password1", "password2"]
    assert (refused.status_code, User.objects.get(username="nora").must_change_password) == (
        200, True)


def test_a_change_the_person_chose_asks_for_the_current_password(
    clock: Any, make_user: Any,
) -> None:
    """Only the forced change right after the sign-in spares it (P11-28)."""
    make_user("author", "author")
    person = Person()
    person.post(LOGIN, {"login": "author", "password": PASSWORD})
    assert _inputs(person.get(CHANGE)) == ["oldpassword", "password1", "password2"]


def test_totp_enrolment_asks_to_reauthenticate_once_the_window_passed_a11_19(
    newcomer: IssuedPassword, clock: Any,
) -> None:
    person = Person()
    _sign_in_and_change(person, newcomer)
    clock.shift(WINDOW + 1)
    asked = person.get(ACTIVATE)
    assert (asked.status_code, asked["Location"]) == (
        302, "/accounts/reauthenticate/?next=%2Faccounts%2F2fa%2Ftotp%2Factivate%2F")


def _continue_url(page: Any) -> str:
    found = re.findall(r'<a class="btn" href="([^"]*)" data-testid="recovery-codes-continue">'
                       r"Continue</a>", page.content.decode())
    assert len(found) == 1
    return str(found[0])


def test_recovery_codes_continue_to_the_page_kept_at_sign_in_a11_19(
    newcomer: IssuedPassword,
) -> None:
    person = Person()
    _sign_in_and_change(person, newcomer, next="/profile/")
    _enrol(person)
    codes = person.get(CODES)
    assert (codes.status_code, _continue_url(codes)) == (200, "/profile/")


def test_recovery_codes_continue_home_without_a_kept_page_a11_19(
    newcomer: IssuedPassword,
) -> None:
    person = Person()
    _sign_in_and_change(person, newcomer)
    _enrol(person)
    codes = person.get(CODES)
    assert (codes.status_code, _continue_url(codes)) == (200, "/")
