"""A family's long list, page and API (issue 14): pages by cursor, linked Previous / Next
with the filters and sort kept, every record once however many share a sort value, a
later page at the cost of the first, old page-number links still opening their page, and
a cursor that is not one of the list refused (the page: 400 and the first page; the API:
422 naming `cursor`)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cyberqms.platform.accounts.tests.factories import SiteFactory
from cyberqms.platform.kit.record_services import record_create
from cyberqms.platform.kit.records import kind_by_slug

from .kit import copies, maker, samples

pytestmark = pytest.mark.django_db

Login = Callable[[Any], Client]
KIND = "complaints"
API = "/api/v1/complaints"


@pytest.fixture
def listed(personas: dict[str, Any]) -> list[str]:
    """Thirty complaints made at one moment (they share their creation time and title):
    their numbers in the list's default order, newest (highest id) first."""
    kind = kind_by_slug(KIND)
    author = maker(kind, personas)
    first = record_create(kind, actor=author, site=SiteFactory.create(code="BSL"),
                          values={**samples(kind).CREATE, "owner": author,
                                  "title": "Leaking vial"})
    records = [first, *copies(first, 29)]
    return [r.number for r in sorted(records, key=lambda r: r.pk, reverse=True)]


def shown(response: Any) -> list[str]:
    return [record.number for record in response.context["page"]]


def link(response: Any, rel: str) -> str | None:
    """The page's Previous or Next link (a query on the page's own path)."""
    found = re.search(rf'rel="{rel}" href="([^"]+)"', response.content.decode())
    return response.request["PATH_INFO"] + html.unescape(found[1]) if found else None


def test_next_links_hold_every_record_once_in_order(
        listed: list[str], personas: dict[str, Any], login: Login) -> None:
    client = login(personas["auditor"])
    url: str | None = reverse(f"{KIND}:list")
    seen = []
    while url is not None:
        response = client.get(url)
        seen.append(shown(response))
        url = link(response, "next")
    assert seen == [listed[:25], listed[25:]]


def test_the_links_keep_the_filters_and_the_sort(
        listed: list[str], personas: dict[str, Any], login: Login) -> None:
    client = login(personas["auditor"])
    first = client.get(reverse(f"{KIND}:list"), {"sort": "title", "q": "vial"})
    second = client.get(link(first, "next") or "")
    # Equal titles: the id breaks the tie in the sort's direction, oldest first.
    assert (shown(first) + shown(second), "sort=title" in (link(first, "next") or ""),
            "q=vial" in (link(first, "next") or "")) == (listed[::-1], True, True)


def test_the_previous_link_gives_back_the_page_before(
        listed: list[str], personas: dict[str, Any], login: Login) -> None:
    client = login(personas["auditor"])
    first = client.get(reverse(f"{KIND}:list"))
    second = client.get(link(first, "next") or "")
    back = client.get(link(second, "prev") or "")
    assert (shown(back), link(back, "prev")) == (listed[:25], None)


def test_the_count_beside_the_pages_is_the_lists(
        listed: list[str], personas: dict[str, Any], login: Login) -> None:
    second = login(personas["auditor"]).get(reverse(f"{KIND}:list"), {"page": "2"})
    assert (shown(second), "30 rows" in second.content.decode()) == (listed[25:], True)


def test_a_later_page_costs_the_queries_of_the_first(
        listed: list[str], personas: dict[str, Any], login: Login) -> None:
    client = login(personas["auditor"])
    first_url = reverse(f"{KIND}:list")
    next_url = link(client.get(first_url), "next") or ""
    counts = []
    for url in (first_url, next_url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_tampered_cursor_shows_the_first_page_with_400(
        listed: list[str], personas: dict[str, Any], login: Login) -> None:
    response = login(personas["auditor"]).get(reverse(f"{KIND}:list"), {"cursor": "x~y"})
    assert (response.status_code, shown(response), "start again from the first page"
            in response.content.decode()) == (400, listed[:25], True)


def test_api_cursors_hold_every_record_once(
        listed: list[str], personas: dict[str, Any], login: Login) -> None:
    client = login(personas["auditor"])
    cursor: str | None = ""
    seen, counts = [], []
    while cursor is not None:
        body = client.get(API, {"page_size": 12, "cursor": cursor}).json()
        seen.append([r["number"] for r in body["results"]])
        counts.append((body["count"], body["count_exact"], body["page"], body["pages"]))
        cursor = body["next"]
    assert (seen, counts) == ([listed[:12], listed[12:24], listed[24:]],
                              [(30, True, None, None)] * 3)


def test_api_previous_cursor_gives_back_the_page_before(
        listed: list[str], personas: dict[str, Any], login: Login) -> None:
    client = login(personas["auditor"])
    first = client.get(API, {"page_size": 12}).json()
    second = client.get(API, {"page_size": 12, "cursor": first["next"]}).json()
    back = client.get(API, {"page_size": 12, "cursor": second["previous"]}).json()
    assert ([r["number"] for r in back["results"]], back["previous"], first["page"]) == (
        listed[:12], None, 1)


def test_api_tampered_cursor_is_422_naming_cursor(
        listed: list[str], personas: dict[str, Any], login: Login) -> None:
    response = login(personas["auditor"]).get(API, {"cursor": "eyJrIjpbXX0"})
    assert (response.status_code, response["Content-Type"],
            [e["field"] for e in response.json()["errors"]]) == (
        422, "application/problem+json", ["cursor"])
