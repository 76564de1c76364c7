"""Finding entries in the auditor's viewer by a record's number and by free text over the
record's number or title, the person and the action (P11-09, AL-09): resolved to the
entries' record and actor indexes, the same queries whatever the number of entries; the
exports follow the same search; the reviews list exports as CSV, recorded (AL-09)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.db.models import Q
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cyberqms.platform.accounts.tests.factories import SiteFactory
from cyberqms.platform.core.context import RequestContext, acting_context
from cyberqms.platform.kit.record_services import record_create, record_update
from cyberqms.platform.kit.records import QualityRecord, kind_by_slug
from cyberqms.platform.kit.tests.kit import samples
from cyberqms.platform.trail import services
from cyberqms.platform.trail.models import AuditEntry
from cyberqms.platform.trail.services import ReviewScopeSpec

pytestmark = pytest.mark.django_db

Login = Callable[[Any], Client]


@pytest.fixture
def records(personas: dict[str, Any], trail_key: Path) -> dict[str, QualityRecord]:
    """Two deviations by the author, each created and edited once."""
    kind = kind_by_slug("deviations")
    site = SiteFactory.create(code="BSL")
    author = personas["author"]
    made = {}
    for key, title in (("cold", "Cold room 3 excursion"), ("label", "Label misprint")):
        record = record_create(kind, actor=author, site=site,
                               values={**samples(kind).CREATE, "owner": author, "title": title})
        made[key] = record_update(record, actor=author, changes={"area": "Packaging"})
    return made


def seqs(client: Client, **query: str) -> list[int]:
    response = client.get("/trail/", query)
    assert response.status_code == 200
    return [entry.seq for entry in response.context["page"]]


def entries(condition: Q) -> list[int]:
    return list(AuditEntry.objects.filter(condition).order_by("-seq")
                .values_list("seq", flat=True))


def about(record: QualityRecord) -> Q:
    return Q(object_type="deviations.deviation", object_id=str(record.pk))


def test_a_record_number_finds_exactly_that_records_entries_p11_09(
        records: dict[str, QualityRecord], personas: dict[str, Any], login: Login) -> None:
    cold = records["cold"]
    found = seqs(login(personas["auditor"]), object_id=cold.number)
    assert (found, len(found)) == (entries(about(cold)), 2)


def test_a_record_number_is_found_whatever_its_case(
        records: dict[str, QualityRecord], personas: dict[str, Any], login: Login) -> None:
    cold = records["cold"]
    assert seqs(login(personas["auditor"]), object_id=cold.number.lower()) == \
        entries(about(cold))


def test_a_record_id_still_finds_its_entries(
        records: dict[str, QualityRecord], personas: dict[str, Any], login: Login) -> None:
    cold = records["cold"]
    assert seqs(login(personas["auditor"]), object_type="deviations.deviation",
                object_id=str(cold.pk)) == entries(about(cold))


def test_an_unknown_number_finds_nothing(
        records: dict[str, QualityRecord], personas: dict[str, Any], login: Login) -> None:
    assert seqs(login(personas["auditor"]), object_id="DEV-1999-0001") == []


def test_search_finds_the_entries_of_records_by_title(
        records: dict[str, QualityRecord], personas: dict[str, Any], login: Login) -> None:
    assert seqs(login(personas["auditor"]), q="cold ROOM") == entries(about(records["cold"]))


def test_search_finds_the_entries_of_records_by_part_of_the_number(
        records: dict[str, QualityRecord], personas: dict[str, Any], login: Login) -> None:
    label = records["label"]
    assert seqs(login(personas["auditor"]), q=label.number[-9:]) == entries(about(label))


def test_search_finds_what_a_person_did_and_what_was_done_to_their_account(
        records: dict[str, QualityRecord], personas: dict[str, Any], login: Login) -> None:
    approver = personas["qa_approver"]
    expected = entries(Q(actor_id=approver.pk)
                       | Q(object_type="accounts.user", object_id=str(approver.pk)))
    assert seqs(login(personas["auditor"]), q="qa approver") == expected
    assert expected != []


def test_search_finds_entries_by_their_action(
        records: dict[str, QualityRecord], personas: dict[str, Any], login: Login) -> None:
    assert seqs(login(personas["auditor"]), q="deviation.edit") == \
        entries(Q(action="deviations.deviation.edit"))


def test_search_and_filters_combine(
        records: dict[str, QualityRecord], personas: dict[str, Any], login: Login) -> None:
    cold = records["cold"]
    assert seqs(login(personas["auditor"]), q="cold room", action="deviations.deviation.ed") \
        == entries(about(cold) & Q(action="deviations.deviation.edit"))


def test_the_record_filter_and_the_search_are_labelled_in_words(
        personas: dict[str, Any], login: Login, trail_key: Path) -> None:
    html = login(personas["auditor"]).get("/trail/").content.decode()
    labels = dict(re.findall(r'<label for="id_(\w+)">([^<]+)</label>', html))
    assert (labels["q"], labels["object_id"]) == ("Search", "Record")
    assert 'placeholder="Number (DEV-2026-0047) or ID"' in html


def queries_of(client: Client, **query: str) -> tuple[int, int]:
    """The queries one viewer page costs, and the entries it shows."""
    with CaptureQueriesContext(connection) as done:
        response = client.get("/trail/", query)
    return len(done), len(response.context["page"])


def test_the_search_costs_two_queries_more_than_the_record_filter_whatever_the_entries(
        records: dict[str, QualityRecord], personas: dict[str, Any], login: Login) -> None:
    """The words are looked up once in the records and once in the people, a number once
    in the records; the entries are then found through their indexes, on the same page as
    the record filter's (whose queries do not grow with the entries: test_pages)."""
    cold = records["cold"]
    client = login(personas["auditor"])
    client.get("/")  # the session's first request records the idle clock
    by_id = {"object_type": "deviations.deviation", "object_id": str(cold.pk)}
    (plain_few, _), (few, shown_few) = queries_of(client, **by_id), queries_of(client, q="cold")
    for n in range(60):
        cold = record_update(cold, actor=personas["author"], changes={"area": f"Room {n}"})
    (plain_many, _), (many, shown_many) = queries_of(client, **by_id), queries_of(client, q="cold")
    assert (few - plain_few, many - plain_many) == (2, 2)
    assert (shown_few, shown_many) == (2, 50)
    assert queries_of(client, object_id=cold.number)[0] - plain_many == 1


