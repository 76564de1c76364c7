"""Identity journeys in a real browser: sign-in with TOTP, first sign-in, lockout,
navigation by role, deactivation, and the Content-Security-Policy on every page.

The server is pytest-django's live server on loopback; the browser is Debian's Chromium.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pyotp
import pytest
from playwright.sync_api import Page, expect

from cyberqms.conftest import PASSWORD, TOTP_SECRET, totp_code
from cyberqms.platform.core.context import RequestContext, acting_context

pytestmark = pytest.mark.browser

LOGIN_PATH = "/accounts/login/"
MFA_PATH = "/accounts/2fa/authenticate/"
PASSWORD_CHANGE_PATH = "/accounts/password/change/"
TOTP_ACTIVATE_PATH = "/accounts/2fa/totp/activate/"
REAUTHENTICATE_PATH = "/accounts/reauthenticate/"
RECOVERY_CODES_PATH = "/accounts/2fa/recovery-codes/"

# The sidebar each role must see (CYB-01), written out by hand from the grants table in
# cyberqms/platform/accounts/roles.py, the families' declarations and the entries in
# cyberqms/web/navigation.py, so that a change to any shows up here as a failure to review.
QUALITY = {"Documents", "Deviations", "CAPA", "Change control", "Complaints",
           # the GxP asset families share the quality records' grants
           "Computerized systems", "Periodic evaluations", "Suppliers", "Risk assessments"}
# Access governance: findings and campaigns (kit families) and the overview, read by IT
# security, QA managers and reviewers, auditors and administrators.
ACCESS = {"Access findings", "Access reviews", "Access governance"}
# Resilience: cyberqms's restore tests and the attack drills, read by IT security, QA,
# auditors and administrators (who run the backups).
RESILIENCE = {"Restore tests", "Drills"}
EXPECTED_NAV: dict[str, set[str]] = {
    "author": {"Home", "Notifications", "My training", *QUALITY, "Profile and security",
               "API"},
    "it_security": {
        "Home", "Notifications", "My training", *QUALITY, "Audit trail", "Trail status",
        "Trail reviews", "Monitoring", "Security alerts", "Security incidents",
        "Security events", "Access decisions", *ACCESS, *RESILIENCE,
        "Integrations", "Users", "Profile and security", "API",
    },
    "auditor": {
        "Home", "Notifications", "My training", *QUALITY, "Training", "Audit trail",
        "Trail status", "Trail reviews", "Monitoring", "Security alerts",
        "Security incidents", "Security events", "Access decisions", *ACCESS, *RESILIENCE,
        "Integrations", "Users", "Profile and security", "API",
    },
    # administrators hold no GxP rights (DI-01): no quality records in their navigation
    "admin": {
        "Home", "Notifications", "My training", "Trail status", "Security events",
        "Access decisions", *ACCESS, *RESILIENCE, "Integrations", "Users", "Sites",
        "Profile and security", "API",
    },
}


# --- helpers --------------------------------------------------------------------------------


def path_of(page: Page) -> str:
    """The path and query of the page's URL (the live server's host and port vary)."""
    return re.sub(r"^https?://[^/]+", "", page.url)


def at(path: str) -> re.Pattern[str]:
    """A URL pattern for exactly this path on the live server (query string allowed)."""
    return re.compile(r"^https?://[^/]+" + re.escape(path) + r"(\?.*)?$")


def fresh_totp_code(secret: str = TOTP_SECRET) -> str:
    """The current code, never one about to expire (the shared helper)."""
    return totp_code(secret)


def wrong_totp_code(secret: str = TOTP_SECRET) -> str:
    """A six-digit code valid in none of the neighbouring time steps."""
    totp = pyotp.TOTP(secret)
    now = time.time()
    near = {totp.at(now + offset) for offset in (-60, -30, 0, 30, 60)}
    return next(f"{n:06d}" for n in range(123456, 10**6) if f"{n:06d}" not in near)


def submit_login(page: Page, username: str, password: str) -> Any:
    """Fill the sign-in form and submit it; returns the navigation's response."""
    page.goto(LOGIN_PATH)
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation() as navigation:
        page.press("input[name=password]", "Enter")
    return navigation.value


def submit_code(page: Page, code: str) -> None:
    expect(page).to_have_url(at(MFA_PATH))
    page.fill("input[name=code]", code)
    with page.expect_navigation():
        page.press("input[name=code]", "Enter")


def sign_in(page: Page, user: Any, *, totp: bool = False) -> None:
    """Sign in through the real pages and land on the home page."""
    submit_login(page, user.username, PASSWORD)
    if totp:
        submit_code(page, fresh_totp_code())
    expect(page).to_have_url(at("/"))
    expect(page.locator("h1")).to_have_text(f"Good day, {user.printed_name}")


