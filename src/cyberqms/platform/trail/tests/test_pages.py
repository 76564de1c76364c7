"""The audit-trail pages through HTTP: a record's history tab, the auditor's viewer and its
exports, the status panel with verification and flag resolution, independent reviews, and
who may see what (P11-06, P11-08, P11-09, A11-16, A11D-02, DI-03, AL-06, AL-07, AL-09,
CYB-02).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from datetime import timedelta
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from cyberqms.platform.accounts import services as account_services
from cyberqms.platform.accounts.models import User
from cyberqms.platform.core.context import RequestContext, acting_context
from cyberqms.platform.trail import guards, keys
from cyberqms.platform.trail.export import FLAT_COLUMNS
from cyberqms.platform.trail.models import (
    AuditEntry,
    Checkpoint,
    IntegrityFlag,
    TrailReview,
    Verification,
)

pytestmark = pytest.mark.django_db

Login = Callable[[Any], Client]


# --- helpers --------------------------------------------------------------------------------


class _Tables(HTMLParser):
    """Collects the rows of the table marked ``data-testid=<testid>`` as lists of cell text."""

    def __init__(self, testid: str) -> None:
        super().__init__()
        self.testid = testid
        self.depth = 0  # >0 while inside the wanted table
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and (self.depth or ("data-testid", self.testid) in attrs):
            self.depth += 1
        elif self.cell is not None:
            self.cell.append(" ")  # element boundaries separate words, as on screen
        if self.depth and tag == "tr":
            self.rows.append([])
        elif self.depth and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self.depth:
            self.depth -= 1
        elif self.depth and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif self.cell is not None:
            self.cell.append(" ")

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def table(response: Any, testid: str) -> list[list[str]]:
    """Body rows (header row dropped) of the table with this data-testid."""
    parser = _Tables(testid)
    parser.feed(response.content.decode())
    rows = [row for row in parser.rows if row]
    assert rows, f"no table {testid!r} on the page"
    return rows[1:]


def column(response: Any, testid: str, index: int = 0) -> list[str]:
    return [row[index] for row in table(response, testid)]


def text(response: Any) -> str:
    """The page's visible text, whitespace collapsed (for phrases spanning elements)."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", response.content.decode(), flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def field_errors(response: Any) -> dict[str, list[str]]:
    form = response.context["form"]
    return {name: list(errors) for name, errors in form.errors.items()}


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def nav_labels(response: Any) -> set[str]:
    return set(re.findall(r'data-nav="([^"]+)"', response.content.decode()))


def body(entry: AuditEntry) -> dict[str, Any]:
    return entry.data


def utc(entry: AuditEntry) -> str:
    return entry.at.astimezone(timezone.UTC).strftime("%Y-%m-%d %H:%M:%S") + " UTC"


def shown(at: Any, zone: str = "UTC") -> str:
    """A moment as pages show it (core.moments): in the reader's zone, "6 Dec 2026, 14:05 CET"."""
    local = at.astimezone(ZoneInfo(zone))
    return f"{local.day} {local:%b %Y, %H:%M} {local.tzname()}"


def last_entry() -> AuditEntry:
    found = AuditEntry.objects.order_by("-seq").first()
    assert found is not None
    return found


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def org(personas: dict[str, Any], trail_key: Path) -> SimpleNamespace:
    """The personas, their first password change recorded through the service (so the
    trail agrees with their rows and verification passes), and Nina, created and then
    deactivated by the administrator with reasons.
    """
    with acting_context(RequestContext(channel="cli")):
        for user in personas.values():
            account_services.user_password_changed(user)
        admin = personas["admin"]
        nina = account_services.user_create(
            actor=admin, username="nina", full_name="Nina Null", email="nina@x.test",
            reason="joiner, ticket HR-7",
        ).user
        account_services.user_deactivate(nina, actor=admin, reason="leaver, ticket HR-9")
    return SimpleNamespace(nina=nina, **personas)


def history_url(user: User) -> str:
    return f"/trail/history/accounts.user/{user.pk}/"


# --- history tab ----------------------------------------------------------------------------