def test_the_csv_export_holds_the_entries_the_search_found_al_09(
        records: dict[str, QualityRecord], personas: dict[str, Any], login: Login) -> None:
    cold = records["cold"]
    response = login(personas["auditor"]).get("/trail/export.csv", {"object_id": cold.number})
    content = b"".join(response.streaming_content).decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(content.removeprefix("\ufeff"))))
    assert content.startswith("\ufeffseq,at,")
    assert [int(row["seq"]) for row in rows] == sorted(entries(about(cold)))
    recorded = AuditEntry.objects.filter(action="trail.export.create").get()
    assert recorded.changes["filters"][1]["object_id"] == cold.number


# --- the reviews list as CSV ---------------------------------------------------------------


@pytest.fixture
def review(records: dict[str, QualityRecord], personas: dict[str, Any]) -> Any:
    cold = records["cold"]
    with acting_context(RequestContext(channel="web")):
        return services.review_create(
            ReviewScopeSpec(scope="record", object_type="deviations.deviation",
                            object_id=str(cold.pk)),
            actor=personas["qa_approver"], outcome="discrepancies",
            comment="=HYPERLINK(\"http://evil.test\")",
        )


def test_the_reviews_export_as_csv_in_words_with_formulas_defused(
        review: Any, personas: dict[str, Any], login: Login) -> None:
    response = login(personas["auditor"]).get("/trail/reviews/", {"format": "csv"})
    content = b"".join(response.streaming_content).decode("utf-8")
    assert (response["Content-Type"], response["Content-Disposition"]) == (
        "text/csv; charset=utf-8", 'attachment; filename="trail-reviews.csv"')
    assert list(csv.reader(io.StringIO(content.removeprefix("\ufeff")))) == [
        ["Reviewed", "Reviewer", "Reviewer's user ID", "Scope", "Record", "Record type",
         "From", "To", "Entries", "First entry", "Last entry", "Outcome", "Comment"],
        [review.reviewed_at.strftime("%Y-%m-%dT%H:%M:%SZ"), "Qa Approver", "qa_approver",
         review.get_scope_display(), review.object_label, "deviations.deviation", "", "",
         "2", str(review.seq_from), str(review.seq_to), review.get_outcome_display(),
         "'=HYPERLINK(\"http://evil.test\")"],
    ]


def test_the_reviews_export_is_recorded_in_the_trail_al_09(
        review: Any, personas: dict[str, Any], login: Login) -> None:
    response = login(personas["auditor"]).get("/trail/reviews/", {"format": "csv"})
    b"".join(response.streaming_content)
    entry = AuditEntry.objects.filter(action="list.export.create").get()
    assert (entry.actor_id, entry.object_type, entry.object_label, entry.changes) == (
        personas["auditor"].pk, "list.export", "CSV export of trail reviews",
        {"list": [None, "trail.reviews"], "format": [None, "csv"], "filters": [None, {}],
         "rows": [None, 1]})


def test_the_reviews_page_offers_the_export_to_those_who_may_export(
        review: Any, personas: dict[str, Any], login: Login) -> None:
    html = login(personas["auditor"]).get("/trail/reviews/").content.decode()
    assert re.findall(r'<a class="btn secondary" href="([^"]+)" data-testid="export-csv">',
                      html) == ["?format=csv"]


def test_the_viewer_links_a_record_to_its_history_only_for_those_who_may_see_it(
    personas: dict[str, Any], login: Any,
) -> None:
    """A QA reviewer reads the whole trail but may not open a security alert: its entry
    names the alert without a link to a history page that would answer 404."""
    from cyberqms.platform.notifications.tests.producers import an_alert
    from cyberqms.security.monitoring.services import alert_assign

    alert = an_alert()
    alert_assign(alert, actor=personas["qa_manager"], assignee=personas["it_security"])
    page = login(personas["qa_approver"]).get("/trail/", {"object_type": "monitoring.alert"})
    manager = login(personas["qa_manager"]).get("/trail/", {"object_type": "monitoring.alert"})
    history = f"/trail/history/monitoring.alert/{alert.pk}/"
    assert (history in page.content.decode(), history in manager.content.decode()) == (
        False, True)
