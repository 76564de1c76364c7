"""What is a complaint's own: its guards, the reporting decision, QA's fields, segregation
of duties at closure, and its API (the kit's invariants run in core.tests.test_families)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cyberqms.platform.kit.record_services import record_create, record_update
from cyberqms.platform.kit.records import kind_by_slug
from cyberqms.platform.kit.tests.kit import ready_to_sign, record_in_state, signature
from cyberqms.platform.kit.workflow import GuardFailed, SegregationOfDuties

from .kit import CREATE

pytestmark = pytest.mark.django_db
URL = "/api/v1/complaints"


@pytest.fixture
def kind() -> Any:
    return kind_by_slug("complaints")


def _body(site: Any, **fields: Any) -> dict[str, Any]:
    body = {"site": site.code, "title": "Tablet discoloured", "owner": "author",
            "description": "Patient reports brown spots on tablets.", "complainant": "patient",
            "event_at": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
            "channel": "phone"}
    return {**body, **fields}


def test_submit_needs_what_when_and_who(kind: Any, personas: dict[str, Any]) -> None:
    values = {**CREATE, "description": "", "complainant": ""}
    from cyberqms.platform.accounts.tests.factories import SiteFactory

    record = record_create(kind, actor=personas["author"], site=SiteFactory.create(),
                           values=values)
    with pytest.raises(GuardFailed) as refused:
        kind.workflow.run(record, "submit", actor=personas["author"])
    assert refused.value.messages == [
        "Before submitting, give what the complainant reports (description) and who "
        "complains."]


def test_an_adverse_event_is_not_investigated_before_the_reporting_decision(
        kind: Any, personas: dict[str, Any]) -> None:
    record = record_in_state(kind, "open", personas)
    record_update(record, actor=personas["qa_approver"], reason="Assessment",
                  changes={"category": "adverse_event", "severity": "high"})
    with pytest.raises(GuardFailed) as refused:
        kind.workflow.run(record, "assess", actor=personas["qa_approver"])
    assert refused.value.messages == [
        "An adverse event is reported to the authorities: mark it reportable and record "
        "the reporting decision."]


def test_reportable_without_the_decision_is_refused_naming_the_field(
        kind: Any, personas: dict[str, Any]) -> None:
    record = record_in_state(kind, "open", personas)
    with pytest.raises(ValidationError) as refused:
        record_update(record, actor=personas["qa_approver"], reason="Assessment",
                      changes={"reportable": True})
    assert refused.value.message_dict == {"reportable_reason": [
        "A reportable complaint records the reporting decision (what, to whom, when)."]}


def test_the_reporting_decision_is_qa_s_to_make(kind: Any, personas: dict[str, Any]) -> None:
    record = record_in_state(kind, "open", personas)
    with pytest.raises(ValidationError) as refused:
        record_update(record, actor=personas["author"], reason="Assessment",
                      changes={"reportable": True, "reportable_reason": "AE report"})
    assert sorted(refused.value.message_dict) == ["reportable", "reportable_reason"]


def test_the_owner_does_not_close_their_own_complaint(kind: Any,
                                                      personas: dict[str, Any]) -> None:
    manager = ready_to_sign(personas["qa_manager"], personas["admin"])
    record = record_in_state(kind, "qa_review", personas, owner=manager)
    with pytest.raises(SegregationOfDuties):
        kind.workflow.run(record, "close", actor=manager, signature=signature(manager))


def test_closing_signs_and_dates_the_complaint(kind: Any, personas: dict[str, Any]) -> None:
    record = record_in_state(kind, "closed", personas)
    from cyberqms.platform.core.models import Signature

    signed = Signature.objects.get(record_type="complaints.complaint", record_id=str(record.pk))
    assert (record.state, record.closed_at is not None, signed.meaning,
            signed.signer.username) == ("closed", True, "Closed", "qa_manager")


def test_api_create_answers_201_with_the_complaint(personas: dict[str, Any], login: Any) -> None:
    from cyberqms.platform.accounts.tests.factories import SiteFactory

    site = SiteFactory.create(code="BSL")
    response = login(personas["author"]).post(URL, _body(site), content_type="application/json")
    data = response.json()
    assert (response.status_code, data["number"], data["state"], data["owner"],
            data["complainant"], data["site"], data["editable_fields"][:3]) == (
        201, f"CMP-{timezone.now().year}-0001", "draft", "author", "patient", "BSL",
        ["category", "channel", "complainant"])
    assert [a["action"] for a in data["common"]["available_actions"]] == ["submit", "cancel"]


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"title": ""}, "title", "Give the complaint a title."),
    ({"owner": "nobody"}, "owner", "No user 'nobody'."),
    ({"complainant": "martian"}, "complainant",
     "Choose one of patient, healthcare, customer, regulator, internal."),
    ({"product_reference": "x" * 201}, "product_reference",
     "Ensure this value has at most 200 characters (it has 201)."),
    ({"description": "x" * 10001}, "description", "At most 10000 characters."),
    ({"event_at": "2030-01-01T00:00:00Z"}, "event_at", "The event cannot be in the future."),
])
def test_api_create_refusals_name_the_field(personas: dict[str, Any], login: Any,
                                            fields: dict[str, Any], field: str,
                                            message: str) -> None:
    from cyberqms.platform.accounts.tests.factories import SiteFactory

    response = login(personas["author"]).post(URL, _body(SiteFactory.create(), **fields),
                                               content_type="application/json")
    assert (response.status_code, response["Content-Type"], response.json()["errors"]) == (
        422, "application/problem+json", [{"field": field, "message": message}])


def test_api_update_after_a_state_change_answers_409_with_the_allowed_actions(
        kind: Any, personas: dict[str, Any], login: Any) -> None:
    record = record_in_state(kind, "open", personas)
    stale = kind.model.objects.get(pk=record.pk)
    kind.workflow.run(record, "cancel", actor=personas["qa_manager"], reason="Duplicate")
    from cyberqms.platform.kit.record_services import RecordChanged

    stale.state = "open"
    with pytest.raises(RecordChanged) as refused:
        record_update(stale, actor=personas["qa_manager"], reason="late",
                      changes={"severity": "low"})
    assert (refused.value.state, list(refused.value.allowed)) == ("cancelled", [])


def test_api_filters_by_category_and_reportability(kind: Any, personas: dict[str, Any],
                                                   login: Any) -> None:
    record = record_in_state(kind, "open", personas)
    record_update(record, actor=personas["qa_approver"], reason="Assessment", changes={
        "category": "adverse_event", "reportable": True,
        "reportable_reason": "Reported to BfArM on day 1."})
    record_in_state(kind, "draft", personas, site=record.site)
    client = login(personas["auditor"])
    found = client.get(URL, {"category": "adverse_event", "reportable": "true"}).json()
    assert [r["number"] for r in found["results"]] == [record.number]