def test_history_shows_who_when_why_and_old_to_new_from_the_hashed_body_p11_08_a11_16(
    org: SimpleNamespace, login: Login
) -> None:
    """P11-08: each change keeps its old value; the tab reads the hashed entry body."""
    created, deactivated = AuditEntry.objects.filter(
        object_type="accounts.user", object_id=str(org.nina.pk)
    ).order_by("seq")
    response = login(org.qa_approver).get(history_url(org.nina))

    assert response.status_code == 200
    rows = table(response, "history-table")
    raw = body(deactivated)["changes"]["deactivated_at"][1]
    stopped = f"{raw[:10]} {raw[11:19]} UTC"  # shown without microseconds
    assert rows[0] == [
        str(deactivated.seq),
        f"{utc(deactivated)} local: {shown(deactivated.at)}",
        "Admin admin cli",
        "accounts.user.deactivate",
        "leaver, ticket HR-9",
        f"deactivated_at: — → {stopped} deactivation_reason: — → leaver, ticket HR-9 "
        "is_active: true → false",
    ]
    assert rows[1][:5] == [
        str(created.seq), f"{utc(created)} local: {shown(created.at)}",
        "Admin admin cli", "accounts.user.create", "joiner, ticket HR-7",
    ]
    # A creation lists the values set, in words, behind "Created with …"; the password
    # hash never reaches the page.
    joined = body(created)["changes"]["date_joined"][1]
    assert rows[1][5] == (
        f"Created with 11 values Date joined: {joined[:10]} {joined[11:19]} UTC "
        "Email address: nina@x.test Full name: Nina Null Active: Yes Staff status: No "
        "Superuser status: No Kind: Named person Must change password: Yes "
        "Password: (changed) Username: nina Work pattern: Day work (office hours)"
    )
    assert "<summary>Created with 11 values</summary>" in response.content.decode()
    assert "sha256:" not in response.content.decode()
    assert len(rows) == 2
    page = text(response)
    assert "Not reviewed No independent review of this trail yet." in page
    assert "Integrity failure" not in page


def test_times_show_in_utc_and_in_the_viewers_time_zone_al_03(
    org: SimpleNamespace, login: Login
) -> None:
    """AL-03, AL-07: one time base (UTC) everywhere, with the reader's local time beside it."""
    account_services.user_time_zone_set(org.auditor, actor=org.auditor,
                                        time_zone="Europe/Zurich")
    entry = AuditEntry.objects.get(action="accounts.user.deactivate")
    expected = f"{utc(entry)} local: {shown(entry.at, 'Europe/Zurich')}"
    assert shown(entry.at, "Europe/Zurich").endswith(("CET", "CEST"))
    client = login(User.objects.get(pk=org.auditor.pk))
    assert table(client.get(history_url(org.nina)), "history-table")[0][1] == expected
    assert table(client.get("/trail/?action=accounts.user.deact"), "entries")[0][1] == expected


def test_history_reads_the_body_even_when_a_filter_column_was_altered_p11_09(
    org: SimpleNamespace, login: Login
) -> None:
    """Columns are index copies; someone owning the database may edit them. The page shows
    what was hashed and signed, not the edited copy."""
    entry = AuditEntry.objects.get(action="accounts.user.deactivate")
    guards.remove(connection)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE trail_auditentry SET action = %s, actor_id = NULL WHERE seq = %s",
                ["accounts.user.reactivate", entry.seq],
            )
    finally:
        guards.install(connection)

    rows = table(login(org.auditor).get(history_url(org.nina)), "history-table")
    assert rows[0][2:4] == ["Admin admin cli", "accounts.user.deactivate"]


