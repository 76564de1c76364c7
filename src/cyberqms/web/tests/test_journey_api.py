"""Issue 4, end to end through /api/v1/: the journey of browser/test_journey_browser.py
(a cyber-related deviation approved with an e-signature spawns a CAPA that is planned,
implemented, verified effective and closed, each signed) as JSON, with the refusals a
client meets on the way: 409 with `allowed_actions` for an action the state does not
offer, 403 for a wrong password (nothing changes), 403 for the owner verifying their CAPA.

QA signs over session authentication with the CSRF token (a browser's or htmx's way);
the CAPA owner works with a bearer token limited to CAPA scopes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from cyberqms.conftest import PASSWORD, totp_code
from cyberqms.platform.accounts.services import token_create
from cyberqms.web.tests import journey as J

# Transactional: the effects that run on commit (notifications, the continuous signing
# session that spares the QA manager a second code) happen as in production.
pytestmark = pytest.mark.django_db(transaction=True)

JSON = "application/json"
PROBLEM = "application/problem+json"


class Api:
    """One person's client: a session with the CSRF token sent as X-CSRFToken, or a
    bearer token."""

    def __init__(self, user: Any, *, token: str = "") -> None:
        self.user = user
        if token:
            self.client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
            self.csrf = ""
        else:
            self.client = Client(enforce_csrf_checks=True)
            self.client.force_login(
                user, backend="cyberqms.platform.accounts.backends.AuthenticationBackend")
            self.client.get("/deviations/new/")  # any page with a form sets the CSRF cookie
            self.csrf = self.client.cookies["cyberqms_csrf"].value

    def get(self, path: str) -> Any:
        response = self.client.get(f"/api/v1{path}")
        assert response.status_code == 200, response.content
        return response.json()

    def post(self, path: str, body: dict[str, Any], status: int = 200) -> Any:
        headers = {"X-CSRFToken": self.csrf} if self.csrf else {}
        response = self.client.post(f"/api/v1{path}", body, content_type=JSON, headers=headers)
        assert response.status_code == status, (path, response.status_code, response.content)
        if status >= 400:
            assert response["Content-Type"] == PROBLEM
        return response.json()

    def act(self, kind: str, record_id: int, action: str, status: int = 200,
            **body: Any) -> Any:
        return self.post(f"/records/{kind}/{record_id}/transitions/{action}", body, status)


def signed_by(common: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    return [(s["meaning"], s["printed_name"], s["username"], s["superseded"])
            for s in common["signatures"]]


def assert_manifestation(sig: dict[str, Any], user: Any, meaning: str, reason: str,
                         components: str) -> None:
    """P11-18 in JSON: printed name, meaning, time with its zone, and the display text."""
    assert (sig["meaning"], sig["printed_name"], sig["username"], sig["reason"]) == (
        meaning, user.printed_name, user.username, reason)
    assert sig["components"] == components
    signed_at = dt.datetime.fromisoformat(sig["signed_at"])
    assert signed_at.tzinfo is not None
    assert abs(timezone.now() - signed_at) < dt.timedelta(minutes=5)
    assert J.SIGNED_AT.match(sig["signed_at_display"]), sig["signed_at_display"]
    assert sig["text"].startswith(f"{meaning} by {user.printed_name} on ")
    assert len(sig["record_hash"]) == 64


def history(client: Client, type_name: str, record_id: int) -> list[str]:
    """The record's History (the page the History tab loads), oldest action first."""
    import re

    html = client.get(f"/trail/history/{type_name}/{record_id}/",
                      headers={"HX-Request": "true"}).content.decode()
    rows = re.findall(r'<tr data-action="([a-z_.]+)"', html)
    return list(reversed(rows))


