"""Invariants of every row table a family declares (kit.record_rows), run for each by
itself: added from the page and the API, withdrawn only with a reason and still readable,
audited in the record's history, refused once the record is closed (one table per family:
closure is the record's), unknown fields named,
the API list at the same query count for 1 and 5 rows, and the table in the copies
(ALCOA+: attributable, enduring; A11-08 copies)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cyberqms.platform.kit.record_rows import row_add, row_remove, rows_of, rows_of_kind
from cyberqms.platform.kit.records import RecordKind, kind_by_slug
from cyberqms.platform.trail.models import AuditEntry

from .kit import kit_families, maker, record_in_state, samples

pytestmark = pytest.mark.django_db

TABLES = [(kind.slug, rows.name) for kind in kit_families() for rows in kind.rows]


def _noun(kind: RecordKind) -> str:
    return kind.type_name.rsplit(".", 1)[-1]


def _first(kind: RecordKind, people: dict[str, Any]) -> Any:
    return record_in_state(kind, kind.initial_state, people)


def _values(kind: RecordKind, name: str, record: Any, people: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = samples(kind).ROWS[name](record, people)
    return values


def _posted(values: dict[str, Any]) -> dict[str, Any]:
    """Form values as a browser posts them (records and people by id, dates in ISO)."""
    return {k: (v.pk if hasattr(v, "pk") else v.isoformat() if hasattr(v, "isoformat")
                else "on" if v is True else v) for k, v in values.items()}


def _api_body(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (getattr(v, "number", None) or getattr(v, "username", None) if hasattr(v, "pk")
                else v.isoformat() if hasattr(v, "isoformat") else v)
            for k, v in values.items()}


@pytest.mark.parametrize(("slug", "name"), TABLES)
def test_a_row_added_from_the_page_shows_and_is_audited(
        slug: str, name: str, personas: dict[str, Any], login: Any) -> None:
    kind = kind_by_slug(slug)
    rows = rows_of_kind(kind, name)
    record = _first(kind, personas)
    values = _values(kind, name, record, personas)
    client = login(maker(kind, personas))
    response = client.post(f"{kind.detail_url(record)}rows/{name}/",
                           {f"{name}-{k}": v for k, v in _posted(values).items()})
    assert response.status_code == 302
    [row] = rows_of(record, rows)
    page = client.get(kind.detail_url(record)).content.decode()
    assert f'data-testid="rows-{name}"' in page
    assert AuditEntry.objects.filter(action=f"{rows.type_name}.add",
                                     object_id=str(row.pk)).count() == 1


@pytest.mark.parametrize(("slug", "name"), TABLES)
def test_a_row_is_withdrawn_only_with_a_reason_and_stays_readable(
        slug: str, name: str, personas: dict[str, Any], login: Any) -> None:
    kind = kind_by_slug(slug)
    rows = rows_of_kind(kind, name)
    record = _first(kind, personas)
    author = maker(kind, personas)
    row = row_add(record, rows, actor=author, values=_values(kind, name, record, personas))
    client = login(author)
    url = reverse(f"api:{_noun(kind)}_{name}_withdraw", args=[record.pk, row.pk])
    refused = client.post(url, {"reason": " "}, content_type="application/json")
    done = client.post(url, {"reason": "Entered on the wrong system"},
                       content_type="application/json")
    listed = client.get(reverse(f"api:{_noun(kind)}_{name}_list", args=[record.pk])).json()
    assert (refused.status_code, refused.json()["errors"]) == (
        422, [{"field": "reason", "message": "A reason is required."}])
    assert done.status_code == 200
    assert [(r["id"], r["withdrawn_by"], r["withdrawn_reason"]) for r in listed] == [
        (row.pk, author.username, "Entered on the wrong system")]


@pytest.mark.parametrize(("slug", "name"), TABLES)
def test_a_row_added_through_the_api_is_given_back(
        slug: str, name: str, personas: dict[str, Any], login: Any) -> None:
    kind = kind_by_slug(slug)
    record = _first(kind, personas)
    body = _api_body(_values(kind, name, record, personas))
    author = maker(kind, personas)
    response = login(author).post(reverse(f"api:{_noun(kind)}_{name}_add", args=[record.pk]),
                                  body, content_type="application/json")
    assert response.status_code == 201, response.json()
    assert {k: response.json()[k] for k in body} == body
    assert response.json()["added_by"] == author.username


@pytest.mark.parametrize(("slug", "name"), TABLES)
def test_an_unknown_field_is_refused_naming_it(
        slug: str, name: str, personas: dict[str, Any], login: Any) -> None:
    kind = kind_by_slug(slug)
    record = _first(kind, personas)
    body = {**_api_body(_values(kind, name, record, personas)), "colour": "red"}
    response = login(maker(kind, personas)).post(
        reverse(f"api:{_noun(kind)}_{name}_add", args=[record.pk]), body,
        content_type="application/json")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert "colour" in json.dumps(response.json())
    assert rows_of(record, rows_of_kind(kind, name)) == []


@pytest.mark.parametrize(("slug", "name"), [
    (kind.slug, kind.rows[0].name) for kind in kit_families() if kind.rows])
def test_a_closed_record_takes_no_more_rows(
        slug: str, name: str, personas: dict[str, Any], login: Any) -> None:
    kind = kind_by_slug(slug)
    record = record_in_state(kind, kind.closed_states[0], personas)
    body = _api_body(_values(kind, name, record, personas))
    response = login(maker(kind, personas)).post(
        reverse(f"api:{_noun(kind)}_{name}_add", args=[record.pk]), body,
        content_type="application/json")
    assert response.status_code == 422
    assert rows_of(record, rows_of_kind(kind, name)) == []


@pytest.mark.parametrize(("slug", "name"), TABLES)
def test_the_api_list_costs_the_same_queries_for_1_and_5_rows(
        slug: str, name: str, personas: dict[str, Any], login: Any) -> None:
    kind = kind_by_slug(slug)
    rows = rows_of_kind(kind, name)
    record = _first(kind, personas)
    author = maker(kind, personas)
    client = login(author)
    url = reverse(f"api:{_noun(kind)}_{name}_list", args=[record.pk])

    def counted() -> int:
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    row_add(record, rows, actor=author, values=_values(kind, name, record, personas))
    one = counted()
    for _ in range(4):
        row_add(record, rows, actor=author, values=_values(kind, name, record, personas))
    assert counted() == one


@pytest.mark.parametrize(("slug", "name"), TABLES)
def test_the_json_copy_carries_the_table_with_withdrawn_rows_marked(
        slug: str, name: str, personas: dict[str, Any], login: Any) -> None:
    kind = kind_by_slug(slug)
    rows = rows_of_kind(kind, name)
    record = _first(kind, personas)
    author = maker(kind, personas)
    kept = row_add(record, rows, actor=author, values=_values(kind, name, record, personas))
    gone = row_add(record, rows, actor=author, values=_values(kind, name, record, personas))
    row_remove(gone, rows, actor=author, reason="Duplicate")
    copy = login(author).get(reverse("records:json", args=[slug, record.pk])).json()
    [table] = [s for s in copy["sections"] if s["title"] == rows.heading]
    assert len(table["rows"]) == 2
    assert "withdrawn" not in table["rows"][0][0]
    assert table["rows"][1][0].endswith(f"by {author.printed_name}: Duplicate)")
    assert kept.pk < gone.pk