def test_history_is_an_htmx_partial_in_a_tab_of_the_user_page(
    org: SimpleNamespace, login: Login
) -> None:
    client = login(org.it_security)
    detail = client.get(f"/admin-area/users/{org.nina.pk}/").content.decode()
    assert (
        f'<a role="tab" href="{history_url(org.nina)}" data-tab="history" '
        'aria-controls="tab-history" aria-selected="false" data-testid="history-tab" '
        f'hx-get="{history_url(org.nina)}" hx-target="#tab-history" hx-trigger="click once">'
        "History</a>"
    ) in detail
    assert '<div id="tab-history" role="tabpanel" hidden>' in detail

    partial = client.get(history_url(org.nina), headers={"HX-Request": "true"})
    html = partial.content.decode()
    assert partial.status_code == 200
    assert html.lstrip().startswith('<div class="trail-history" id="trail-history"')
    assert "<html" not in html
    assert 'class="sidebar"' not in html
    assert column(partial, "history-table", 3) == [
        "accounts.user.deactivate", "accounts.user.create",
    ]
    assert partial["Vary"].split(", ").count("HX-Request") == 1
    full = client.get(history_url(org.nina))
    assert "<html" in full.content.decode()


def test_history_needs_the_records_own_view_action_and_hides_refusal_as_404(
    org: SimpleNamespace, login: Login
) -> None:
    """The author may read histories (trail.history.view) but not user records: a user's
    history is then as absent as a record that does not exist (P11-05)."""
    author = login(org.author)
    answers = {
        url: author.get(url).status_code
        for url in (
            history_url(org.nina),
            "/trail/history/accounts.user/999999/",
            "/trail/history/no.such/1/",
            "/trail/history/accounts.user/not-a-number/",
        )
    }
    assert answers == dict.fromkeys(answers, 404)
    refused = author.get(history_url(org.nina))
    missing = author.get("/trail/history/accounts.user/999999/")
    assert text(refused) == text(missing)
    # Without trail.history.view at all, the gate answers first.
    assert login(org.outsider).get(history_url(org.nina)).status_code == 403
    assert login(org.process_owner).get(history_url(org.nina)).status_code == 200


def test_history_pages_through_long_trails(org: SimpleNamespace, login: Login) -> None:
    with acting_context(RequestContext(channel="cli")):
        for number in range(52):
            account_services.user_verify_identity(
                org.nina, actor=org.admin, method=f"check {number}"
            )
    client = login(org.auditor)
    first = client.get(history_url(org.nina), headers={"HX-Request": "true"})
    second = client.get(history_url(org.nina) + "?page=2", headers={"HX-Request": "true"})
    assert len(table(first, "history-table")) == 50
    assert column(second, "history-table", 3) == [
        "accounts.user.verify_identity", "accounts.user.verify_identity",
        "accounts.user.deactivate", "accounts.user.create",
    ]
    assert "54 entries · page 2 of 2" in text(second)
    assert (
        f'hx-get="{history_url(org.nina)}?page=1" hx-target="#trail-history" '
        'hx-swap="outerHTML">← Newer</a>'
    ) in second.content.decode()


# --- the viewer -----------------------------------------------------------------------------


def test_auditor_reads_the_viewer_and_the_author_is_refused_al_09(
    org: SimpleNamespace, login: Login
) -> None:
    response = login(org.auditor).get("/trail/")
    assert response.status_code == 200
    assert column(response, "entries") == [
        str(s) for s in AuditEntry.objects.order_by("-seq").values_list("seq", flat=True)
    ][:50]
    assert 'href="/trail/export.csv?"' in response.content.decode()

    refused = login(org.author).get("/trail/")
    assert refused.status_code == 403
    assert "Not allowed" in text(refused)


