"""The sources page after a retention run: each source's days and what was removed
(issue 14, item 8)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from cyberqms.web.tests.browser.conftest import SCREENSHOT_DIR
from cyberqms.web.tests.browser.test_identity_browser import (
    as_cli,
    assert_no_csp_violations,
    sign_in,
)

pytestmark = pytest.mark.browser


@override_settings(CYBERQMS_EVENT_RETENTION="default=30,firewall=7")
def test_sources_page_shows_how_long_events_are_kept(
    page: Page, make_user: Callable[..., Any]
) -> None:
    from cyberqms.security.monitoring import retention, services

    services.reload_rules()
    security = make_user("it_security", "it_security")
    with as_cli():
        firewall = services.source_create(actor=security, name="BSL firewall", kind="firewall",
                                          system="PAN-OS", format="syslog")
        lims = services.source_create(actor=security, name="LIMS BSL", kind="lims",
                                      system="LabWare LIMS", format="syslog")
        received = timezone.now() - timedelta(days=10)
        for source in (firewall, lims):
            services.ingest(source, [f"<14>1 {received:%Y-%m-%dT%H:%M:%S}Z host app 1 - - hello"],
                            channel="syslog-tcp", received_at=received)
        retention.apply()
    sign_in(page, security, totp=True)
    page.goto("/monitoring/sources/")
    rows = page.get_by_test_id("source-table").locator("tbody tr")
    expect(rows.filter(has_text="BSL firewall")).to_contain_text("7 days")
    expect(rows.filter(has_text="BSL firewall")).to_contain_text("older removed before")
    expect(rows.filter(has_text="LIMS BSL")).to_contain_text("30 days")
    expect(rows.filter(has_text="LIMS BSL")).to_contain_text("removed before")
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / "event-sources-retention.png"), full_page=True)
    assert_no_csp_violations(page)