def sidebar_labels(page: Page) -> set[str]:
    return set(page.locator("aside.sidebar [data-nav]").evaluate_all(
        "links => links.filter(a => a.offsetParent !== null).map(a => a.dataset.nav)"
    ))


_CSP_OR_SCRIPT = re.compile(r"Content Security Policy|CSP violation|: uncaught ")


def _console_errors(page: Page) -> list[str]:
    return page.console_errors  # type: ignore[attr-defined]  # set by the open_page fixture


def assert_no_console_errors(page: Page) -> None:
    """Strict: no CSP violation, no script error, no failed load of anything a page uses."""
    errors = list(_console_errors(page))
    assert errors == [], "console errors or CSP violations:\n" + "\n".join(errors)


def assert_no_csp_violations(page: Page) -> None:
    """For journeys whose pages answer 4xx on purpose (403, 429), which Chromium logs as
    console errors: only CSP violations and script errors count here.
    test_pages_have_no_csp_violations applies the strict check to every page.
    """
    errors = [e for e in _console_errors(page) if _CSP_OR_SCRIPT.search(e)]
    assert errors == [], "CSP violations or script errors:\n" + "\n".join(errors)


def as_cli() -> Any:
    return acting_context(RequestContext(channel="cli"))


# --- journeys -------------------------------------------------------------------------------


def test_login_with_totp(page: Page, make_user: Callable[..., Any]) -> None:
    """A11-19, P11-24: a privileged user signs in with password and a TOTP code.

    A wrong code is refused with an error and leaves the user signed out; the right code
    leads to the home page, which greets the user by printed name.
    """
    from cyberqms.platform.core.models import SecurityEvent

    manager = make_user("qa_manager", "qa_manager")

    submit_login(page, manager.username, PASSWORD)
    expect(page).to_have_url(at(MFA_PATH))
    expect(page.locator("[data-nav]")).to_have_count(0)

    submit_code(page, wrong_totp_code())
    expect(page).to_have_url(at(MFA_PATH))
    expect(page.get_by_text("Incorrect code.")).to_be_visible()
    expect(page.locator("[data-nav]")).to_have_count(0)
    assert SecurityEvent.objects.filter(kind="auth.mfa.failure", username="qa_manager").exists()
    assert not SecurityEvent.objects.filter(
        kind="auth.login.success", username="qa_manager"
    ).exists()

    submit_code(page, fresh_totp_code())
    expect(page).to_have_url(at("/"))
    expect(page.locator("h1")).to_have_text(f"Good day, {manager.printed_name}")
    expect(page.locator(".userbox .who strong")).to_have_text(manager.printed_name)
    assert SecurityEvent.objects.filter(kind="auth.login.success", username="qa_manager").exists()
    assert_no_csp_violations(page)