def test_viewer_filters_by_record_user_action_and_date_p11_09(
    org: SimpleNamespace, login: Login
) -> None:
    client = login(org.auditor)
    nina = [str(s) for s in AuditEntry.objects.filter(
        object_type="accounts.user", object_id=str(org.nina.pk)).order_by("-seq")
        .values_list("seq", flat=True)]
    by_admin = [str(s) for s in AuditEntry.objects.filter(actor_id=org.admin.pk)
                .order_by("-seq").values_list("seq", flat=True)]
    today = timezone.now().date()

    def seqs(query: str) -> list[str]:
        response = client.get("/trail/?" + query)
        assert response.status_code == 200, field_errors(response)
        return column(response, "entries")

    assert seqs(f"object_type=accounts.user&object_id={org.nina.pk}") == nina
    assert len(nina) == 2
    assert seqs("user=ADMIN") == by_admin
    assert seqs(f"user={org.admin.pk}") == by_admin
    assert seqs("action=accounts.user.deact") == [nina[0]]
    assert seqs("action=accounts.user.deact&user=auditor") == ["No entries match these filters."]
    assert seqs(f"object_id={org.nina.pk}&object_type=accounts.user&sort=seq") == nina[::-1]
    assert seqs(
        f"object_type=accounts.user&object_id={org.nina.pk}&date_from={today}&date_to={today}"
    ) == nina
    tomorrow = today + timedelta(days=1)
    assert seqs(f"date_from={tomorrow}") == ["No entries match these filters."]
    # Each row opens the history of its record.
    response = client.get(f"/trail/?object_type=accounts.user&object_id={org.nina.pk}")
    links = re.findall(r'<a href="([^"]+)" data-testid="history-link">', response.content.decode())
    assert links == [history_url(org.nina)] * 2


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("date_from=2025-02-30", {"date_from": ["Enter a valid date."]}),
        ("date_from=2025-03-02&date_to=2025-03-01",
         {"date_to": ["The range ends before it starts."]}),
        ("user=ghost", {"user": ["No user has this user ID."]}),
        ("object_type=x');DROP TABLE trail_auditentry;--",
         {"object_type": ["A record type looks like accounts.user."]}),
        ("action=Accounts User", {"action": ["Use lower-case letters, digits, dots and underscores."]}),
        ("object_id=" + "9" * 65,
         {"object_id": ["Ensure this value has at most 64 characters (it has 65)."]}),
        ("sort=body", {"sort": ["Select a valid choice. body is not one of the available choices."]}),
    ],
)
def test_invalid_filters_are_form_errors_not_500(
    org: SimpleNamespace, login: Login, query: str, errors: dict[str, list[str]]
) -> None:
    client = login(org.auditor)
    for path in ("/trail/", "/trail/export.csv", "/trail/export.json"):
        response = client.get(f"{path}?{query}")
        assert (path, response.status_code) == (path, 400)
        assert field_errors(response) == errors
        assert "Correct the filters above to see entries." in text(response)


def test_viewer_query_count_does_not_grow_with_rows(
    org: SimpleNamespace, login: Login, django_assert_num_queries: Any
) -> None:
    """A page of 50 entries costs the same queries as a page of 2 (session, user, roles,
    the recorded access decision, count, page, integrity flags of the page, the unread
    notifications badge, the alert banner's count): no query per row."""
    client = login(org.auditor)
    path = f"/trail/?object_type=accounts.user&object_id={org.nina.pk}"
    client.get(path)  # the first request of a session also writes the session
    with django_assert_num_queries(9):
        few = client.get(path)
    with acting_context(RequestContext(channel="cli")):
        for number in range(60):
            account_services.user_verify_identity(org.nina, actor=org.admin, method=f"m{number}")
    with django_assert_num_queries(9):
        many = client.get(path)
    assert (len(table(few, "entries")), len(table(many, "entries"))) == (2, 50)


# --- exports --------------------------------------------------------------------------------


def _streamed(response: Any) -> str:
    return b"".join(response.streaming_content).decode("utf-8-sig")


def test_csv_export_of_the_current_filter_oldest_first_al_06_al_07(
    org: SimpleNamespace, login: Login
) -> None:
    response = login(org.auditor).get(
        f"/trail/export.csv?object_type=accounts.user&object_id={org.nina.pk}&sort=-seq&page=3"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="audit-trail-\d{8}T\d{6}Z\.csv"', response["Content-Disposition"]
    )
    rows = list(csv.DictReader(io.StringIO(_streamed(response))))
    created, deactivated = AuditEntry.objects.filter(
        object_type="accounts.user", object_id=str(org.nina.pk)).order_by("seq")
    assert list(rows[0]) == list(FLAT_COLUMNS)
    assert [
        (r["seq"], r["at"], r["actor_id"], r["actor"], r["action"], r["object_label"],
         r["reason"], r["channel"])
        for r in rows
    ] == [
        (str(created.seq), body(created)["at"], str(org.admin.pk), "Admin",
         "accounts.user.create", "nina", "joiner, ticket HR-7", "cli"),
        (str(deactivated.seq), body(deactivated)["at"], str(org.admin.pk), "Admin",
         "accounts.user.deactivate", "nina", "leaver, ticket HR-9", "cli"),
    ]
    assert json.loads(rows[1]["changes"])["is_active"] == [True, False]
    assert rows[1]["leaf_hash"] == bytes(deactivated.leaf_hash).hex()


