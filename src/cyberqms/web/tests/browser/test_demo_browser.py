"""Issue 13's four journeys, walked again in Chromium on the data of a fresh `make demo`.

The demo is loaded as `make demo` loads it (18 months of records, at the fixed moment the
demo's own test uses, so that the records are the same every time), then loaded again at
the real time, as a person who runs `make demo` later gets it: fresh one-time passwords and
the inspector's access from today. Every person then signs in for the first time through
the real pages with the password the command printed: a new password, and an authenticator
for the privileged roles.

1. Deviation → CAPA with e-signatures: the author records a deviation unclassified; the QA
   manager finds it in her open tasks with what she must do first, classifies and triages
   it; she approves a demo deviation awaiting QA (an empty reason is refused where the
   step requires one); its owner opens the CAPA (the owner choice offers neither the
   administrator nor the inspector); the CAPA owner plans it and QA approves the plan.
2. A cyber-relevant change: submitted, approved by QA, then by IT security, both signed.
3. util-linux `logger` sends a brute force to the syslog listener as the demo's Basel
   relay; IT security sees the alert, escalates it to an incident, assesses it, opens the
   deviation and reads the chain page.
4. The inspector finds the approved deviation in the audit trail by its number, reads its
   history and takes the PDF copy: headed with the number as it is, no internal fields.

Pages on the way are checked by axe (no serious or critical violation); screenshots go to
test-artifacts/screenshots/.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import call_command
from django.db import OperationalError
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect
from pypdf import PdfReader

from cyberqms.conftest import totp_code
from cyberqms.web.tests.browser.test_identity_browser import (
    PASSWORD_CHANGE_PATH,
    RECOVERY_CODES_PATH,
    TOTP_ACTIVATE_PATH,
    assert_no_csp_violations,
    at,
    submit_login,
)
from cyberqms.web.tests.browser.test_interface_browser import blocking_violations

pytestmark = pytest.mark.browser

# The moment the demo's own test loads it (demo/tests/test_demo_records.py): the same
# records, numbers and states every time.
LOADED_AT = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
NEW_PASSWORD = "Quartz-Harbour-Lantern-917"
LOGGER = "/usr/bin/logger"
FAILED_LOGIN = "Failed password for qc_analyst from 10.20.0.7 port 22 ssh2"
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
LOGIN_LINE = re.compile(r"^\s+(\w+)\s+([A-Za-z0-9]{5}(?:-[A-Za-z0-9]{5}){3})\s+(.+)$")


def load_demo() -> dict[str, str]:
    """`make demo` on a fresh database, then again at the real time: the one-time
    passwords it printed the second time, by username."""
    with time_machine.travel(LOADED_AT, tick=False):
        call_command("demo", "--quiet-passwords", stdout=io.StringIO())
    out = io.StringIO()
    call_command("demo", stdout=out)
    logins = {m[1]: m[2] for line in out.getvalue().splitlines()
              if (m := LOGIN_LINE.match(line))}
    assert len(logins) == 8, out.getvalue()
    return logins


class Demo:
    """One browser context per person, each signed in for the first time on first use."""

    def __init__(self, open_page: Callable[[], Any], logins: dict[str, str]) -> None:
        from cyberqms.platform.accounts.models import User

        self._open_page = open_page
        self.logins = logins
        self.people = {u.username: u for u in User.objects.filter(username__in=logins)}
        self.pages: dict[str, Page] = {}
        self.secrets: dict[str, str] = {}
        self.checked_by_axe: list[str] = []

    def as_(self, username: str, path: str | None = None) -> Page:
        page = self.pages.get(username)
        if page is None:
            page = self._open_page()
            page.context.set_default_timeout(20_000)  # a shared machine: slow, not absent
            self._first_sign_in(page, username)
            self.pages[username] = page
        if path is not None:
            page.goto(path)
        return page

    def _first_sign_in(self, page: Page, username: str) -> None:
        """The printed one-time password, a new password of her own, and for the
        privileged roles the authenticator (its secret read from the page) and the
        recovery codes: what a person does the first time after `make demo`."""
        person = self.people[username]
        submit_login(page, username, self.logins[username])
        expect(page).to_have_url(at(PASSWORD_CHANGE_PATH))
        page.fill("input[name=password1]", NEW_PASSWORD)
        page.fill("input[name=password2]", NEW_PASSWORD)
        with page.expect_navigation():
            page.press("input[name=password2]", "Enter")
        if at(TOTP_ACTIVATE_PATH).match(page.url):
            secret = page.locator("#authenticator_secret").input_value().strip()
            self.secrets[username] = secret
            page.fill("input[name=code]", totp_code(secret))
            with page.expect_navigation():
                page.press("input[name=code]", "Enter")
            expect(page).to_have_url(at(RECOVERY_CODES_PATH))
            with page.expect_navigation():
                page.get_by_role("link", name="Continue", exact=True).click()
        expect(page).to_have_url(at("/"))
        expect(page.locator("h1")).to_have_text(f"Good day, {person.printed_name}")

    def take(self, username: str, action: str, *, reason: str = "") -> Page:
        """Open the step's card and confirm it, signing where the step is signed: the
        statement and the authenticator code where the card asks for them."""
        page = self.pages[username]
        card = page.locator(f'details.action-card[data-action="{action}"]')
        card.locator("summary").click()
        if reason:
            card.locator("textarea[name=reason]").fill(reason)
        if card.locator("input[name=accept_statement]").count():
            card.locator("input[name=accept_statement]").check()
        if card.locator("input[name=password]").count():
            card.locator("input[name=password]").fill(NEW_PASSWORD)
        if card.locator("input[name=otp]").count():
            # allauth refuses a code used once (the sign-in may have used this one); a
            # person waits for the next, the test forgets the used codes (shared cache).
            cache.clear()
            card.locator("input[name=otp]").fill(totp_code(self.secrets[username]))
        with page.expect_navigation():
            card.get_by_test_id(f"confirm-{action}").click()
        return page

    def done_with(self, *usernames: str) -> None:
        """Close these people's pages (checked first): every open page polls the alert
        banner, and the live server's threads share one in-memory SQLite connection."""
        for username in usernames:
            page = self.pages.pop(username)
            assert_no_csp_violations(page)
            page.close()

    def axe(self, page: Page) -> None:
        found = blocking_violations(page)
        assert found == [], (page.url, [v.get("targets") for v in found])
        self.checked_by_axe.append(page.url)


