"""The CAPA API (422 naming fields, 403 for segregation and refused signatures) and pages
(list filters, create with prefill, detail on the record kit, htmx action rows)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from cyberqms.conftest import PASSWORD
from cyberqms.platform.core.models import Signature
from cyberqms.quality.capa.enums import CapaState
from cyberqms.quality.capa.models import Capa, CapaAction

from .factories import capa_in_state, make_capa, prepare_signers, site

pytestmark = pytest.mark.django_db

S = CapaState
TODAY = timezone.localdate


@pytest.fixture
def people(personas: dict[str, Any]) -> dict[str, Any]:
    return prepare_signers(personas)


def _post(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, data=body, content_type="application/json")


def _fields(response: Any) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


# --- API ---------------------------------------------------------------------------------


def test_api_create_detail_and_list(people: dict[str, Any], login: Any) -> None:
    client = login(people["author"])
    site()
    response = _post(client, "/api/v1/capa", {
        "site": "BSL", "title": "Backup job failed silently", "owner": "author",
        "source": "security_incident", "source_reference": "INC-7", "cyber_related": True,
        "due_date": (TODAY() + dt.timedelta(days=30)).isoformat(),
    })
    assert response.status_code == 201
    body = response.json()
    assert (body["number"], body["state"], body["source_reference"], body["cyber_related"]) == (
        f"CAPA-{timezone.now().year}-0001", "draft", "INC-7", True)
    assert body["common"]["number"] == body["number"]
    assert "effectiveness_criteria" in body["editable_fields"]
    detail = client.get(f"/api/v1/capa/{body['id']}")
    assert (detail.status_code, detail.json()["actions"]) == (200, [])
    listed = client.get("/api/v1/capa?cyber_related=true&state=draft")
    assert [r["number"] for r in listed.json()["results"]] == [body["number"]]
    assert listed.json()["count"] == 1


def test_api_create_refuses_due_date_before_today_naming_it(
    people: dict[str, Any], login: Any,
) -> None:
    site()
    response = _post(login(people["author"]), "/api/v1/capa", {
        "site": "BSL", "title": "x", "owner": "author", "source": "other",
        "due_date": (TODAY() - dt.timedelta(days=2)).isoformat(),
    })
    assert (response.status_code, _fields(response)) == (422, ["due_date"])
    assert response["Content-Type"] == "application/problem+json"


def test_api_update_needs_reason_after_draft(people: dict[str, Any], login: Any) -> None:
    capa = capa_in_state(S.OPEN, people)
    client = login(people["author"])
    url = f"/api/v1/capa/{capa.pk}/update"
    response = _post(client, url, {"changes": {"root_cause": "Seal"}})
    assert (response.status_code, _fields(response)) == (422, ["reason"])
    response = _post(client, url, {"changes": {"effectiveness_due": "2001-01-01"},
                                   "reason": "x"})
    assert (response.status_code, _fields(response)) == (422, ["effectiveness_due"])
    response = _post(client, url, {"changes": {"root_cause": "Seal"}, "reason": "QA"})
    assert (response.status_code, response.json()["root_cause"]) == (200, "Seal")


def test_api_actions(people: dict[str, Any], login: Any) -> None:
    capa = capa_in_state(S.IMPLEMENTATION, people)
    client = login(people["author"])
    response = _post(client, f"/api/v1/capa/{capa.pk}/actions", {
        "kind": "preventive", "description": "Quarterly seal check", "owner": "author",
        "due_date": (TODAY() - dt.timedelta(days=1)).isoformat()})
    assert (response.status_code, _fields(response)) == (422, ["due_date"])
    response = _post(client, f"/api/v1/capa/{capa.pk}/actions", {
        "kind": "preventive", "description": "Quarterly seal check", "owner": "author",
        "due_date": TODAY().isoformat()})
    assert response.status_code == 201
    action_id = response.json()["id"]
    done_url = f"/api/v1/capa/{capa.pk}/actions/{action_id}/complete"
    response = _post(client, done_url, {"evidence": ""})
    assert (response.status_code, _fields(response)) == (422, ["evidence"])
    response = _post(login(people["process_owner"]), done_url, {"evidence": "WO"})
    assert (response.status_code, response.json()["title"]) == (403, "Segregation of duties")
    response = _post(client, done_url, {"evidence": "WO-5"})
    assert (response.status_code, response.json()["state"]) == (200, "done")
    other = CapaAction.objects.filter(capa=capa, state="open").first()
    assert other is not None
    cancel_url = f"/api/v1/capa/{capa.pk}/actions/{other.pk}/cancel"
    response = _post(client, cancel_url, {"reason": ""})
    assert (response.status_code, _fields(response)) == (422, ["reason"])
    response = _post(client, f"/api/v1/capa/{capa.pk}/actions/999999/cancel", {"reason": "x"})
    assert response.status_code == 404


def test_api_effectiveness_record_signed_and_segregated(
    people: dict[str, Any], login: Any,
) -> None:
    capa = capa_in_state(S.EFFECTIVENESS_CHECK, people)
    url = f"/api/v1/capa/{capa.pk}/effectiveness"
    approver = login(people["qa_approver"])
    response = _post(approver, url, {"result": "passed", "evidence": "", "password": PASSWORD})
    assert (response.status_code, _fields(response)) == (422, ["evidence"])
    response = _post(approver, url, {"result": "passed", "evidence": "90 days clean",
                                     "password": "wrong"})
    assert (response.status_code, response.json()["title"]) == (403, "Signature refused")
    Capa.objects.filter(pk=capa.pk).update(owner=people["qa_manager"])
    response = _post(login(people["qa_manager"]), url,
                     {"result": "passed", "evidence": "x", "password": PASSWORD})
    assert (response.status_code, response.json()["title"]) == (403, "Segregation of duties")
    response = _post(approver, url, {"result": "passed", "evidence": "90 days clean",
                                     "password": PASSWORD})
    assert (response.status_code, response.json()["effectiveness_result"]) == (200, "passed")
    assert Signature.objects.filter(meaning="Verified").count() == 1
    response = _post(login(people["author"]), url,
                     {"result": "passed", "evidence": "x", "password": PASSWORD})
    assert response.status_code == 403  # no capa.verify


# --- pages -------------------------------------------------------------------------------


def test_list_page_filters_and_overdue_badge(people: dict[str, Any], login: Any) -> None:
    late = capa_in_state(S.IMPLEMENTATION, people, title="Seal failures")
    make_capa(people, title="Label mix-up", source="complaint")
    CapaAction.objects.filter(capa=late).update(due_date=TODAY() - dt.timedelta(days=1))
    client = login(people["qa_manager"])
    page = client.get("/capa/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-testid="overdue"') == 1
    assert "Label mix-up" in html
    filtered = client.get("/capa/?overdue=true").content.decode()
    assert ("Seal failures" in filtered, "Label mix-up" in filtered) == (True, False)
    by_source = client.get("/capa/?source=complaint&sort=number").content.decode()
    assert ("Seal failures" in by_source, "Label mix-up" in by_source) == (False, True)


def test_create_page_prefills_from_a_deviation_and_creates(
    people: dict[str, Any], login: Any,
) -> None:
    client = login(people["author"])
    site()
    form = client.get(
        "/capa/new/?source=deviation&source_reference=DEV-2026-0007").content.decode()
    assert 'value="DEV-2026-0007"' in form
    assert '<option value="deviation" selected>' in form
    response = client.post("/capa/new/", {
        "title": "", "site": "BSL", "owner": people["author"].pk, "source": "other",
    })
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    response = client.post("/capa/new/", {
        "title": "Gowning non-compliance", "site": "BSL", "owner": people["author"].pk,
        "source": "audit_finding", "source_reference": "AUD-2026-03",
    })
    capa = Capa.objects.get()
    assert (response.status_code, response["Location"]) == (302, f"/capa/{capa.pk}/")
    assert capa.source_reference == "AUD-2026-03"


def test_detail_shows_segregation_before_trying(people: dict[str, Any], login: Any) -> None:
    capa = capa_in_state(S.EFFECTIVENESS_CHECK, people)
    Capa.objects.filter(pk=capa.pk).update(owner=people["qa_approver"])
    html = login(people["qa_approver"]).get(f"/capa/{capa.pk}/").content.decode()
    assert 'data-testid="effectiveness-refusal"' in html
    assert "someone else must verify its effectiveness" in html
    assert 'data-testid="effectiveness-form"' not in html
    html = login(people["qa_manager"]).get(f"/capa/{capa.pk}/").content.decode()
    assert 'data-testid="effectiveness-form"' in html


def test_effectiveness_form_page_signs(people: dict[str, Any], login: Any) -> None:
    capa = capa_in_state(S.EFFECTIVENESS_CHECK, people)
    client = login(people["qa_approver"])
    url = f"/capa/{capa.pk}/effectiveness/"
    response = client.post(url, {"result": "failed", "evidence": "Excursion on 3 June",
                                 "password": "wrong"})
    assert response.status_code == 422
    assert "wrong password" in response.content.decode()
    response = client.post(url, {"result": "failed", "evidence": "Excursion on 3 June",
                                 "password": PASSWORD})
    assert (response.status_code, response["Location"]) == (302, f"/capa/{capa.pk}/")
    capa.refresh_from_db()
    assert capa.effectiveness_result == "failed"


def test_action_rows_update_with_htmx(people: dict[str, Any], login: Any) -> None:
    capa = capa_in_state(S.IMPLEMENTATION, people)
    action = capa.actions.first()
    assert action is not None
    client = login(people["author"])
    html = client.get(f"/capa/{capa.pk}/").content.decode()
    assert html.count('data-testid="action-row"') == 2
    assert "Mark done" in html
    url = f"/capa/{capa.pk}/actions/{action.pk}/complete/"
    row = client.post(url, {"evidence": ""}, HTTP_HX_REQUEST="true").content.decode()
    assert row.startswith(f'<tr id="action-{action.pk}"')
    assert "Evidence: Describe the evidence that the action is done." in row
    row = client.post(url, {"evidence": "WO-3"}, HTTP_HX_REQUEST="true").content.decode()
    assert "WO-3" in row
    assert "Mark done" not in row
    action.refresh_from_db()
    assert action.state == "done"


def test_add_action_and_edit_pages(people: dict[str, Any], login: Any) -> None:
    capa = make_capa(people)
    client = login(people["author"])
    response = client.post(f"/capa/{capa.pk}/actions/", {
        "kind": "corrective", "description": "Fix", "owner": people["author"].pk,
        "due_date": (TODAY() - dt.timedelta(days=3)).isoformat()})
    assert response.status_code == 422
    assert "The due date cannot be before" in response.content.decode()
    response = client.post(f"/capa/{capa.pk}/edit/", {
        "title": capa.title, "owner": people["author"].pk, "source": "deviation",
        "root_cause": "Door seal worn", "effectiveness_criteria": "No excursion"})
    assert response.status_code == 302
    capa.refresh_from_db()
    assert (capa.root_cause, capa.effectiveness_criteria) == ("Door seal worn", "No excursion")