def test_csv_export_defuses_spreadsheet_formulas(org: SimpleNamespace, login: Login) -> None:
    """A cell starting with = + - @ would run as a formula when opened in a spreadsheet."""
    with acting_context(RequestContext(channel="cli")):
        evil = account_services.user_create(
            actor=org.admin, username="-2+3", full_name="@SUM(A1)", email="e@x.test",
            reason='=HYPERLINK("http://evil.test","click")',
        ).user
    response = login(org.qa_manager).get(
        f"/trail/export.csv?object_type=accounts.user&object_id={evil.pk}"
    )
    [row] = list(csv.DictReader(io.StringIO(_streamed(response))))
    assert (row["reason"], row["object_label"]) == (
        '\'=HYPERLINK("http://evil.test","click")', "'-2+3",
    )
    assert json.loads(row["changes"])["full_name"] == [None, "@SUM(A1)"]


def test_json_export_of_the_current_filter(org: SimpleNamespace, login: Login) -> None:
    response = login(org.it_security).get("/trail/export.json?action=accounts.user.deact")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="audit-trail-\d{8}T\d{6}Z\.json"', response["Content-Disposition"]
    )
    entry = AuditEntry.objects.get(action="accounts.user.deactivate")
    assert json.loads(_streamed(response)) == [{
        "seq": entry.seq,
        "at": body(entry)["at"],
        "actor_id": org.admin.pk,
        "actor": "Admin",
        "action": "accounts.user.deactivate",
        "object_type": "accounts.user",
        "object_id": str(org.nina.pk),
        "object_label": "nina",
        "changes": body(entry)["changes"],
        "reason": "leaver, ticket HR-9",
        "signature": None,
        "correlation": body(entry)["correlation"],
        "channel": "cli",
        "source": None,
        "state_hash": entry.state_hash,
        "leaf_hash": bytes(entry.leaf_hash).hex(),
    }]


def test_exports_need_trail_export(org: SimpleNamespace, login: Login) -> None:
    answers = {
        (persona, path): login(getattr(org, persona)).get(path).status_code
        for persona in ("author", "process_owner", "system_owner", "admin")
        for path in ("/trail/export.csv", "/trail/export.json")
    }
    assert answers == dict.fromkeys(answers, 403)


# --- status, verification, checkpoints, flags -------------------------------------------------


def test_status_panel_checkpoint_keys_and_verify_now_p11_06(
    org: SimpleNamespace, login: Login
) -> None:
    client = login(org.it_security)
    sealed = client.post("/trail/status/checkpoint/", follow=True)
    size = AuditEntry.objects.count()
    assert messages_of(sealed) == [f"Checkpoint sealed at tree size {size} ({size} new entries)."]
    again = client.post("/trail/status/checkpoint/", follow=True)
    assert messages_of(again) == [
        "Nothing to seal: every entry is already in a signed checkpoint."
    ]

    verified = client.post("/trail/status/verify/", follow=True)
    verification = Verification.objects.get()
    assert (verification.result, verification.mode, verification.triggered_by) == (
        "passed", "full", "it_security",
    )
    assert messages_of(verified) == [
        f"Verification passed: {verification.entries_checked} entries and "
        f"{verification.records_checked} records checked in {verification.duration_ms} ms."
    ]
    entry = last_entry()
    assert (entry.action, body(entry)["actor"]["username"]) == (
        "trail.verification.run", "it_security",
    )

    page = client.get("/trail/status/")
    checkpoint = Checkpoint.objects.get()
    html = page.content.decode()
    assert f'<pre class="note" data-testid="checkpoint-note">{checkpoint.note}</pre>' in html
    [key] = keys.key_infos()
    assert key.verifier in html
    assert table(page, "verifications") == [[
        shown(verification.finished_at), "full", "Passed",
        str(verification.entries_checked), str(verification.records_checked), "none",
        f"{verification.duration_ms} ms", "it_security web",
    ]]
    summary = text(page)
    assert f"Audit entries {size + 1} log head at {size}" in summary
    assert "Not yet sealed 1 awaiting the next seal" in summary
    assert "Open integrity flags 0 none" in summary
    assert html.count('<rect class="passed"') == 1
    assert 'data-testid="verify-now"' in html