def test_first_login_forces_password_change_and_totp_enrolment(
    page: Page, make_user: Callable[..., Any]
) -> None:
    """P11-28, A11-19: a new account signs in with its one-time password, must choose its
    own password, and (holding a privileged role) must enrol TOTP before anything else.
    The password is typed once: the change and the enrolment follow within the minute, so
    neither asks for it again. The recovery codes shown last lead on with Continue.

    Where the product lets the user past a step it should have forced, the deviation is
    recorded and the journey goes on by the next gated page, so that one run reports every
    broken step; the test fails at the end with the list.
    """
    from cyberqms.platform.accounts.services import role_grant, user_create

    admin = make_user("admin", "administrator")
    with as_cli():
        issued = user_create(
            actor=admin, username="nora_secops", full_name="Nora Secops",
            email="nora@x.test", reason="joiner, ticket HR-1",
        )
        role_grant(issued.user, "it_security", actor=admin, reason="joiner, ticket HR-1")
    deviations: list[str] = []

    def expect_forced_to(path: str, step: str) -> None:
        # allauth may put its password confirmation in front of the target (next=path).
        reconfirm = at(REAUTHENTICATE_PATH).match(page.url) and (
            f"next={quote(path, safe='')}" in page.url
        )
        if not (at(path).match(page.url) or reconfirm):
            deviations.append(f"{step}: expected a redirect to {path}, got {path_of(page)}")

    # 1. Signing in with the one-time password leads to the password change.
    submit_login(page, "nora_secops", issued.password)
    expect_forced_to(PASSWORD_CHANGE_PATH, "after sign-in with the one-time password")
    for path in ("/", "/profile/"):
        page.goto(path)
        expect_forced_to(PASSWORD_CHANGE_PATH, f"opening {path} before the password change")
    # A page of her role is refused until the password is changed (hard requirement).
    page.goto("/security/events/")
    expect(page).to_have_url(at(PASSWORD_CHANGE_PATH))
    expect(page.locator("ul.messages")).to_contain_text(re.compile(r"new password", re.I))

    # 2. The new password must be her own: at least 12 characters, not a common one. She
    # typed the one-time password moments ago: it is not asked again.
    new_password = "Quartz-Harbour-Lantern-917"
    expect(page.locator("input[name=oldpassword]")).to_have_count(0)
    page.fill("input[name=password1]", new_password)
    page.fill("input[name=password2]", new_password)
    with page.expect_navigation():
        page.press("input[name=password2]", "Enter")
    expect(page.locator(".errorlist")).to_have_count(0)
    expect_forced_to(TOTP_ACTIVATE_PATH, "after the password change")
    page.goto("/")
    expect_forced_to(TOTP_ACTIVATE_PATH, "opening / before TOTP enrolment")
    page.goto("/security/events/")
    expect(page.locator("ul.messages")).to_contain_text(re.compile(r"two-factor", re.I))
    # allauth guards authenticator changes with a fresh password confirmation; the
    # password change a moment ago is one.
    expect(page).to_have_url(at(TOTP_ACTIVATE_PATH))

    # 3. Enrol the authenticator with the secret the page shows.
    secret = page.locator("#authenticator_secret").input_value().strip()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), f"no TOTP secret shown: {secret!r}"
    page.fill("input[name=code]", fresh_totp_code(secret))
    with page.expect_navigation():
        page.press("input[name=code]", "Enter")
    expect(page.locator(".errorlist")).to_have_count(0)

    # 4. Her recovery codes, in the app shell; Continue leads on to home (she asked for no
    # other page when she signed in).
    expect(page).to_have_url(at(RECOVERY_CODES_PATH))
    expect(page.locator("h1")).to_have_text("Recovery codes")
    expect(page.locator("ol.recovery-codes li")).to_have_count(10)
    with page.expect_navigation():
        page.get_by_role("link", name="Continue", exact=True).click()
    expect(page).to_have_url(at("/"))
    expect(page.locator("h1")).to_have_text("Good day, Nora Secops")
    expect(page.get_by_text("Enrolled", exact=True)).to_be_visible()
    assert sidebar_labels(page) == EXPECTED_NAV["it_security"]
    page.goto("/security/events/")
    expect(page).to_have_url(at("/security/events/"))
    assert_no_csp_violations(page)

    assert deviations == [], (
        "P11-28/A11-19: the first sign-in does not force the password change and TOTP "
        "enrolment on every page:\n" + "\n".join(deviations)
    )


def test_lockout_after_repeated_failures(page: Page, make_user: Callable[..., Any]) -> None:
    """P11-33: five failed sign-ins lock the account until an administrator unlocks it; the
    lockout is a security event, and an unknown username looks exactly the same.
    """
    from django.conf import settings

    from cyberqms.platform.accounts.services import user_unlock
    from cyberqms.platform.core.models import SecurityEvent

    admin = make_user("admin", "administrator")
    victim = make_user("locky", "author")
    limit = settings.AXES_FAILURE_LIMIT
    assert limit == 5

    def fail(username: str, times: int) -> tuple[int, str]:
        for attempt in range(1, times + 1):
            response = submit_login(page, username, "not the password at all")
            if attempt < times:
                expect(page).to_have_url(at(LOGIN_PATH))
                expect(page.get_by_test_id("lockout")).to_have_count(0)
        lockout = page.get_by_test_id("lockout")
        expect(lockout).to_be_visible()
        return response.status, lockout.inner_text()

    status, message = fail(victim.username, limit)
    assert status == 429
    assert "locked" in message

    # Even the right password is refused now.
    response = submit_login(page, victim.username, PASSWORD)
    assert response.status == 429
    expect(page.get_by_test_id("lockout")).to_have_text(message)
    expect(page.locator("[data-nav]")).to_have_count(0)
    assert SecurityEvent.objects.filter(kind="auth.lockout", username="locky").exists()

    # No user enumeration: an unknown name is locked out with the same words.
    ghost_status, ghost_message = fail("no_such_person", limit)
    assert (ghost_status, ghost_message) == (status, message)

    with as_cli():
        cleared = user_unlock("locky", actor=admin, reason="identity confirmed by phone")
    assert cleared >= 1
    sign_in(page, victim)
    assert_no_csp_violations(page)