def flash(page: Page) -> Locator:
    return page.locator("ul.messages")


def state_reads(page: Page, state: Any) -> None:
    """The state badge reads the state's label (from the family's enum)."""
    expect(page.get_by_test_id("record-state")).to_have_text(state.label)


def offered(select: Locator) -> list[str]:
    return [t.strip() for t in select.locator("option").all_text_contents()]


def save_edit(page: Page, reason: str | None, **fields: str) -> None:
    """The record's edit panel: select or fill each field, give the reason (None: a record
    in its first state asks for none), save."""
    edit = page.get_by_test_id("edit-form")
    edit.locator("summary").click()
    for name, value in fields.items():
        control = edit.locator(f"#id_{name}")
        if control.evaluate("e => e.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)
    if reason is not None:
        edit.locator("#id_reason").fill(reason)
    with page.expect_navigation():
        page.get_by_test_id("save-record").click()


def _new_alert(before: set[int]) -> bool:
    """Whether the listener's ingest has written an alert not in `before`. The ingest writes
    from its own thread and connection; on the in-memory test database (shared cache, so
    table locks) a read that meets its transaction is refused at once instead of waiting:
    that read means "not yet"."""
    from cyberqms.security.monitoring.models import Alert

    try:
        return Alert.objects.exclude(pk__in=before).exists()
    except OperationalError as exc:
        if "locked" not in str(exc):
            raise
        return False


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_the_four_journeys_on_a_fresh_demo(open_page: Callable[[], Any]) -> None:
    from cyberqms.quality.capa.enums import CapaState as C
    from cyberqms.quality.capa.models import Capa
    from cyberqms.quality.changes.enums import ChangeState as CC
    from cyberqms.quality.changes.models import Change
    from cyberqms.quality.deviations.enums import DeviationState as D
    from cyberqms.quality.deviations.models import Deviation
    from cyberqms.security.incidents.models import Incident
    from cyberqms.security.monitoring import services
    from cyberqms.security.monitoring.models import Alert
    from cyberqms.security.transport.tests.test_transport import RunningListener

    if not Path(LOGGER).exists():
        pytest.fail(f"{LOGGER} (util-linux) is missing: apt-get install bsdutils", pytrace=False)
    demo = Demo(open_page, load_demo())
    people = demo.people
    admin_name = people["slindqvist"].printed_name
    inspector_name = people["cdubois"].printed_name
    today = timezone.localdate()

    # --- 1. Deviation → CAPA with e-signatures ----------------------------------------------
    # The author records a deviation and submits it without a classification.
    page = demo.as_("jweber", "/deviations/new/")
    page.fill("#id_title", "Particles in the WFI sample from point 12")
    page.fill("#id_description", "Visible particles in the routine WFI sample from point 12; "
              "the loop was in use for buffer preparation.")
    page.select_option("#id_site", "BSL")
    page.select_option("#id_owner", str(people["jweber"].pk))
    page.fill("#id_event_at", timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_due_date", (today + dt.timedelta(days=30)).isoformat())
    with page.expect_navigation():
        page.get_by_test_id("create-deviation").click()
    new = Deviation.objects.get(title="Particles in the WFI sample from point 12")
    assert new.classification == ""
    demo.take("jweber", "submit", reason="Found at the routine sampling.")
    state_reads(page, D.OPEN)

    # The QA manager finds it among her tasks (all of them: the home page shows the 25
    # most urgent, and hers are more), with what she must do first.
    page = demo.as_("hbrandt")
    with page.expect_navigation():
        page.get_by_test_id("all-tasks").click()
    task = page.get_by_test_id("tasks").locator(".task", has_text=new.number)
    expect(task).to_contain_text(f"{new.number}: Triage: start investigation")
    expect(task.locator(".first")).to_contain_text("Classify the deviation")
    expect(page.get_by_test_id("tasks")).not_to_contain_text(UUID)
    demo.axe(page)
    with page.expect_navigation():
        task.get_by_role("link").click()
    save_edit(page, "Triage: particles in WFI are major.", classification="major")
    demo.take("hbrandt", "triage", reason="Investigate with the utilities team.")
    state_reads(page, D.INVESTIGATION)

    # Her inbox: notices in words, no identifiers.
    page.goto("/notifications/")
    expect(page.locator("main")).not_to_contain_text(UUID)

    # A deviation of the demo awaiting QA: the step that needs a reason refuses an empty
    # one in the page; the approval says its reason is optional and is signed.
    awaiting = Deviation.objects.get(state="qa_review", capa_required=True)
    path = f"/deviations/{awaiting.pk}/"
    page = demo.as_("hbrandt", path)
    back = page.locator('details.action-card[data-action="return"]')
    back.locator("summary").click()
    expect(back.locator(".req")).to_have_text("required")
    back.get_by_test_id("confirm-return").click()
    expect(back.locator("textarea[name=reason]:invalid")).to_have_count(1)
    state_reads(page, D.QA_REVIEW)
    page.reload()
    approve = page.locator('details.action-card[data-action="approve"]')
    expect(approve.locator(".req")).to_have_text("optional")
    demo.take("hbrandt", "approve", reason="Investigation adequate; CAPA required.")
    expect(flash(page)).to_contain_text("Approve: done and signed (Approved).")
    state_reads(page, D.APPROVED)
    demo.axe(page)

    # Its owner opens the CAPA; the owner choice offers people who may own it, only.
    page = demo.as_(awaiting.owner.username, path)
    spawn = page.locator("details.spawn-capa")
    spawn.locator("summary").click()
    choices = offered(spawn.locator("#id_owner"))
    assert people["pnatarajan"].printed_name in " ".join(choices)
    assert [c for c in choices if admin_name in c or inspector_name in c] == []
    spawn.locator("#id_title").fill("Tighten the host-cell protein clearance controls")
    spawn.locator("#id_owner").select_option(str(people["pnatarajan"].pk))
    spawn.locator("#id_due_date").fill((today + dt.timedelta(days=60)).isoformat())
    with page.expect_navigation():
        page.get_by_test_id("spawn-capa").click()
    capa = Capa.objects.get(title="Tighten the host-cell protein clearance controls")
    expect(flash(page)).to_contain_text(f"{capa.number} opened from {awaiting.number}.")

    # The CAPA owner plans it; QA approves the plan with a signature.
    capa_path = f"/capa/{capa.pk}/"
    page = demo.as_("pnatarajan", capa_path)
    edit = page.get_by_test_id("capa-edit")
    edit.locator("summary").click()
    edit.locator("#id_effectiveness_criteria").fill(
        "No host-cell protein OOS in the next 10 batches.")
    edit.locator("#id_effectiveness_due").fill((today + dt.timedelta(days=120)).isoformat())
    with page.expect_navigation():
        edit.get_by_role("button", name="Save").click()
    form = page.get_by_test_id("action-add-form")
    form.locator("select[name=kind]").select_option("corrective")
    form.locator("textarea[name=description]").fill("Revise the column-cleaning SOP.")
    form.locator("select[name=owner]").select_option(str(people["pnatarajan"].pk))
    form.locator("input[name=due_date]").fill((today + dt.timedelta(days=45)).isoformat())
    with page.expect_navigation():
        form.get_by_role("button", name="Add action").click()
    demo.take("pnatarajan", "submit", reason="Plan ready for QA.")
    page = demo.as_("treyes", capa_path)
    demo.take("treyes", "approve_plan", reason="The plan addresses the root cause.")
    expect(flash(page)).to_contain_text("signed (Approved)")
    state_reads(page, C.IMPLEMENTATION)

    demo.done_with("pnatarajan", "treyes")

    # --- 2. A cyber-relevant change: QA, then IT security, each sign ------------------------
    change = Change.objects.get(state="draft", cyber_impact=True)
    change_path = f"/changes/{change.pk}/"
    page = demo.as_(change.owner.username, change_path)
    demo.take(change.owner.username, "submit")
    state_reads(page, CC.ASSESSMENT)
    page = demo.as_("hbrandt", change_path)
    demo.take("hbrandt", "qa_approve", reason="Impact assessed; one-way replication.")
    state_reads(page, CC.QA_APPROVED)
    # QA cannot stand in for IT security on a change with a cyber impact.
    expect(page.locator('details.action-card[data-action="security_approve"]')).to_have_count(0)
    page = demo.as_("aokafor", change_path)
    demo.take("aokafor", "security_approve", reason="Conduit reviewed; firewall rule scoped.")
    expect(flash(page)).to_contain_text("signed (Approved (IT security))")
    state_reads(page, CC.APPROVED)
    signatures = page.locator("#tab-signatures tr.manifestation td:first-child")
    assert signatures.all_text_contents() == ["Approved", "Approved (IT security)"]
    demo.axe(page)

    # --- 2b. A risk acceptance that expired is back with its approver (ICH Q9, A11-01) -----
    from cyberqms.assets.risks.models import RiskAssessment

    expired = RiskAssessment.objects.get(title="Bioreactor SCADA and PLC network")
    assert (expired.state, expired.acceptance_expires) == (
        "in_review", LOADED_AT.date() - dt.timedelta(days=21))
    page = demo.as_("hbrandt", "/")
    task = page.get_by_test_id("tasks").locator(".task", has_text=expired.number)
    expect(task).to_contain_text(f"{expired.number}: Accept the risk")
    with page.expect_navigation():
        task.get_by_role("link").click()
    expect(page.get_by_test_id("record-state")).to_have_text("In review")
    page.get_by_test_id("history-tab").click()
    expect(page.locator("#tab-history")).to_contain_text(
        f"Acceptance expired on {expired.acceptance_expires}")
    page.goto("/risks/register/")
    expect(page.get_by_test_id("heat-map")).to_be_visible()
    expect(page.get_by_test_id("register-risks")).to_contain_text(expired.number)
    demo.axe(page)

    demo.done_with("hbrandt")

    # --- 3. Brute force over syslog → alert → incident → deviation → chain -----------------
    services.reload_rules()
    before = set(Alert.objects.values_list("pk", flat=True))
    page = demo.as_("aokafor", "/monitoring/alerts/")
    run = RunningListener(udp_port=None, batch_ms=200, clock=timezone.now).__enter__()
    try:
        assert run.listener.tcp_port
        for _ in range(12):
            subprocess.run([LOGGER, "--tcp", "--port", str(run.listener.tcp_port), "--server",
                            "127.0.0.1", "--octet-count", "--rfc5424", "-t", "sshd",
                            FAILED_LOGIN], check=True, timeout=10)
        run.wait_for(lambda: run.listener.stats.received == 12, timeout=10)
        deadline = time.monotonic() + 10
        while not _new_alert(before) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        run.stop()
    alert = Alert.objects.exclude(pk__in=before).get()
    assert (alert.level, alert.site.code) == ("high", "BSL")
    banner = page.get_by_test_id("alert-banner-link")
    expect(banner).to_contain_text(alert.number, timeout=5000)
    page.goto(f"/monitoring/alerts/{alert.pk}/")
    expect(page.locator("main")).to_contain_text("Brute force")
    expect(page.locator("main")).not_to_contain_text(UUID)
    # The alert lands on the system behind the relay: the bioreactor SCADA (A11-05).
    from cyberqms.assets.systems.models import System

    scada = System.objects.get(title="SCADA/HMI bioreactor suite")
    facts = page.get_by_test_id("gxp-system")
    expect(facts).to_contain_text(f"{scada.number} SCADA/HMI bioreactor suite")
    expect(facts).to_contain_text("GAMP 4")
    expect(page.get_by_test_id("gxp-system-state")).to_contain_text("Validated")
    expect(page.get_by_test_id("gxp-system-owner")).to_have_text(scada.owner.printed_name)
    with page.expect_navigation():
        page.get_by_test_id("escalate").click()
    incident = Incident.objects.get(alerts=alert)
    incident_path = f"/incidents/{incident.pk}/"
    form = page.get_by_test_id("incident-edit")
    form.locator("summary").click()
    # Its impact assessment starts from the system.
    expect(form.locator("#id_impact_assessment")).to_have_value(re.compile(
        rf"^Starting point: the events come from {scada.number} SCADA/HMI bioreactor suite, "
        "GAMP category 4, high criticality"))
    form.locator("#id_containment").fill("qc_analyst locked; 10.20.0.7 blocked.")
    form.locator("#id_affected_records").fill("LIMS results entered by qc_analyst")
    form.locator("#id_gxp_impact").check()
    form.locator("#id_data_integrity_impact").check()
    form.locator("#id_impact_assessment").fill(
        "Password guessing against a LIMS analyst account; no successful sign-in.")
    with page.expect_navigation():
        form.get_by_role("button", name="Save").click()
    expect(flash(page)).to_contain_text(f"{incident.number} saved.")
    opener = page.get_by_test_id("open-deviation")
    choices = offered(opener.locator("select[name=owner]"))
    assert [c for c in choices if admin_name in c or inspector_name in c] == []
    opener.locator("select[name=owner]").select_option(str(people["jweber"].pk))
    with page.expect_navigation():
        opener.get_by_role("button", name="Open deviation").click()
    opened = Deviation.objects.get(security_reference=incident.number)
    expect(page.get_by_test_id("cyber-badge")).to_have_text(f"cyber-related · {incident.number}")
    page.goto(f"{incident_path}chain/")
    nodes = page.get_by_test_id("chain-node")
    expect(nodes).to_have_count(3)
    for index, number in enumerate((alert.number, incident.number, opened.number)):
        expect(nodes.nth(index).locator("header a")).to_have_text(number)
    expect(page.get_by_test_id("chain-system")).to_contain_text(scada.number)
    demo.axe(page)

    # --- 3b. The system's page: computed posture beside the entered facts, its alerts and
    # incidents; its periodic evaluation keeps the period's records (A11D-03, A11-18) ------
    page = demo.as_("aokafor", f"/systems/{scada.pk}/")
    computed = page.get_by_test_id("posture-computed")
    expect(computed).to_contain_text("Monitoring source SCADA syslog relay BSL (demo)")
    expect(computed).to_contain_text("Security incidents")
    entered = page.get_by_test_id("posture-entered")
    for item in ("Patch level", "Penetration test", "Access review", "Backup restore test"):
        expect(entered).to_contain_text(item)
    expect(page.locator("main")).to_contain_text(f"{alert.number} {alert.title}")
    expect(page.locator("main")).to_contain_text(incident.number)
    demo.axe(page)
    with page.expect_navigation():
        page.get_by_test_id("start-evaluation").click()
    expect(page.locator("#id_system")).to_have_value(str(scada.pk))
    with page.expect_navigation():
        page.get_by_test_id("create-record").click()
    from cyberqms.assets.evaluations.models import Evaluation

    evaluation = Evaluation.objects.get(system=scada, state="draft")
    evidence = page.get_by_test_id("evaluation-evidence")
    for number in (incident.number, opened.number):
        expect(evidence).to_contain_text(number)
    save_edit(page, None, findings="Brute force against the HMIs contained; no sign-in.",
                    conclusion="remains_validated")
    demo.take("aokafor", "submit")
    state_reads(page, type(evaluation).STATES.IN_REVIEW)
    pdf = page.request.get(page.get_by_test_id("export-pdf").get_attribute("href") or "")
    text = " ".join(" ".join((p.extract_text() or "").split())
                    for p in PdfReader(io.BytesIO(pdf.body())).pages)
    for words in ("Security incidents in the period", incident.number,
                  "Deviations in the period", opened.number,
                  "Security posture at the end of the period"):
        assert words in text, words
    demo.axe(page)

    # --- 3c. A supplier's overdue re-assessment is a task of its responsible person -------
    from cyberqms.assets.suppliers.models import Supplier

    vaisala = Supplier.objects.get(title="Vaisala Oyj")
    page = demo.as_(vaisala.owner.username, "/")
    task = page.get_by_test_id("tasks").locator(
        ".task", has_text=f"Re-assessment of {vaisala.number} Vaisala Oyj is overdue")
    expect(task).to_have_count(1)
    with page.expect_navigation():
        task.get_by_role("link").click()
    expect(page.get_by_test_id("rows-assessments")).to_be_visible()
    demo.axe(page)

    demo.done_with("jweber", vaisala.owner.username)

    # --- 4. The inspector's review and the PDF copy -----------------------------------------
    page = demo.as_("cdubois", "/trail/")
    page.fill("#id_object_id", awaiting.number)
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    rows = page.get_by_test_id("entries").locator("tbody tr")
    expect(rows.filter(has_text="Investigation adequate; CAPA required.")).to_have_count(1)
    demo.axe(page)
    with page.expect_navigation():
        rows.first.get_by_test_id("history-link").click()
    expect(page.locator("h1")).to_contain_text(awaiting.number)
    page.goto(path)
    expect(page.locator("details.action-card")).to_have_count(0)  # she reads, she acts on nothing
    pdf = page.request.get(page.get_by_test_id("export-pdf").get_attribute("href") or "")
    assert (pdf.status, pdf.headers["content-type"]) == (200, "application/pdf")
    pages = [" ".join((p.extract_text() or "").split())
             for p in PdfReader(io.BytesIO(pdf.body())).pages]
    for text in pages:
        assert f"{awaiting.number} · {awaiting.title}" in text
    text = " ".join(pages)
    assert "u002D" not in text
    assert [w for w in ("Is deleted", "Site id", "Deleted at", "Gxp impact") if w in text] == []
    assert f"Approved {people['hbrandt'].printed_name} (hbrandt)" in text  # her signature

    for person_page in demo.pages.values():
        assert_no_csp_violations(person_page)
    print(f"\ndemo journeys: {len(demo.secrets)} authenticators enrolled; axe "
          f"checked {len(demo.checked_by_axe)} pages")
