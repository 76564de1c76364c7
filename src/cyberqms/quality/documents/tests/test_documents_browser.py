"""Document control end to end in a real browser: the author writes a new SOP on the create
page and sends it for review; the process owner, its named reviewer, signs “Reviewed”; QA
signs “Approved”. The effective date is today, so cyberqms makes the version effective as
soon as the approval commits (an on-commit step in the same request): the page QA lands on
already reads “Effective”. The controlled copy on that page answers a PDF.

Each persona works in their own browser context and sees only what the pages show. The
browser fixtures are those of web/tests/browser (Debian's Chromium, the live server, the
console and CSP collection, a screenshot of every page opened); axe checks the document
page in force.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from cyberqms.conftest import PASSWORD
from cyberqms.web.tests import journey as J
from cyberqms.web.tests.browser import conftest as browser_fixtures
from cyberqms.web.tests.browser.test_identity_browser import (
    as_cli,
    assert_no_console_errors,
    at,
    fresh_totp_code,
    sign_in,
)
from cyberqms.web.tests.browser.test_interface_browser import blocking_violations

pytestmark = pytest.mark.browser

# The browser journeys' fixtures (web/tests/browser/conftest.py), which pytest offers only
# to the tests under that folder: Chromium, the live server answering one request at a
# time, and pages that collect console errors and CSP violations and leave a screenshot.
browser = browser_fixtures.browser
live_server = browser_fixtures.live_server
open_page = browser_fixtures.open_page
SCREENSHOT_DIR = browser_fixtures.SCREENSHOT_DIR

TITLE = "Handling of temperature excursions in cold storage"
PURPOSE = "How the warehouse records, assesses and escalates a temperature excursion."
BODY = (
    "# Purpose\n\n"
    "Product stays within its labelled storage conditions.\n\n"
    "# Procedure\n\n"
    "1. Read the logger.\n"
    "2. Record the excursion as a **deviation**.\n"
    "3. Quarantine the affected batches.\n"
)
NUMBER = "SOP-QA-0001 v1.0"  # the first SOP of QA, first issue
REVIEW_REASON = "Steps match the warehouse practice."
APPROVAL_REASON = "Reviewed and fit for use."


def cast(make_user: Callable[..., Any]) -> tuple[dict[str, Any], Any]:
    """The author, the process owner (the reviewer) and a QA approver; the administrator
    who verified the signers' identity (P11-22); the site. Nobody has accepted the
    signature statement yet: each signer ticks it at their first signature."""
    from cyberqms.platform.accounts.services import user_verify_identity
    from cyberqms.platform.accounts.tests.factories import SiteFactory

    people = {name: make_user(name, role) for name, role in (
        ("admin", "administrator"), ("author", "author"),
        ("process_owner", "process_owner"), ("qa_approver", "qa_reviewer"))}
    with as_cli():
        site = SiteFactory.create(code="MUC", name="Munich plant")
        for name in ("process_owner", "qa_approver"):
            user_verify_identity(people[name], actor=people["admin"], method="Passport")
            people[name].refresh_from_db()
    for user in people.values():
        user.forget_access_cache()
    return people, site


def signed_in(open_page: Callable[[], Page], user: Any, path: str) -> Page:
    page = open_page()
    sign_in(page, user, totp=user.has_mfa())
    page.goto(path)
    return page


def flash(page: Page) -> Locator:
    return page.locator("ul.messages")


def take(page: Page, action: str, *, reason: str = "", sign: bool = False) -> None:
    """Open the step's card, fill it (the statement, password and code where the card asks
    for them) and confirm; wait for the page the step leads back to."""
    card = page.locator(f'details.action-card[data-action="{action}"]')
    card.locator("summary").click()
    if reason:
        card.locator("textarea[name=reason]").fill(reason)
    if sign:
        statement = card.locator("input[name=accept_statement]")
        if statement.count():
            statement.check()
        card.locator("input[name=password]").fill(PASSWORD)
        otp = card.locator("input[name=otp]")
        if otp.count():
            # allauth refuses a code used once (the sign-in may have used this one): the
            # live server shares this process's cache, so the used codes are forgotten.
            cache.clear()
            otp.fill(fresh_totp_code())
    with page.expect_navigation():
        card.get_by_test_id(f"confirm-{action}").click()


def signature_rows(page: Page) -> Locator:
    page.locator('nav.tabs [data-tab="signatures"]').click()
    panel = page.locator("#tab-signatures")
    expect(panel).to_be_visible()
    return panel.locator("tr.manifestation")


def assert_signed(row: Locator, meaning: str, user: Any, reason: str) -> None:
    cells = row.locator("td")
    expect(cells.nth(0)).to_have_text(meaning)
    expect(cells.nth(1)).to_have_text(f"{user.printed_name} ({user.username})")
    expect(cells.nth(2)).to_have_text(J.SIGNED_AT)
    expect(cells.nth(3)).to_have_text(reason)
    expect(cells.nth(4).locator(".badge")).to_have_text("current")


@pytest.mark.slow
def test_a_new_sop_is_written_reviewed_approved_and_in_force_the_same_day(
    open_page: Callable[[], Page], make_user: Callable[..., Any]
) -> None:
    from cyberqms.quality.documents.models import DocumentVersion

    people, site = cast(make_user)
    author, owner, approver = people["author"], people["process_owner"], people["qa_approver"]
    today = timezone.localdate().isoformat()

    # 1. The author writes the SOP on the create page and sends it for review.
    author_page = signed_in(open_page, author, "/documents/new/")
    author_page.select_option("#id_site", site.code)
    author_page.fill("#id_title", TITLE)
    author_page.select_option("#id_doc_type", "sop")
    author_page.select_option("#id_department", "QA")
    author_page.fill("#id_description", PURPOSE)
    author_page.fill("#id_body", BODY)
    expect(author_page.locator("#id_owner")).to_have_value(str(author.pk))
    author_page.select_option("#id_reviewer", str(owner.pk))
    author_page.fill("#id_effective_date", today)
    with author_page.expect_navigation():
        author_page.get_by_test_id("create-record").click()
    version = DocumentVersion.objects.get(title=TITLE)
    path = f"/documents/{version.pk}/"
    expect(author_page).to_have_url(at(path))
    expect(flash(author_page)).to_have_text(f"{NUMBER} recorded: draft.")
    expect(author_page.locator("h1").first).to_have_text(f"{NUMBER} {TITLE}")
    expect(author_page.get_by_test_id("record-state")).to_have_text("Draft")
    expect(author_page.get_by_test_id("document-version")).to_have_text("version 1.0")
    body = author_page.locator("article.document-body")
    expect(body.locator("h1")).to_have_text(["Purpose", "Procedure"])
    expect(body.locator("ol li")).to_have_text([
        "Read the logger.", "Record the excursion as a deviation.",
        "Quarantine the affected batches."])
    expect(body.locator("strong")).to_have_text("deviation")
    take(author_page, "submit")
    expect(flash(author_page)).to_have_text("Send for review: done.")
    expect(author_page.get_by_test_id("record-state")).to_have_text("In review")

    # 2. The process owner, the named reviewer, signs “Reviewed”.
    owner_page = signed_in(open_page, owner, path)
    expect(owner_page.locator('details.action-card[data-action="review"] summary')).to_have_text(
        "Review · e-signature")
    take(owner_page, "review", reason=REVIEW_REASON, sign=True)
    expect(flash(owner_page)).to_have_text("Review: done and signed (Reviewed).")
    expect(owner_page.get_by_test_id("record-state")).to_have_text("In review")

    # 3. QA signs “Approved”; the effective date is today, so the version is in force on
    #    the page the approval leads back to.
    approver_page = signed_in(open_page, approver, path)
    expect(approver_page.get_by_test_id("record-state")).to_have_text("In review")
    take(approver_page, "approve", reason=APPROVAL_REASON, sign=True)
    expect(flash(approver_page)).to_have_text("Approve: done and signed (Approved).")
    expect(approver_page.get_by_test_id("record-state")).to_have_text("Effective")
    effective = approver_page.locator(".record-top dl.facts div").filter(
        has=approver_page.locator("dt", has_text="Effective date")).locator("dd")
    expect(effective).to_have_text(re.compile(
        rf"^{today} \(in force since \d{{1,2}} \w{{3}} \d{{4}}, \d{{2}}:\d{{2}} UTC\)$"))
    current = approver_page.get_by_test_id("document-versions").locator("tr.current")
    expect(current.locator(".badge")).to_have_text("Effective")
    rows = signature_rows(approver_page)
    expect(rows).to_have_count(2)
    assert_signed(rows.nth(0), "Reviewed", owner, REVIEW_REASON)
    assert_signed(rows.nth(1), "Approved", approver, APPROVAL_REASON)
    version.refresh_from_db()
    assert (version.state, str(version.effective_date)) == ("effective", today)

    # 4. The controlled copy is a PDF, fetched in QA's session.
    copy = approver_page.get_by_test_id("controlled-copy")
    expect(copy).to_have_attribute("href", f"{path}controlled-copy.pdf")
    response = approver_page.request.get(copy.get_attribute("href") or "")
    assert (response.status, response.headers["content-type"],
            response.headers["content-disposition"], response.body()[:5]) == (
        200, "application/pdf", 'attachment; filename="SOP-QA-0001_v1.0.pdf"', b"%PDF-")

    # 5. The page in force: no blocking accessibility violation, a full-page screenshot.
    approver_page.goto(path)
    expect(approver_page.get_by_test_id("record-state")).to_have_text("Effective")
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    approver_page.screenshot(path=str(SCREENSHOT_DIR / "document-effective.png"),
                             full_page=True)
    assert blocking_violations(approver_page) == []
    for page in (author_page, owner_page, approver_page):
        assert_no_console_errors(page)