def test_navigation_by_role(open_page: Callable[[], Page], make_user: Callable[..., Any]) -> None:
    """CYB-01: the sidebar offers exactly what each role may use, and a page outside the
    role is refused with the 403 page even when reached by typing its address.
    """
    users = {
        "author": (make_user("author", "author"), False),
        "it_security": (make_user("it_security", "it_security"), True),
        "auditor": (make_user("auditor", "auditor"), False),
        "admin": (make_user("admin", "administrator"), True),
    }
    seen: dict[str, set[str]] = {}
    pages: dict[str, Page] = {}
    for persona, (user, totp) in users.items():
        page = open_page()
        pages[persona] = page
        sign_in(page, user, totp=totp)
        seen[persona] = sidebar_labels(page)
        assert_no_csp_violations(page)
    assert seen == EXPECTED_NAV

    author_page = pages["author"]
    response = author_page.goto("/admin-area/users/")
    assert response is not None
    assert response.status == 403
    expect(author_page.locator("h1")).to_have_text("Not allowed")
    expect(author_page.locator('[data-nav="Users"]')).to_have_count(0)


def test_deactivated_user_is_thrown_out(
    open_page: Callable[[], Page], make_user: Callable[..., Any]
) -> None:
    """P11-05: deactivating an account ends its open session at the next request, and the
    account can no longer sign in.
    """
    admin = make_user("admin", "administrator")
    leaver = make_user("leaver", "author")

    leaver_page = open_page()
    sign_in(leaver_page, leaver)

    admin_page = open_page()
    sign_in(admin_page, admin, totp=True)
    admin_page.goto(f"/admin-area/users/{leaver.pk}/")
    admin_page.fill("#dr", "left the company")
    dialogs: list[str] = []

    def accept(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    admin_page.once("dialog", accept)
    with admin_page.expect_navigation():
        admin_page.get_by_role("button", name="Deactivate", exact=True).click()
    expect(admin_page).to_have_url(at(f"/admin-area/users/{leaver.pk}/"))
    expect(admin_page.get_by_text("leaver is deactivated")).to_be_visible()
    expect(admin_page.locator(".page-head .badge")).to_contain_text("deactivated")

    # The leaver's open session stops at the next click.
    leaver_page.locator('[data-nav="Profile and security"]').click()
    expect(leaver_page).to_have_url(re.compile(r"/accounts/login/\?next=/profile/$"))
    expect(leaver_page.locator("[data-nav]")).to_have_count(0)

    submit_login(leaver_page, "leaver", PASSWORD)
    assert path_of(leaver_page) != "/"
    expect(leaver_page.locator("[data-nav]")).to_have_count(0)
    expect(leaver_page.get_by_text("Good day")).to_have_count(0)
    assert_no_csp_violations(admin_page)
    assert_no_csp_violations(leaver_page)
    # The form declares data-confirm; app.js turns it into a confirmation before submitting.
    assert dialogs, (
        "deactivation was submitted without the confirmation dialog the form declares "
        "(data-confirm): app.js did not run on the user detail page"
    )
    assert dialogs[0].startswith("Deactivate this account now?")


@pytest.mark.slow
def test_pages_have_no_csp_violations(
    open_page: Callable[[], Page], make_user: Callable[..., Any]
) -> None:
    """CYB-01 hardening: every page renders under the strict Content-Security-Policy
    without a violation or a script error, for the administrator and for IT security.
    """
    admin = make_user("admin", "administrator")
    security = make_user("it_security", "it_security")
    author = make_user("author", "author")

    admin_page = open_page()
    sign_in(admin_page, admin, totp=True)
    for path in (
        "/", "/profile/", "/admin-area/users/", f"/admin-area/users/{author.pk}/",
        "/admin-area/sites/", "/security/events/", "/security/decisions/",
        "/security/integrations/", "/trail/status/",
        f"/trail/history/accounts.user/{author.pk}/", "/api/v1/docs",
    ):
        response = admin_page.goto(path)
        assert response is not None
        assert response.status == 200, f"{path}: {response.status}"
        admin_page.wait_for_load_state("networkidle")
    expect(admin_page.locator("#swagger-ui")).not_to_be_empty()
    assert_no_console_errors(admin_page)

    security_page = open_page()
    sign_in(security_page, security, totp=True)
    for path in ("/security/events/", "/security/decisions/", "/security/integrations/",
                 "/admin-area/users/", "/trail/", "/trail/status/", "/trail/reviews/"):
        response = security_page.goto(path)
        assert response is not None
        assert response.status == 200, f"{path}: {response.status}"
        security_page.wait_for_load_state("networkidle")
    assert_no_console_errors(security_page)
