"""The search in a real browser: from the box in the top bar to the results page and the
record, and a complete number straight to the record, under the strict
Content-Security-Policy."""

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


def deviation(make_user: Callable[..., Any], title: str) -> Any:
    from cyberqms.platform.accounts.tests.factories import SiteFactory
    from cyberqms.platform.kit.record_services import record_create
    from cyberqms.platform.kit.records import kind_by_slug
    from cyberqms.platform.kit.tests.kit import samples

    kind = kind_by_slug("deviations")
    author = make_user("author", "author")
    with as_cli():
        return record_create(kind, actor=author, site=SiteFactory.create(code="BSL"),
                             values={**samples(kind).CREATE, "owner": author, "title": title})


def search_from_the_top_bar(page: Page, words: str) -> None:
    box = page.get_by_role("search", name="Find a record").get_by_label(
        "Record number or title")
    box.fill(words)
    with page.expect_navigation():
        box.press("Enter")


def test_the_top_bar_finds_a_record_by_its_title_and_opens_it(
        page: Page, make_user: Callable[..., Any]) -> None:
    record = deviation(make_user, "Cold room 3 excursion")
    auditor = make_user("auditor", "auditor")
    sign_in(page, auditor)
    search_from_the_top_bar(page, "cold room")
    expect(page).to_have_url(at("/search/"))
    hits = page.get_by_test_id("search-family")
    expect(hits).to_have_count(1)
    expect(hits.get_by_role("heading")).to_have_text("Deviations 1")
    expect(hits.locator("tbody tr")).to_have_text(
        [f"{record.number} Cold room 3 excursion Draft BSL"], use_inner_text=True)
    page.get_by_role("link", name=record.number).click()
    expect(page).to_have_url(at(f"/deviations/{record.pk}/"))
    assert_no_console_errors(page)


def test_a_complete_number_opens_the_record(
        page: Page, make_user: Callable[..., Any]) -> None:
    record = deviation(make_user, "Cold room 3 excursion")
    sign_in(page, make_user("auditor", "auditor"))
    search_from_the_top_bar(page, record.number.lower())
    expect(page).to_have_url(at(f"/deviations/{record.pk}/"))
    expect(page.locator("h1")).to_contain_text(record.number)
    assert_no_console_errors(page)
