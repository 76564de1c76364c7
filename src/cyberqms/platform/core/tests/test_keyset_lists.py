"""The long lists besides the record families' (issue 14): the audit trail, security events,
access decisions, received events, alerts and the inbox page by cursor. A cursor that is
not one of the list answers 400 with the first page (pages) or 422 naming `cursor` (API);
a later page costs the queries of the first; a bare-array API list names its next page in
a `Link` header."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cyberqms.platform.core.models import SecurityEvent

pytestmark = pytest.mark.django_db

Login = Callable[[Any], Client]
TAMPERED = "eyJrIjpbIi1pZCJdLCJ2IjpbInNpeCJdLCJiIjowfQ"  # {"k":["-id"],"v":["six"],"b":0}
PAGES = ["trail:entries", "accounts:security_events", "accounts:access_decisions",
         "monitoring:events", "monitoring:alerts", "notifications:inbox"]
APIS = ["/api/v1/trail/entries", "/api/v1/security-events", "/api/v1/access-decisions",
        "/api/v1/monitoring/alerts", "/api/v1/notifications", "/api/v1/deviations"]


def events(count: int) -> None:
    SecurityEvent.objects.bulk_create([
        SecurityEvent(created_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC), kind="auth.failed",
                      severity="low", message=f"Failed sign-in {i}") for i in range(count)])


def next_link(response: Any) -> str:
    found = re.search(r'rel="next" href="\?([^"]+)"', response.content.decode())
    assert found is not None
    return f'{response.request["PATH_INFO"]}?{found[1].replace("&amp;", "&")}'


@pytest.mark.parametrize("name", PAGES)
def test_a_tampered_cursor_shows_the_first_page_with_400(
        name: str, personas: dict[str, Any], login: Login) -> None:
    response = login(personas["auditor"]).get(reverse(name), {"cursor": TAMPERED})
    assert (response.status_code, "start again from the first page"
            in response.content.decode()) == (400, True)


@pytest.mark.parametrize("url", APIS)
def test_api_tampered_cursor_is_422_naming_cursor(
        url: str, personas: dict[str, Any], login: Login) -> None:
    response = login(personas["auditor"]).get(url, {"cursor": TAMPERED})
    assert (response.status_code, response["Content-Type"],
            [e["field"] for e in response.json()["errors"]]) == (
        422, "application/problem+json", ["cursor"])


@pytest.mark.parametrize("name", ["accounts:security_events", "accounts:access_decisions"])
def test_a_later_page_costs_the_queries_of_the_first(
        name: str, personas: dict[str, Any], login: Login) -> None:
    client = login(personas["auditor"])
    events(120)
    for n in range(60):  # decisions of the auditor's own reads, to page through
        client.get(reverse("accounts:security_events"), {"q": f"read {n}"})
    first = client.get(reverse(name))
    counts = []
    for url in (reverse(name), next_link(first)):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_api_link_header_names_every_page_once(
        personas: dict[str, Any], login: Login) -> None:
    events(7)
    client = login(personas["auditor"])
    everything = [e["id"] for e in client.get("/api/v1/security-events").json()]
    url, pages = "/api/v1/security-events?limit=3&cursor=", []
    while url:
        response = client.get(url)
        pages.append([e["id"] for e in response.json()])
        found = re.search(r'<([^>]+)>; rel="next"', response.get("Link", ""))
        url = found[1] if found else ""
    assert pages == [everything[i:i + 3] for i in range(0, len(everything), 3)]


def test_api_offset_pages_name_the_next_by_cursor(
        personas: dict[str, Any], login: Login) -> None:
    events(5)
    client = login(personas["auditor"])
    everything = [e["id"] for e in client.get("/api/v1/security-events").json()]
    response = client.get("/api/v1/security-events", {"limit": 2, "offset": 2})
    following = re.search(r'<([^>]+)>; rel="next"', response["Link"])
    assert following is not None
    assert [e["id"] for e in client.get(following[1]).json()] == everything[4:6]


def test_trail_entries_by_cursor_are_those_by_offset(
        personas: dict[str, Any], login: Login) -> None:
    client = login(personas["auditor"])
    by_offset = [e["seq"] for e in client.get("/api/v1/trail/entries").json()["items"]]
    cursor, by_cursor = "", []
    while cursor is not None:
        body = client.get("/api/v1/trail/entries", {"limit": 4, "cursor": cursor}).json()
        by_cursor += [e["seq"] for e in body["items"]]
        cursor = body["next"]
    assert (by_cursor, body["count_exact"]) == (by_offset, True)
