#!/usr/bin/env python3
"""Walk issue 4's journey through the pages of a running demo site, in a real browser.

    python scripts/journey_demo.py --base http://127.0.0.1:8011 \\
        --logins jweber=PW,treyes=PW,hbrandt=PW,pnatarajan=PW --out /tmp/demo-journey

A cyber-related deviation is recorded at the demo site BSL by jweber (author), classified
and sent to investigation by treyes (QA reviewer), investigated by jweber, approved with
an e-signature (password and TOTP code) by hbrandt (QA manager); jweber spawns a CAPA
owned by pnatarajan (process owner), who plans two actions and submits the plan; treyes
approves the plan (signed), pnatarajan implements the actions, treyes records the
effectiveness check as passed (signed "Verified"), hbrandt closes the CAPA (signed) and
then the deviation (signed). The Signatures, Links and History tabs are checked on the
way: each step must be in the history, in order.

The passwords given with --logins are the ones `cyberqms demo` printed (one-time) or the
current ones. At a first sign-in the script chooses a new password (printed; pass
--new-password to choose it) and, for privileged roles, enrols an authenticator with the
secret the page shows (printed). Run again with the printed passwords and
--totp-secrets hbrandt=SECRET. TOTP codes are computed here (RFC 6238, HMAC-SHA1, as in
scripts/screenshots.py); a code is used once, so the script waits for the next 30 s step
when it has used the current one.

One browser context per person; a numbered full-page PNG per key step goes to --out, with
index.txt (file and address). Prints a summary. Exits 1 with the step and the reason on
any failure (and a FAILED-….png of the page), 2 when Chromium or Playwright is missing.
Uses Debian's Chromium (/usr/bin/chromium).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import re
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from screenshots import (  # the sibling script: browser, TOTP, sign-in
    CHROMIUM,
    LAUNCH_ARGS,
    MFA_PATH,
    ScreenshotError,
    path_of,
    totp_now,
)
from screenshots import sign_in as sign_in_known

PASSWORD_CHANGE_PATH = "/accounts/password/change/"  # noqa: S105 (an address)
TOTP_ACTIVATE_PATH = "/accounts/2fa/totp/activate/"
REAUTHENTICATE_PATH = "/accounts/reauthenticate/"
PERIOD = 30

SITE = "BSL"
PEOPLE = {  # persona: (user ID, printed name), the demo organization's people
    "author": ("jweber", "Jonas Weber"),
    "qa_reviewer": ("treyes", "Tomás Reyes"),
    "qa_manager": ("hbrandt", "Dr. Helena Brandt"),
    "process_owner": ("pnatarajan", "Priya Natarajan"),
}

# The texts of the journey (those of the browser journey test, kept here so that the script
# needs no Django), and the audit actions each history must list, oldest first.
TITLE = "Unauthorised remote session on the LIMS server"
DESCRIPTION = ("The SOC saw an RDP session on LIMS-01 from an unmanaged laptop outside any "
               "change window; audit-trail review of the LIMS is pending.")
SECURITY_REFERENCE = "INC-2026-0042"
INVESTIGATION_SUMMARY = (
    "Vendor support account left enabled after the last upgrade; it was used from a "
    "personal laptop. No GxP data changed (LIMS audit trail reviewed).")
ROOT_CAUSE = "Vendor account not disabled at the end of the upgrade change (no offboarding step)."
CAPA_TITLE = "Disable dormant vendor accounts on GxP systems"
CRITERIA = "No vendor account active outside an approved change window for 3 months."
ACTIONS = (
    ("corrective", "Disable the vendor account on LIMS-01 and rotate its credentials."),
    ("preventive", "Add a vendor-account offboarding step to the change-control checklist."),
)
EVIDENCE = "Quarterly account review AR-2026-Q2: no active vendor accounts outside changes."
DEVIATION_STEPS = (
    "deviations.deviation.create", "deviations.deviation.submit",
    "deviations.deviation.update", "deviations.deviation.triage",
    "deviations.deviation.update", "deviations.deviation.complete_investigation",
    "deviations.deviation.approve", "core.link.add", "deviations.deviation.close",
)
CAPA_STEPS = (
    "capa.capa.create", "core.link.add", "capa.capa.edit", "capa.action.add",
    "capa.action.add", "capa.capa.submit", "capa.capa.approve_plan", "capa.action.complete",
    "capa.action.complete", "capa.capa.complete_implementation", "capa.capa.verify",
    "capa.capa.close",
)
SIGNED_AT = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \S+ \(UTC[+-]\d{4}\)$")


class JourneyError(Exception):
    """A failure that ends the run with a message and exit status 1."""


# --- TOTP: each code once ------------------------------------------------------------------

_used_steps: dict[str, int] = {}


def fresh_step(secret: str) -> int:
    """Wait, where needed, for a 30 s step whose code this run has not used yet (allauth
    refuses a code used once) and that has at least 4 s left; returns the step."""
    while True:
        now = time.time()
        step, remaining = int(now) // PERIOD, PERIOD - now % PERIOD
        if step > _used_steps.get(secret, -1) and remaining >= 4:
            return step
        print(f"  … waiting {remaining:.1f} s for a fresh authenticator code (each is used once)",
              flush=True)
        time.sleep(remaining + 0.3)


def totp_once(secret: str) -> str:
    """A code for `secret` that this run has not used yet."""
    step = fresh_step(secret)
    try:
        code = totp_now(secret)  # does not wait: at least 4 s are left in this step
    except ScreenshotError as exc:
        raise JourneyError(str(exc)) from None
    _used_steps[secret] = step
    return code


def note_used(secret: str) -> None:
    """A code of the current step was used outside totp_once (screenshots.sign_in)."""
    _used_steps[secret] = int(time.time()) // PERIOD


# --- the run ---------------------------------------------------------------------------------


@dataclass
class Person:
    username: str
    printed_name: str
    password: str
    totp_secret: str | None = None
    new_password: str | None = None  # chosen by this run at the first sign-in
    signed_in: bool = False
    signed_this_session: bool = False


@dataclass
class Run:
    context_factory: Any
    out: Path
    people: dict[str, Person]
    new_password: str | None
    pages: dict[str, Any] = field(default_factory=dict)
    shots: list[Path] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)
    current: Any = None

    def shot(self, page: Any, name: str) -> None:
        path = self.out / f"{len(self.shots) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)
        with (self.out / "index.txt").open("a") as index:
            index.write(f"{path.name}  {page.url}\n")
        print(f"  screenshot {path}", flush=True)

    def as_(self, persona: str, path: str | None = None) -> Any:
        page = self.pages.get(persona)
        if page is None:
            page = self.context_factory().new_page()
            self.current = page
            self.pages[persona] = page
            sign_in(self, page, self.people[persona])
        self.current = page
        if path is not None:
            page.goto(path)
        return page


@contextlib.contextmanager
def step(run: Run, text: str) -> Iterator[None]:
    """One step of the journey: printed, and on failure turned into a JourneyError that
    names the step, the page and what the page said."""
    print(f"- {text}", flush=True)
    try:
        yield
    except JourneyError as exc:
        raise JourneyError(f"{text}: {exc}") from None
    except Exception as exc:  # Playwright timeouts and expect() failures
        page = run.current
        where, said = "", ""
        if page is not None:
            with contextlib.suppress(Exception):
                where = f" at {path_of(page.url)}"
                said = " | ".join(t.strip() for t in page.locator(
                    "ul.messages li.error, .errorlist li, p.errorlist").all_inner_texts())
                page.screenshot(path=str(run.out / f"FAILED-{len(run.shots) + 1:02d}.png"),
                                full_page=True)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        detail = f"; the page says: {said}" if said else ""
        raise JourneyError(f"{text}: {type(exc).__name__}: {reason}{where}{detail}") from None
    run.done.append(text)


def sign_in(run: Run, page: Any, person: Person) -> None:
    """Sign in; at a first sign-in choose a new password and enrol TOTP where asked."""
    from playwright.sync_api import expect

    secret = person.totp_secret
    try:
        if secret:
            fresh_step(secret)  # screenshots.sign_in computes the code in this step
        sign_in_known(page, person.username, person.password, secret)
        if secret:
            note_used(secret)
    except ScreenshotError as exc:
        if not str(exc).startswith(f"{person.username} must change"):
            raise JourneyError(str(exc)) from None
    first_sign_in(run, page, person)  # the forced steps, where the product asks for them
    page.goto("/")
    expect(page.locator("h1")).to_have_text(f"Good day, {person.printed_name}")
    person.signed_in = True


def first_sign_in(run: Run, page: Any, person: Person) -> None:
    """The forced steps of a first sign-in, in whatever order the product asks for them."""
    from playwright.sync_api import expect

    for _ in range(6):
        path = path_of(page.url)
        if path.startswith(PASSWORD_CHANGE_PATH):
            if person.new_password:
                raise JourneyError(f"{person.username}: the new password was refused: "
                                   + " | ".join(page.locator(".errorlist").all_inner_texts()))
            person.new_password = run.new_password or (
                f"Demo-{secrets.token_urlsafe(9)}-{secrets.randbelow(900) + 100}")
            run.shot(page, f"{person.username}-first-sign-in-password")
            page.fill("input[name=oldpassword]", person.password)
            page.fill("input[name=password1]", person.new_password)
            page.fill("input[name=password2]", person.new_password)
            with page.expect_navigation():
                page.press("input[name=password2]", "Enter")
            if not path_of(page.url).startswith(PASSWORD_CHANGE_PATH):
                person.password = person.new_password
                print(f"  {person.username}: new password {person.new_password}", flush=True)
        elif path.startswith(REAUTHENTICATE_PATH):
            page.fill("input[name=password]", person.password)
            with page.expect_navigation():
                page.press("input[name=password]", "Enter")
        elif path.startswith(TOTP_ACTIVATE_PATH):
            if person.totp_secret:
                raise JourneyError(f"{person.username}: the TOTP enrolment code was refused")
            secret = page.locator("#authenticator_secret").input_value().strip()
            if not re.fullmatch(r"[A-Z2-7]{16,}", secret):
                raise JourneyError(f"{person.username}: no TOTP secret on the enrolment page")
            person.totp_secret = secret
            print(f"  {person.username}: TOTP secret {secret}", flush=True)
            run.shot(page, f"{person.username}-first-sign-in-totp")
            page.fill("input[name=code]", totp_once(secret))
            with page.expect_navigation():
                page.press("input[name=code]", "Enter")
        elif path.startswith(MFA_PATH):
            if not person.totp_secret:
                raise JourneyError(f"{person.username} has two-factor authentication: "
                                   "pass --totp-secrets")
            page.fill("input[name=code]", totp_once(person.totp_secret))
            with page.expect_navigation():
                page.press("input[name=code]", "Enter")
        else:
            break
        expect(page.locator("body")).to_be_visible()
    else:
        raise JourneyError(f"{person.username}: the first sign-in did not end "
                           f"(still at {path_of(page.url)})")


# --- page helpers (the selectors of web/tests/browser/test_journey_browser.py) -------------


def state_is(page: Any, state: str) -> None:
    from playwright.sync_api import expect

    expect(page.get_by_test_id("record-state")).to_have_class(
        re.compile(rf"\bstate-{state}\b"))


def flash(page: Any) -> Any:
    return page.locator("ul.messages")


def number_in(messages: Any, pattern: str) -> str:
    """The record number a flash message names."""
    text = messages.inner_text()
    match = re.search(pattern, text)
    if not match:
        raise JourneyError(f"no record number in the message {text!r}")
    return match[1]


def option_value(select: Any, text: str) -> str:
    """The value of the option whose label contains `text`."""
    values = select.locator("option").evaluate_all(
        "(opts, text) => opts.filter(o => o.textContent.includes(text)).map(o => o.value)", text)
    if not values:
        raise JourneyError(f"no option {text!r} in {select}")
    return str(values[0])


def take(run: Run, page: Any, persona: str, action: str, *, reason: str = "") -> None:
    """Open the action card, fill its form (the signing fields it shows) and confirm."""
    from playwright.sync_api import expect

    card = page.locator(f'details.action-card[data-action="{action}"]')
    expect(card).to_be_visible()
    card.locator("summary").click()
    if reason:
        card.locator("textarea[name=reason]").fill(reason)
    sign_fields(card, run.people[persona])
    with page.expect_navigation():
        card.get_by_test_id(f"confirm-{action}").click()
    errors = page.locator("ul.messages li.error").all_inner_texts()
    if errors:
        raise JourneyError(f"{action} was refused: {' | '.join(errors)}")


def sign_fields(form: Any, person: Person) -> None:
    """Statement (first signature ever), password, and the authenticator code at the first
    signature of the session (the field is shown at every signature; later ones need none)."""
    signing = form.locator("fieldset.signing")
    if not signing.count():
        return
    statement = form.locator("input[name=accept_statement]")
    if statement.count():
        statement.check()
    form.locator("input[name=password]").fill(person.password)
    otp = form.locator("input[name=otp]")
    if otp.count() and not person.signed_this_session:
        if not person.totp_secret:
            raise JourneyError(f"{person.username} must give a code but has no TOTP secret")
        otp.fill(totp_once(person.totp_secret))
    person.signed_this_session = True


def open_tab(page: Any, name: str) -> Any:
    from playwright.sync_api import expect

    page.locator(f'nav.tabs [data-tab="{name}"]').click()
    panel = page.locator(f"#tab-{name}")
    expect(panel).to_be_visible()
    return panel


def check_signature(row: Any, meaning: str, person: Person, reason: str,
                    components: str = "") -> str:
    """P11-18: printed name, meaning, date and time with its zone, reason; returns the
    status shown (current or superseded)."""
    from playwright.sync_api import expect

    cells = row.locator("td")
    expect(cells.nth(0)).to_have_text(meaning)
    expect(cells.nth(1)).to_have_text(f"{person.printed_name} ({person.username})")
    expect(cells.nth(2)).to_have_text(SIGNED_AT)
    expect(cells.nth(3)).to_have_text(reason)
    if components:
        expect(cells.nth(4)).to_contain_text(components)
    return "superseded" if "superseded" in cells.nth(4).inner_text() else "current"


def in_order(seen: list[str], expected: tuple[str, ...]) -> list[str]:
    missing: list[str] = []
    position = 0
    for action in expected:
        try:
            position = seen.index(action, position) + 1
        except ValueError:
            missing.append(action)
    return missing


def check_history(page: Any, expected: tuple[str, ...],
                  signed: dict[str, tuple[str, str, str]]) -> list[dict[str, str]]:
    """The History tab lists every step in order; each signed step its reason, its state
    change and a signature."""
    from playwright.sync_api import expect

    table = open_tab(page, "history").get_by_test_id("history-table")
    expect(table).to_be_visible()
    rows = table.locator("tbody tr[data-action]").evaluate_all(
        """rows => rows.map(r => [r.dataset.action, r.dataset.signature,
                                  ...Array.from(r.cells, c => c.textContent
                                                                .replace(/\\s+/g, " ").trim())])"""
    )
    entries = [{"action": r[0], "signature": r[1], "reason": r[6], "changes": r[7]}
               for r in reversed(rows)]
    seen = [e["action"] for e in entries]
    missing = in_order(seen, expected)
    if missing:
        raise JourneyError(f"the history lacks {missing}; it lists {seen}")
    for action, (reason, before, after) in signed.items():
        entry = next(e for e in entries if e["action"] == action)
        if entry["reason"] != reason or f"state: {before} → {after}" not in entry["changes"] \
                or entry["signature"] in ("", "—"):
            raise JourneyError(f"the history entry {action} does not show the reason, the "
                               f"state change and the signature: {entry}")
    return entries


# --- the journey -----------------------------------------------------------------------------


def journey(run: Run) -> dict[str, str]:
    from playwright.sync_api import expect

    P = run.people
    today = dt.datetime.now(dt.UTC).date()
    day = dt.timedelta(days=1)
    found: dict[str, str] = {}

    # Everyone signs in first: a person who has not yet changed the one-time password is
    # refused as a record's owner ("cannot work on CAPAs at BSL"), because the first-sign-in
    # gate blocks their rights on the web (core.access._evaluate, profile.blocked).
    with step(run, "the four people sign in (first sign-in: new password, TOTP enrolment)"):
        for persona in PEOPLE:
            run.as_(persona)

    with step(run, "jweber (author) records a cyber-related deviation at BSL and submits it"):
        page = run.as_("author", "/deviations/new/")
        page.fill("#id_title", TITLE)
        page.fill("#id_description", DESCRIPTION)
        page.select_option("#id_site", option_value(page.locator("#id_site"), f"{SITE} –"))
        page.select_option("#id_owner",
                           option_value(page.locator("#id_owner"), P["author"].printed_name))
        event_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)  # the server's zone
        page.fill("#id_event_at", event_at.strftime("%Y-%m-%dT%H:%M"))
        page.fill("#id_due_date", (today + 30 * day).isoformat())
        page.check("#id_cyber_related")
        page.fill("#id_security_reference", SECURITY_REFERENCE)
        page.fill("#id_immediate_actions",
                  "Session killed; vendor account locked by IT security.")
        with page.expect_navigation():
            page.get_by_test_id("create-deviation").click()
        match = re.match(r"^/deviations/(\d+)/$", path_of(page.url))
        if not match:
            raise JourneyError(f"the deviation was not recorded: {path_of(page.url)}; "
                               + " | ".join(page.locator(".errorlist").all_inner_texts()))
        dev_path = match.group(0)
        expect(flash(page)).to_contain_text("recorded as a draft.")
        found["deviation"] = number_in(flash(page), r"(\S+) recorded as a draft")
        state_is(page, "draft")
        expect(page.get_by_test_id("cyber-badge")).to_have_text(
            f"cyber-related · {SECURITY_REFERENCE}")
        expect(page.get_by_test_id("cyber-notice")).to_contain_text(SECURITY_REFERENCE)
        run.shot(page, "deviation-draft")
        take(run, page, "author", "submit", reason="Found by the SOC, ticket INC-2026-0042.")
        state_is(page, "open")
        run.shot(page, "deviation-open")

    with step(run, "treyes (QA reviewer) classifies it major and starts the investigation"):
        page = run.as_("qa_reviewer", dev_path)
        state_is(page, "open")
        edit = page.get_by_test_id("edit-form")
        edit.locator("#id_classification").select_option("major")
        edit.locator("#id_reason").fill("Triage: unauthorised access to a GxP system is major.")
        with page.expect_navigation():
            page.get_by_test_id("save-deviation").click()
        expect(page.get_by_test_id("classification")).to_have_text("Major")
        take(run, page, "qa_reviewer", "triage", reason="Investigate with IT security.")
        state_is(page, "investigation")
        run.shot(page, "deviation-investigation")

    with step(run, "jweber investigates (root cause: cybersecurity, CAPA required)"):
        page = run.as_("author", dev_path)
        state_is(page, "investigation")
        edit = page.get_by_test_id("edit-form")
        edit.locator("#id_investigation_summary").fill(INVESTIGATION_SUMMARY)
        edit.locator("#id_root_cause_category").select_option("cybersecurity")
        edit.locator("#id_root_cause").fill(ROOT_CAUSE)
        edit.locator("#id_capa_required").check()
        edit.locator("#id_reason").fill("Investigation written up.")
        with page.expect_navigation():
            page.get_by_test_id("save-deviation").click()
        expect(flash(page)).to_contain_text(f"{found['deviation']} saved.")
        take(run, page, "author", "complete_investigation")
        state_is(page, "qa_review")
        run.shot(page, "deviation-qa-review")

    with step(run, "hbrandt (QA manager) approves it with an e-signature (password + TOTP)"):
        page = run.as_("qa_manager", dev_path)
        state_is(page, "qa_review")
        expect(page.locator('.action-card[data-action="approve"] summary')).to_have_text(
            "Approve · e-signature")
        take(run, page, "qa_manager", "approve",
             reason="Investigation adequate; CAPA required.")
        expect(flash(page)).to_contain_text("Approve: done and signed (Approved).")
        state_is(page, "approved")
        rows = open_tab(page, "signatures").locator("tr.manifestation")
        expect(rows).to_have_count(1)
        check_signature(rows.first, "Approved", P["qa_manager"],
                        "Investigation adequate; CAPA required.", "password+totp")
        run.shot(page, "deviation-approved-signatures")

    with step(run, "jweber spawns a CAPA owned by pnatarajan (process owner)"):
        page = run.as_("author", dev_path)
        state_is(page, "approved")
        spawn = page.locator("details.spawn-capa")
        spawn.locator("summary").click()
        spawn.locator("#id_title").fill(CAPA_TITLE)
        spawn.locator("#id_owner").select_option(
            option_value(spawn.locator("#id_owner"), P["process_owner"].printed_name))
        spawn.locator("#id_due_date").fill((today + 60 * day).isoformat())
        with page.expect_navigation():
            page.get_by_test_id("spawn-capa").click()
        expect(flash(page)).to_contain_text(f"opened from {found['deviation']}.")
        found["capa"] = number_in(flash(page), r"(\S+) opened from")
        linked = page.get_by_test_id("linked-capas").locator("tbody tr")
        expect(linked).to_have_count(1)
        expect(linked).to_contain_text(found["capa"])
        links = open_tab(page, "links").get_by_test_id("links-table").locator("tbody tr")
        expect(links.filter(has_text=found["capa"])).to_have_count(1)
        run.shot(page, "deviation-links-capa")
        with page.expect_navigation():
            links.filter(has_text=found["capa"]).get_by_role("link").click()
        match = re.match(r"^/capa/(\d+)/$", path_of(page.url))
        if not match:
            raise JourneyError(f"the link does not lead to the CAPA: {path_of(page.url)}")
        capa_path = match.group(0)
        state_is(page, "draft")

    with step(run, "pnatarajan sets the effectiveness criteria, plans two actions, submits"):
        page = run.as_("process_owner", capa_path)
        state_is(page, "draft")
        edit = page.get_by_test_id("capa-edit")
        edit.locator("#id_effectiveness_criteria").fill(CRITERIA)
        edit.locator("#id_effectiveness_due").fill((today + 90 * day).isoformat())
        with page.expect_navigation():
            edit.get_by_role("button", name="Save").click()
        expect(flash(page)).to_contain_text("Saved.")
        for kind, text in ACTIONS:
            form = page.get_by_test_id("action-add-form")
            form.locator("select[name=kind]").select_option(kind)
            form.locator("textarea[name=description]").fill(text)
            owner = form.locator("select[name=owner]")
            owner.select_option(option_value(owner, P["process_owner"].printed_name))
            form.locator("input[name=due_date]").fill((today + 45 * day).isoformat())
            with page.expect_navigation():
                form.get_by_role("button", name="Add action").click()
            expect(flash(page)).to_contain_text("Action added")
        expect(page.get_by_test_id("action-row")).to_have_count(2)
        take(run, page, "process_owner", "submit", reason="Plan ready for QA.")
        state_is(page, "open")
        # The owner cannot approve their own plan: no card to take (since 0f93b72 the
        # pages leave out the actions a person's roles do not cover, refused or not).
        expect(page.locator('details.action-card[data-action="approve_plan"]')).to_have_count(0)
        run.shot(page, "capa-plan-submitted")

    with step(run, "treyes approves the CAPA plan with an e-signature"):
        page = run.as_("qa_reviewer", capa_path)
        take(run, page, "qa_reviewer", "approve_plan", reason="Plan addresses the root cause.")
        expect(flash(page)).to_contain_text("signed (Approved)")
        state_is(page, "implementation")
        run.shot(page, "capa-plan-approved")

    with step(run, "pnatarajan implements both actions and completes the implementation"):
        page = run.as_("process_owner", capa_path)
        rows = page.get_by_test_id("action-row")
        for index in range(2):
            row = rows.nth(index)
            row.locator("summary", has_text="Complete").click()
            row.locator("textarea[name=evidence]").fill(f"Change CHG-2026-01{index + 1}, closed.")
            row.get_by_role("button", name="Mark done").click()
            expect(rows.nth(index).locator(".badge")).to_have_text("Done")
        page.reload()
        take(run, page, "process_owner", "complete_implementation", reason="Both actions done.")
        state_is(page, "effectiveness_check")
        expect(page.get_by_test_id("effectiveness-form")).to_have_count(0)
        expect(page.get_by_test_id("effectiveness-refusal")).to_be_visible()
        run.shot(page, "capa-implemented")

    with step(run, "treyes records the effectiveness check as passed (signed Verified)"):
        page = run.as_("qa_reviewer", capa_path)
        form = page.get_by_test_id("effectiveness-form")
        form.get_by_label("Passed").check()
        form.locator("textarea[name=evidence]").fill(EVIDENCE)
        sign_fields(form, P["qa_reviewer"])
        with page.expect_navigation():
            form.get_by_test_id("confirm-verify").click()
        expect(flash(page)).to_contain_text("Effectiveness check recorded and signed (Verified).")
        expect(page.get_by_test_id("effectiveness-badge")).to_have_text("effectiveness passed")
        state_is(page, "effectiveness_check")
        run.shot(page, "capa-effectiveness-passed")

    with step(run, "hbrandt closes the CAPA with an e-signature"):
        page = run.as_("qa_manager", capa_path)
        take(run, page, "qa_manager", "close", reason="Effective; CAPA complete.")
        expect(flash(page)).to_contain_text("signed (Closed)")
        state_is(page, "closed")
        rows = open_tab(page, "signatures").locator("tr.manifestation")
        expect(rows).to_have_count(3)
        status = check_signature(rows.nth(0), "Approved", P["qa_reviewer"],
                                 "Plan addresses the root cause.")
        if status != "current":
            run.remarks.append(f"{found['capa']}: the plan approval (treyes) shows as "
                               f"{status} once the effectiveness check is recorded")
        check_signature(rows.nth(1), "Verified", P["qa_reviewer"], "Effectiveness check passed")
        check_signature(rows.nth(2), "Closed", P["qa_manager"], "Effective; CAPA complete.",
                        "password")
        run.shot(page, "capa-closed-signatures")
        capa_links = open_tab(page, "links").get_by_test_id("links-table").locator("tbody tr")
        expect(capa_links.filter(has_text=found["deviation"])).to_have_count(1)
        run.shot(page, "capa-links-deviation")
        entries = check_history(page, CAPA_STEPS, {
            "capa.capa.approve_plan": ("Plan addresses the root cause.", "open",
                                       "implementation"),
            "capa.capa.close": ("Effective; CAPA complete.", "effectiveness_check", "closed"),
        })
        verify = next(e for e in entries if e["action"] == "capa.capa.verify")
        if "effectiveness_result: pending → passed" not in verify["changes"]:
            raise JourneyError(f"the history of the check does not show the result: {verify}")
        run.shot(page, "capa-history")

    with step(run, "hbrandt closes the deviation with an e-signature; its history"):
        page.goto(dev_path)
        take(run, page, "qa_manager", "close", reason="CAPA closed effective.")
        expect(flash(page)).to_contain_text("signed (Closed)")
        state_is(page, "closed")
        rows = open_tab(page, "signatures").locator("tr.manifestation")
        expect(rows).to_have_count(2)
        status = check_signature(rows.nth(0), "Approved", P["qa_manager"],
                                 "Investigation adequate; CAPA required.")
        if status != "current":
            run.remarks.append(f"{found['deviation']}: the approval (hbrandt) shows as "
                               f"{status} once the deviation is closed")
        check_signature(rows.nth(1), "Closed", P["qa_manager"], "CAPA closed effective.")
        run.shot(page, "deviation-closed-signatures")
        dev_links = open_tab(page, "links").get_by_test_id("links-table").locator("tbody tr")
        expect(dev_links.filter(has_text=found["capa"])).to_contain_text("closed")
        check_history(page, DEVIATION_STEPS, {
            "deviations.deviation.approve": ("Investigation adequate; CAPA required.",
                                             "qa_review", "approved"),
            "deviations.deviation.close": ("CAPA closed effective.", "approved", "closed"),
        })
        run.shot(page, "deviation-history")
    found["deviation_path"], found["capa_path"] = dev_path, capa_path
    return found


# --- command line ----------------------------------------------------------------------------


def pairs(text: str, what: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise SystemExit(f"error: {what}: expected user=value, got {item!r}")
        result[name.strip()] = value.strip()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000",
                        help="address of the running demo server (default %(default)s)")
    parser.add_argument("--logins", required=True,
                        help="user=password,… for jweber, treyes, hbrandt and pnatarajan "
                             "(the one-time passwords `cyberqms demo` printed, or current ones)")
    parser.add_argument("--totp-secrets", default="",
                        help="user=BASE32,… for users who enrolled TOTP already")
    parser.add_argument("--new-password", default=None,
                        help="the password to choose at a first sign-in (default: a random "
                             "one per user, printed)")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "demo-journey",
                        help="folder for the PNG files (default %(default)s)")
    args = parser.parse_args(argv)

    logins = pairs(args.logins, "--logins")
    secrets_given = pairs(args.totp_secrets, "--totp-secrets")
    missing = [u for u, _ in PEOPLE.values() if u not in logins]
    if missing:
        print(f"error: --logins lacks {', '.join(missing)}", file=sys.stderr)
        return 2
    if not Path(CHROMIUM).is_file():
        print(f"error: {CHROMIUM} is missing; install Debian's chromium package",
              file=sys.stderr)
        return 2
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("error: Playwright is not installed; run this with .venv/bin/python",
              file=sys.stderr)
        return 2

    args.out.mkdir(parents=True, exist_ok=True)
    for old in [*args.out.glob("*.png"), args.out / "index.txt"]:
        old.unlink(missing_ok=True)
    people = {persona: Person(user, name, logins[user], secrets_given.get(user))
              for persona, (user, name) in PEOPLE.items()}
    started = time.monotonic()
    failure = ""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)

        def new_context() -> Any:
            context = browser.new_context(base_url=args.base.rstrip("/"),
                                          viewport={"width": 1440, "height": 900})
            context.set_default_timeout(30_000)  # a shared machine: allow slow answers
            return context

        run = Run(new_context, args.out, people, args.new_password)
        found: dict[str, str] = {}
        try:
            probe = new_context().new_page()
            try:
                probe.goto("/healthz")
            except PlaywrightError as exc:
                raise JourneyError(f"cannot reach {args.base}: "
                                   f"{exc.message.splitlines()[0]}") from None
            probe.context.close()
            found = journey(run)
        except JourneyError as exc:
            failure = str(exc)
        except Exception as exc:  # anything else: say what, not a traceback
            failure = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0:1]}"
        finally:
            browser.close()

    print("\nSummary")
    print(f"  server      {args.base}")
    for person in people.values():
        extra = []
        if person.new_password:
            extra.append(f"new password {person.new_password}")
        if person.totp_secret:
            extra.append(f"TOTP secret {person.totp_secret}")
        if not extra:
            extra.append("the given password" if person.signed_in else "not signed in")
        print(f"  {person.username:<11} {', '.join(extra)}")
    if found:
        print(f"  deviation   {found['deviation']}  {args.base.rstrip('/')}"
              f"{found['deviation_path']}")
        print(f"  CAPA        {found['capa']}  {args.base.rstrip('/')}{found['capa_path']}")
    print(f"  steps done  {len(run.done)}")
    for text in run.done:
        print(f"    ✓ {text}")
    print(f"  screenshots {len(run.shots)} in {args.out} (index.txt lists them)")
    for remark in run.remarks:
        print(f"  remark      {remark}")
    print(f"  time        {time.monotonic() - started:.0f} s")
    if failure:
        print(f"\nFAILED: {failure}", file=sys.stderr)
        return 1
    print("\nPASSED: the issue-4 journey works on this site.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
