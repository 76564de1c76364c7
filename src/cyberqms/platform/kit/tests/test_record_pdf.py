"""The controlled copy of a record, through HTTP on deviations: every page headed with the
record's number and title, its organization, "controlled copy", who printed it when (UTC)
and page x of y (P11-03, A11-14); fields by their labels with values in words, internal
columns left out; fields changed since first entry marked (A11-15); trail changes in
words; table rows never split across pages; a query count that does not grow with the
trail."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from cyberqms.platform.kit.record_parts import record_delete
from cyberqms.platform.trail import guards
from cyberqms.platform.trail.models import AuditEntry
from cyberqms.platform.trail.tests.tampering import body, set_body
from cyberqms.quality.deviations import services
from cyberqms.quality.deviations.models import Deviation
from cyberqms.quality.deviations.tests.factories import a_site, deviation_in_state

pytestmark = pytest.mark.django_db

Login = Callable[[Any], Client]


@pytest.fixture
def site() -> Any:
    return a_site("MUC")


def _url(name: str, d: Deviation) -> str:
    return reverse(f"records:{name}", args=["deviations", d.pk])


def _pages(client: Client, d: Deviation) -> list[str]:
    """The PDF's text, page by page, with runs of white space as one space."""
    response = client.get(_url("pdf", d))
    assert (response.status_code, response["Content-Type"]) == (200, "application/pdf")
    return [" ".join((page.extract_text() or "").split())
            for page in PdfReader(io.BytesIO(response.content)).pages]


def _fields(client: Client, d: Deviation) -> dict[str, tuple[str, bool | None]]:
    """The JSON copy's fields: label → (value, changed since first entry)."""
    body = client.get(_url("json", d)).json()
    return {f["label"]: (f["value"], f["changed_since_first_entry"]) for f in body["fields"]}


def _edited(people: dict[str, Any], site: Any, edits: int) -> Deviation:
    """A draft edited `edits` times, each edit changing six fields (a tall trail row)."""
    d = deviation_in_state(people, "draft", site=site)
    for i in range(1, edits + 1):
        services.deviation_update(d, actor=people["author"], changes={
            "description": f"Dtop{i:02d} the logger showed an excursion in cold room 3",
            "area": f"Warehouse aisle {i}",
            "product_reference": f"Batch 24-{i:04d}",
            "gxp_impact_text": f"Stored at 9.{i % 10} °C for {i} minutes",
            "data_integrity_impact_text": f"Logger export {i} kept",
            "immediate_actions": f"Zend{i:02d} stock moved to cold room 2",
        })
    return d


# --- the page margins -------------------------------------------------------------------------


def test_every_page_is_headed_with_number_title_printer_and_page_of_pages_p11_03_a11_14(
    personas: dict[str, Any], site: Any, login: Login
) -> None:
    d = _edited(personas, site, edits=12)
    reviewer = personas["qa_approver"]
    client = login(reviewer)
    digest = client.get(_url("json", d)).json()["content_sha256"]
    printed = (timezone.now() + dt.timedelta(minutes=5)).replace(microsecond=0)
    with time_machine.travel(printed, tick=False):
        pages = _pages(client, d)
    assert len(pages) > 1
    for number, text in enumerate(pages, 1):
        assert f"{d.number} · {d.title}" in text
        assert "cyberqms CONTROLLED COPY" in text
        assert (f"Printed by {reviewer.printed_name} on "
                f"{printed.strftime('%Y-%m-%d %H:%M:%S')} UTC") in text
        assert f"Content SHA-256 {digest}" in text
        assert f"Page {number} of {len(pages)}" in text


def test_the_number_is_printed_as_it_is_never_escaped_p11_03(
    personas: dict[str, Any], site: Any, login: Login
) -> None:
    d = deviation_in_state(personas, "draft", site=site)
    text = " ".join(_pages(login(personas["author"]), d))
    assert re.findall(r"DEV\S*2026\S*", text) == [d.number] * text.count(d.number)
    assert "u002D" not in text


# --- the record table -------------------------------------------------------------------------


def test_fields_are_named_by_their_labels_with_values_in_words_a11_14(
    personas: dict[str, Any], site: Any, login: Login
) -> None:
    author = personas["author"]
    d = deviation_in_state(personas, "draft", site=site, gxp_impact=True,
                           gxp_impact_text="Stored at 9.4 °C for 40 minutes.")
    fields = _fields(login(author), d)
    shown = {label: fields[label][0] for label in (
        "GxP impact", "Owner (investigator)", "Originator", "Site", "State", "Classification",
        "Late entry", "Closed at", "Created at")}
    assert shown == {
        "GxP impact": "Yes", "Owner (investigator)": author.printed_name,
        "Originator": author.printed_name, "Site": "MUC – Site MUC", "State": "Draft",
        "Classification": "Major", "Late entry": "No", "Closed at": "—",
        "Created at": d.created_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
    }


def test_internal_columns_are_left_out_of_a_record_in_use_a11_14(
    personas: dict[str, Any], site: Any, login: Login
) -> None:
    d = deviation_in_state(personas, "open", site=site)
    client = login(personas["author"])
    labels = set(_fields(client, d))
    text = " ".join(_pages(client, d))
    internal = {"Id", "ID", "Site id", "Is deleted", "Deleted", "Deleted at", "Deleted by",
                "Reason for deletion", "Updated at", "Gxp impact"}
    assert labels & internal == set()
    assert [word for word in ("Is deleted", "Site id", "Deleted at", "Gxp impact", "site_id")
            if word in text] == []
    assert "GxP impact" in text


