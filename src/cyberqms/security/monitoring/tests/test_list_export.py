"""The alert list and the received events as CSV (AL-02, AL-09, A11D-04): the same filtered
rows as the page, all of them, in words and ISO 8601 UTC, no formula a spreadsheet would
run, the same queries for 1 and N rows, and the export recorded in the audit trail."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from cyberqms.platform.trail.models import AuditEntry
from cyberqms.security.monitoring import services
from cyberqms.security.monitoring.models import Alert, EventSource

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
Login = Callable[[Any], Client]


@pytest.fixture(autouse=True)
def fresh_engine() -> None:
    """Correlation windows live in the process's engine: each test starts with empty ones."""
    services.reload_rules()


@pytest.fixture
def lims(personas: dict[str, Any]) -> EventSource:
    return services.source_create(
        actor=personas["it_security"], name="LIMS BSL", kind="lims", system="LabWare LIMS",
        format="syslog",
    )


def failed_logins(n: int, *, user: str = "qc_analyst", ip: str = "10.20.0.7") -> list[str]:
    return [
        f"<38>1 {(T0 + timedelta(seconds=10 * i)).strftime('%Y-%m-%dT%H:%M:%S')}Z lims01 "
        f"sshd 4242 - - Failed password for {user} from {ip} port 22 ssh2"
        for i in range(n)
    ]


def brute_force(source: EventSource, *, user: str = "qc_analyst", ip: str = "10.20.0.7"
                ) -> Alert:
    result = services.ingest(source, failed_logins(10, user=user, ip=ip),
                             channel="syslog-tcp", received_at=T0)
    [alert] = result.alerts
    return alert


def exported(client: Client, name: str, **query: str) -> list[list[str]]:
    response = client.get(reverse(name), {**query, "format": "csv"})
    content = b"".join(response.streaming_content).decode("utf-8")
    assert content.startswith("\ufeff")
    return list(csv.reader(io.StringIO(content.removeprefix("\ufeff"))))


def test_the_alerts_csv_holds_the_lists_filtered_rows(
        lims: EventSource, personas: dict[str, Any], login: Login) -> None:
    kept = brute_force(lims)
    closed = brute_force(lims, user="lab_admin", ip="10.20.0.9")
    services.alert_transition(closed, "false_positive", actor=personas["it_security"],
                              reason="Scheduled password audit by IT.")
    client = login(personas["it_security"])
    listed = client.get(reverse("monitoring:alerts"))
    rows = exported(client, "monitoring:alerts")
    assert [row[0] for row in rows[1:]] == [a.number for a in listed.context["page"]] == [
        kept.number]


def test_the_alerts_csv_is_in_words_and_utc(
        lims: EventSource, personas: dict[str, Any], login: Login) -> None:
    alert = brute_force(lims)
    rows = exported(login(personas["it_security"]), "monitoring:alerts")
    assert dict(zip(rows[0], rows[1], strict=True)) == {
        "Number": alert.number, "Level": alert.level, "Alert": alert.title,
        "Key": alert.group_key, "State": "New", "Site": "", "Source": "LIMS BSL",
        "Assigned to": "", "Events": str(alert.count),
        "First seen": alert.first_seen.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Last seen": alert.last_seen.strftime("%Y-%m-%dT%H:%M:%SZ"), "Rule": alert.rule_id,
    }


def test_the_alerts_export_is_recorded_in_the_audit_trail_al_09(
        lims: EventSource, personas: dict[str, Any], login: Login) -> None:
    brute_force(lims)
    exported(login(personas["auditor"]), "monitoring:alerts", state="", level="high")
    entry = AuditEntry.objects.filter(action="list.export.create").get()
    assert (entry.object_label, entry.changes) == (
        "CSV export of security alerts",
        {"list": [None, "monitoring.alerts"], "format": [None, "csv"],
         "filters": [None, {"level": "high"}], "rows": [None, 1]})


def test_the_alerts_export_costs_the_same_queries_for_one_and_many_rows(
        lims: EventSource, personas: dict[str, Any], login: Login,
        django_assert_num_queries: Callable[..., Any]) -> None:
    client = login(personas["auditor"])
    client.get("/")  # the session's first request records the idle clock
    brute_force(lims)
    with django_assert_num_queries(QUERIES_PER_EXPORT):
        one = exported(client, "monitoring:alerts")
    for n in range(4):
        brute_force(lims, user=f"user{n}", ip=f"10.20.1.{n}")
    with django_assert_num_queries(QUERIES_PER_EXPORT):
        five = exported(client, "monitoring:alerts")
    assert (len(one), len(five)) == (2, 6)


# Recording the export is one audit entry: a savepoint around the entry's number (SQLite:
# the next one; PostgreSQL: drawn from the sequence with its lock) and the entry.
RECORDING = 4
# Session, user, roles, the recorded access decision, the count, the entry recording the
# export, and the rows.
QUERIES_PER_EXPORT = 6 + RECORDING


def test_the_events_csv_holds_the_filtered_rows_with_formulas_defused(
        lims: EventSource, personas: dict[str, Any], login: Login) -> None:
    services.ingest(lims, [*failed_logins(2, user="=1+1"), b"\xff not syslog"],
                    channel="file", received_at=T0)
    client = login(personas["auditor"])
    listed = client.get(reverse("monitoring:events"), {"status": "accepted"})
    rows = exported(client, "monitoring:events", status="accepted")
    assert rows[0] == ["Received", "Channel", "Source", "Status", "Event time", "Class",
                       "Class name", "Actor", "Source address", "SHA-256", "Size (bytes)",
                       "Quarantine reason", "Detail"]
    assert [row[9] for row in rows[1:]] == [e.sha256 for e in listed.context["page"]]
    assert [(row[0], row[3], row[7]) for row in rows[1:]] == [
        ("2026-11-20T09:00:00Z", "Accepted", "'=1+1")] * 2


def test_the_events_export_costs_the_same_queries_for_one_and_many_rows(
        lims: EventSource, personas: dict[str, Any], login: Login,
        django_assert_num_queries: Callable[..., Any]) -> None:
    client = login(personas["auditor"])
    client.get("/")  # the session's first request records the idle clock
    services.ingest(lims, failed_logins(1), channel="file", received_at=T0)
    with django_assert_num_queries(QUERIES_PER_EXPORT):
        one = exported(client, "monitoring:events")
    services.ingest(lims, failed_logins(6), channel="file", received_at=T0)
    with django_assert_num_queries(QUERIES_PER_EXPORT):
        seven = exported(client, "monitoring:events")
    assert (len(one), len(seven)) == (2, 8)


@pytest.mark.parametrize("name", ["monitoring:alerts", "monitoring:events"])
def test_the_lists_offer_the_export_of_their_filter(
        name: str, lims: EventSource, personas: dict[str, Any], login: Login) -> None:
    html = login(personas["auditor"]).get(reverse(name), {"page": "1"}).content.decode()
    assert 'href="?format=csv" data-testid="export-csv">Export CSV</a>' in html
