"""Issue 19's resilience pages in Chromium: IT security's home page shows the last backup,
restore test and drill; the restore test's page its steps and the time to restore against
the RTO; a drill's page its scorecard; the trend over drills; an alert a drill raised with
its drill mark. Each page is checked by axe and for CSP violations; screenshots go to
test-artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cyberqms.platform.backups.tests.keys import own_backup_keys
from cyberqms.web.tests.browser.conftest import SCREENSHOT_DIR
from cyberqms.web.tests.browser.test_identity_browser import (
    as_cli,
    assert_no_csp_violations,
    sign_in,
)
from cyberqms.web.tests.browser.test_interface_browser import blocking_violations

pytestmark = pytest.mark.browser


def words(text: str) -> str:
    return " ".join(text.split())


def shot(page: Page, name: str) -> None:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=True)


@pytest.fixture
def resilient_site(settings: Any, tmp_path: Path, personas: dict[str, Any]) -> dict[str, Any]:
    """cyberqms in the inventory (RTO 4 h), a backup whose restore was tested, and a
    drill of the plant's brute force, played."""
    from cyberqms.platform.accounts.services import site_create
    from cyberqms.platform.backups.services import backup_create
    from cyberqms.platform.backups.verify import backup_verify
    from cyberqms.platform.kit.records import kind_by_slug
    from cyberqms.platform.kit.tests.kit import record_in_state
    from cyberqms.security.drills.planning import drill_plan
    from cyberqms.security.drills.scenarios import scenario_of
    from cyberqms.security.drills.services import play
    from cyberqms.security.drills.workflow import DRILL_WORKFLOW
    from cyberqms.security.monitoring import services

    own_backup_keys(settings, tmp_path)
    services.reload_rules()
    with as_cli():
        site = site_create(actor=personas["admin"], code="BSL", name="Basel")
        record_in_state(kind_by_slug("systems"), "validated", personas, site=site,
                        title="cyberqms eQMS", rto_hours=4,
                        security_contact=personas["it_security"])
        backup_create()
        (test,) = backup_verify().records
        drill = drill_plan(scenario_of("brute_force_qms"))  # type: ignore[arg-type]  # it is in the catalogue
        DRILL_WORKFLOW.run(drill, "run", actor=None, reason="Browser test")
        play(drill.pk)
        drill.refresh_from_db()
    return {"test": test, "drill": drill}


def test_it_security_sees_backups_restore_tests_and_drills(
        page: Page, personas: dict[str, Any], resilient_site: dict[str, Any],
        make_user: Callable[..., Any]) -> None:
    from cyberqms.security.monitoring.models import Alert

    test, drill = resilient_site["test"], resilient_site["drill"]
    sign_in(page, personas["it_security"], totp=True)
    panel = page.get_by_test_id("resilience")
    expect(panel.get_by_test_id("last-backup")).to_contain_text("Current")
    expect(panel.get_by_test_id("last-restore-test")).to_contain_text(
        f"Passed restore test {test.number}")
    expect(panel.get_by_test_id("last-drill")).to_contain_text(
        f"Running drill {drill.number} (Brute force on the QMS sign-in), 33 % so far")
    shot(page, "home-resilience")
    assert blocking_violations(page) == []

    panel.get_by_role("link", name=f"restore test {test.number}").click()
    steps = page.get_by_test_id("restore-steps").locator("table").first.locator("tbody tr")
    expect(steps).to_have_count(6)
    assert [words(t) for t in steps.locator("td:first-child").all_text_contents()] == [
        "Backup file authenticated", "Restored into an isolated database",
        "Row counts against the manifest", "Migrated to the running version",
        "Audit trail verified against the manifest", "Records readable as PDF"]
    expect(page.get_by_test_id("time-to-restore")).to_contain_text("(RTO 4 h: met)")
    expect(page.locator("dt", has_text="Performed at")).to_have_count(2)  # header, details
    shot(page, "restore-test")
    assert blocking_violations(page) == []

    page.goto(f"/drills/{drill.pk}/")
    card = page.get_by_test_id("scorecard")
    first = card.locator("tbody tr").first.locator("td")
    expect(first).to_have_text(["Detected by a rule expected to detect it", "yes",
                                "Brute force against one account"])
    shot(page, "drill-scorecard")
    assert blocking_violations(page) == []

    card.get_by_role("link", name="Trend over drills →").click()
    expect(page.get_by_test_id("drill-trend")).to_contain_text("Score per drill")
    expect(page.locator("table.data tbody tr").first).to_contain_text(drill.number)
    shot(page, "drill-trend")
    assert blocking_violations(page) == []

    alert = Alert.objects.get(drill=drill.number)
    page.goto(f"/monitoring/alerts/{alert.pk}/")
    expect(page.get_by_test_id("alert-drill")).to_have_text(f"drill {drill.number}")
    shot(page, "alert-of-a-drill")
    assert_no_csp_violations(page)
