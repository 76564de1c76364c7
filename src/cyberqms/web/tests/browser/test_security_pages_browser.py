"""Security pages in a real browser: an alert is assigned in place (htmx, under the strict
CSP); the sources table fits a 1366-pixel screen; every control of an incident's QA review
has an accessible name (as Chromium computes it for assistive technology)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cyberqms.web.tests.browser.test_identity_browser import (
    as_cli,
    assert_no_console_errors,
    at,
    sign_in,
)

pytestmark = pytest.mark.browser

T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
# Roles of controls a person operates; each needs a name read out by a screen reader.
CONTROLS = frozenset({"textbox", "searchbox", "combobox", "listbox", "checkbox", "radio",
                      "spinbutton", "button", "switch", "slider"})


def brute_force_alert(security: Any, site: Any = None) -> Any:
    from cyberqms.security.monitoring import services

    services.reload_rules()
    with as_cli():
        source = services.source_create(actor=security, name="LIMS BSL", kind="lims",
                                        system="LabWare LIMS", format="syslog", site=site)
    lines = [
        f"<38>1 {(T0 + dt.timedelta(seconds=5 * i)).strftime('%Y-%m-%dT%H:%M:%S')}Z lims01 "
        "sshd 4242 - - Failed password for qc_analyst from 10.20.0.7 port 22 ssh2"
        for i in range(10)
    ]
    [alert] = services.ingest(source, lines, channel="syslog-tcp", received_at=T0).alerts
    return alert


def _labelled(node: dict[str, Any]) -> bool:
    """Whether Chromium found the control a name other than its placeholder (a placeholder
    disappears once something is typed: it is no label)."""
    name = node.get("name", {})
    if not str(name.get("value", "")).strip():
        return False
    used = [source for source in name.get("sources", [])
            if source.get("value") and not source.get("superseded")]
    return bool(used) and used[0].get("attribute") != "placeholder"


def unnamed_controls(page: Page) -> list[str]:
    """Controls without an accessible name of their own (a label, aria-label, their
    text), every card and tab opened first; each as its role and HTML."""
    page.evaluate("""() => {
        document.querySelectorAll("details").forEach((d) => { d.open = true; });
        document.querySelectorAll("[role=tabpanel]").forEach((p) => { p.hidden = false; });
    }""")
    session = page.context.new_cdp_session(page)
    nodes = session.send("Accessibility.getFullAXTree")["nodes"]
    found = []
    for node in nodes:
        if node.get("ignored") or node.get("role", {}).get("value") not in CONTROLS:
            continue
        if _labelled(node):
            continue
        html = session.send("DOM.getOuterHTML", {"backendNodeId": node["backendDOMNodeId"]})
        found.append(f"{node['role']['value']}: {html['outerHTML'][:160]}")
    session.detach()
    return found


def test_an_alert_is_assigned_in_place_a11d_04(
    open_page: Callable[[], Page], make_user: Callable[..., Any]
) -> None:
    security = make_user("it_security", "it_security")
    make_user("qa_manager", "qa_manager")
    alert = brute_force_alert(security)
    page = open_page()
    sign_in(page, security, totp=True)
    page.goto(f"/monitoring/alerts/{alert.pk}/")
    expect(page.get_by_test_id("assignee-name")).to_have_text("nobody yet")
    page.get_by_label("Assign to").select_option(label="Qa Manager")
    page.get_by_test_id("assign").click()
    expect(page.get_by_test_id("assignee-name")).to_have_text("Qa Manager")
    expect(page.get_by_label("Hand on to")).to_be_visible()
    expect(page).to_have_url(at(f"/monitoring/alerts/{alert.pk}/"))
    assert_no_console_errors(page)


def test_the_sources_table_fits_a_1366_pixel_screen(
    open_page: Callable[[], Page], make_user: Callable[..., Any]
) -> None:
    from cyberqms.security.monitoring import services

    security = make_user("it_security", "it_security")
    with as_cli():
        for n in range(3):
            services.source_create(
                actor=security, name=f"Chromatography data system building {n} line B",
                kind="lims", system="Empower 3 Feature Release 5 enterprise (clustered)",
                format="jsonl",
                addresses=[f"10.{n}.{m}.0/24" for m in range(12)] + ["fd00:1234:5678::/48"])
    page = open_page()
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, security, totp=True)
    page.goto("/monitoring/sources/")
    widths = page.evaluate("""() => {
        const table = document.querySelector("[data-testid=source-table]");
        return {table: table.scrollWidth, room: table.parentElement.clientWidth,
                page: document.documentElement.scrollWidth};
    }""")
    assert (widths["table"] <= widths["room"], widths["page"] <= 1366) == (True, True), widths
    assert_no_console_errors(page)


def test_every_control_of_an_incidents_qa_review_has_a_name(
    open_page: Callable[[], Page], make_user: Callable[..., Any]
) -> None:
    from cyberqms.platform.kit.record_parts import attachment_add
    from cyberqms.quality.deviations.tests.factories import a_site
    from cyberqms.security.incidents import services
    from cyberqms.security.incidents.workflow import INCIDENT_WORKFLOW

    security = make_user("it_security", "it_security")
    manager = make_user("qa_manager", "qa_manager")
    make_user("author", "author")
    alert = brute_force_alert(security, a_site("BSL"))
    with as_cli():
        incident = services.incident_from_alert(alert, actor=security)
        incident = services.incident_update(incident, actor=security, changes={
            "containment": "Account locked.", "affected_systems": "LabWare LIMS",
            "gxp_impact": True, "impact_assessment": "Failed attempts only."})
        services.incident_open_deviation(incident, actor=security, owner=security)
        attachment_add(incident, actor=security, filename="firewall.log",
                       data=b"deny 10.20.0.7\n")
        INCIDENT_WORKFLOW.run(incident, "assess", actor=security)
        INCIDENT_WORKFLOW.run(incident, "submit", actor=security)
    found = {}
    for person in (manager, security):
        page = open_page()
        sign_in(page, person, totp=True)
        page.goto(f"/incidents/{incident.pk}/")
        expect(page.get_by_test_id("record-state")).to_have_text("QA review")
        found[person.username] = unnamed_controls(page)
    assert found == {"qa_manager": [], "it_security": []}
