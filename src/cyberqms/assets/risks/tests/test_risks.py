"""Quality risk management (ICH Q9(R1), A11-01): scores on their scales, cyber risks with
their asset, acceptance by a named approver who is not the assessor, with a rationale and
an expiry, back to review when it expires, revision only under change control, and the
register's heat map."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from cyberqms.assets.risks.models import RiskAssessment
from cyberqms.assets.risks.workflow import expire_acceptances
from cyberqms.platform.kit.record_rows import row_add, rows_of_kind
from cyberqms.platform.kit.record_services import record_update
from cyberqms.platform.kit.records import kind_by_slug
from cyberqms.platform.kit.tests.kit import ready_to_sign, record_in_state, signature
from cyberqms.platform.trail.models import AuditEntry

from .kit import _risk

pytestmark = pytest.mark.django_db
RISKS = kind_by_slug("risks")
TODAY = timezone.localdate()


def _errors(response: Any) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


def test_a_risk_accepted_by_its_own_assessor_is_refused_naming_the_approver(
        personas: dict[str, Any], login: Any) -> None:
    assessment = record_in_state(RISKS, "draft", personas)
    response = login(assessment.owner).post(
        reverse("api:risk_assessment_update", args=[assessment.pk]),
        {"changes": {"approver": assessment.owner.username}}, content_type="application/json")
    assert (response.status_code, _errors(response)) == (422, ["approver"])


def test_a_score_outside_its_scale_is_refused_naming_it(
        personas: dict[str, Any], login: Any) -> None:
    assessment = record_in_state(RISKS, "draft", personas)
    body = {**_risk(assessment, personas), "occurrence": 6}
    response = login(assessment.owner).post(
        reverse("api:risk_assessment_risks_add", args=[assessment.pk]), body,
        content_type="application/json")
    assert (response.status_code, _errors(response)) == (422, ["occurrence"])


def test_a_cyber_risk_names_its_asset(personas: dict[str, Any]) -> None:
    assessment = record_in_state(RISKS, "draft", personas)
    with pytest.raises(ValidationError) as refused:
        row_add(assessment, rows_of_kind(RISKS, "risks"), actor=assessment.owner,
                values={**_risk(assessment, personas), "asset": ""})
    assert list(refused.value.message_dict) == ["asset"]


def test_the_highest_residual_risk_follows_the_risks(personas: dict[str, Any]) -> None:
    assessment = record_in_state(RISKS, "draft", personas)
    table = rows_of_kind(RISKS, "risks")
    row_add(assessment, table, actor=assessment.owner, values=_risk(assessment, personas))
    assessment.refresh_from_db()
    low = (assessment.highest, assessment.highest_residual)
    row_add(assessment, table, actor=assessment.owner, values={
        **_risk(assessment, personas), "residual_occurrence": 4, "residual_detectability": 4})
    assessment.refresh_from_db()
    # 5 × 3 × 4 = 60 before (high); after 5 × 1 × 2 = 10 (low), then 5 × 4 × 4 = 80 (high)
    assert (low, (assessment.highest, assessment.highest_residual)) == (
        ("high", "low"), ("high", "high"))


def test_only_the_named_approver_accepts(personas: dict[str, Any], login: Any) -> None:
    assessment = record_in_state(RISKS, "in_review", personas)
    manager = ready_to_sign(personas["qa_manager"], personas["admin"])
    response = login(manager).post(
        f"/api/v1/records/risks/{assessment.pk}/transitions/accept", {},
        content_type="application/json")
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "The acceptance is Qa Approver's: they were named to accept these risks.")


def test_acceptance_needs_the_rationale_naming_it(personas: dict[str, Any], login: Any) -> None:
    assessment = record_in_state(RISKS, "in_review", personas)
    approver = ready_to_sign(personas["qa_approver"], personas["admin"])
    response = login(approver).post(
        f"/api/v1/records/risks/{assessment.pk}/transitions/accept", {},
        content_type="application/json")
    assert (response.status_code, _errors(response)) == (422, ["acceptance_rationale"])


def test_an_expired_acceptance_returns_to_review_a11_01(personas: dict[str, Any]) -> None:
    assessment = record_in_state(RISKS, "accepted", personas)
    RiskAssessment.objects.filter(pk=assessment.pk).update(
        acceptance_expires=TODAY - dt.timedelta(days=1))
    moved = expire_acceptances()
    assessment.refresh_from_db()
    entry = AuditEntry.objects.get(action="risks.risk_assessment.expire")
    assert (moved, assessment.state, entry.actor_id, entry.reason) == (
        1, "in_review", None, f"Acceptance expired on {TODAY - dt.timedelta(days=1)}")


def test_an_acceptance_still_running_is_left_alone(personas: dict[str, Any]) -> None:
    record_in_state(RISKS, "accepted", personas)
    assert expire_acceptances() == 0


def test_an_accepted_assessment_is_revised_only_under_change_control(
        personas: dict[str, Any], login: Any) -> None:
    assessment = record_in_state(RISKS, "accepted", personas)
    response = login(assessment.owner).post(
        f"/api/v1/records/risks/{assessment.pk}/transitions/revise",
        {"reason": "New threat intelligence"}, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["errors"][0]["message"].startswith(
        "An accepted assessment is revised under an approved change control")


def test_the_register_places_each_risk_on_the_heat_map(
        personas: dict[str, Any], login: Any) -> None:
    assessment = record_in_state(RISKS, "accepted", personas)
    page = login(personas["auditor"]).get(reverse("risks:register"))
    cell = login(personas["auditor"]).get(reverse("risks:register"), {"s": "5", "o": "1"})
    empty = login(personas["auditor"]).get(reverse("risks:register"), {"level": "high"})
    assert 'data-testid="heat-5-1"' in page.content.decode()
    assert [r.record for r in cell.context["risks"]] == [assessment]
    assert empty.context["risks"] == []


def test_the_approver_signs_the_acceptance_with_its_meaning(personas: dict[str, Any]) -> None:
    from cyberqms.platform.core.models import Signature

    assessment = record_in_state(RISKS, "in_review", personas)
    approver = ready_to_sign(personas["qa_approver"], personas["admin"])
    record_update(assessment, actor=approver, reason="Acceptance", changes={
        "acceptance_rationale": "Residual risk low with MFA.",
        "acceptance_expires": TODAY + dt.timedelta(days=180)})
    RISKS.workflow.run(assessment, "accept", actor=approver, signature=signature(approver))
    assert list(Signature.objects.values_list("meaning", "signer_id")) == [
        ("Risk accepted", approver.pk)]
