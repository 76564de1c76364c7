"""Every family's list as CSV (AL-02, AL-09): the same filtered rows as the list, all pages,
in words, dates in ISO 8601 UTC, no formula a spreadsheet would run, the same queries for 1
and N rows, and the export recorded in the audit trail."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from cyberqms.platform.accounts.tests.factories import SiteFactory
from cyberqms.platform.kit.record_services import record_create
from cyberqms.platform.kit.records import QualityRecord, RecordKind, kind_by_slug
from cyberqms.platform.trail.models import AuditEntry

from .kit import creation_values, kit_families, maker

pytestmark = pytest.mark.django_db

FAMILIES = [kind.slug for kind in kit_families()]
Login = Callable[[Any], Client]

# Recording the export is one audit entry: a savepoint around the entry's number (SQLite:
# the next one; PostgreSQL: drawn from the sequence with its lock) and the entry.
RECORDING = 4


@pytest.fixture
def site() -> Any:
    return SiteFactory.create(code="BSL", name="Basel")


def recorded(kind: RecordKind, people: dict[str, Any], site: Any, *titles: str
             ) -> list[QualityRecord]:
    author = maker(kind, people)
    return [record_create(kind, actor=author, site=site,
                          values={**creation_values(kind, site=site, author=author),
                                  "owner": author, "title": title})
            for title in titles]


def exported(client: Client, kind: RecordKind, **query: str) -> list[list[str]]:
    response = client.get(reverse(f"{kind.slug}:list"), {**query, "format": "csv"})
    content = b"".join(response.streaming_content).decode("utf-8")
    assert content.startswith("\ufeff")
    return list(csv.reader(io.StringIO(content.removeprefix("\ufeff"))))


@pytest.mark.parametrize("slug", FAMILIES)
def test_the_csv_holds_the_lists_filtered_rows_under_its_headings(
        slug: str, personas: dict[str, Any], site: Any, login: Login) -> None:
    kind = kind_by_slug(slug)
    recorded(kind, personas, site, "Cold room 1", "Label misprint", "Cold room 2")
    client = login(personas["auditor"])
    listed = client.get(reverse(f"{slug}:list"), {"q": "cold", "sort": "number"})
    rows = exported(client, kind, q="cold", sort="number")
    assert rows[0] == [c.heading for c in kind.columns]
    assert [row[0] for row in rows[1:]] == [r.number for r in listed.context["page"]]
    assert len(rows) == 3


def test_the_csv_holds_every_page_of_the_list(
        personas: dict[str, Any], site: Any, login: Login) -> None:
    kind = kind_by_slug("complaints")
    records = recorded(kind, personas, site, *(f"Leaking vial {n}" for n in range(27)))
    client = login(personas["auditor"])
    listed = client.get(reverse("complaints:list"), {"page": "2"})
    rows = exported(client, kind, page="2")
    assert (len(listed.context["page"]), str(listed.context["page"].count), len(rows) - 1) == (
        2, "27", 27)
    assert [row[0] for row in rows[1:]] == [r.number for r in reversed(records)]


def test_values_are_in_words_and_times_in_iso_8601_utc(
        personas: dict[str, Any], site: Any, login: Login) -> None:
    kind = kind_by_slug("deviations")
    (record,) = recorded(kind, personas, site, "Cold room 1")
    rows = exported(login(personas["auditor"]), kind)
    assert dict(zip(rows[0], rows[1], strict=True)) == {
        "Number": record.number, "Title": "Cold room 1",
        "Class": record.get_classification_display(), "State": "Draft", "Site": "BSL",
        "Owner": record.owner.printed_name, "Due": record.due_date.isoformat(),
        "Opened": record.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def test_a_title_a_spreadsheet_would_run_is_defused(
        personas: dict[str, Any], site: Any, login: Login) -> None:
    kind = kind_by_slug("deviations")
    recorded(kind, personas, site, '=HYPERLINK("http://evil.test","open")')
    rows = exported(login(personas["auditor"]), kind)
    assert rows[1][1] == '\'=HYPERLINK("http://evil.test","open")'


def test_the_export_is_recorded_in_the_audit_trail_al_09(
        personas: dict[str, Any], site: Any, login: Login) -> None:
    kind = kind_by_slug("deviations")
    recorded(kind, personas, site, "Cold room 1", "Label misprint")
    exported(login(personas["auditor"]), kind, q="cold", page="1")
    entry = AuditEntry.objects.filter(action="list.export.create").get()
    assert (entry.actor_id, entry.object_label, entry.changes) == (
        personas["auditor"].pk, "CSV export of Deviations",
        {"list": [None, "deviations"], "format": [None, "csv"],
         "filters": [None, {"q": "cold"}], "rows": [None, 1]})


@pytest.mark.parametrize("slug", FAMILIES)
def test_the_export_costs_the_same_queries_for_one_and_many_rows(
        slug: str, personas: dict[str, Any], site: Any, login: Login,
        django_assert_num_queries: Callable[..., Any]) -> None:
    """Session, user, roles, the recorded access decision, the filter's site codes, the
    count, the entry recording the export, and the rows: none per row."""
    kind = kind_by_slug(slug)
    client = login(personas["auditor"])
    client.get("/")  # the session's first request records the idle clock
    recorded(kind, personas, site, "Cold room 1")
    with django_assert_num_queries(7 + RECORDING):
        one = exported(client, kind)
    recorded(kind, personas, site, *(f"Cold room {n}" for n in range(2, 7)))
    with django_assert_num_queries(7 + RECORDING):
        six = exported(client, kind)
    assert (len(one), len(six)) == (2, 7)


def test_the_list_offers_the_export_of_its_filter(
        personas: dict[str, Any], site: Any, login: Login) -> None:
    html = login(personas["auditor"]).get(
        reverse("deviations:list"), {"q": "cold", "page": "1"}).content.decode()
    assert 'href="?q=cold&amp;format=csv" data-testid="export-csv">Export CSV</a>' in html
