"""Security alerts in a real browser (A11D-04): an alert raised while IT security has a page
open shows in the live banner within 5 seconds; the banner leads to the alert list and the
triage page, where the alert is acknowledged and then resolved with a reason."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from cyberqms.web.tests.browser.conftest import SCREENSHOT_DIR
from cyberqms.web.tests.browser.test_identity_browser import (
    as_cli,
    assert_no_csp_violations,
    at,
    sign_in,
)

pytestmark = pytest.mark.browser


def test_new_alert_shows_in_the_banner_within_5_seconds_a11d_04(
    page: Page, make_user: Callable[..., Any]
) -> None:
    from cyberqms.security.monitoring import services
    from cyberqms.security.monitoring.models import Alert

    services.reload_rules()
    security = make_user("it_security", "it_security")
    with as_cli():
        lims = services.source_create(actor=security, name="LIMS BSL", kind="lims",
                                      system="LabWare LIMS", format="syslog")
    sign_in(page, security, totp=True)
    banner = page.get_by_test_id("alert-banner-link")
    expect(banner).to_have_count(0)
    page.wait_for_timeout(500)  # the banner's first poll has answered: nothing to show

    start = timezone.now() - timedelta(minutes=2)
    lines = [
        f"<38>1 {(start + timedelta(seconds=5 * i)).strftime('%Y-%m-%dT%H:%M:%S')}Z lims01 "
        f"sshd 4242 - - Failed password for qc_analyst from 10.20.0.7 port 22 ssh2"
        for i in range(12)
    ]
    result = services.ingest(lims, lines, channel="syslog-tcp")
    [alert] = result.alerts
    expect(banner).to_be_visible(timeout=5000)
    expect(banner).to_contain_text("1 new high or critical security alert")
    expect(banner).to_contain_text(alert.number)

    banner.click()
    expect(page).to_have_url(at("/monitoring/alerts/"))
    expect(page.locator(f'tr[data-alert="{alert.number}"]')).to_be_visible()
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / "alerts-list.png"), full_page=True)

    page.get_by_test_id("alert-table").get_by_role("link", name=alert.number).click()
    expect(page.get_by_test_id("alert-state")).to_have_text("New")
    page.locator("details.event-json summary").first.click()
    expect(page.locator("details.event-json pre").first).to_contain_text('"class_uid": 3002')
    page.screenshot(path=str(SCREENSHOT_DIR / "alert-triage.png"), full_page=True)

    page.locator("details[data-action=acknowledge] summary").click()
    page.get_by_test_id("confirm-acknowledge").click()
    expect(page.get_by_test_id("alert-state")).to_have_text("Acknowledged")
    expect(banner).to_have_count(0, timeout=5000)  # acknowledged: no longer new

    page.locator("details[data-action=resolve] summary").click()
    page.get_by_test_id("confirm-resolve").click()
    expect(page.get_by_test_id("reason-error")).to_have_text("A reason is required.")
    page.fill("#reason-resolve", "Analyst forgot a changed password; confirmed by phone.")
    page.get_by_test_id("confirm-resolve").click()
    expect(page.get_by_test_id("alert-state")).to_have_text("Resolved")

    page.get_by_test_id("history-tab").click()
    expect(page.locator("#tab-history")).to_contain_text("monitoring.alert.resolve")
    expect(page.locator("#tab-history")).to_contain_text("confirmed by phone")
    assert Alert.objects.get().state == "resolved"
    assert_no_csp_violations(page)  # the refused step answers 422 on purpose
