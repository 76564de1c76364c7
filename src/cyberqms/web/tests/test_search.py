"""Finding records by number or title across the record families (CYB-01: only what the
person may see, by their families' view rights and their sites): the results page in the
shell, the jump to a record by its number, the search box in the top bar, and the API."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from cyberqms.platform.accounts.tests.factories import SiteFactory
from cyberqms.platform.kit.record_services import record_create
from cyberqms.platform.kit.records import QualityRecord, kind_by_slug
from cyberqms.platform.kit.tests.kit import creation_values, maker

pytestmark = pytest.mark.django_db

Login = Callable[[Any], Client]


@pytest.fixture
def sites() -> dict[str, Any]:
    return {code: SiteFactory.create(code=code, name=f"Plant {code}") for code in ("BSL", "DUB")}


def recorded(slug: str, people: dict[str, Any], site: Any, title: str) -> QualityRecord:
    kind = kind_by_slug(slug)
    author = maker(kind, people)
    values = {**creation_values(kind, site=site, author=author), "owner": author,
              "title": title}
    return record_create(kind, actor=author, site=site, values=values)


def found(response: Any) -> dict[str, list[str]]:
    """Record numbers by family, as the results page lists them."""
    return {family.kind.plural_label: [hit.number for hit in family.hits]
            for family in response.context["results"]}


def test_search_finds_records_by_title_grouped_by_family(
        personas: dict[str, Any], sites: dict[str, Any], login: Login) -> None:
    deviation = recorded("deviations", personas, sites["BSL"], "Cold room 3 excursion")
    complaint = recorded("complaints", personas, sites["BSL"], "Cold chain broken")
    recorded("deviations", personas, sites["BSL"], "Label misprint")
    response = login(personas["auditor"]).get("/search/", {"q": "cold"})
    assert (response.status_code, found(response)) == (
        200, {"Deviations": [deviation.number], "Complaints": [complaint.number]})


def test_each_hit_shows_number_title_state_in_words_and_site_with_a_link(
        personas: dict[str, Any], sites: dict[str, Any], login: Login) -> None:
    deviation = recorded("deviations", personas, sites["DUB"], "Cold room 3 excursion")
    html = login(personas["auditor"]).get("/search/", {"q": "cold room"}).content.decode()
    row = re.search(r'data-family="Deviations".*?<tbody>\s*<tr>(.*?)</tr>', html, re.S)
    assert row is not None
    cells = [re.sub(r"<[^>]+>", "", cell).strip()
             for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)]
    assert cells == [deviation.number, "Cold room 3 excursion", "Draft", "DUB"]
    assert f'<a href="/deviations/{deviation.pk}/">{deviation.number}</a>' in row.group(1)


def test_a_person_of_one_site_does_not_find_another_sites_records(
        make_user: Callable[..., Any], personas: dict[str, Any], sites: dict[str, Any],
        login: Login) -> None:
    at_basel = recorded("deviations", personas, sites["BSL"], "Cold room 3 excursion")
    recorded("deviations", personas, sites["DUB"], "Cold room 7 excursion")
    basel_author = make_user("basel_author", "author", site=sites["BSL"])
    response = login(basel_author).get("/search/", {"q": "cold room"})
    assert found(response) == {"Deviations": [at_basel.number]}


def test_an_auditor_finds_every_sites_records(
        personas: dict[str, Any], sites: dict[str, Any], login: Login) -> None:
    basel = recorded("deviations", personas, sites["BSL"], "Cold room 3 excursion")
    dublin = recorded("deviations", personas, sites["DUB"], "Cold room 7 excursion")
    response = login(personas["auditor"]).get("/search/", {"q": "cold room"})
    assert found(response) == {"Deviations": [dublin.number, basel.number]}


def test_a_person_without_the_view_right_finds_nothing(
        personas: dict[str, Any], sites: dict[str, Any], login: Login) -> None:
    recorded("deviations", personas, sites["BSL"], "Cold room 3 excursion")
    response = login(personas["outsider"]).get("/search/", {"q": "cold room"})
    assert (response.status_code, found(response)) == (200, {})
    assert "No record you may see has “cold room” in its number or title." in \
        response.content.decode()


def test_a_family_the_person_may_not_see_is_not_searched(
        personas: dict[str, Any], sites: dict[str, Any], login: Login) -> None:
    """Process owners see quality records but not security incidents."""
    deviation = recorded("deviations", personas, sites["BSL"], "Unknown USB device")
    recorded("incidents", personas, sites["BSL"], "Unknown USB device on HMI 2")
    response = login(personas["process_owner"]).get("/search/", {"q": "usb"})
    assert found(response) == {"Deviations": [deviation.number]}


def test_a_record_number_opens_the_record(
        personas: dict[str, Any], sites: dict[str, Any], login: Login) -> None:
    deviation = recorded("deviations", personas, sites["BSL"], "Cold room 3 excursion")
    response = login(personas["auditor"]).get("/search/", {"q": deviation.number.lower()})
    assert (response.status_code, response["Location"]) == (302, f"/deviations/{deviation.pk}/")


def test_the_number_of_a_record_one_may_not_see_opens_nothing(
        make_user: Callable[..., Any], personas: dict[str, Any], sites: dict[str, Any],
        login: Login) -> None:
    dublin = recorded("deviations", personas, sites["DUB"], "Cold room 7 excursion")
    basel_author = make_user("basel_author", "author", site=sites["BSL"])
    response = login(basel_author).get("/search/", {"q": dublin.number})
    assert (response.status_code, found(response)) == (200, {})


def test_a_family_shows_twenty_hits_and_leads_to_its_list_for_more(
        personas: dict[str, Any], sites: dict[str, Any], login: Login) -> None:
    for n in range(21):
        recorded("complaints", personas, sites["BSL"], f"Leaking vial {n}")
    response = login(personas["auditor"]).get("/search/", {"q": "leaking"})
    [family] = response.context["results"]
    assert (len(family.hits), family.more, family.list_url) == (
        20, True, "/complaints/?q=leaking")
    assert 'href="/complaints/?q=leaking">More Complaints with “leaking” in the list' in \
        response.content.decode()


def test_one_character_is_refused_with_a_message(personas: dict[str, Any],
                                                  login: Login) -> None:
    response = login(personas["auditor"]).get("/search/", {"q": "x"})
    assert (response.status_code, response.context["problem"]) == (
        422, "Type at least 2 characters of a record's number or title.")


def test_a_null_character_is_refused_with_a_message(personas: dict[str, Any],
                                                     login: Login) -> None:
    response = login(personas["auditor"]).get("/search/", {"q": "DEV\x00-1"})
    assert (response.status_code, response.context["problem"]) == (
        422, "Type letters, digits and punctuation: a null character is never in a record.")


def test_the_search_queries_once_per_family_whatever_the_hits(
        personas: dict[str, Any], sites: dict[str, Any], login: Login,
        django_assert_num_queries: Callable[..., Any]) -> None:
    client = login(personas["auditor"])
    client.get("/")  # the session's first request records the idle clock
    recorded("deviations", personas, sites["BSL"], "Cold room 1")
    with django_assert_num_queries(QUERIES_PER_SEARCH):
        one = client.get("/search/", {"q": "cold room"})
    for n in range(2, 6):
        recorded("deviations", personas, sites["BSL"], f"Cold room {n}")
    with django_assert_num_queries(QUERIES_PER_SEARCH):
        five = client.get("/search/", {"q": "cold room"})
    assert [len(f.hits) for f in one.context["results"]] == [1]
    assert [len(f.hits) for f in five.context["results"]] == [5]


# The session, the person, their roles, the gate's recorded decision, one query per family
# the auditor may see (fourteen: deviations, CAPA, changes, complaints, documents,
# incidents, suppliers, systems, periodic evaluations, restore tests, risk assessments,
# access findings, access reviews, drills), the shell's counts (inbox, alert banner).
QUERIES_PER_SEARCH = 20


def test_the_shell_has_a_labelled_search_box(personas: dict[str, Any],
                                             login: Login) -> None:
    html = login(personas["author"]).get("/").content.decode()
    form = re.search(r'<form class="topsearch" role="search" aria-label="Find a record" '
                     r'method="get" action="/search/"[^>]*>(.*?)</form>', html, re.S)
    assert form is not None
    assert re.findall(r"<label[^>]*>[^<]*</label>|<input[^>]*>", form.group(1)) == [
        '<label for="topsearch-q" class="visually-hidden">Record number or title</label>',
        '<input type="search" id="topsearch-q" name="q" maxlength="100" '
        'placeholder="Find a record: number or title">',
    ]


# --- API ---------------------------------------------------------------------------------


def test_the_api_finds_by_family_what_the_person_may_see(
        make_user: Callable[..., Any], personas: dict[str, Any], sites: dict[str, Any],
        login: Login) -> None:
    basel = recorded("deviations", personas, sites["BSL"], "Cold room 3 excursion")
    recorded("deviations", personas, sites["DUB"], "Cold room 7 excursion")
    basel_author = make_user("basel_author", "author", site=sites["BSL"])
    body = login(basel_author).get("/api/v1/search", {"q": "cold room"}).json()
    assert body == {"q": "cold room", "exact": None, "results": [{
        "family": "deviations", "label": "Deviations", "more": False,
        "list_url": "/deviations/?q=cold+room",
        "hits": [{"id": basel.pk, "number": basel.number, "title": "Cold room 3 excursion",
                  "state": "draft", "state_label": "Draft", "site": "BSL",
                  "url": f"/deviations/{basel.pk}/"}],
    }]}


def test_the_api_names_the_record_numbered_exactly(
        personas: dict[str, Any], sites: dict[str, Any], login: Login) -> None:
    deviation = recorded("deviations", personas, sites["BSL"], "Cold room 3 excursion")
    body = login(personas["auditor"]).get("/api/v1/search", {"q": deviation.number}).json()
    assert body["exact"] == {
        "id": deviation.pk, "number": deviation.number, "title": "Cold room 3 excursion",
        "state": "draft", "state_label": "Draft", "site": "BSL",
        "url": f"/deviations/{deviation.pk}/"}


def test_the_api_refuses_a_short_search_naming_q(personas: dict[str, Any],
                                                 login: Login) -> None:
    response = login(personas["auditor"]).get("/api/v1/search", {"q": " x "})
    assert (response.status_code, response["Content-Type"], response.json()["errors"]) == (
        422, "application/problem+json",
        [{"field": "q", "message": "Type at least 2 characters of a record's number or title."}])
