"""Several web workers, one truth (issue 14, item 7): the product served as `make serve`
serves it, granian with two worker processes and the scheduler, on a database of its own
(``served.Served``). A brute force sent in ten requests, whichever worker takes each, is
counted as one attack by the one detector; IT security signs in with password and
authenticator and works the alert, every request answered by whichever worker; a second
scheduler stands by and takes over detection when the first stops (CYB-03, A11D-04)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cyberqms.conftest import PASSWORD, totp_code
from cyberqms.web.tests.browser.conftest import CSP_REPORTER, SCREENSHOT_DIR
from cyberqms.web.tests.browser.served import ANALYSTS, WEB_WORKERS, Served

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    product = Served.start(Path(tmp_path_factory.mktemp("served")))
    try:
        yield product
    finally:
        product.stop()


@pytest.fixture
def served_page(browser: Any, served: Served) -> Iterator[Page]:
    context = browser.new_context(base_url=served.url)
    context.add_init_script(CSP_REPORTER)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield page
    context.close()
    assert errors == []


def failed_logins(n: int, start: datetime, user: str = "qc_analyst") -> list[str]:
    return [f"<38>1 {(start + timedelta(seconds=5 * i)).strftime('%Y-%m-%dT%H:%M:%S')}Z "
            f"fw01 sshd 4242 - - Failed password for {user} from 10.20.0.7 port 22 ssh2"
            for i in range(n)]


def eventually(check: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.2)


def sign_in(page: Page, served: Served, username: str) -> None:
    """Password and authenticator, each step answered by whichever worker takes it."""
    page.goto("/accounts/login/")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.fill("input[name=code]", totp_code(ANALYSTS[username]))
    page.press("input[name=code]", "Enter")
    name = served.people["analysts"][username]
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Good day, {name}")


def alert_of(page: Page, user: str) -> Callable[[], str]:
    """The events count of the alert on ``user`` in the alert list ("" while there is none)."""

    def count() -> str:
        page.goto(f"/monitoring/alerts/?q={user}")
        row = page.locator("tr[data-alert]", has_text=user)
        return row.locator("td.num").inner_text() if row.count() == 1 else ""

    return count


def test_make_serve_runs_several_web_workers(served: Served) -> None:
    assert served.web_workers() == WEB_WORKERS


def test_an_attack_spread_over_the_web_workers_is_one_alert_worked_in_the_browser(
    served: Served, served_page: Page,
) -> None:
    start = datetime.now(UTC) - timedelta(minutes=1)
    answers = [served.send_events([line])
               for line in failed_logins(10, start, user="qc_analyst")]
    assert [(a["detection"], a["alerts"]) for a in answers] == [("detector", [])] * 10
    page = served_page
    sign_in(page, served, "it_security")
    count = alert_of(page, "qc_analyst")
    eventually(lambda: count() == "10")
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / "served-alert-list.png"), full_page=True)
    page.locator("tr[data-alert]", has_text="qc_analyst").get_by_role("link").click()
    page.locator("details[data-action=acknowledge] summary").click()
    page.get_by_test_id("confirm-acknowledge").click()
    expect(page.get_by_test_id("alert-state")).to_have_text("Acknowledged")


def test_a_standby_scheduler_takes_over_detection_with_the_windows_left_to_it(
    served: Served, served_page: Page,
) -> None:
    start = datetime.now(UTC) - timedelta(minutes=1)
    served.send_events(failed_logins(5, start, user="lab_manager"))
    eventually(lambda: served.waiting_batches() == 0)  # the first scheduler detected them
    standby = served.add_scheduler()
    for scheduler in served.schedulers[:-1]:
        scheduler.terminate()
        scheduler.wait(timeout=15)
    served.send_events(failed_logins(5, start + timedelta(seconds=25), user="lab_manager"))
    sign_in(served_page, served, "it_security_2")
    count = alert_of(served_page, "lab_manager")
    eventually(lambda: count() == "10")
    assert standby.poll() is None
