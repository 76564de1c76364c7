"""Training gates a signature, end to end in a real browser (P11-13): deviation approval
needs current training on the deviation-management SOP. A minor revision of that SOP is
written, reviewed and approved on the document pages and takes effect at once; the QA
reviewer whose training was current on v1.0 finds the deviation's “Approve” step disabled,
with a sentence naming the SOP; they read v1.1 and sign “Read and understood” on My
training; then they approve the deviation.

What is not the point of the journey is arranged through the services, as the other
browser tests do: the SOP in force, the QA reviewers' curriculum, v1.0 read and signed, the
approved change control under which the requirement is added and the SOP revised, and a
deviation in QA review. Each persona works in their own browser context. The browser
fixtures are those of web/tests/browser (Debian's Chromium, the live server, the console
and CSP collection, a screenshot of every page opened).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from cyberqms.conftest import PASSWORD
from cyberqms.web.tests.browser import conftest as browser_fixtures
from cyberqms.web.tests.browser.test_identity_browser import (
    assert_no_console_errors,
    at,
    fresh_totp_code,
    sign_in,
)

pytestmark = pytest.mark.browser

# The browser journeys' fixtures (web/tests/browser/conftest.py), which pytest offers only
# to the tests under that folder: Chromium, the live server answering one request at a
# time, and pages that collect console errors and CSP violations and leave a screenshot.
browser = browser_fixtures.browser
live_server = browser_fixtures.live_server
open_page = browser_fixtures.open_page
SCREENSHOT_DIR = browser_fixtures.SCREENSHOT_DIR

TITLE = "Deviation management"
CHANGE_SUMMARY = "Classification of a deviation within one working day."
REVIEW_REASON = "The one-day classification matches QA practice."
APPROVAL_REASON = "Reviewed and fit for use."
DEVIATION_REASON = "Investigation and root cause are sound."


def arrange(personas: dict[str, Any]) -> tuple[Any, Any, Any]:
    """SOP-QA-0001 v1.0 in force; the QA reviewers' curriculum holds it and the QA
    reviewer has read and signed v1.0; an approved change control under which deviation
    approval needs the SOP; a deviation in QA review. Returns (v1.0, change, deviation)."""
    from cyberqms.platform.accounts.tests.factories import SiteFactory
    from cyberqms.platform.kit.records import kind_by_slug
    from cyberqms.platform.kit.tests.kit import ready_to_sign, record_in_state, signature
    from cyberqms.quality.documents.models import DocumentVersion
    from cyberqms.quality.training import services
    from cyberqms.quality.training.models import TrainingAssignment

    qa_manager, reviewer = personas["qa_manager"], personas["qa_approver"]
    site = SiteFactory.create(code="MUC", name="Munich plant")
    sop = record_in_state(kind_by_slug("documents"), "effective", personas, site=site,
                          title=TITLE, doc_type="sop", department="QA",
                          cyber_relevant=False)
    assert isinstance(sop, DocumentVersion)
    services.curriculum_save(actor=qa_manager, name="QA review", roles=["qa_reviewer"],
                             for_everyone=False, documents=[sop.document])
    actor = ready_to_sign(reviewer, personas["admin"])
    services.reading_acknowledge(
        TrainingAssignment.objects.get(person=reviewer, version=sop), actor=actor,
        signature=signature(actor))
    change = record_in_state(kind_by_slug("changes"), "approved", personas, site=site)
    services.requirement_add(actor=qa_manager, step="deviations.deviation.approve",
                             document_number=sop.document.number,
                             change_number=change.number)
    deviation = record_in_state(kind_by_slug("deviations"), "qa_review", personas, site=site)
    # The signers of the journey: identity verified (P11-22); each ticks the
    # accountability statement at their first signature if they have not yet.
    for name in ("process_owner", "qa_manager"):
        ready_to_sign(personas[name], personas["admin"])
    for user in personas.values():
        user.refresh_from_db()
        user.forget_access_cache()
    return sop, change, deviation


def signed_in(open_page: Callable[[], Page], user: Any, path: str) -> Page:
    page = open_page()
    sign_in(page, user, totp=user.has_mfa())
    page.goto(path)
    return page


def flash(page: Page) -> Locator:
    return page.locator("ul.messages")


def fill_signature(form: Locator) -> None:
    """The statement where the form asks for it (a first signature), the password, and a
    fresh authenticator code where the form asks for one (the session's first signature)."""
    statement = form.locator("input[name=accept_statement]")
    if statement.count():
        statement.check()
    form.locator("input[name=password]").fill(PASSWORD)
    otp = form.locator("input[name=otp]")
    if otp.count():
        # allauth refuses a code used once (the sign-in may have used this one): the live
        # server shares this process's cache, so the used codes are forgotten.
        cache.clear()
        otp.fill(fresh_totp_code())


def take(page: Page, action: str, *, reason: str = "", sign: bool = False) -> None:
    """Open the step's card, fill it and confirm; wait for the page it leads back to."""
    card = page.locator(f'details.action-card[data-action="{action}"]')
    card.locator("summary").click()
    if reason:
        card.locator("textarea[name=reason]").fill(reason)
    if sign:
        fill_signature(card)
    with page.expect_navigation():
        card.get_by_test_id(f"confirm-{action}").click()


@pytest.mark.slow
def test_a_new_sop_version_gates_deviation_approval_until_it_is_read_and_signed(
    open_page: Callable[[], Page], personas: dict[str, Any]
) -> None:
    from cyberqms.quality.documents.models import DocumentVersion
    from cyberqms.quality.training.models import TrainingAssignment

    sop, change, deviation = arrange(personas)
    author, owner = personas["author"], personas["process_owner"]
    qa_manager, reviewer = personas["qa_manager"], personas["qa_approver"]
    number = sop.document.number
    assert (number, sop.number) == ("SOP-QA-0001", "SOP-QA-0001 v1.0")
    today = timezone.localdate().isoformat()

    # 1. The author starts a minor revision of the SOP in force under the approved change,
    #    names the process owner as reviewer and today as the effective date, and sends
    #    the draft for review.
    author_page = signed_in(open_page, author, f"/documents/{sop.pk}/")
    expect(author_page.get_by_test_id("record-state")).to_have_text("Effective")
    revise = author_page.get_by_test_id("revise-form")
    revise.locator("select[name=size]").select_option("minor")
    revise.locator("input[name=change_summary]").fill(CHANGE_SUMMARY)
    revise.locator("input[name=change_number]").fill(change.number)
    with author_page.expect_navigation():
        revise.get_by_role("button", name="Start revision").click()
    draft = DocumentVersion.objects.get(document=sop.document, major=1, minor=1)
    path = f"/documents/{draft.pk}/"
    expect(author_page).to_have_url(at(path))
    expect(flash(author_page)).to_have_text(
        f"{number} v1.1 started as a draft: edit it, then send it for review.")
    expect(author_page.get_by_test_id("record-state")).to_have_text("Draft")
    expect(author_page.get_by_test_id("document-version")).to_have_text("version 1.1")
    edit = author_page.get_by_test_id("edit-form")
    edit.locator("summary").click()
    edit.locator("#id_reviewer").select_option(str(owner.pk))
    edit.locator("#id_effective_date").fill(today)
    with author_page.expect_navigation():
        edit.get_by_test_id("save-record").click()
    expect(flash(author_page)).to_have_text(f"{number} v1.1 saved.")
    take(author_page, "submit")
    expect(flash(author_page)).to_have_text("Send for review: done.")
    expect(author_page.get_by_test_id("record-state")).to_have_text("In review")

    # 2. The process owner signs “Reviewed”; the QA manager signs “Approved”, and the
    #    version is in force on the page the approval leads back to.
    owner_page = signed_in(open_page, owner, path)
    take(owner_page, "review", reason=REVIEW_REASON, sign=True)
    expect(flash(owner_page)).to_have_text("Review: done and signed (Reviewed).")
    expect(owner_page.get_by_test_id("record-state")).to_have_text("In review")
    manager_page = signed_in(open_page, qa_manager, path)
    take(manager_page, "approve", reason=APPROVAL_REASON, sign=True)
    expect(flash(manager_page)).to_have_text("Approve: done and signed (Approved).")
    expect(manager_page.get_by_test_id("record-state")).to_have_text("Effective")
    draft.refresh_from_db()
    sop.refresh_from_db()
    assert (draft.state, str(draft.effective_date), sop.state) == (
        "effective", today, "superseded")

    # 3. The QA reviewer's training on the SOP is no longer current: the deviation's
    #    “Approve” step is shown disabled, with the sentence naming the SOP.
    deviation_path = f"/deviations/{deviation.pk}/"
    reviewer_page = signed_in(open_page, reviewer, deviation_path)
    expect(reviewer_page.get_by_test_id("record-state")).to_have_text("QA review")
    refused = reviewer_page.locator('.action-card.refused[data-action="approve"]')
    expect(refused.locator("button")).to_have_text("Approve")
    expect(refused.locator("button")).to_be_disabled()
    expect(refused.locator("p")).to_have_text(
        f"Your training on {number} ({TITLE}) is not current: read and sign it first "
        "(My training).")
    expect(reviewer_page.locator('details.action-card[data-action="approve"]')).to_have_count(0)
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    reviewer_page.screenshot(path=str(SCREENSHOT_DIR / "training-approval-refused.png"),
                             full_page=True)

    # 4. On My training the reviewer opens the reading of v1.1 and signs it.
    reading = TrainingAssignment.objects.get(person=reviewer, version=draft)
    reviewer_page.goto("/training/mine/")
    to_do = reviewer_page.get_by_test_id("training-open")
    expect(to_do.locator("tbody tr")).to_have_count(1)
    due = (timezone.localdate() + dt.timedelta(days=14)).isoformat()
    expect(to_do.locator("tbody tr td")).to_have_text([
        re.compile(rf"^Read {number} v1\.1: {TITLE}\s*Document reading \(read and understood\)$"),
        f"{number} v1.1 in force", due, "Read and sign"])
    with reviewer_page.expect_navigation():
        to_do.get_by_test_id(f"read-{reading.pk}").click()
    expect(reviewer_page).to_have_url(at(f"/training/mine/{reading.pk}/"))
    expect(reviewer_page.locator("h1").first).to_have_text(f"{number} v1.1 {TITLE}")
    expect(reviewer_page.get_by_test_id("reading").locator(".notice.info")).to_have_text(
        f"What changed in this version: {CHANGE_SUMMARY}")
    form = reviewer_page.get_by_test_id("acknowledge-form")
    fill_signature(form)
    with reviewer_page.expect_navigation():
        form.get_by_test_id("acknowledge").click()
    expect(reviewer_page).to_have_url(at("/training/mine/"))
    expect(flash(reviewer_page)).to_have_text(
        f"{number} v1.1: read and understood, signed.")
    expect(to_do.locator("tbody tr")).to_have_text(
        "Nothing to do: your training is current.")

    # 5. Back on the deviation, the reviewer signs “Approved”.
    reviewer_page.goto(deviation_path)
    expect(reviewer_page.locator('.action-card.refused[data-action="approve"]')).to_have_count(0)
    take(reviewer_page, "approve", reason=DEVIATION_REASON, sign=True)
    expect(flash(reviewer_page)).to_have_text("Approve: done and signed (Approved).")
    expect(reviewer_page.get_by_test_id("record-state")).to_have_text("Approved")
    deviation.refresh_from_db()
    assert deviation.state == "approved"
    for page in (author_page, owner_page, manager_page, reviewer_page):
        assert_no_console_errors(page)