def test_status_is_read_only_for_auditors_and_administrators(
    org: SimpleNamespace, login: Login
) -> None:
    for persona in ("auditor", "admin"):
        client = login(getattr(org, persona))
        page = client.get("/trail/status/")
        assert (persona, page.status_code) == (persona, 200)
        assert "Verify now" not in page.content.decode()
        assert client.post("/trail/status/verify/").status_code == 403
        assert client.post("/trail/status/checkpoint/").status_code == 403
    assert Verification.objects.count() == 0
    assert login(org.author).get("/trail/status/").status_code == 403


def test_integrity_failure_shows_on_the_record_and_its_resolution_is_audited_cyb_02(
    org: SimpleNamespace, login: Login
) -> None:
    """A change made in the database behind cyberqms' back is flagged by verification,
    shown as a red banner on the record and its history until someone resolves it with a
    reason, and that resolution is itself an audit entry (A11-16)."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_user SET email = 'evil@x.test' WHERE id = %s",
                       [org.nina.pk])
    security = login(org.it_security)
    failed = security.post("/trail/status/verify/", follow=True)
    flag = IntegrityFlag.objects.get()
    assert flag.message == (
        f"accounts.user {org.nina.pk} (nina) was changed outside cyberqms: email differs from "
        "the audit trail"
    )
    assert messages_of(failed) == [f"Verification failed: {flag.message}"]

    banner = f"Integrity failure {flag.message} found {shown(flag.raised_at)}"
    assert text(security.get(history_url(org.nina))).count(banner) == 1
    # On the user page the banner stands above the tabs, once, not again in the tab.
    assert text(security.get(f"/admin-area/users/{org.nina.pk}/")).count(banner) == 1
    tab = security.get(history_url(org.nina), headers={"HX-Request": "true"})
    assert "Integrity failure" not in text(tab)
    status = security.get("/trail/status/")
    assert table(status, "open-flags") == [[
        shown(flag.raised_at), "record", f"accounts.user {org.nina.pk}",
        f"{flag.message} fields: email", "Resolve",
    ]]
    assert table(status, "verifications")[1] == [f"First problem {flag.message}"]
    assert "1 open integrity flag" in text(security.get("/"))
    review_form = login(org.qa_manager).get(
        f"/trail/reviews/new/?scope=record&object_type=accounts.user&object_id={org.nina.pk}"
    )
    assert f"Integrity failure: {flag.message}" in text(review_form)

    assert login(org.auditor).post(f"/trail/flags/{flag.pk}/resolve/",
                                   {"reason": "seen"}).status_code == 403
    no_reason = security.post(f"/trail/flags/{flag.pk}/resolve/", {"reason": ""}, follow=True)
    assert messages_of(no_reason) == ["Give the reason for resolving the integrity failure."]
    flag.refresh_from_db()
    assert flag.resolved_at is None

    resolved = security.post(
        f"/trail/flags/{flag.pk}/resolve/",
        {"reason": "DBA fixed a typo by hand, ticket INC-42; correction re-entered"},
        follow=True,
    )
    assert messages_of(resolved) == [
        f"Integrity flag {flag.pk} resolved; the resolution is recorded."
    ]
    flag.refresh_from_db()
    assert (flag.resolved_by, flag.resolution) == (
        org.it_security, "DBA fixed a typo by hand, ticket INC-42; correction re-entered",
    )
    entry = last_entry()
    assert (entry.action, entry.object_type, entry.object_id) == (
        "trail.flag.resolve", "trail.flag", str(flag.pk),
    )
    assert (body(entry)["actor"]["id"], body(entry)["reason"]) == (
        org.it_security.pk, "DBA fixed a typo by hand, ticket INC-42; correction re-entered",
    )
    assert "Integrity failure" not in text(security.get(history_url(org.nina)))
    again = security.post(f"/trail/flags/{flag.pk}/resolve/", {"reason": "twice"}, follow=True)
    assert messages_of(again) == ["This flag is already resolved."]


# --- reviews --------------------------------------------------------------------------------


def test_review_of_a_record_from_its_history_is_recorded_and_audited_a11_16_di_03(
    org: SimpleNamespace, login: Login
) -> None:
    reviewer = login(org.qa_approver)
    history = reviewer.get(history_url(org.nina)).content.decode()
    start = (f"/trail/reviews/new/?scope=record&amp;object_type=accounts.user&amp;"
             f"object_id={org.nina.pk}")
    assert f'<a class="btn small" href="{start}">Review this trail</a>' in history

    form = reviewer.get(unescape(start))
    assert form.context["form"].initial == {
        "scope": "record", "object_type": "accounts.user", "object_id": str(org.nina.pk),
    }
    created, deactivated = AuditEntry.objects.filter(
        object_type="accounts.user", object_id=str(org.nina.pk)).order_by("seq")
    assert (f"Record nina accounts.user {org.nina.pk} Entries 2 ({created.seq} to "
            f"{deactivated.seq}) You made none of these entries.") in text(form)

    done = reviewer.post("/trail/reviews/new/", {
        "scope": "record", "object_type": "accounts.user", "object_id": str(org.nina.pk),
        "outcome": "no_findings", "comment": "Leaver handled per SOP-IT-004.",
    })
    assert (done.status_code, done["Location"]) == (302, "/trail/reviews/")
    review = TrailReview.objects.get()
    assert (review.scope, review.object_type, review.object_id, review.object_label,
            review.seq_from, review.seq_to, review.entries, review.outcome,
            review.reviewer) == (
        "record", "accounts.user", str(org.nina.pk), "nina", created.seq, deactivated.seq, 2,
        "no_findings", org.qa_approver,
    )
    entry = last_entry()
    assert (entry.action, entry.object_id, body(entry)["actor"]["id"]) == (
        "trail.review.create", str(review.pk), org.qa_approver.pk,
    )
    listing = reviewer.get("/trail/reviews/")
    assert messages_of(listing) == [
        f"Review recorded: entries {created.seq} to {deactivated.seq} (2 entries), "
        "reviewed, no discrepancies."
    ]
    assert table(listing, "reviews") == [[
        shown(review.reviewed_at), "Qa Approver qa_approver",
        f"nina accounts.user {org.nina.pk}", f"2 {created.seq}–{deactivated.seq}",
        "Reviewed, no discrepancies", "Leaver handled per SOP-IT-004.",
    ]]
    after = text(login(org.auditor).get(history_url(org.nina)))
    assert (f"Reviewed, no discrepancies Reviewed through entry {deactivated.seq} by "
            f"Qa Approver on {shown(review.reviewed_at)}") in after


def test_reviewer_who_made_entries_is_refused_a11d_02(
    org: SimpleNamespace, login: Login
) -> None:
    """Independence: the QA manager ran a verification today, so a review of today's
    entries would include one of their own and is refused with the service's reason."""
    manager = login(org.qa_manager)
    manager.post("/trail/status/verify/")
    today = timezone.now().date().isoformat()
    total = AuditEntry.objects.count()
    own = AuditEntry.objects.filter(actor_id=org.qa_manager.pk).count()
    # the persona's password change (conftest), the org fixture's, and the verification
    assert own == 3
    preview = manager.get(f"/trail/reviews/new/?scope=range&date_from={today}&date_to={today}")
    assert (f"Entries {total} (1 to {total}) You made {own} of these entries: someone "
            "independent must review them.") in text(preview)

    refused = manager.post("/trail/reviews/new/", {
        "scope": "range", "date_from": today, "date_to": today, "outcome": "no_findings",
    })
    assert refused.status_code == 200
    assert field_errors(refused) == {"scope": [
        f"You made {own} of these {total} entries; an independent reviewer must review them."
    ]}
    assert TrailReview.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"scope": "record", "object_type": "accounts.user", "object_id": "999999",
          "outcome": "no_findings"}, {"object_id": ["No such record."]}),
        ({"scope": "record", "object_type": "accounts.user", "object_id": "{nina}",
          "outcome": "discrepancies", "comment": "  "},
         {"comment": ["Describe the discrepancies found."]}),
        ({"scope": "range", "date_from": "2025-01-01", "outcome": "no_findings"},
         {"date_from": ["A date range needs both dates."]}),
        ({"scope": "range", "date_from": "2025-01-02", "date_to": "2025-01-01",
          "outcome": "no_findings"}, {"date_to": ["The range ends before it starts."]}),
        ({"scope": "range", "date_from": "2001-01-01", "date_to": "2001-01-02",
          "outcome": "no_findings"}, {"scope": ["There are no entries to review in this scope."]}),
        ({"scope": "record", "object_type": "no.such", "object_id": "1",
          "outcome": "no_findings"},
         {"object_type": ["Select a valid choice. no.such is not one of the available choices."]}),
        ({"scope": "everything", "outcome": "maybe"}, {
            "scope": ["Select a valid choice. everything is not one of the available choices."],
            "outcome": ["Select a valid choice. maybe is not one of the available choices."],
        }),
    ],
)
def test_review_errors_are_shown_on_their_field(
    org: SimpleNamespace, login: Login, data: dict[str, str], errors: dict[str, list[str]]
) -> None:
    data = {k: v.replace("{nina}", str(org.nina.pk)) for k, v in data.items()}
    response = login(org.qa_approver).post("/trail/reviews/new/", data)
    assert response.status_code == 200
    assert field_errors(response) == errors
    assert TrailReview.objects.count() == 0


