"""Issue 17's access governance, walked in Chromium on the data of a fresh `make demo`.

The demo is loaded as the demo journeys load it (test_demo_browser.load_demo: 18 months at
a fixed moment, then again at the real time for fresh one-time passwords), and each person
signs in for the first time through the real pages (a new password, an authenticator for
the privileged roles). The live server runs in the test's process on the test's database,
so what a page did is also read back through the ORM.

1. The QA manager opens Access governance: the figures and the open findings the demo's
   history left (one segregation-of-duties conflict; findings about rfischer, lmoreau,
   kschmid and gmartin), the campaigns and the matrix.
2. She decides her items of the open Dublin campaign: the Dublin QA specialist who never
   approved anything loses his QA-reviewer role, with a reason; she signs "Access
   reviewed" once, and from that moment he may not approve a deviation.
3. The closed Basel campaign's PDF copy lists every decision with the signature that holds
   it, and the attestations.
4. The administrator sets a leaver date a minute ahead on the user page ("Manager and
   leaving"); once it has passed, the leaver job disables the account.
5. The administrator grants an author the QA-manager role at Basel: the scan on commit
   raises a segregation-of-duties finding, its security event goes through the monitoring
   pipeline, and IT security sees "Access drift found" on the alert banner.

Screenshots go to /tmp/access_shots/ (and, as for every browser test, the last state of
each page to test-artifacts/screenshots/). Pages are checked by axe on the way.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.template.defaultfilters import floatformat
from django.utils import timezone
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from cyberqms.conftest import totp_code
from cyberqms.web.tests.browser.test_demo_browser import NEW_PASSWORD, Demo, flash, load_demo
from cyberqms.web.tests.browser.test_identity_browser import assert_no_csp_violations
from cyberqms.web.tests.browser.test_interface_browser import blocking_violations

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/access_shots")  # noqa: S108  # a fixed place to look at them
REVOKE_REASON = "Never approved a deviation at Dublin in the year: QA reviewer not needed"
KEEP_REASON = "Owns the Dublin systems; approves their changes"
LEAVER = "kschmid"
SEVERITIES = ["high", "medium", "low"]


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def words(text: str) -> str:
    return " ".join(text.split())


def texts(page: Page, selector: str) -> list[str]:
    return [words(t) for t in page.locator(selector).all_text_contents()]


def sign(demo: Demo, username: str, page: Page) -> None:
    """Sign the reviewer's decisions: the statement if asked, the password and, on the
    first signature of the session, the authenticator code."""
    form = page.get_by_test_id("attest")
    if form.locator("input[name=accept_statement]").count():
        form.locator("input[name=accept_statement]").check()
    form.locator("input[name=password]").fill(NEW_PASSWORD)
    if form.locator("input[name=otp]").count():
        cache.clear()  # the sign-in may have used this step's code (see Demo.take)
        form.locator("input[name=otp]").fill(totp_code(demo.secrets[username]))
    with page.expect_navigation():
        form.get_by_test_id("sign-attestation").click()


def decide(page: Page, username: str, decision: str, reason: str) -> None:
    form = page.get_by_test_id("review-item").filter(has_text=username).get_by_test_id(
        "decide-form")
    form.locator("select[name=decision]").select_option(decision)
    form.locator("input[name=reason]").fill(reason)
    with page.expect_navigation():
        form.get_by_role("button", name="Decide").click()


def may_approve_deviations(username: str) -> bool:
    """Asked afresh: a new instance, its roles read from the database."""
    from cyberqms.platform.accounts.models import User
    from cyberqms.platform.core.access import can

    return can(User.objects.get(username=username), "deviations.approve")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_access_governance_on_a_fresh_demo(open_page: Callable[[], Any], settings: Any) -> None:
    from cyberqms.platform.accounts.employment import leavers_disable
    from cyberqms.platform.accounts.models import Site, User
    from cyberqms.platform.core.models import SecurityEvent
    from cyberqms.quality.changes.models import Change
    from cyberqms.security.findings.models import AccessFinding
    from cyberqms.security.governance.metrics import findings_by_age, governance_figures
    from cyberqms.security.governance.models import AccessReview, Attestation, ReviewItem
    from cyberqms.security.monitoring import services
    from cyberqms.security.monitoring.models import Alert

    demo = Demo(open_page, load_demo())
    people = {u.username: u for u in User.objects.all()}

    # --- 4a. The administrator sets a leaver date a minute ahead -------------------------
    # (first, so that the wait for the date overlaps the steps between). The field is a
    # datetime-local of whole minutes: the next whole minute at least 30 s away.
    leaver = people[LEAVER]
    leaves = (timezone.localtime() + dt.timedelta(seconds=90)).replace(second=0,
                                                                       microsecond=0)
    admin = demo.as_("slindqvist", f"/admin-area/users/{leaver.pk}/")
    employment = admin.get_by_test_id("employment")
    expect(employment.locator("h2")).to_have_text("Manager and leaving")
    expect(employment.locator("select[name=manager]")).to_have_value(
        str(people["pnatarajan"].pk))
    employment.locator("input[name=leaver_at]").fill(leaves.strftime("%Y-%m-%dT%H:%M"))
    employment.locator("input[name=employee_id]").fill("HR-BSL-0417")
    employment.locator("input[name=reason]").fill("Resignation received by HR")
    with admin.expect_navigation():
        employment.get_by_role("button", name="Save").click()
    expect(flash(admin)).to_have_text("Manager, leaving date and employee id saved.")
    leaver.refresh_from_db()
    assert (leaver.leaver_at, leaver.employee_id, leaver.manager_id, leaver.is_active) == (
        leaves, "HR-BSL-0417", people["pnatarajan"].pk, True)

    # --- 1. The QA manager's overview: what the demo's scans left open --------------------
    page = demo.as_("hbrandt", "/access/")
    expect(page.locator("h1")).to_have_text("Access governance")
    expect(page.get_by_test_id("kpi-open-findings")).to_have_text("8")
    expect(page.get_by_test_id("kpi-sod")).to_have_text("1")
    expect(page.get_by_test_id("kpi-dormant")).to_have_text("1")
    expect(page.get_by_test_id("kpi-leaver")).to_have_text("45 s")  # the demo's leaver
    figures = governance_figures()
    assert (figures.review_on_time, figures.review_on_time_pct) == (
        figures.review_decisions, 100.0)
    assert texts(page, "[data-testid=governance-kpis] .kpi") == [
        "Open findings 8 3 high · 5 medium · 0 low",
        "Segregation-of-duties conflicts 1 open findings",
        "Dormant accounts 1 no sign-in for the set number of days",
        f"Reviews signed on time 100.0 % {figures.review_decisions} of "
        f"{figures.review_decisions} decisions, last 365 days",
        "Leaver to disabled 45 s median of 1 leaver · 1 right revoked per campaign"]
    findings = page.get_by_test_id("open-findings").locator("tbody tr")
    expect(findings).to_have_count(8)
    open_findings = [(f, f.subject) for f in AccessFinding.objects.filter(state="open")
                     .select_related("subject")]
    assert sorted((f.kind, subject.username if subject else "") for f, subject in
                  open_findings) == [
        ("account_orphan", ""), ("account_orphan", ""),
        ("auditor_timebox", "gmartin"), ("dormant", "kschmid"),
        ("grant_unapproved", "rfischer"), ("mfa_missing", "rfischer"),
        ("sod_conflict", "rfischer"), ("unused_rights", "lmoreau")]
    # Most severe first, each naming its person.
    assert [words(row.locator("td").nth(0).inner_text()) + " | " + row.locator("td").nth(2)
            .inner_text() + " | " + row.locator("td").nth(3).inner_text()
            for row in findings.all()] == [
        f"{f.number} {f.title} | {f.severity} | {subject.printed_name if subject else '—'}"
        for f, subject in
        sorted(open_findings, key=lambda fs: (SEVERITIES.index(fs[0].severity), -fs[0].pk))]
    names = set(texts(page, "[data-testid=open-findings] tbody td:nth-child(4)"))
    assert names == {"—", *(people[u].printed_name for u in ("rfischer", "lmoreau",
                                                            "kschmid", "gmartin"))}
    conflict_row = findings.filter(has_text="Segregation-of-duties conflict")
    expect(conflict_row).to_contain_text("Ralf Fischer: Process owner and QA manager at BSL")
    assert texts(page, "[data-testid=findings-by-age] thead th") == [
        "Severity", "up to a week", "up to a month", "up to 3 months", "older"]
    # By age: the bands move with the real date (the demo's records are dated at a fixed
    # moment), so the cells are those of the same count; eight in all.
    by_age = findings_by_age()
    assert [sum(cells) for _severity, cells in by_age] == [3, 5, 0]
    assert [[words(c) for c in row.locator("th, td").all_text_contents()] for row in
            page.get_by_test_id("findings-by-age").locator("tbody tr").all()] == [
        [severity, *(str(n) if n else "·" for n in cells)] for severity, cells in by_age]
    # The demo's two scheduled campaigns: Basel's closed, Dublin's waiting for her.
    dublin = AccessReview.objects.get(review_kind="scheduled", site__code="DUB")
    basel = AccessReview.objects.get(review_kind="scheduled", site__code="BSL",
                                     system__isnull=True)
    basel_items = ReviewItem.objects.filter(review=basel).count()
    assert (dublin.state, basel.state, basel_items) == ("open", "closed", 9)
    for review, site, state, signed in ((dublin, "DUB", "Open for decisions", "0 of 2"),
                                        (basel, "BSL", "Closed", "9 of 9")):
        cells = page.get_by_test_id("campaigns").locator("tbody tr").filter(
            has_text=review.number).locator("td")
        expect(cells.nth(0)).to_have_text(re.compile(
            rf"^{review.number} {review.title}\s*{site} · due {review.due_date:%Y-%m-%d}$"))
        expect(cells.nth(1)).to_have_text(state)
        expect(cells.nth(2).locator("span")).to_have_text(f"{signed} signed")
    sod = page.get_by_test_id("sod-matrix").locator("tbody tr")
    expect(sod).to_have_count(4)
    expect(sod.nth(0).locator("td").last).to_have_text("1")
    expect(page.get_by_test_id("scan-now")).to_have_text("Scan now")
    shot(page, "1-overview")
    demo.axe(page)

    # --- 2. Her Dublin campaign: revoke the unused QA-reviewer role and sign ---------------
    lmoreau = people["lmoreau"]
    assert may_approve_deviations("lmoreau") is True
    page = demo.as_("hbrandt", f"/access/reviews/{dublin.pk}/decide/")
    expect(page.locator("h1")).to_have_text(f"{dublin.number} {dublin.title}")
    expect(page.get_by_test_id("review-item")).to_have_count(2)
    luc = page.get_by_test_id("review-item").filter(has_text="lmoreau")
    expect(luc.locator(".panel-head h2")).to_have_text("Luc Moreau lmoreau · QA reviewer at DUB")
    expect(luc.get_by_test_id("suggestion")).to_have_text("suggested: revoke")
    # The evidence: every deciding right of the role, never used.
    evidence = luc.locator("tbody tr")
    expect(evidence.filter(has_text="deviations.approve").locator("td")).to_have_text(
        ["Approve a deviation (QA, e-signature) deviations.approve", "never", "0"])
    assert {words(t) for t in luc.locator("tbody td:nth-child(2)").all_text_contents()} == {
        "never"}
    unused = AccessFinding.objects.get(kind="unused_rights", subject=lmoreau)
    expect(luc).to_contain_text(f"Open findings: {unused.number} {unused.title}")
    form = luc.get_by_test_id("decide-form")
    expect(form.locator("select[name=decision]")).to_have_value("revoke")  # the suggestion
    decide(page, "lmoreau", "revoke", REVOKE_REASON)
    luc = page.get_by_test_id("review-item").filter(has_text="lmoreau")
    expect(luc.get_by_test_id("item-decided")).to_have_text(
        f"Decided: Revoke — {REVOKE_REASON}. Not signed yet.")
    expect(page.get_by_test_id("sign-attestation")).to_be_disabled()  # one still to decide
    decide(page, "mbianchi", "keep", KEEP_REASON)
    expect(page.get_by_test_id("sign-attestation")).to_be_enabled()
    # Decided, not signed: nothing has changed yet.
    assert may_approve_deviations("lmoreau") is True
    sign(demo, "hbrandt", page)
    expect(flash(page)).to_have_text(
        f"{dublin.number}: 2 decisions signed; 1 role revoked or changed at once.")
    assert texts(page, "[data-testid=item-signed]") == [
        f"signed Revoke — {REVOKE_REASON} · applied", f"signed Keep — {KEEP_REASON}"]
    expect(page.get_by_test_id("attest")).to_have_count(0)
    expect(page.get_by_test_id("decide-form")).to_have_count(0)
    shot(page, "2-decide")
    demo.axe(page)
    # He lost the right at once: rights are read afresh on every request.
    assert may_approve_deviations("lmoreau") is False
    item = ReviewItem.objects.select_related("attestation__signature").get(
        review=dublin, person=lmoreau)
    assert item.attestation is not None
    assert item.attestation.signature is not None
    assert (item.decision, item.reason, item.applied_at is not None,
            item.attestation.signature.meaning, item.attestation.signature.username,
            item.attestation.revoked) == (
        "revoke", REVOKE_REASON, True, "Access reviewed", "hbrandt", 1)

    # His access page: no role left, the signed decision in his campaign history.
    page.goto(f"/access/people/{lmoreau.pk}/")
    expect(page.locator("h1")).to_have_text("Luc Moreau lmoreau")
    expect(page.get_by_test_id("role-usage")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("No role in force.")
    expect(page.get_by_test_id("person-findings").locator("tbody tr")).to_contain_text(
        f"{unused.number} {unused.title}")
    review_row = page.get_by_test_id("person-reviews").locator("tbody tr")
    expect(review_row).to_have_count(1)
    cells = review_row.locator("td")
    expect(cells.nth(0)).to_have_text(f"{dublin.number} {dublin.title}")
    expect(cells.nth(1)).to_have_text("QA reviewer at DUB")
    expect(cells.nth(2)).to_have_text(re.compile(rf"^Revoke\s*{re.escape(REVOKE_REASON)}$"))
    expect(cells.nth(3)).to_have_text(people["hbrandt"].printed_name)
    shot(page, "2-person-lmoreau")
    demo.axe(page)

    # --- 2b. The LIMS owner reviews the LIMS accounts from its user list ------------------
    lims_review = AccessReview.objects.get(system__title="LabWare LIMS", state="open")
    page = demo.as_("jweber", f"/access/reviews/{lims_review.pk}/decide/")
    expect(page.get_by_test_id("review-item")).to_have_count(7)  # his own goes to QA
    shared = page.get_by_test_id("review-item").filter(has_text="qclab")
    expect(shared.locator(".panel-head h2")).to_have_text(
        "QC lab shared login (no person in cyberqms) · qclab in LabWare LIMS")
    expect(shared.get_by_test_id("suggestion")).to_have_text("suggested: revoke")
    expect(shared.locator("p.small").first).to_have_text(
        "No person in cyberqms answers for it (a shared or unknown account)")
    expect(shared.get_by_test_id("account-evidence").locator("dd")).to_have_text(
        ["Analyst", "QC lab shared login", "nobody in cyberqms",
         re.compile(r"^\d{4}-\d\d-\d\d$"), re.compile(r"^\d{4}-\d\d-\d\d$")])
    expect(shared.locator("select[name=new_role]")).to_have_count(0)
    dormant = page.get_by_test_id("review-item").filter(has_text="kschmid")
    expect(dormant.locator("p.small").first).to_have_text(re.compile(
        r"^No sign-in for 180 days \(last \d{4}-\d\d-\d\d\)$"))
    for account in ("hbrandt", "kfischer", "kschmid", "labadmin", "qclab", "svc_lims_if",
                    "treyes"):
        item = page.get_by_test_id("review-item").filter(has_text=account)
        suggested = item.locator("select[name=decision]").input_value()
        decide(page, account, suggested, "Checked against the QC lab roster"
               if suggested == "keep" else "Not a named, current LIMS user")
    shot(page, "2b-lims-decide")
    sign(demo, "jweber", page)
    expect(flash(page)).to_have_text(
        f"{lims_review.number}: 7 decisions signed; 3 accounts to remove from the system: "
        "its owner is asked to.")
    demo.axe(page)
    page.goto(f"/access/systems/{lims_review.system_id}/accounts/")
    expect(page.locator("h1")).to_have_text("Accounts in LabWare LIMS")
    rows = page.get_by_test_id("system-accounts").locator("tbody tr")
    expect(rows).to_have_count(8)
    expect(rows.filter(has_text="to remove")).to_have_count(3)
    expect(page.get_by_test_id("account-figures").locator(".value")).to_have_text(
        ["8", "2", "3", re.compile(r"^\d{4}-\d\d-\d\d$")])
    shot(page, "2b-lims-accounts")
    demo.axe(page)
    page.goto("/")
    expect(page.locator("main")).to_contain_text("Remove the account qclab, revoked in "
                                                 f"{lims_review.number}")

    # --- 3. The closed Basel campaign: its page and its PDF copy --------------------------
    page = demo.as_("hbrandt", f"/access-reviews/{basel.pk}/")
    expect(page.get_by_test_id("record-state")).to_have_text("Closed")
    expect(page.get_by_test_id("review-items").locator("tbody tr")).to_have_count(9)
    attestations = list(Attestation.objects.filter(review=basel).select_related(
        "reviewer", "signature").order_by("reviewer__username"))
    signed_text = {a.reviewer_id: f"Access reviewed by {a.signature.printed_name} on "
                   f"{timezone.localtime(a.signature.signed_at, dt.UTC):%Y-%m-%d %H:%M:%S %Z}"
                   for a in attestations if a.signature}
    assert len(signed_text) == 3
    # The page shows each attestation's signature in the reader's time zone.
    assert [t.split("Access reviewed by")[0] for t in texts(
        page, "[data-testid=attestations] tbody tr")] == [
        f"{a.reviewer.printed_name}{a.decisions}{a.revoked}" for a in sorted(
            attestations, key=lambda a: a.reviewer.printed_name)]
    shot(page, "3-campaign-basel")
    found = blocking_violations(page)
    assert found == [], [(v["id"], v.get("targets")) for v in found]
    pdf = page.request.get(page.get_by_test_id("export-pdf").get_attribute("href") or "")
    assert (pdf.status, pdf.headers["content-type"]) == (200, "application/pdf")
    text = " ".join(words(p.extract_text() or "")
                    for p in PdfReader(io.BytesIO(pdf.body())).pages)
    # Every decision, with the signature that holds it (all dates in UTC on the copy).
    from cyberqms.security.access.rights import role_label

    items = list(ReviewItem.objects.filter(review=basel).select_related(
        "person", "site", "reviewer").order_by("person__username", "role"))
    assert len(items) == 9
    for i in items:
        row = " ".join([i.person.printed_name, f"{role_label(i.role)} at "
                        f"{i.site.code if i.site else 'every site'}",
                        i.get_suggestion_display(), i.get_decision_display(), i.reason,
                        i.reviewer.printed_name, signed_text[i.reviewer_id]])
        assert row in text, row
    # One revocation: the lent system-owner role, never used.
    assert [(i.person.username, i.role, i.site.code if i.site else None, i.decision)
            for i in items if i.decision != "keep"] == [
        ("treyes", "system_owner", "BSL", "revoke")]
    assert "Tomás Reyes System owner at BSL" in text
    # The campaign's page names the roles as the copy does.
    assert sorted(texts(page, "[data-testid=review-items] tbody td:nth-child(2)")) == sorted(
        f"{role_label(i.role)} at {i.site.code if i.site else 'every site'}" for i in items)
    # ... and the attestations: 9 decisions and 3 attestations, each with its signature.
    assert text.count("Access reviewed by ") == 12
    for a in attestations:
        assert (f"{a.reviewer.printed_name} {a.decisions} {a.revoked} "
                f"{signed_text[a.reviewer_id]}") in text
    assert "Campaign closed Aisha Okafor (aokafor)" in text

    # --- 5. A grant that breaks segregation of duties raises an alert ---------------------
    # The live server runs in this process: from here on cyberqms's own security events go
    # into the monitoring pipeline (the suite keeps them out), and the test settings' tasks
    # backend runs the worker's ingest (own_events.ingest_own_events) at once, on commit.
    settings.CYBERQMS_MONITOR_OWN_EVENTS = True
    services.reload_rules()
    before = set(Alert.objects.values_list("pk", flat=True))
    analyst = demo.as_("aokafor", "/monitoring/alerts/")
    expect(analyst.get_by_test_id("alert-banner-link")).to_have_count(0)
    jweber = people["jweber"]
    # Cover for the QA manager, approved by a change control (so the grant itself is no
    # finding and no "outside change control" alert): the conflict alone is left.
    approval = Change.objects.get(title="User access for the cyberqms go-live").number
    admin.goto(f"/admin-area/users/{jweber.pk}/")
    grant = admin.locator("form[action$='/grant-role/']")
    grant.locator("select[name=role]").select_option("qa_manager")
    grant.locator("select[name=site]").select_option(str(Site.objects.get(code="BSL").pk))
    grant.locator("input[name=approval_ref]").fill(approval)
    grant.locator("input[name=reason]").fill("Cover for the QA manager at Basel")
    with admin.expect_navigation():
        grant.get_by_role("button", name="Grant role").click()
    expect(flash(admin)).to_have_text("Role granted.")
    conflict = AccessFinding.objects.get(kind="sod_conflict", subject=jweber)
    assert (conflict.title, conflict.severity, conflict.state) == (
        "Jonas Weber: Author / originator and QA manager at BSL", "high", "open")
    event = SecurityEvent.objects.get(kind="access.finding.raised",
                                      data__finding=conflict.number)
    assert (event.message, event.data) == (
        f"Access finding {conflict.number}: {conflict.title}",
        {"finding": conflict.number, "kind": "sod_conflict", "subject": "jweber",
         "site": "BSL"})
    alert = Alert.objects.exclude(pk__in=before).get()
    assert (alert.title, alert.level, alert.site.code if alert.site else None) == (
        "Access drift found", "high", "BSL")
    banner = analyst.get_by_test_id("alert-banner-link")  # polled every 3 s
    expect(banner).to_have_text(re.compile(
        rf"^\s*1 new high or critical security alert\s+{alert.number} Access drift found"
        r"\s+Triage →\s*$"), timeout=15_000)
    analyst.reload()
    rows = analyst.get_by_test_id("alert-table").locator("tbody tr")
    expect(rows.filter(has_text=alert.number)).to_contain_text("Access drift found")
    shot(analyst, "5-alerts")
    with analyst.expect_navigation():
        banner.click()
    expect(rows.filter(has_text=alert.number)).to_have_count(1)
    analyst.goto(f"/monitoring/alerts/{alert.pk}/")
    expect(analyst.get_by_test_id("alert-rule")).to_have_text("Access drift found")
    expect(analyst.get_by_test_id("alert-level")).to_have_text("high")
    shot(analyst, "5-alert-detail")
    settings.CYBERQMS_MONITOR_OWN_EVENTS = False

    # --- 4b. The leaver date passes: the leaver job disables the account ------------------
    # No scheduler runs beside the live server: the test runs the scheduler's job
    # `access.leavers` (employment.leavers_disable, every 60 s) itself, once the date has
    # passed; the date was at most 90 s ahead when set, so the wait is bounded by that.
    wait = (leaves - timezone.now()).total_seconds() + 1
    assert wait < 91, wait
    if wait > 0:
        time.sleep(wait)
    assert [u.username for u in leavers_disable()] == [LEAVER]
    leaver.refresh_from_db()
    assert leaver.is_active is False
    assert re.fullmatch(rf"Leaver date reached \({leaves:%Y-%m-%d %H:%M} UTC; disabled "
                        r"\d+(\.\d)? s after\)", leaver.deactivation_reason)
    admin.goto(f"/admin-area/users/{leaver.pk}/")
    expect(admin.locator(".page-head .badge")).to_contain_text("deactivated")
    expect(admin.locator("dt:text-is('Deactivated because') + dd")).to_have_text(
        leaver.deactivation_reason)
    expect(admin.get_by_test_id("employment")).to_have_count(0)  # nothing left to set
    shot(admin, "4-leaver-disabled")

    # The overview counts the second leaver and the second conflict.
    figures = governance_figures()
    assert figures.leavers == 2
    assert figures.median_leaver_to_disable_s is not None
    page = demo.as_("hbrandt", "/access/")
    expect(page.get_by_test_id("kpi-leaver")).to_have_text(
        f"{floatformat(figures.median_leaver_to_disable_s, 0)} s")
    expect(page.get_by_test_id("governance-kpis")).to_contain_text("median of 2 leavers")
    expect(page.get_by_test_id("kpi-sod")).to_have_text("2")
    expect(page.get_by_test_id("kpi-open-findings")).to_have_text("9")
    expect(page.get_by_test_id("open-findings")).to_contain_text(
        f"{conflict.number} {conflict.title}")
    expect(page.get_by_test_id("sod-matrix").locator("tbody tr").nth(0).locator(
        "td").last).to_have_text("2")
    expect(page.get_by_test_id("campaigns").locator("tbody tr").filter(
        has_text=dublin.number).locator("td:nth-child(3) span")).to_have_text("2 of 2 signed")
    shot(page, "6-overview-after")
    demo.axe(page)

    for person_page in demo.pages.values():
        assert_no_csp_violations(person_page)
