"""The deviation API: create (201, 422 naming the field), list filters, detail with the
shared parts, update by state, spawning a CAPA; problem+json errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from .factories import deviation_in_state

pytestmark = pytest.mark.django_db

URL = "/api/v1/deviations"


def _body(where: Any, **fields: Any) -> dict[str, Any]:
    body = {
        "site": where.code, "title": "Audit trail disabled on HPLC-07", "owner": "author",
        "description": "Audit trail found off during a review.",
        "event_at": (timezone.now() - dt.timedelta(hours=3)).isoformat(),
        "data_integrity_impact": True,
        "data_integrity_impact_text": "Injections between 3 and 5 March lack a trail.",
        "cyber_related": True,
    }
    body.update(fields)
    return body


def test_create_answers_201_with_the_deviation(people: dict[str, Any], site: Any,
                                               login: Any) -> None:
    client = login(people["author"])
    response = client.post(URL, _body(site), content_type="application/json")
    assert response.status_code == 201
    data = response.json()
    year = timezone.now().year
    assert (data["number"], data["state"], data["owner"], data["cyber_related"],
            data["security_reference"], data["data_integrity_impact"]) == (
        f"DEV-{year}-0001", "draft", "author", True, "", True)
    assert data["common"]["number"] == data["number"]
    assert [a["action"] for a in data["common"]["available_actions"]] == ["submit", "cancel"]
    assert data["url"] == f"/deviations/{data['id']}/"


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"title": ""}, "title", "Give the deviation a title."),
    ({"owner": "nobody"}, "owner", "No user 'nobody'."),
    ({"site": "NOPE"}, "site", "No site 'NOPE'."),
    ({"classification": "huge"}, "classification", "Choose one of minor, major, critical."),
    ({"due_date": "2020-01-01"}, "due_date", None),
    ({"event_at": "2020-01-01T00:00:00Z"}, "late_entry_reason",
     "The event is more than 72 hours old: say why it is recorded late."),
])
def test_create_refusals_name_the_field(people: dict[str, Any], site: Any, login: Any,
                                        fields: dict[str, Any], field: str,
                                        message: str | None) -> None:
    response = login(people["author"]).post(URL, _body(site, **fields),
                                            content_type="application/json")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == [field]
    if message:
        assert errors[0]["message"] == message


def test_list_filters_and_paginates(people: dict[str, Any], login: Any) -> None:
    cyber = deviation_in_state(people, "draft", title="Ransomware on MES", cyber_related=True,
                               classification="critical")
    plain = deviation_in_state(people, "open", title="Label mix-up", classification="minor")
    client = login(people["auditor"])

    def numbers(**query: Any) -> list[str]:
        response = client.get(URL, query)
        assert response.status_code == 200
        return [r["number"] for r in response.json()["results"]]

    assert numbers() == [plain.number, cyber.number]
    assert numbers(cyber_related="true") == [cyber.number]
    assert numbers(cyber_related="false") == [plain.number]
    assert numbers(state="open") == [plain.number]
    assert numbers(classification="critical") == [cyber.number]
    assert numbers(q="label") == [plain.number]
    assert numbers(q=cyber.number) == [cyber.number]
    assert numbers(sort="number") == [cyber.number, plain.number]
    assert numbers(mine="true") == []
    page = client.get(URL, {"page_size": 1, "page": 2}).json()
    assert (page["count"], page["page"], page["pages"], len(page["results"])) == (2, 2, 2, 1)
    bad = client.get(URL, {"state": "lost"})
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "state")


def test_list_shows_only_the_sites_one_holds_a_role_for(
    people: dict[str, Any], make_user: Any, login: Any
) -> None:
    from .factories import a_site

    here, there = a_site("MUC"), a_site("BSL")
    mine = deviation_in_state(people, "draft", site=here)
    deviation_in_state(people, "draft", site=there)
    local = make_user("local_auditor", "auditor", site=here)
    response = login(local).get(URL)
    assert [r["number"] for r in response.json()["results"]] == [mine.number]


def test_detail_and_404_for_missing(people: dict[str, Any], login: Any) -> None:
    d = deviation_in_state(people, "approved")
    client = login(people["auditor"])
    data = client.get(f"{URL}/{d.pk}").json()
    assert (data["state"], data["root_cause_category"], data["editable_fields"]) == (
        "approved", "equipment", [])
    assert [s["meaning"] for s in data["common"]["signatures"]] == ["Approved"]
    missing = client.get(f"{URL}/999999")
    assert (missing.status_code, missing["Content-Type"]) == (404, "application/problem+json")


def test_update_by_state_and_reason(people: dict[str, Any], login: Any) -> None:
    d = deviation_in_state(people, "investigation")
    client = login(people["author"])
    url = f"{URL}/{d.pk}/update"
    response = client.post(url, {"changes": {"root_cause": "Seal worn"}},
                           content_type="application/json")
    assert (response.status_code, response.json()["errors"]) == (
        422, [{"field": "reason", "message": "Say why the deviation record is updated."}])
    response = client.post(url, {"changes": {"title": "x"}, "reason": "r"},
                           content_type="application/json")
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "title")
    response = client.post(url, {"changes": {"root_cause": "Seal worn", "owner": "process_owner",
                                             "root_cause_category": "equipment"},
                                 "reason": "Findings"}, content_type="application/json")
    assert response.status_code == 200
    assert (response.json()["root_cause"], response.json()["owner"]) == (
        "Seal worn", "process_owner")


def test_transition_through_the_generic_api_and_409(people: dict[str, Any], login: Any) -> None:
    d = deviation_in_state(people, "draft")
    url = f"/api/v1/records/deviations/{d.pk}/transitions/approve"
    refused = login(people["qa_approver"]).post(url, {}, content_type="application/json")
    assert (refused.status_code, refused.json()["allowed_actions"]) == (
        409, ["submit", "cancel"])
    # the author may never approve: refused before anything about the state is said
    forbidden = login(people["author"]).post(url, {}, content_type="application/json")
    assert (forbidden.status_code, "allowed_actions" in forbidden.json()) == (403, False)


def test_spawn_capa(people: dict[str, Any], login: Any) -> None:
    d = deviation_in_state(people, "investigation")
    client = login(people["author"])
    response = client.post(f"{URL}/{d.pk}/capa", {
        "title": "Replace door sensors", "owner": "process_owner", "due_date": "2099-01-01",
    }, content_type="application/json")
    assert response.status_code == 201
    capa = response.json()
    detail = client.get(f"{URL}/{d.pk}").json()
    assert [c["number"] for c in detail["capas"]] == [capa["number"]]
    assert [(lk["relation"], lk["direction"], lk["number"])
            for lk in detail["common"]["links"]] == [("spawned", "outgoing", capa["number"])]
    early = deviation_in_state(people, "draft")
    refused = client.post(f"{URL}/{early.pk}/capa", {"title": "x", "owner": "author"},
                          content_type="application/json")
    assert (refused.status_code, refused.json()["errors"][0]["field"]) == (422, "__all__")
