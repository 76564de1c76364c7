"""The monitoring overview in a real browser (issue 5, deliverable 8): IT security reaches
it from the navigation, reads the tiles and the charts (server-rendered SVG, no script,
no CSP violation), narrows the figures to one site and a week with the filter, and goes
from the quarantine panel to the quarantined events."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from cyberqms.web.tests.browser.conftest import SCREENSHOT_DIR
from cyberqms.web.tests.browser.test_identity_browser import (
    assert_no_console_errors,
    at,
    sign_in,
)

pytestmark = pytest.mark.browser


def _history() -> None:
    """Two sites, three rules, a false positive, events with a quarantined one."""
    from cyberqms.platform.accounts.models import Site
    from cyberqms.security.monitoring.models import Alert, EventSource, RawEvent
    from cyberqms.security.monitoring.rollups import rebuild

    now = timezone.now().replace(microsecond=0)
    bsl = Site.objects.create(code="BSL", name="Basel", time_zone="Europe/Zurich")
    dub = Site.objects.create(code="DUB", name="Dublin", time_zone="Europe/Dublin")
    lims = EventSource.objects.create(name="LIMS BSL", kind="lims", site=bsl, system="LIMS",
                                      format="syslog", created_at=now - timedelta(days=40))
    fw = EventSource.objects.create(name="FW DUB", kind="firewall", site=dub, system="FW",
                                    format="cef", created_at=now - timedelta(days=40))
    rows = [
        # number, rule, title, level, site, source, days ago, seconds to detect, state
        ("ALERT-2026-0101", "bf", "Brute force against one account", "high", bsl, lims, 20,
         40, "resolved"),
        ("ALERT-2026-0102", "bf", "Brute force against one account", "high", dub, fw, 12, 25,
         "false_positive"),
        ("ALERT-2026-0103", "plc", "PLC change without change control", "critical", dub, fw,
         5, 70, "investigating"),
        ("ALERT-2026-0104", "off", "GxP record modified off-hours", "medium", bsl, lims, 2,
         130, "new"),
        ("ALERT-2026-0105", "bf", "Brute force against one account", "high", bsl, lims, 1, 15,
         "resolved"),
    ]
    for number, rule, title, level, site, source, ago, detect, state in rows:
        created = now - timedelta(days=ago, hours=3)
        closed = created + timedelta(hours=2) if state in ("resolved", "false_positive") else None
        Alert.objects.create(
            number=number, rule_id=rule, title=title, level=level, site=site, source=source,
            state=state, first_seen=created - timedelta(seconds=detect), last_seen=created,
            created_at=created,
            acknowledged_at=created + timedelta(minutes=12) if state != "new" else None,
            closed_at=closed)
    for i in range(40):
        source = lims if i % 2 else fw
        received = now - timedelta(days=i % 9, hours=i % 5, minutes=i)
        status, reason = ("quarantined", "bad_pri") if i % 13 == 0 else ("accepted", "")
        payload = f"line {i}".encode()
        RawEvent.objects.create(source=source, received_at=received, channel="syslog-udp",
                                sha256=hashlib.sha256(payload).hexdigest(), size=len(payload),
                                payload=payload, status=status, reason=reason)
    rebuild()  # the rows above bypass ingest: counted as the upgrade counts stored events


def test_it_security_reads_the_monitoring_overview_and_filters_it(
    page: Page, make_user: Callable[..., Any]
) -> None:
    security = make_user("it_security", "it_security")
    _history()
    sign_in(page, security, totp=True)
    page.locator('aside.sidebar [data-nav="Monitoring"]').click()
    expect(page).to_have_url(at("/monitoring/"))
    expect(page.locator("h1")).to_have_text("Security monitoring")
    expect(page.get_by_test_id("period-label")).to_have_text("Last 30 days")
    tiles = page.get_by_test_id("metrics-kpis")
    expect(tiles.locator('[data-kpi="alerts"] .value')).to_have_text("5")
    expect(tiles.locator('[data-kpi="fp"] .value')).to_have_text("33%")
    expect(tiles.locator('[data-kpi="detect"] .value')).to_have_text("40 s")
    expect(page.get_by_test_id("alerts-per-day").locator("rect")).to_have_count(5)
    expect(page.get_by_test_id("alerts-per-rule").locator("tr[data-rule]")).to_have_count(3)
    expect(page.get_by_test_id("events-sparkline").locator("path.line")).to_have_count(1)
    expect(page.get_by_test_id("quarantine-reasons")).to_contain_text("bad_pri")
    expect(page.get_by_test_id("open-by-state").locator('[data-state="new"] .value')
           ).to_have_text("1")
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / "monitoring-overview.png"), full_page=True)

    # One site, last 7 days.
    page.select_option("#id_site", "BSL")
    page.select_option("#id_period", "7d")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(at("/monitoring/"))
    assert "site=BSL" in page.url
    expect(page.get_by_test_id("period-label")).to_have_text("Last 7 days")
    expect(tiles.locator('[data-kpi="alerts"] .value')).to_have_text("2")
    expect(page.get_by_test_id("alerts-per-rule").locator("tr[data-rule]")).to_have_count(2)
    page.screenshot(path=str(SCREENSHOT_DIR / "monitoring-overview-bsl-7d.png"),
                    full_page=True)

    # The quarantine panel leads to the quarantined events.
    page.get_by_test_id("quarantine-link").click()
    expect(page).to_have_url(at("/monitoring/events/"))
    assert "status=quarantined" in page.url
    expect(page.locator('tr[data-status="quarantined"]').first).to_be_visible()
    assert_no_console_errors(page)