def test_a_deleted_record_shows_who_deleted_it_when_and_why_a11_14(
    personas: dict[str, Any], site: Any, login: Login
) -> None:
    author = personas["author"]
    d = deviation_in_state(personas, "draft", site=site)
    record_delete(d, actor=author, reason="Entered twice: see DEV-2026-0001")
    d.refresh_from_db()
    fields = _fields(login(personas["auditor"]), d)
    assert {label: fields[label][0] for label in (
        "Deleted", "Deleted at", "Deleted by", "Reason for deletion")} == {
        "Deleted": "Yes",
        "Deleted at": d.deleted_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "Deleted by": author.printed_name,
        "Reason for deletion": "Entered twice: see DEV-2026-0001",
    }


# --- changed since first entry (A11-15) -------------------------------------------------------


def test_a_field_changed_since_first_entry_is_marked_and_an_unchanged_one_is_not_a11_15(
    personas: dict[str, Any], site: Any, login: Login
) -> None:
    d = deviation_in_state(personas, "draft", site=site)
    services.deviation_update(d, actor=personas["author"],
                              changes={"area": "Cold room 3"})
    client = login(personas["author"])
    fields = _fields(client, d)
    assert (fields["Area / process"], fields["Product / batch"]) == (
        ("Cold room 3", True), ("Batch 24-0117", False))
    text = " ".join(_pages(client, d))
    assert "Area / process † Cold room 3" in text
    assert "Product / batch Batch 24-0117" in text
    assert "† changed since the record was first entered; see the audit trail." in text


@pytest.fixture
def unguarded() -> Iterator[None]:
    """Lift the trail's append-only triggers, as an attacker owning the database would."""
    guards.remove(connection)
    try:
        yield
    finally:
        guards.install(connection)


def test_a_first_entry_rewritten_to_hide_a_change_marks_nothing_and_says_why_a11_15(
    personas: dict[str, Any], site: Any, login: Login, unguarded: None
) -> None:
    """The attacker rewrites the creation entry (leaf hash included) so that the area
    reads as first entered as it reads now; its authenticator no longer matches."""
    d = deviation_in_state(personas, "draft", site=site)
    services.deviation_update(d, actor=personas["author"], changes={"area": "Cold room 3"})
    first = AuditEntry.objects.filter(object_type="deviations.deviation",
                                      object_id=str(d.pk)).order_by("seq")[0]
    data = json.loads(body(first.seq))
    data["changes"]["area"] = [None, "Cold room 3"]
    set_body(first.seq, json.dumps(data, separators=(",", ":"), sort_keys=True,
                                   ensure_ascii=False), rehash=True)
    client = login(personas["auditor"])
    assert {changed for _value, changed in _fields(client, d).values()} == {None}
    text = " ".join(_pages(client, d))
    assert ("The record's first audit entry did not verify: whether a value changed since "
            "it was first entered cannot be shown; see the audit trail.") in text
    assert "†" not in text


# --- the audit trail ------------------------------------------------------------------------


def test_trail_changes_read_as_labels_and_values_in_words_p11_03(
    personas: dict[str, Any], site: Any, login: Login
) -> None:
    d = deviation_in_state(personas, "draft", site=site)
    services.deviation_update(d, actor=personas["author"], changes={
        "gxp_impact": True, "gxp_impact_text": "Stored warm.",
        "owner": personas["qa_approver"]})
    client = login(personas["author"])
    trail = client.get(_url("json", d)).json()["audit_trail"]
    assert trail[-1]["changes"] == {
        "Owner (investigator)": [personas["author"].printed_name,
                                 personas["qa_approver"].printed_name],
        "GxP impact": ["No", "Yes"],
        "GxP impact assessment": ["—", "Stored warm."],
    }
    text = " ".join(_pages(client, d))
    assert "GxP impact: No → Yes" in text
    assert "gxp_impact" not in text


def test_trail_rows_are_never_split_across_pages_p11_03(
    personas: dict[str, Any], site: Any, login: Login
) -> None:
    """Each edit's row holds its first change (Dtop…) and its last (Zend…): both are on
    the page where the row starts, with its number and time."""
    d = _edited(personas, site, edits=40)
    pages = _pages(login(personas["author"]), d)
    start = next(i for i, text in enumerate(pages) if "Audit trail #" in text)
    trail = [text.split("Audit trail #", 1)[-1] if i == start else text
             for i, text in enumerate(pages) if i >= start]

    def first_page(token: str) -> int:
        return next(i for i, text in enumerate(trail) if token in text)

    assert len(pages) > 3
    assert [i for i in range(1, 41) if first_page(f"Dtop{i:02d}") != first_page(f"Zend{i:02d}")
            ] == []


def test_the_query_count_does_not_grow_with_the_trail_p11_03(
    personas: dict[str, Any], site: Any, login: Login,
    django_assert_num_queries: Callable[..., Any],
) -> None:
    client = login(personas["author"])
    short, long = _edited(personas, site, edits=1), _edited(personas, site, edits=25)
    client.get(_url("pdf", short))  # the session's first request reads more than the next
    with CaptureQueriesContext(connection) as one:
        client.get(_url("pdf", short))
    with django_assert_num_queries(len(one.captured_queries)):
        client.get(_url("pdf", long))
