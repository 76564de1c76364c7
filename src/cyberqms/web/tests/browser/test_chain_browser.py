"""Issue 5's feedback loop in a real browser (CYB-05, A11D-04, AL-10): util-linux `logger`
sends failed sign-ins over TCP to the real syslog listener; the brute-force alert shows in
IT security's banner within 5 seconds; IT security escalates it to an incident, fills the
data-integrity impact assessment and opens the deviation; QA closes the incident with an
e-signature; the deviation is triaged and spawns the CAPA; the chain page shows alert →
incident → deviation → CAPA, every node linking to its record and every record back.

Screenshots of the steps go to /tmp/shots-chain/ (not committed).
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from cyberqms.conftest import PASSWORD
from cyberqms.web.tests.browser.test_identity_browser import (
    as_cli,
    assert_no_csp_violations,
    at,
    sign_in,
)
from cyberqms.web.tests.browser.test_journey_browser import signing_code, take

pytestmark = pytest.mark.browser

LOGGER = "/usr/bin/logger"
SHOTS = Path(tempfile.gettempdir()) / "shots-chain"  # /tmp/shots-chain
FAILED_LOGIN = "Failed password for qc_analyst from 10.20.0.7 port 22 ssh2"
CAST = {"it_security": "it_security", "qa_manager": "qa_manager", "qa_approver": "qa_reviewer",
        "author": "author", "process_owner": "process_owner", "admin": "administrator"}


class Shots:
    def __init__(self) -> None:
        shutil.rmtree(SHOTS, ignore_errors=True)
        SHOTS.mkdir(parents=True)
        self.taken: list[Path] = []

    def __call__(self, page: Page, name: str) -> None:
        path = SHOTS / f"{len(self.taken) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)


def running_listener() -> Any:
    """The real listener on a free loopback TCP port, on its own event loop in a thread
    (its database thread reaches the live server's test database like the server does)."""
    from cyberqms.security.transport.tests.test_transport import RunningListener

    return RunningListener(udp_port=None, batch_ms=200).__enter__()


def send_failed_logins(port: int, count: int = 12) -> None:
    """What a Linux host's `logger` sends: RFC 5424, octet-counted, over TCP."""
    for _ in range(count):
        subprocess.run(
            [LOGGER, "--tcp", "--port", str(port), "--server", "127.0.0.1", "--octet-count",
             "--rfc5424", "-t", "sshd", FAILED_LOGIN],
            check=True, timeout=10,
        )


@pytest.mark.slow
def test_logger_to_alert_to_incident_deviation_capa_and_the_chain_cyb_05(
    open_page: Callable[[], Any], make_user: Callable[..., Any]
) -> None:
    from cyberqms.platform.accounts.services import user_verify_identity
    from cyberqms.quality.capa.models import Capa
    from cyberqms.quality.deviations.models import Deviation
    from cyberqms.quality.deviations.tests.factories import a_site
    from cyberqms.security.incidents.models import Incident
    from cyberqms.security.monitoring import services
    from cyberqms.security.monitoring.models import Alert

    if not Path(LOGGER).exists():
        pytest.fail(f"{LOGGER} (util-linux) is missing: apt-get install bsdutils", pytrace=False)
    people = {name: make_user(name, role) for name, role in CAST.items()}
    with as_cli():
        basel = a_site("BSL")
        for name in ("qa_manager", "qa_approver"):
            user_verify_identity(people[name], actor=people["admin"], method="Passport")
            people[name].refresh_from_db()
        services.source_create(actor=people["it_security"], name="LabWare LIMS BSL",
                               kind="lims", system="LabWare LIMS 8", format="syslog",
                               site=basel, addresses=["127.0.0.1"])
    services.reload_rules()
    shots = Shots()
    pages: dict[str, Page] = {}

    def as_(name: str, path: str | None = None) -> Page:
        if name not in pages:
            page = open_page()
            page.context.set_default_timeout(20_000)  # a shared machine: slow, not absent
            sign_in(page, people[name], totp=people[name].has_mfa())
            pages[name] = page
        if path is not None:
            pages[name].goto(path)
        return pages[name]

    # 1. IT security has a page open; logger sends twelve failed sign-ins to the listener.
    security = as_("it_security")
    banner = security.get_by_test_id("alert-banner-link")
    expect(banner).to_have_count(0)
    run = running_listener()
    try:
        assert run.listener.tcp_port
        first_sent = time.monotonic()
        send_failed_logins(run.listener.tcp_port)
        sent = time.monotonic()
        expect(banner).to_be_visible(timeout=5000)
        shown = time.monotonic()
        run.wait_for(lambda: run.listener.stats.received == 12, timeout=10)
    finally:
        run.stop()
    latency, since_first = shown - sent, shown - first_sent
    print(f"\nalert-to-browser latency: {latency:.2f} s after the last line was sent "
          f"({since_first:.2f} s after the first; 12 lines, banner polled every 3 s)")
    assert latency < 5
    alert = Alert.objects.get()
    assert (alert.rule_id, alert.level, alert.count >= 10) == (
        "24722c4b-87d8-4a98-ae99-f451f98aa1c9", "high", True)
    expect(banner).to_contain_text(alert.number)
    shots(security, "banner")

    # 2. The banner leads to the alert; IT security escalates it to an incident.
    banner.click()
    security.get_by_test_id("alert-table").get_by_role("link", name=alert.number).click()
    expect(security.get_by_test_id("alert-state")).to_have_text("New")
    with security.expect_navigation():
        security.get_by_test_id("escalate").click()
    incident = Incident.objects.get()
    incident_path = f"/incidents/{incident.pk}/"
    expect(security).to_have_url(at(incident_path))
    expect(security.locator("ul.messages")).to_contain_text(
        f"{alert.number} escalated to {incident.number}.")
    assessment = security.locator("section.panel", has_text="Data-integrity impact assessment")
    expect(assessment).to_contain_text("LabWare LIMS 8")  # pre-filled from the alert
    expect(assessment).to_contain_text("Accounts: qc_analyst")
    # Times read in the person's zone (UTC for this persona), the UTC moment in <time>.
    expect(security.get_by_test_id("impact-window").locator("time").first).to_have_attribute(
        "datetime", alert.first_seen.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))

    # 3. The data-integrity impact assessment, then the deviation it opens.
    form = security.get_by_test_id("incident-edit")
    form.locator("summary").click()
    form.locator("#id_containment").fill("qc_analyst locked; 10.20.0.7 blocked at the firewall.")
    form.locator("#id_affected_records").fill("LIMS results entered by qc_analyst in the window")
    form.locator("#id_affected_batches").fill("B-2026-117, B-2026-118")
    form.locator("#id_gxp_impact").check()
    form.locator("#id_data_integrity_impact").check()
    form.locator("#id_impact_assessment").fill(
        "Password guessing against a LIMS analyst account; no successful sign-in in the "
        "window, results entered by the account to be re-verified.")
    with security.expect_navigation():
        form.get_by_role("button", name="Save").click()
    expect(security.locator("ul.messages")).to_contain_text(f"{incident.number} saved.")
    shots(security, "incident-assessed")
    opener = security.get_by_test_id("open-deviation")
    opener.locator("select[name=owner]").select_option(str(people["author"].pk))
    with security.expect_navigation():
        opener.get_by_role("button", name="Open deviation").click()
    deviation = Deviation.objects.get()
    deviation_path = f"/deviations/{deviation.pk}/"
    expect(security).to_have_url(at(deviation_path))
    expect(security.get_by_test_id("cyber-badge")).to_have_text(
        f"cyber-related · {incident.number}")

    # 4. IT security contains and submits; the QA manager closes the incident, signed.
    security.goto(incident_path)
    take(security, "assess", reason="Contained.")
    take(security, "submit", reason="Assessment complete.")
    manager = as_("qa_manager", incident_path)
    take(manager, "close", reason="Assessment sound; the deviation carries the follow-up.",
         statement=True, password=PASSWORD, otp=signing_code())
    expect(manager.locator("ul.messages")).to_contain_text("signed (Closed)")
    expect(manager.get_by_test_id("record-state")).to_have_text("Closed")
    shots(manager, "incident-closed")

    # 5. The deviation: submitted by its owner, classified and triaged by QA.
    author = as_("author", deviation_path)
    take(author, "submit", reason="Raised from the security incident.")
    reviewer = as_("qa_approver", deviation_path)
    edit = reviewer.get_by_test_id("edit-form")
    edit.locator("summary").click()
    edit.locator("#id_classification").select_option("major")
    edit.locator("#id_reason").fill("Triage: GxP account under attack is major.")
    with reviewer.expect_navigation():
        reviewer.get_by_test_id("save-record").click()
    take(reviewer, "triage", reason="Investigate with IT security.")
    expect(reviewer.get_by_test_id("record-state")).to_have_text("Investigation")

    # 6. The owner opens the CAPA from the deviation.
    author.goto(deviation_path)
    spawn = author.locator("details.spawn-capa")
    spawn.locator("summary").click()
    spawn.locator("#id_title").fill("Lock out repeated failed sign-ins on the LIMS")
    spawn.locator("#id_owner").select_option(str(people["process_owner"].pk))
    spawn.locator("#id_due_date").fill((timezone.localdate() + dt.timedelta(days=60)).isoformat())
    with author.expect_navigation():
        author.get_by_test_id("spawn-capa").click()
    capa = Capa.objects.get()
    capa_path = f"/capa/{capa.pk}/"
    expect(author.locator("ul.messages")).to_contain_text(
        f"{capa.number} opened from {deviation.number}.")
    # authors do not see security incidents: no chain link on their pages
    expect(author.get_by_test_id("chain-link")).to_have_count(0)

    # 7. From the CAPA, the chain: every node, each linking to its record and back. The
    # others' pages are closed: their banner polls would share the live server's one
    # in-memory SQLite connection with the manager's navigation.
    for name in ("it_security", "author", "qa_approver"):
        if name in pages:
            assert_no_csp_violations(pages[name])
            pages.pop(name).close()
    manager.goto(capa_path)
    with manager.expect_navigation():
        manager.get_by_test_id("chain-link").click()
    chain_path = f"/incidents/{incident.pk}/chain/"
    expect(manager).to_have_url(at(chain_path))
    nodes = manager.get_by_test_id("chain-node")
    expected = [("alert", alert.number, "Investigating", f"/monitoring/alerts/{alert.pk}/"),
                ("incident", incident.number, "Closed", incident_path),
                ("deviation", deviation.number, "Investigation", deviation_path),
                ("capa", capa.number, "Draft", capa_path)]
    expect(nodes).to_have_count(len(expected))
    for index, (stage, number, state, path) in enumerate(expected):
        node = nodes.nth(index)
        expect(node).to_have_attribute("data-stage", stage)
        expect(node.locator("header a")).to_have_text(number)
        expect(node.locator("header a")).to_have_attribute("href", path)
        expect(node.locator(".badge.state")).to_have_text(state)
    owners = {"incident": people["it_security"], "deviation": people["author"],
              "capa": people["process_owner"]}
    for stage, owner in owners.items():
        expect(manager.locator(f'.chain-node[data-stage="{stage}"]')).to_contain_text(
            owner.printed_name)
    expect(manager.locator('.chain-node[data-stage="capa"]')).to_contain_text(
        f"from {deviation.number}")
    for step in ("detected", "escalated", "deviation", "capa"):
        expect(manager.get_by_test_id(f"elapsed-{step}")).to_have_text(re.compile(r"^\+\d"))
    expect(manager.get_by_test_id("elapsed-closed")).to_have_text("—")
    expect(manager.locator('.chain-stage[data-stage="change"]')).to_contain_text(
        "No change control yet")
    shots(manager, "chain")
    for _stage, number, _state, path in expected:
        with manager.expect_navigation():
            manager.locator(f'.chain-node[data-number="{number}"] header a').click()
        expect(manager).to_have_url(at(path))
        with manager.expect_navigation():
            manager.get_by_test_id("chain-link").first.click()
        expect(manager).to_have_url(at(chain_path))
    manager.goto(f"/monitoring/alerts/{alert.pk}/")
    shots(manager, "alert-escalated")
    manager.goto(capa_path)
    shots(manager, "capa-with-chain-link")

    for page in pages.values():
        assert_no_csp_violations(page)
    print("chain screenshots:\n" + "\n".join(str(p) for p in shots.taken))
