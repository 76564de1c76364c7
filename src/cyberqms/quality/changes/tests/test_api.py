"""Change-control API: create (201/422 naming fields), detail with common parts, update,
tasks, list filters, and the CYB-06 path through the generic transition API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone

from cyberqms.conftest import PASSWORD, totp_code

from ..enums import ChangeState
from .factories import ASSESSMENT, CYBER, change_in, ready_to_sign, site

pytestmark = pytest.mark.django_db
S = ChangeState
API = "/api/v1"


def _post(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, data=body, content_type="application/json")


def _update(client: Any, url: str, changes: dict[str, Any], reason: str = "") -> Any:
    return client.post(f"{url}/update", data={"changes": changes, "reason": reason},
                       content_type="application/json")


def _fields(response: Any) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def test_create_detail_update_p11_06(personas: dict[str, Any], login: Any) -> None:
    site()
    client = login(personas["author"])
    created = _post(client, f"{API}/changes", {
        "site": "BSL", "title": "Historian upgrade", "change_type": "computerized_system",
        "justification": "End of support", **ASSESSMENT, **CYBER,
    })
    assert created.status_code == 201
    body = created.json()
    year = timezone.now().year
    assert (body["number"], body["state"], body["cyber_impact"], body["risk_score"],
            body["risk_level"]) == (f"CC-{year}-0001", "draft", True, 12, "low")
    assert body["common"]["number"] == body["number"]
    assert [a["action"] for a in body["common"]["available_actions"]] == ["submit", "cancel"]
    url = f"{API}/changes/{body['id']}"
    updated = _update(client, url, {"severity": 5, "new_interfaces": False,
                                    "data_flow_change": False})
    assert updated.status_code == 200
    assert (updated.json()["risk_score"], updated.json()["cyber_impact"]) == (20, False)
    detail = client.get(url).json()
    assert detail["editable_fields"][:3] == ["change_type", "cyber_assessment",
                                             "data_flow_change"]
    assert detail["tasks"] == []


def test_create_422_names_the_fields(personas: dict[str, Any], login: Any) -> None:
    site()
    client = login(personas["author"])
    base = {"site": "BSL", "title": "T", "change_type": "process", "justification": "J"}
    cases = [
        ({**base, "site": "NOPE"}, {"site": "No site 'NOPE'."}),
        ({**base, "change_type": "magic"}, {"change_type": (
            "Choose one of equipment, process, facility, computerized_system, software, "
            "supplier, document, other.")}),
        ({**base, "severity": 9}, {"severity": "Ensure this value is less than or equal to 5."}),
        ({**base, "due_date": "2001-01-01"},
         {"due_date": f"The due date cannot be before {timezone.localdate().isoformat()}."}),
        ({**base, "owner": "nobody"}, {"owner": "No user 'nobody'."}),
        ({**base, "colour": "red"}, {"colour": "Extra inputs are not permitted"}),
        ({k: v for k, v in base.items() if k != "justification"},
         {"justification": "Say why the change is needed."}),
    ]
    for body, errors in cases:
        response = _post(client, f"{API}/changes", body)
        assert (response.status_code, _fields(response)) == (422, errors)
        assert response["Content-Type"] == "application/problem+json"


def test_update_rules_and_gate(personas: dict[str, Any], login: Any) -> None:
    change = change_in(S.ASSESSMENT, personas)
    url = f"{API}/changes/{change.pk}"
    qa = login(personas["qa_approver"])
    response = _update(qa, url, {"probability": 3})
    assert (response.status_code, _fields(response)) == (
        422, {"reason": "Say why the change record is updated."})
    response = _update(qa, url, {"title": "x"}, reason="r")
    assert (response.status_code, _fields(response)) == (
        422, {"title": "This field cannot be changed while the change is impact assessment."})
    response = _update(qa, url, {"probability": 3}, reason="More failures seen")
    assert (response.status_code, response.json()["risk_score"]) == (200, 18)
    assert _update(login(personas["auditor"]), url, {"probability": 1}, reason="r"
                   ).status_code == 403
    assert _update(qa, f"{API}/changes/999999", {}, reason="r").status_code == 404


def test_tasks_through_the_api(personas: dict[str, Any], login: Any) -> None:
    change = change_in(S.IMPLEMENTATION, personas)
    client = login(personas["author"])
    due = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    added = _post(client, f"{API}/changes/{change.pk}/tasks",
                  {"description": "Deploy", "owner": "process_owner", "due_date": due})
    assert added.status_code == 201
    task = added.json()
    assert (task["owner"], task["state"], task["due_date"]) == ("process_owner", "open", due)
    bad = _post(client, f"{API}/changes/{change.pk}/tasks",
                {"description": "", "owner": "auditor"})
    assert (bad.status_code, sorted(_fields(bad))) == (422, ["description", "owner"])
    done = _post(login(personas["process_owner"]),
                 f"{API}/changes/{change.pk}/tasks/{task['id']}/complete", {"note": "ok"})
    assert (done.status_code, done.json()["state"], done.json()["note"]) == (200, "done", "ok")
    again = _post(client, f"{API}/changes/{change.pk}/tasks/{task['id']}/complete", {})
    assert (again.status_code, _fields(again)) == (422, {"__all__": "This task is already done."})
    assert _post(client, f"{API}/changes/{change.pk}/tasks/999999/cancel",
                 {"reason": "x"}).status_code == 404


def test_list_filters_and_paging(personas: dict[str, Any], login: Any) -> None:
    cyber = change_in(S.DRAFT, personas, cyber=True)
    change_in(S.DRAFT, personas)
    client = login(personas["auditor"])
    page = client.get(f"{API}/changes", {"cyber_impact": "true"}).json()
    assert (page["count"], [r["number"] for r in page["results"]]) == (1, [cyber.number])
    page = client.get(f"{API}/changes", {"page_size": 1, "page": 2, "sort": "number"}).json()
    assert (page["count"], page["pages"], len(page["results"])) == (2, 2, 1)
    bad = client.get(f"{API}/changes", {"risk_level": "extreme"})
    assert (bad.status_code, list(_fields(bad))) == (422, ["risk_level"])


def test_cyber_change_through_the_generic_transition_api_cyb_06(
    personas: dict[str, Any], login: Any
) -> None:
    """Over HTTP: implementation is refused (409) until IT security signed."""
    change = change_in(S.ASSESSMENT, personas, cyber=True)
    base = f"{API}/records/changes/{change.pk}/transitions"
    qa = ready_to_sign(personas["qa_approver"], personas["admin"])
    response = _post(login(qa), f"{base}/qa_approve", {"password": PASSWORD})
    assert (response.status_code, response.json()["state"]) == (200, "qa_approved")
    early = _post(login(personas["author"]), f"{base}/start_implementation", {})
    assert (early.status_code, early.json()["allowed_actions"]) == (
        409, ["security_approve", "release", "return", "cancel"])
    release = _post(login(qa), f"{base}/release", {})
    assert release.status_code == 422
    assert release.json()["errors"][0]["message"] == (
        "This change has cybersecurity impact: IT security must approve it.")
    sec = ready_to_sign(personas["it_security"], personas["admin"])
    cache.clear()
    signed = _post(login(sec), f"{base}/security_approve",
                   {"password": PASSWORD, "otp": totp_code()})
    assert (signed.status_code, signed.json()["state"]) == (200, "approved")
    meanings = [s["meaning"] for s in signed.json()["signatures"]]
    assert sorted(meanings) == ["Approved", "Approved (IT security)"]
    started = _post(login(personas["author"]), f"{base}/start_implementation", {})
    assert (started.status_code, started.json()["state"]) == (200, "implementation")