def test_cyber_deviation_to_closed_capa_through_the_api(make_user: Callable[..., Any]) -> None:
    people, _site = J.make_cast(make_user)
    author, reviewer, manager, owner = (
        people["author"], people["qa_approver"], people["qa_manager"], people["process_owner"]
    )
    today = timezone.localdate()
    as_author, as_reviewer, as_manager = Api(author), Api(reviewer), Api(manager)
    token = token_create(actor=owner, owner=owner, name="CAPA tooling",
                         scopes=["capa.*", "records.use"], days=1).secret
    as_owner = Api(owner, token=token)

    # 1. The author records the cyber-related deviation (draft) and submits it.
    dev = as_author.post("/deviations", {
        "site": J.SITE_CODE, "title": J.TITLE, "owner": author.username,
        "description": J.DESCRIPTION,
        "event_at": (timezone.now() - dt.timedelta(hours=3)).isoformat(),
        "due_date": (today + dt.timedelta(days=30)).isoformat(),
        "cyber_related": True,
    }, status=201)
    dev_id = dev["id"]
    assert (dev["state"], dev["cyber_related"], dev["security_reference"]) == (
        "draft", True, "")
    assert dev["number"].startswith("DEV-")
    assert dev["originator"] == dev["owner"] == author.username
    assert {a["action"]: a["refusal"] for a in dev["common"]["available_actions"]} == {
        "submit": "", "cancel": "You do not have the right to do this."}
    assert as_author.act("deviations", dev_id, "submit")["state"] == "open"

    # 2. QA triage: classify, then start the investigation. A wrong-state action answers
    #    409 naming what the state allows.
    wrong = as_reviewer.act("deviations", dev_id, "approve", status=409, password=PASSWORD)
    assert wrong["state"] == "open"
    assert sorted(wrong["allowed_actions"]) == ["cancel", "triage"]
    unclassified = as_reviewer.act("deviations", dev_id, "triage", status=422)
    assert "Classify" in unclassified["detail"]
    triaged = as_reviewer.post(f"/deviations/{dev_id}/update", {
        "changes": {"classification": "major", "security_reference": J.security_reference()},
        "reason": "Triage: GxP system access; the SOC's incident named."})
    assert triaged["security_record"]["number"] == J.security_reference()
    assert as_reviewer.act("deviations", dev_id, "triage",
                           reason="Investigate with IT security.")["state"] == "investigation"

    # 3. The author investigates; the cyber root cause is consistent with the flag.
    updated = as_author.post(f"/deviations/{dev_id}/update", {"changes": {
        "investigation_summary": J.INVESTIGATION_SUMMARY, "root_cause_category": "cybersecurity",
        "root_cause": J.ROOT_CAUSE, "capa_required": True,
    }, "reason": "Investigation written up."})
    assert (updated["root_cause_category"], updated["capa_required"]) == ("cybersecurity", True)
    assert as_author.act("deviations", dev_id, "complete_investigation")["state"] == "qa_review"

    # 4. The originator cannot approve (segregation of duties); the QA manager's wrong
    #    password is refused with 403 and changes nothing; the right one signs.
    barred = as_author.act("deviations", dev_id, "approve", status=403, password=PASSWORD)
    assert barred["status"] == 403
    refused = as_manager.act("deviations", dev_id, "approve", status=403,
                             reason="Looks fine.", password="not my password",
                             otp=totp_code(), accept_statement=True)
    assert (refused["title"], refused["errors"][0]["field"]) == ("Signature refused", "password")
    after = as_manager.get(f"/deviations/{dev_id}")
    assert (after["state"], after["common"]["signatures"]) == ("qa_review", [])
    cache.clear()  # allauth refuses a TOTP code used once; a person would wait for the next
    approved = as_manager.act("deviations", dev_id, "approve",
                              reason="Investigation adequate; CAPA required.",
                              password=PASSWORD, otp=totp_code(), accept_statement=True)
    assert approved["state"] == "approved"
    [sig] = approved["signatures"]
    assert_manifestation(sig, manager, "Approved", "Investigation adequate; CAPA required.",
                         "password+totp")
    assert sig["superseded"] is False

    # 5. The author spawns the CAPA, owned by the process owner; both records link.
    spawned = as_author.post(f"/deviations/{dev_id}/capa", {
        "title": J.CAPA_TITLE, "owner": owner.username,
        "due_date": (today + dt.timedelta(days=60)).isoformat(),
    }, status=201)
    capa_id = spawned["id"]
    assert (spawned["state"], spawned["url"]) == ("draft", f"/capa/{capa_id}/")
    dev = as_author.get(f"/deviations/{dev_id}")
    assert [c["number"] for c in dev["capas"]] == [spawned["number"]]
    assert [(link["relation"], link["number"], link["state"])
            for link in dev["common"]["links"]] == [("spawned", spawned["number"], "draft")]

    # 6. The CAPA owner (bearer token) plans: criteria, check date, two actions; submits.
    capa = as_owner.get(f"/capa/{capa_id}")
    assert (capa["source"], capa["source_reference"], capa["cyber_related"]) == (
        "deviation", dev["number"], True)
    # The token's scopes cover CAPAs only: the link to the deviation is not shown through
    # it; QA (session, all rights) sees it.
    assert capa["common"]["links"] == []
    seen_by_qa = as_reviewer.get(f"/capa/{capa_id}")["common"]["links"]
    assert [(link["relation"], link["direction"], link["number"]) for link in seen_by_qa] == [
        ("spawned", "incoming", dev["number"])]
    as_owner.post(f"/capa/{capa_id}/update", {"changes": {
        "effectiveness_criteria": J.CRITERIA,
        "effectiveness_due": (today + dt.timedelta(days=90)).isoformat(),
    }})
    action_ids = []
    for kind, text in J.ACTIONS:
        action = as_owner.post(f"/capa/{capa_id}/actions", {
            "kind": kind, "description": text, "owner": owner.username,
            "due_date": (today + dt.timedelta(days=45)).isoformat(),
        }, status=201)
        assert (action["state"], action["owner"]) == ("open", owner.username)
        action_ids.append(action["id"])
    assert as_owner.act("capa", capa_id, "submit", reason="Plan ready for QA.")["state"] == "open"

    # 7. QA approves the plan (first signature: the statement is acknowledged).
    plan = as_reviewer.act("capa", capa_id, "approve_plan", reason="Plan addresses the root cause.",
                           password=PASSWORD, accept_statement=True)
    assert plan["state"] == "implementation"
    assert_manifestation(plan["signatures"][0], reviewer, "Approved",
                         "Plan addresses the root cause.", "password")

    # 8. The owner completes both actions and the implementation. The effectiveness check
    #    cannot be recorded before (409), nor closed before it passed.
    early = as_reviewer.post(f"/capa/{capa_id}/effectiveness", {
        "result": "passed", "evidence": J.EVIDENCE, "password": PASSWORD}, status=409)
    assert early["allowed_actions"] == ["complete_implementation"]
    for index, action_id in enumerate(action_ids):
        done = as_owner.post(f"/capa/{capa_id}/actions/{action_id}/complete",
                             {"evidence": f"Change CHG-2026-01{index + 1}, closed."})
        assert (done["state"], done["completed_by"]) == ("done", owner.username)
    assert as_owner.act("capa", capa_id, "complete_implementation",
                        reason="Both actions done.")["state"] == "effectiveness_check"
    not_yet = as_manager.act("capa", capa_id, "close", status=422, password=PASSWORD)
    assert "effectiveness check has not passed" in not_yet["detail"]

    # 9. The owner may not verify their own CAPA (nor holds the right); QA does, signed.
    assert as_owner.post(f"/capa/{capa_id}/effectiveness", {
        "result": "passed", "evidence": J.EVIDENCE, "password": PASSWORD}, status=403)
    verified = as_reviewer.post(f"/capa/{capa_id}/effectiveness", {
        "result": "passed", "evidence": J.EVIDENCE, "password": PASSWORD})
    assert (verified["state"], verified["effectiveness_result"]) == (
        "effectiveness_check", "passed")
    assert verified["effectiveness_checked_by"] == reviewer.username
    assert_manifestation(verified["common"]["signatures"][1], reviewer, "Verified",
                         "Effectiveness check passed", "password")

    # 10. The QA manager closes the CAPA (same session: no code needed), then the deviation.
    closed = as_manager.act("capa", capa_id, "close", reason="Effective; CAPA complete.",
                            password=PASSWORD)
    assert closed["state"] == "closed"
    assert [(m, u) for m, _n, u, _s in signed_by(closed)] == [
        ("Approved", reviewer.username), ("Verified", reviewer.username),
        ("Closed", manager.username)]
    assert_manifestation(closed["signatures"][2], manager, "Closed", "Effective; CAPA complete.",
                         "password")
    assert [s for *_rest, s in signed_by(closed)][1:] == [False, False]
    again = as_manager.act("capa", capa_id, "close", status=409, password=PASSWORD)
    assert again["allowed_actions"] == []

    dev_closed = as_manager.act("deviations", dev_id, "close", reason="CAPA closed effective.",
                                password=PASSWORD)
    assert dev_closed["state"] == "closed"
    assert [(m, u) for m, _n, u, _s in signed_by(dev_closed)] == [
        ("Approved", manager.username), ("Closed", manager.username)]
    assert [(link["number"], link["state"]) for link in dev_closed["links"]] == [
        (J.security_reference(), "open"), (spawned["number"], "closed")]

    # The audit trail of both records holds every step, in order.
    assert J.in_order(history(as_manager.client, "deviations.deviation", dev_id),
                      J.DEVIATION_STEPS) == []
    assert J.in_order(history(as_manager.client, "capa.capa", capa_id), J.CAPA_STEPS) == []
