"""The interface stays honest, for every role (issue 13): each role signs in through the
browser and tours its pages: home, every navigation entry, then what those pages lead to
(one detail page of each list, the create and edit forms, the profile and its pages, the
inbox, the record history, the trail viewer and its status). On the way it checks that

* axe-core finds no violation of impact "serious" or "critical" against WCAG 2.1 A and AA,
  with every collapsed action card and hidden tab opened first;
* the page loads without a Content-Security-Policy violation or a script error;
* no control it shows leads to a refusal (CYB-01: the pages offer only what the gate
  allows): every link to this site answers 2xx (after redirects, and not the sign-in page)
  to a GET in the user's session, exports included; a GET form's action answers a GET; a
  POST form's action (or htmx's hx-post) answers a GET with anything but 401, 403, 404 or
  an error: the access gate refuses before the view looks at the method, so 405 means
  "allowed, but not by GET".

Everything found is reported in one assertion at the end, so that one run lists it all.

What it costs, and how it is kept small (issue 13 gives this module about a minute of the
suite): one browser context serves every role, its cookies cleared between them. Every page
is read once per role and URL pattern (one detail page per family), over HTTP in the
browser's session, and its controls taken from its HTML; the browser shows it, and CSP and
axe check it, only where it holds a kind of element (tag, type, name, role) that no page of
its URL pattern has shown before: the same forms, fields and buttons seen by another role
are not checked again. Each destination is checked once per role and path; query strings
count by their keys (one state filter stands for all; the CSV export is checked on its
own); the PDF copy once per role and once per family (see `Survey.worth_checking`).

Set CYBERQMS_SCREENSHOTS=1 to render every (role, page) and keep a full-page screenshot of
it in test-artifacts/screenshots/interface/<role>/.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
from django.core.cache import cache
from django.urls import Resolver404, resolve
from django.utils import timezone
from playwright.sync_api import Browser, Page

from cyberqms.conftest import PERSONAS
from cyberqms.web.tests.browser.conftest import CSP_REPORTER, SCREENSHOT_DIR
from cyberqms.web.tests.browser.test_identity_browser import as_cli, sign_in

pytestmark = pytest.mark.browser

AXE = Path(__file__).with_name("vendor") / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("critical", "serious")
ROLES = tuple(name for name, role in PERSONAS.items() if role)  # every role, no outsider
SHOTS = SCREENSHOT_DIR / "interface"
SIGN_IN = "/accounts/login/"
ROUNDS = 3  # navigation entries, the pages they lead to, and the pages those lead to

# The pages a tour opens beyond the navigation, by URL name.
FOLLOW = re.compile(
    r"^(?:\w+:(?:detail|create|edit|chain)|monitoring:(?:alert|events|sources)"
    r"|accounts:(?:user_detail|user_create|profile|token_create)|web:search"
    r"|notifications:(?:inbox|email)|trail:(?:history|review_create)"
    r"|mfa_index|mfa_view_recovery_codes|account_change_password)$"
)
# Links whose GET signs out or changes something (opening a notification marks it read).
NOT_CHECKED = ("account_logout", "notifications:open")
PDF = "records:pdf"

# Open what a person can open: the action cards and the tabs.
REVEAL_JS = """() => {
  for (const d of document.querySelectorAll("details")) d.open = true;
  for (const p of document.querySelectorAll("[role=tabpanel][hidden]")) p.hidden = false;
}"""
AXE_RUN_JS = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags},
                                          resultTypes: ["violations"]});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, count: v.nodes.length,
    targets: v.nodes.slice(0, 3).map((n) => n.target.join(" "))}));
}"""


@functools.cache
def _axe_source() -> str:
    return AXE.read_text()


def blocking_violations(page: Page) -> list[dict[str, Any]]:
    """The serious and critical violations on the page, everything on it opened."""
    # The app's CSP allows only its own scripts with the response's nonce, so a script
    # tag (page.add_script_tag) would be refused. Evaluating axe's source through the
    # DevTools protocol (page.evaluate) is not subject to the page's CSP: the app keeps
    # its CSP, unchanged (no bypass_csp), and axe loads only where it runs.
    page.evaluate(REVEAL_JS)
    page.evaluate(_axe_source())
    violations: list[dict[str, Any]] = page.evaluate(AXE_RUN_JS, WCAG_21_AA)
    return [v for v in violations if v["impact"] in BLOCKING]


# --- the data -------------------------------------------------------------------------------


