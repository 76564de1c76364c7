"""A draft's content as a file, in a real browser: the author uploads a DOCX with the
“Upload content file” form on the version's page and reads it converted in the content
panel, under the line naming the file; a damaged PDF is refused on the same page with the
checks' sentence. axe checks the page with its content file.

The browser fixtures are those of web/tests/browser (Debian's Chromium, the live server, the
console and CSP collection, a screenshot of every page opened).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.template.defaultfilters import filesizeformat
from playwright.sync_api import Locator, Page, expect

from cyberqms.platform.kit.tests.files import docx_file
from cyberqms.web.tests.browser import conftest as browser_fixtures
from cyberqms.web.tests.browser.test_identity_browser import (
    assert_no_console_errors,
    at,
    sign_in,
)
from cyberqms.web.tests.browser.test_interface_browser import blocking_violations

from .kit import CREATE

pytestmark = pytest.mark.browser

# The browser journeys' fixtures (web/tests/browser/conftest.py), which pytest offers only
# to the tests under that folder.
browser = browser_fixtures.browser
live_server = browser_fixtures.live_server
open_page = browser_fixtures.open_page
SCREENSHOT_DIR = browser_fixtures.SCREENSHOT_DIR

NUMBER = "SOP-IT-0001 v1.0"  # the first SOP of IT, first issue
HEADING = "1 Procedure"
PARAGRAPHS = ("Access is requested in the service desk.", "The system owner approves it.")
DOCX = docx_file(*PARAGRAPHS, heading=HEADING)
BROKEN_PDF = b"%PDF-1.4 broken"


@pytest.fixture
def author(make_user: Callable[..., Any]) -> Any:
    return make_user("author", "author")


@pytest.fixture
def draft(author: Any) -> Any:
    """SOP-IT-0001 v1.0, a draft of the author's with no content yet."""
    from cyberqms.platform.accounts.tests.factories import SiteFactory
    from cyberqms.platform.kit.record_services import record_create
    from cyberqms.platform.kit.records import kind_by_slug

    site = SiteFactory.create(code="MUC", name="Munich plant")
    return record_create(kind_by_slug("documents"), actor=author, site=site,
                         values={**CREATE, "body": ""})


def version_page(open_page: Callable[[], Page], user: Any, version: Any) -> Page:
    page = open_page()
    sign_in(page, user)
    page.goto(f"/documents/{version.pk}/")
    expect(page.get_by_test_id("record-state")).to_have_text("Draft")
    return page


def upload(page: Page, path: Path) -> None:
    """Choose the file in the “Upload content file” form and send it; wait for the page
    the upload leads back to."""
    form = page.get_by_test_id("content-upload")
    form.locator("input[type=file]").set_input_files(str(path))
    with page.expect_navigation():
        form.get_by_role("button", name="Upload content file").click()


def flash(page: Page) -> Locator:
    return page.locator("ul.messages")


def axe_findings(page: Page) -> list[str]:
    """axe's serious and critical violations, each as its rule, help and first targets."""
    return [f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(v['targets'])}"
            for v in blocking_violations(page)]


def keep_screenshot(page: Page, name: str) -> None:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=True)


def test_an_uploaded_docx_is_shown_converted_under_its_file_line(
    open_page: Callable[[], Page], author: Any, draft: Any, tmp_path: Path
) -> None:
    path = tmp_path / "SOP access.docx"
    path.write_bytes(DOCX)
    page = version_page(open_page, author, draft)
    content = page.get_by_test_id("document-content")
    expect(content.locator("p.empty")).to_have_text(
        "No content yet: write it in Markdown (Edit) or upload a DOCX or PDF.")

    upload(page, path)

    expect(page).to_have_url(at(f"/documents/{draft.pk}/"))
    expect(flash(page)).to_have_text(f"SOP access.docx is now the content of {NUMBER}.")
    body = content.locator("article.document-body")
    expect(body.locator("h1")).to_have_text(HEADING)
    expect(body.locator("p")).to_have_text(list(PARAGRAPHS))
    digest = hashlib.sha256(DOCX).hexdigest()
    expect(content.get_by_test_id("content-file")).to_have_text(
        f"Content file: SOP access.docx ({filesizeformat(len(DOCX))}, SHA-256 "
        f"{digest[:16]}…): converted for reading; the controlled copy adds its images.")
    keep_screenshot(page, "content-docx-uploaded")
    assert_no_console_errors(page)


def test_a_damaged_pdf_is_refused_on_the_page_saying_why(
    open_page: Callable[[], Page], author: Any, draft: Any, tmp_path: Path
) -> None:
    path = tmp_path / "sop.pdf"
    path.write_bytes(BROKEN_PDF)
    page = version_page(open_page, author, draft)

    upload(page, path)

    expect(page).to_have_url(at(f"/documents/{draft.pk}/"))
    expect(page.locator("h1").first).to_have_text(f"{NUMBER} {CREATE['title']}")
    expect(flash(page).locator("li.error")).to_have_text(
        "File: The PDF is damaged: it cannot be read.")
    expect(page.get_by_test_id("content-file")).to_have_count(0)
    keep_screenshot(page, "content-pdf-refused")
    assert_no_console_errors(page)


def test_the_page_with_its_content_file_has_no_blocking_accessibility_violation(
    open_page: Callable[[], Page], author: Any, draft: Any
) -> None:
    from cyberqms.quality.documents.services import document_content_upload

    document_content_upload(draft, actor=author, filename="sop.docx", data=DOCX)
    page = version_page(open_page, author, draft)
    expect(page.get_by_test_id("content-file")).to_be_visible()

    assert axe_findings(page) == []