def test_only_qa_creates_reviews_and_trail_readers_list_them(
    org: SimpleNamespace, login: Login
) -> None:
    answers = {
        persona: (login(getattr(org, persona)).get("/trail/reviews/new/").status_code,
                  login(getattr(org, persona)).get("/trail/reviews/").status_code)
        for persona in ("qa_manager", "qa_approver", "auditor", "it_security", "admin",
                        "author")
    }
    assert answers == {
        "qa_manager": (200, 200), "qa_approver": (200, 200), "auditor": (403, 200),
        "it_security": (403, 200), "admin": (403, 403), "author": (403, 403),
    }


# --- navigation and home ----------------------------------------------------------------------


def test_sidebar_offers_the_trail_pages_by_permission_cyb_01(
    org: SimpleNamespace, login: Login
) -> None:
    trail_pages = {"Audit trail", "Trail status", "Trail reviews"}
    seen = {
        persona: nav_labels(login(getattr(org, persona)).get("/")) & trail_pages
        for persona in ("admin", "qa_manager", "qa_approver", "process_owner", "author",
                        "it_security", "system_owner", "auditor", "outsider")
    }
    assert seen == {
        "admin": {"Trail status"},
        "qa_manager": trail_pages,
        "qa_approver": {"Audit trail", "Trail reviews"},
        "process_owner": set(),
        "author": set(),
        "it_security": trail_pages,
        "system_owner": {"Trail status"},
        "auditor": trail_pages,
        "outsider": set(),
    }
    status = login(org.auditor).get("/trail/status/").content.decode()
    assert re.findall(r'class="active" data-nav="([^"]+)"', status) == ["Trail status"]


def test_home_shows_the_last_verification_to_status_viewers(
    org: SimpleNamespace, login: Login
) -> None:
    security = login(org.it_security)
    assert ("Audit trail Never verified no verification has run yet None open integrity flags"
            in text(security.get("/")))
    security.post("/trail/status/verify/")
    verification = Verification.objects.get()
    assert (f"Audit trail Passed last verification, {shown(verification.finished_at)} "
            "None open integrity flags Trail status →") in text(security.get("/"))
    assert 'data-testid="trail-summary"' not in login(org.author).get("/").content.decode()