def make_data(people: dict[str, Any]) -> None:
    """A record of each family in its first state, halfway through its workflow and
    closed (the walker signs where a step is signed); a high security alert from a burst of
    failed sign-ins, which notifies IT security and the QA managers; recovery codes for
    everyone with an authenticator, as enrolling through the pages gives them."""
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    from cyberqms.platform.accounts.tests.factories import SiteFactory
    from cyberqms.platform.kit.records import registered_kinds
    from cyberqms.platform.kit.tests.kit import record_in_state
    from cyberqms.security.monitoring import services as monitoring

    with as_cli():
        site = SiteFactory.create(code="MUC", name="Munich plant")
        for kind in registered_kinds():
            states = kind.workflow.states()
            halfway = states[len(states) // 2 - 1]  # deviations: investigation
            # Finished: closed, or the first finished state (documents: superseded).
            finished = "closed" if "closed" in states else kind.closed_states[0]
            for state in (kind.initial_state, finished, halfway):
                record_in_state(kind, state, people, site=site)
        monitoring.reload_rules()
        source = monitoring.source_create(
            actor=people["it_security"], name="LIMS MUC", kind="lims",
            system="LabWare LIMS", format="syslog", site=site)
        start = timezone.now() - dt.timedelta(minutes=5)
        monitoring.ingest(source, [
            f"<38>1 {start + dt.timedelta(seconds=5 * i):%Y-%m-%dT%H:%M:%S}Z lims01 sshd 4242"
            " - - Failed password for qc_analyst from 10.20.0.7 port 22 ssh2"
            for i in range(12)
        ], channel="syslog-tcp")
    for user in people.values():
        if user.has_mfa():
            RecoveryCodes.activate(user)
        user.forget_access_cache()


# --- reading a page -------------------------------------------------------------------------


@dataclass(frozen=True)
class Control:
    kind: str  # link, form or htmx
    method: str  # how a person's use of it asks: get or post
    url: str  # absolute, without its fragment
    label: str


class PageReader(HTMLParser):
    """The controls of a page (links, forms and their buttons' actions, htmx requests) and
    its structure: the kinds of element it holds (tag, type, name, role), each kind once,
    so that more rows of a table or more entries in the navigation change nothing."""

    def __init__(self, url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.url = url
        self.controls: list[Control] = []
        self.nav: list[str] = []
        self.kinds: set[str] = set()
        self._link: dict[str, str] | None = None
        self._link_text: list[str] = []
        self._form: Control | None = None
        self._button_text: list[str] | None = None

    def absolute(self, href: str | None) -> str:
        return urljoin(self.url, href or "").split("#")[0]

    def handle_starttag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attributes}
        self.kinds.add("|".join((tag, a.get("type", ""), a.get("name", ""), a.get("role", ""))))
        named = a.get("aria-label") or a.get("title") or ""
        if tag == "a" and a.get("href") and not a["href"].startswith("#"):
            self._link, self._link_text = a, []
            if "data-nav" in a:
                self.nav.append(self.absolute(a["href"]))
        elif tag == "form":
            post = a.get("hx-post")
            method = "post" if post else (a.get("method") or "get").lower()
            self._form = Control("form", method, self.absolute(post or a.get("action")), "")
        elif tag in ("button", "input") and self._form is not None:
            if tag == "input" and a.get("type") == "submit":
                self._name_form(a.get("value", ""))
            elif tag == "button":
                self._button_text = [named] if named else []
            if a.get("formaction"):
                method = (a.get("formmethod") or self._form.method).lower()
                self.controls.append(Control("form", method, self.absolute(a["formaction"]),
                                             named or a.get("value", "")))
        for verb in ("get", "post"):
            if a.get(f"hx-{verb}") and tag != "form":
                self.controls.append(Control("htmx", verb, self.absolute(a[f"hx-{verb}"]),
                                             named or a.get("data-testid", tag)))

    def handle_data(self, data: str) -> None:
        if self._link is not None:
            self._link_text.append(data)
        if self._button_text is not None:
            self._button_text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._link is not None:
            text = " ".join(" ".join(self._link_text).split())
            label = self._link.get("aria-label") or text or self._link.get("title", "")
            self.controls.append(Control("link", "get", self.absolute(self._link["href"]),
                                         label[:60]))
            self._link = None
        elif tag == "button" and self._button_text is not None:
            self._name_form(" ".join(" ".join(self._button_text).split()))
            self._button_text = None
        elif tag == "form" and self._form is not None:
            self.controls.append(self._form)
            self._form = None

    def _name_form(self, label: str) -> None:
        if self._form is not None and not self._form.label:
            self._form = Control("form", self._form.method, self._form.url, label[:60])


def read_page(url: str, html: str) -> PageReader:
    reader = PageReader(url)
    reader.feed(html)
    reader.close()
    return reader


def pattern_of(url: str) -> str:
    """A page's kind: its URL name, with the family where the route takes one
    ("records:pdf[deviations]"); the path itself where it resolves to nothing."""
    path = urlsplit(url).path
    try:
        match = resolve(path)
    except Resolver404:
        return path
    slug = match.kwargs.get("slug")
    return f"{match.view_name}[{slug}]" if slug else match.view_name


def destination(url: str) -> str:
    """Where a control leads, as checked: the path, and the query string's keys only."""
    parts = urlsplit(url)
    keys = sorted({key for key, _value in parse_qsl(parts.query, keep_blank_values=True)})
    return parts.path + (f"?{'&'.join(keys)}" if keys else "")


# --- the tour -------------------------------------------------------------------------------


@dataclass
class Survey:
    """What the whole run found, and the page structures axe has already checked."""

    origin: str
    screenshots: bool
    findings: list[str] = field(default_factory=list)
    structures: set[tuple[str, frozenset[str]]] = field(default_factory=set)
    once: set[tuple[str, str]] = field(default_factory=set)
    pages: int = 0
    checked_by_axe: int = 0
    requests: int = 0

    def worth_checking(self, role: str, pattern: str) -> bool:
        """False for a PDF copy already checked for this role and for this family: the PDF
        is by far the slowest destination (WeasyPrint), and its gate and record lookup are
        those of the JSON copy, which is checked for every role and family."""
        if not pattern.startswith(f"{PDF}["):
            return True
        new = (role, PDF) not in self.once or ("", pattern) not in self.once
        self.once |= {(role, PDF), ("", pattern)}
        return new

    def axe(self, page: Page) -> list[dict[str, Any]]:
        return blocking_violations(page)


@dataclass
class Tour:
    """One role's walk through its pages."""

    survey: Survey
    role: str
    page: Page
    nav: set[str] = field(default_factory=set)
    session: dict[str, str] = field(default_factory=dict)  # headers: Cookie, User-Agent
    answers: dict[str, tuple[int, str]] = field(default_factory=dict)
    visited: set[str] = field(default_factory=set)
    to_show: list[tuple[str, str, bool]] = field(default_factory=list)  # url, pattern, axe?

    def report(self, url: str, problem: str) -> None:
        self.survey.findings.append(
            f"[{self.role}] {url.removeprefix(self.survey.origin)}: {problem}")

    def local(self, url: str) -> bool:
        return url.startswith(self.survey.origin + "/")

    def fetch(self, url: str) -> tuple[int, str]:
        """The status of a GET of `url` in the user's session, redirects followed (401
        where it ends on the sign-in page), once per destination; with the HTML of a page
        the tour may open.

        The request carries the browser context's cookies and user agent: the same session
        as page.request.get, but without its cost (about 45 ms a request against the live
        server, 5 ms this way), which for some 900 requests was most of the run."""
        key = destination(url)
        if key not in self.answers:
            self.survey.requests += 1
            pattern = pattern_of(url)
            wanted = pattern not in self.visited and (
                url in self.nav or FOLLOW.match(pattern.split("[")[0]) is not None)
            # Only the live server's own http URLs come here (see `local`); S310 warns of
            # file: and custom schemes.
            request = urllib.request.Request(url, headers=self.session)  # noqa: S310
            try:
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                    # Read to the end even when the body is not wanted: a streamed answer
                    # (the CSV exports) reads the database until it is sent, and the live
                    # server's in-memory SQLite refuses the next request's writes meanwhile
                    # ("database table is locked").
                    status, body = response.status, response.read()
                    html = ""
                    if urlsplit(response.url).path == SIGN_IN:
                        status = 401
                    elif wanted and response.headers.get_content_type() == "text/html":
                        html = body.decode()
            except urllib.error.HTTPError as error:
                status, html = error.code, ""
                error.read()
                error.close()
            self.answers[key] = (status, html)
        return self.answers[key]

    def visit(self, url: str, *, html: str = "") -> list[Control]:
        """Read the page (fetched in the session, or as the browser showed it: `html`),
        keep it to be shown where its structure is new, and check its controls."""
        pattern = pattern_of(url)
        if not html:
            status, html = self.fetch(url)
            if status == 200 and not html:  # checked before the tour meant to open it
                self.answers.pop(destination(url))
                status, html = self.fetch(url)
            if status != 200:
                self.report(url, f"the page answers {status}")
                return []
        self.visited.add(pattern)
        self.survey.pages += 1
        reader = read_page(url, html)
        structure = (pattern, frozenset(reader.kinds))
        new = structure not in self.survey.structures
        self.survey.structures.add(structure)
        if new or self.survey.screenshots:
            self.to_show.append((url, pattern, new))
        for control in reader.controls:
            self.check(url, control)
        return reader.controls

    def show(self, url: str, pattern: str, *, axe: bool) -> None:
        """Show the page in the browser (which reports CSP violations as they happen) and
        check it with axe; keep a screenshot if asked to."""
        response = self.page.goto(url)
        if response is None or response.status != 200:
            self.report(url, f"the page answers {response and response.status} when shown")
            return
        if axe:
            self.survey.checked_by_axe += 1
            for v in self.survey.axe(self.page):
                self.report(url, f"axe {v['impact']} {v['id']} ({v['help']}), {v['count']} "
                                 f"element(s): {'; '.join(v['targets'])}")
        if self.survey.screenshots:
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", pattern)
            self.page.screenshot(path=str(SHOTS / self.role / f"{name}.png"), full_page=True)

    def check(self, page_url: str, control: Control) -> None:
        """The control's destination answers this user."""
        if not self.local(control.url):
            return
        pattern = pattern_of(control.url)
        if pattern in NOT_CHECKED or not self.survey.worth_checking(self.role, pattern):
            return
        status, _html = self.fetch(control.url)
        if control.method == "post":
            refused = status in (401, 403, 404) or status >= 500
        else:
            refused = status >= 400
        if refused:
            self.report(page_url, f"{control.kind} {control.label!r} ({control.method.upper()} "
                                  f"{control.url.removeprefix(self.survey.origin)}) answers "
                                  f"{status} to a GET")

    def next_pages(self, controls: list[Control]) -> list[str]:
        """One page of each URL pattern worth opening that the tour has not opened yet
        (and that did not refuse the link to it: that is reported already)."""
        chosen: dict[str, str] = {}
        for control in controls:
            if control.kind != "link" or not self.local(control.url):
                continue
            if self.answers.get(destination(control.url), (200, ""))[0] != 200:
                continue
            pattern = pattern_of(control.url)
            if (pattern not in self.visited and pattern not in chosen
                    and FOLLOW.match(pattern.split("[")[0])):
                chosen[pattern] = control.url
        return list(chosen.values())


def tour(walk: Tour, user: Any) -> None:
    """Sign in, then read home, every navigation entry and, for ROUNDS rounds, the pages
    the last round's pages lead to; then show in the browser those to be shown.

    The browser stays on a blank page while the pages are read: a page left open polls
    (the alert banner), and the live server's in-memory SQLite refuses a write while
    another thread uses the table ("database table is locked"), so the browser and the
    reading never ask at the same time."""
    page = walk.page
    # Every persona has the same authenticator secret, and allauth refuses a code already
    # used in its time step; the live server shares this process's cache, which remembers it.
    cache.clear()
    sign_in(page, user, totp=user.has_mfa())
    walk.session = {
        "Cookie": "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies()),
        "User-Agent": page.evaluate("() => navigator.userAgent"),
    }
    home, html = page.url, page.content()
    page.goto("about:blank")
    queue = read_page(home, html).nav
    walk.nav = set(queue)
    controls = walk.visit(home, html=html)
    for _round in range(ROUNDS):
        found = list(controls)
        for url in queue:
            if pattern_of(url) not in walk.visited:
                found += walk.visit(url)
        queue, controls = walk.next_pages(found), []
    for url, pattern, axe in walk.to_show:
        walk.show(url, pattern, axe=axe)


@pytest.mark.slow
def test_every_page_of_every_role_is_accessible_and_offers_no_refused_control(
    browser: Browser, live_server: Any, make_user: Callable[..., Any],
) -> None:
    """CYB-01, issue 13: for every role, every page it reaches passes axe (WCAG 2.1 A and
    AA: nothing serious or critical), loads without a CSP violation, and no link or form on
    it leads to a refusal for that role."""
    people = {name: make_user(name, PERSONAS[name]) for name in ROLES}
    make_data(people)
    survey = Survey(origin=live_server.url,
                    screenshots=os.environ.get("CYBERQMS_SCREENSHOTS") == "1")
    # One browser context for every role, its cookies cleared between them: a context of
    # its own per role cost twice the browser's time of the sign-in it is made for.
    context = browser.new_context(base_url=live_server.url)
    context.add_init_script(CSP_REPORTER)
    context.set_default_timeout(20_000)  # the machine is shared: allow slow answers
    page = context.new_page()
    walk = Tour(survey, "", page)

    def on_console(message: Any) -> None:
        if message.type == "error" and "CSP violation" in message.text:
            walk.report(page.url, message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: walk.report(page.url, f"uncaught {error}"))
    try:
        for role in ROLES:
            if survey.screenshots:
                (SHOTS / role).mkdir(parents=True, exist_ok=True)
            context.clear_cookies()
            walk = Tour(survey, role, page)
            tour(walk, people[role])
    finally:
        context.close()
    print(f"{len(ROLES)} roles: {survey.pages} pages read, {survey.checked_by_axe} of them "
          f"shown and checked by axe; {survey.requests} requests")
    problems = sorted(set(survey.findings))
    assert not problems, f"{len(problems)} problem(s) in the interface:\n" + "\n".join(problems)

