"""The API's documentation in a real browser: Swagger UI, from django-ninja's bundled files,
lists the operations inside the app shell with no Content-Security-Policy violation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cyberqms.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_api_docs_list_the_operations_without_a_csp_violation(
    page: Page, make_user: Callable[..., Any]
) -> None:
    author = make_user("author", "author")
    page.goto("/accounts/login/")
    page.fill("input[name=login]", author.username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.press("input[name=password]", "Enter")

    page.get_by_role("link", name="API", exact=True).click()
    docs = page.get_by_test_id("api-docs")
    # The schema lists every operation (a quarter of a megabyte): give Swagger UI time to
    # fetch and lay it out on a busy machine.
    expect(docs.locator(".opblock-tag", has_text="Deviations")).to_be_visible(timeout=30_000)
    expect(docs.get_by_text("/api/v1/deviations/{record_id}", exact=True).first).to_be_attached()
    expect(page.locator("aside.sidebar [data-nav='API']")).to_have_class("active")
    assert page.console_errors == []  # type: ignore[attr-defined]  # set by open_page
