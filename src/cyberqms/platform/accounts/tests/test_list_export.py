"""The administration and security-oversight lists as CSV (AL-02, AL-09, CYB-01): users,
sites, integrations, security events and access decisions, each with the same filtered rows
as its page, in words and ISO 8601 UTC, no formula a spreadsheet would run, the same
queries for 1 and N rows, and the export recorded in the audit trail."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from cyberqms.platform.accounts import services
from cyberqms.platform.accounts.models import Site
from cyberqms.platform.core.context import RequestContext, acting_context
from cyberqms.platform.core.events import emit_security_event
from cyberqms.platform.core.models import AccessDecision, SecurityEvent
from cyberqms.platform.trail.models import AuditEntry

pytestmark = pytest.mark.django_db

Login = Callable[[Any], Client]

# Recording the export is one audit entry: a savepoint around the entry's number (SQLite:
# the next one; PostgreSQL: drawn from the sequence with its lock) and the entry.
RECORDING = 4


def exported(client: Client, name: str, **query: str) -> list[list[str]]:
    response = client.get(reverse(name), {**query, "format": "csv"})
    content = b"".join(response.streaming_content).decode("utf-8")
    assert content.startswith("\ufeff")
    return list(csv.reader(io.StringIO(content.removeprefix("\ufeff"))))


def joiner(admin: Any, username: str, full_name: str) -> Any:
    with acting_context(RequestContext(channel="cli")):
        return services.user_create(actor=admin, username=username, full_name=full_name,
                                    email=f"{username}@x.test", reason="joiner").user


def site(admin: Any, code: str, name: str) -> Site:
    with acting_context(RequestContext(channel="cli")):
        return services.site_create(actor=admin, code=code, name=name, country="CH",
                                    time_zone="Europe/Zurich")


# --- users ---------------------------------------------------------------------------------


def test_the_users_csv_holds_the_lists_filtered_rows_in_words(
        personas: dict[str, Any], login: Login) -> None:
    admin = personas["admin"]
    nina = joiner(admin, "nina", "=HYPERLINK(\"http://evil.test\")")
    with acting_context(RequestContext(channel="cli")):
        services.user_deactivate(nina, actor=admin, reason="leaver")
    client = login(personas["auditor"])
    listed = client.get(reverse("accounts:user_list"), {"q": "n", "sort": "username"})
    rows = exported(client, "accounts:user_list", q="n", sort="username")
    assert rows[0] == ["User ID", "Name", "Title", "Generic account", "Site", "Roles", "Status",
                       "Last sign-in"]
    assert [row[0] for row in rows[1:]] == [u.username for u in listed.context["page"]]
    assert rows[[row[0] for row in rows].index("nina")] == [
        "nina", "'=HYPERLINK(\"http://evil.test\")", "", "No", "", "", "Deactivated", ""]


def test_a_users_roles_are_named_with_their_site(
        personas: dict[str, Any], login: Login) -> None:
    rows = exported(login(personas["auditor"]), "accounts:user_list", q="qa_approver")
    assert [row[5] for row in rows[1:]] == ["QA reviewer"]


def test_the_users_export_costs_the_same_queries_for_one_and_many_rows(
        personas: dict[str, Any], login: Login,
        django_assert_num_queries: Callable[..., Any]) -> None:
    """Session, user, roles, the recorded access decision, locked-out names, the count, the
    entry recording the export, the rows and their roles."""
    client = login(personas["auditor"])
    client.get("/")  # the session's first request records the idle clock
    joiner(personas["admin"], "zed0", "Zed Zero")
    with django_assert_num_queries(8 + RECORDING):
        one = exported(client, "accounts:user_list", q="zed")
    for n in range(1, 6):
        joiner(personas["admin"], f"zed{n}", f"Zed {n}")
    with django_assert_num_queries(8 + RECORDING):
        six = exported(client, "accounts:user_list", q="zed")
    assert (len(one), len(six)) == (2, 7)


def test_the_users_export_is_recorded_in_the_audit_trail_al_09(
        personas: dict[str, Any], login: Login) -> None:
    rows = exported(login(personas["auditor"]), "accounts:user_list", status="active")
    entry = AuditEntry.objects.filter(action="list.export.create").get()
    assert (entry.actor_id, entry.object_label, entry.changes) == (
        personas["auditor"].pk, "CSV export of users",
        {"list": [None, "accounts.users"], "format": [None, "csv"],
         "filters": [None, {"status": "active"}], "rows": [None, len(rows) - 1]})
    assert len(rows) - 1 == len(personas)


# --- sites and integrations ---------------------------------------------------------------


def test_the_sites_csv_lists_every_site_with_its_departments(
        personas: dict[str, Any], login: Login) -> None:
    admin = personas["admin"]
    basel = site(admin, "BSL", "Basel Biologics")
    site(admin, "DUB", "+Dublin Fill")
    with acting_context(RequestContext(channel="cli")):
        for code in ("QA", "QC"):
            services.department_create(actor=admin, site=basel, code=code, name=code)
    assert exported(login(admin), "accounts:site_list") == [
        ["Code", "Name", "Country", "Time zone", "Active", "Departments"],
        ["BSL", "Basel Biologics", "CH", "Europe/Zurich", "Yes", "QA, QC"],
        ["DUB", "'+Dublin Fill", "CH", "Europe/Zurich", "Yes", ""],
    ]


def test_the_sites_export_costs_the_same_queries_for_one_and_many_rows(
        personas: dict[str, Any], login: Login,
        django_assert_num_queries: Callable[..., Any]) -> None:
    admin = personas["admin"]
    client = login(admin)
    client.get("/")  # the session's first request records the idle clock
    site(admin, "S1", "Site 1")
    with django_assert_num_queries(QUERIES_ADMIN_EXPORT):
        one = exported(client, "accounts:site_list")
    for n in range(2, 6):
        site(admin, f"S{n}", f"Site {n}")
    with django_assert_num_queries(QUERIES_ADMIN_EXPORT):
        five = exported(client, "accounts:site_list")
    assert (len(one), len(five)) == (2, 6)


# Session, user, roles, second factor (administrators enrol it), the recorded access
# decision, the count, the entry recording the export, the rows and their children
# (departments, tokens).
QUERIES_ADMIN_EXPORT = 8 + RECORDING


def test_the_integrations_csv_names_kind_site_addresses_and_tokens(
        personas: dict[str, Any], login: Login) -> None:
    admin = personas["admin"]
    basel = site(admin, "BSL", "Basel")
    with acting_context(RequestContext(channel="cli")):
        lims = services.integration_create(actor=admin, name="LabWare LIMS BSL", kind="lims",
                                           system="LabWare LIMS 8", site=basel,
                                           allowed_addresses=["10.1.0.0/16"])
        issued = services.token_create(actor=admin, integration=lims, name="ingest",
                                       scopes=["*"], days=30)
    rows = exported(login(personas["auditor"]), "accounts:integration_list")
    assert rows == [
        ["Name", "Kind", "System", "Site", "Allowed from", "Active", "Tokens"],
        ["LabWare LIMS BSL", lims.get_kind_display(), "LabWare LIMS 8", "BSL", "10.1.0.0/16",
         "Yes", f"{issued.token.prefix} active"],
    ]


def test_the_integrations_export_costs_the_same_queries_for_one_and_many_rows(
        personas: dict[str, Any], login: Login,
        django_assert_num_queries: Callable[..., Any]) -> None:
    admin = personas["admin"]
    client = login(admin)
    client.get("/")  # the session's first request records the idle clock

    def register(n: int) -> None:
        with acting_context(RequestContext(channel="cli")):
            integration = services.integration_create(actor=admin, name=f"MES {n}",
                                                      kind="mes", system="PAS-X")
            services.token_create(actor=admin, integration=integration, name="ingest",
                                  scopes=["*"], days=30)

    register(1)
    with django_assert_num_queries(QUERIES_ADMIN_EXPORT):
        one = exported(client, "accounts:integration_list")
    for n in range(2, 6):
        register(n)
    with django_assert_num_queries(QUERIES_ADMIN_EXPORT):
        five = exported(client, "accounts:integration_list")
    assert (len(one), len(five)) == (2, 6)


# --- security events and access decisions -------------------------------------------------


def test_the_security_events_csv_holds_the_filtered_events_with_formulas_defused(
        personas: dict[str, Any], login: Login) -> None:
    emit_security_event("auth.failure", severity="medium", message="-1+1 failed",
                        username="@evil", source_ip="10.0.0.9")
    emit_security_event("auth.failure", severity="low", message="quiet")
    client = login(personas["auditor"])
    listed = client.get(reverse("accounts:security_events"), {"severity": "medium"})
    rows = exported(client, "accounts:security_events", severity="medium")
    event = SecurityEvent.objects.get(message="-1+1 failed")
    assert [row[2] for row in rows[1:]] == [e.kind for e in listed.context["page"]]
    assert rows[0] == ["Time", "Severity", "Event", "User", "Source address", "Channel",
                       "Message", "Occurrences"]
    assert rows[1] == [event.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"), "Medium",
                       "auth.failure", "'@evil", "10.0.0.9", event.channel, "'-1+1 failed",
                       "1"]


def test_the_access_decisions_csv_holds_the_filtered_decisions(
        personas: dict[str, Any], login: Login) -> None:
    client = login(personas["it_security"])
    login(personas["author"]).get(reverse("accounts:access_decisions"))  # a denial
    listed = client.get(reverse("accounts:access_decisions"), {"verdict": "deny"})
    rows = exported(client, "accounts:access_decisions", verdict="deny")
    denial = AccessDecision.objects.filter(allowed=False).get()
    assert [row[3] for row in rows[1:]] == [d.action for d in listed.context["page"]]
    assert rows[1] == [denial.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"), "Denied", "author",
                       "access.decision.view", "", "", denial.reason, "web", "127.0.0.1", ""]


# Session, user, roles, the recorded access decision, the count, the entry recording the
# export, the rows.
QUERIES_OVERSIGHT_EXPORT = 6 + RECORDING


def test_the_security_events_export_costs_the_same_queries_for_one_and_many_rows(
        personas: dict[str, Any], login: Login,
        django_assert_num_queries: Callable[..., Any]) -> None:
    client = login(personas["auditor"])
    client.get("/")  # the session's first request records the idle clock
    emit_security_event("auth.failure", severity="low", message="needle 0")
    with django_assert_num_queries(QUERIES_OVERSIGHT_EXPORT):
        one = exported(client, "accounts:security_events", q="needle")
    for n in range(1, 6):
        emit_security_event("auth.failure", severity="low", message=f"needle {n}")
    with django_assert_num_queries(QUERIES_OVERSIGHT_EXPORT):
        six = exported(client, "accounts:security_events", q="needle")
    assert (len(one), len(six)) == (2, 7)


def test_the_access_decisions_export_costs_the_same_queries_for_one_and_many_rows(
        personas: dict[str, Any], login: Login,
        django_assert_num_queries: Callable[..., Any]) -> None:
    client = login(personas["auditor"])
    client.get("/")  # the session's first request records the idle clock
    author = login(personas["author"])
    author.get("/")
    with django_assert_num_queries(QUERIES_OVERSIGHT_EXPORT):
        one = exported(client, "accounts:access_decisions", actor="author")
    for _ in range(5):
        author.get("/")
    with django_assert_num_queries(QUERIES_OVERSIGHT_EXPORT):
        six = exported(client, "accounts:access_decisions", actor="author")
    assert (len(one), len(six)) == (2, 7)


@pytest.mark.parametrize("name", ["accounts:user_list", "accounts:security_events",
                                  "accounts:access_decisions", "accounts:integration_list"])
def test_the_lists_offer_the_export_of_their_filter(
        name: str, personas: dict[str, Any], login: Login) -> None:
    html = login(personas["auditor"]).get(reverse(name), {"page": "1"}).content.decode()
    assert 'href="?format=csv" data-testid="export-csv">Export CSV</a>' in html
