"""Audit-trail journeys in a real browser: the auditor searches the trail and reads a record's
history (also as the History tab of the user page, loaded by htmx); IT security verifies the
trail on demand. Both under the strict Content-Security-Policy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cyberqms.web.tests.browser.test_identity_browser import (
    as_cli,
    assert_no_console_errors,
    at,
    sign_in,
)

pytestmark = pytest.mark.browser


def record_first_password_changes() -> None:
    """The personas' rows are written by a factory; recording their first password change
    through the service makes the trail agree with them, as in production."""
    from cyberqms.platform.accounts.models import User
    from cyberqms.platform.accounts.services import user_password_changed

    with as_cli():
        for user in User.objects.all():
            user_password_changed(user)


def test_auditor_filters_the_trail_and_opens_a_history(
    page: Page, make_user: Callable[..., Any]
) -> None:
    """P11-09, AL-09: the inspector finds who deactivated an account, and why, from the
    viewer's filters, and reads the record's history with old and new values."""
    from cyberqms.platform.accounts.services import user_create, user_deactivate

    admin = make_user("admin", "administrator")
    auditor = make_user("auditor", "auditor")
    with as_cli():
        nina = user_create(actor=admin, username="nina", full_name="Nina Null",
                           email="nina@x.test", reason="joiner, ticket HR-7").user
        user_deactivate(nina, actor=admin, reason="leaver, ticket HR-9")

    sign_in(page, auditor)
    page.locator('[data-nav="Audit trail"]').click()
    expect(page).to_have_url(at("/trail/"))
    page.fill("#id_user", "admin")
    page.fill("#id_action", "accounts.user.deact")
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    rows = page.get_by_test_id("entries").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("leaver, ticket HR-9")
    expect(rows.first).to_contain_text("is_active: true → false")

    with page.expect_navigation():
        rows.first.get_by_test_id("history-link").click()
    expect(page).to_have_url(at(f"/trail/history/accounts.user/{nina.pk}/"))
    expect(page.locator("h1")).to_have_text("History of nina")
    history = page.get_by_test_id("history-table").locator("tbody tr")
    expect(history).to_have_count(2)
    expect(history.nth(0).locator("td").nth(3)).to_have_text("accounts.user.deactivate")
    expect(history.nth(1).locator("td").nth(3)).to_have_text("accounts.user.create")
    assert_no_console_errors(page)

    # The same history is a tab of the user's page, fetched when the tab is opened.
    page.goto(f"/admin-area/users/{nina.pk}/")
    expect(page.locator("#tab-history")).to_be_hidden()
    page.get_by_test_id("history-tab").click()
    expect(page.locator("#tab-overview")).to_be_hidden()
    tab_rows = page.locator("#tab-history [data-testid=history-table] tbody tr")
    expect(tab_rows).to_have_count(2)
    expect(tab_rows.nth(0)).to_contain_text("leaver, ticket HR-9")
    assert page.url.endswith("#history")
    page.get_by_role("tab", name="Overview").click()
    expect(page.locator("#tab-overview")).to_be_visible()
    expect(page.locator("#tab-history")).to_be_hidden()
    assert_no_console_errors(page)


def test_it_security_verifies_the_trail_now(page: Page, make_user: Callable[..., Any]) -> None:
    """P11-06: an on-demand verification recomputes every hash and checkpoint, reconciles
    the records, and shows its result at once."""
    security = make_user("it_security", "it_security")
    record_first_password_changes()

    sign_in(page, security, totp=True)
    page.locator('[data-nav="Trail status"]').click()
    expect(page).to_have_url(at("/trail/status/"))
    expect(page.get_by_test_id("kpi-last")).to_have_text("—")
    with page.expect_navigation():
        page.get_by_role("button", name="Verify now").click()
    expect(page).to_have_url(at("/trail/status/"))
    expect(page.locator("ul.messages")).to_contain_text("Verification passed:")
    first = page.get_by_test_id("verifications").locator("tbody tr").first
    expect(first.get_by_test_id("result")).to_have_text("Passed")
    expect(page.get_by_test_id("kpi-last")).to_have_text("Passed")
    expect(page.get_by_test_id("kpi-flags")).to_have_text("0")
    assert_no_console_errors(page)
