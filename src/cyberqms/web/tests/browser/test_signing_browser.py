"""The e-signature card of a record's page in a real browser: a wrong password brings the
card back open with what was typed, the refusal next to the password and the attempts
left before the lockout (P11-24, P11-33); the reason is optional where the table does not
require one (A11-16)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cyberqms.quality.deviations.tests.factories import a_site, deviation_in_state, ready_to_sign
from cyberqms.web.tests.browser.test_identity_browser import assert_no_csp_violations, sign_in

pytestmark = pytest.mark.browser


def test_a_wrong_password_keeps_the_card_open_with_the_reason_and_the_attempts_left_p11_33(
    open_page: Callable[[], Page], personas: dict[str, Any], settings: Any
) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    reviewer = personas["qa_approver"]
    ready_to_sign(reviewer, personas["admin"])
    deviation = deviation_in_state(personas, "qa_review", site=a_site("MUC"))
    page = open_page()
    sign_in(page, reviewer)
    page.goto(f"/deviations/{deviation.pk}/")

    card = page.locator('details.action-card[data-action="approve"]')
    card.locator("summary").click()
    expect(card.locator("label").filter(has=page.locator("textarea"))).to_contain_text(
        "Reason optional")
    card.locator("textarea[name=reason]").fill("Investigation is sound")
    card.locator("input[name=password]").fill("not my password")
    with page.expect_navigation():
        card.get_by_test_id("confirm-approve").click()

    expect(card).to_have_attribute("open", "")
    expect(card.locator("textarea[name=reason]")).to_have_value("Investigation is sound")
    expect(card.locator("input[name=password]")).to_have_value("")
    expect(card.locator("input[name=password]")).to_have_accessible_description(
        "Not signed: wrong password. 2 attempts left before the account is locked.")
    expect(page.get_by_test_id("record-state")).to_have_text("QA review")
    assert_no_csp_violations(page)
