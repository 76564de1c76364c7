"""Risk assessments, declared for the record kit (ICH Q9(R1), A11-01): their own parts are
the subject (a system, a process or a change), the risks (a row table, scored before and
after their controls) and the acceptance; the register page shows every risk on a heat
map."""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from cyberqms.platform.core.access import can, capable
from cyberqms.platform.kit.record_filters import RecordFilterSet
from cyberqms.platform.kit.record_rows import Rows
from cyberqms.platform.kit.records import Column, FormGroup, RecordKind
from cyberqms.platform.trail.record import audit_record, snapshot

from .enums import Level, RiskState, Subject
from .models import Risk, RiskAssessment, level_of
from .workflow import RISK_WORKFLOW

S = RiskState
_SUBJECT = ("title", "description", "subject", "system", "process", "method")
_LEVELS = {"": 0, Level.LOW: 1, Level.MEDIUM: 2, Level.HIGH: 3}


class RiskFilter(RecordFilterSet):
    search_fields = ("process", "acceptance_rationale")
    subject = django_filters.ChoiceFilter(choices=Subject.choices, empty_label="Any",
                                          label="Assessed")
    highest_residual = django_filters.ChoiceFilter(choices=Level.choices, empty_label="Any",
                                                   label="Highest residual risk")

    class Meta:
        model = RiskAssessment
        fields: list[str] = []


def rescore(row: Risk, actor: Any) -> None:
    """The assessment's highest risk before and after controls, from its current risks
    (audited: the assessment's state changes with them)."""
    assessment = RiskAssessment.objects.select_for_update().get(pk=row.record_id)
    risks = list(Risk.objects.filter(record_id=assessment.pk, removed_at__isnull=True))
    for risk in risks:
        risk.record = assessment
    highest = max((r.level for r in risks), key=_LEVELS.__getitem__, default="")
    residual = max((r.residual_level for r in risks), key=_LEVELS.__getitem__, default="")
    if (assessment.highest, assessment.highest_residual) != (highest, residual):
        before = snapshot(assessment)
        assessment.highest, assessment.highest_residual = highest, residual
        assessment.save(update_fields=["highest", "highest_residual", "updated_at"])
        audit_record("risks.risk_assessment.scored", assessment, actor=actor, before=before)


def approver_able(assessment: RiskAssessment, actor: Any, changed: tuple[str, ...]) -> None:
    person = assessment.approver
    if "approver" in changed and person is not None and not (
            person.is_active and capable(person, "risks.approve", assessment)):
        raise ValidationError({"approver": [
            f"{person} cannot accept risks at {assessment.site.code}."]})


def page_context(request: HttpRequest, assessment: RiskAssessment) -> dict[str, Any]:
    system = assessment.system if assessment.system_id else None
    return {"assessment": assessment,
            "gxp_system": system if system and can(request.user, "systems.view",
                                                   system) else None}


def risk_badges(assessment: RiskAssessment) -> list[tuple[str, str, str]]:
    if assessment.highest_residual == Level.HIGH:
        return [("bad", "high residual", "A risk stays high after its controls.")]
    return []


RISKS_TABLE = Rows(
    name="risks", model=Risk, heading="Risks",
    fields=("category", "hazard", "cause", "asset", "effect", "severity", "occurrence",
            "detectability", "controls", "actions", "residual_severity",
            "residual_occurrence", "residual_detectability"),
    shown=("category", "hazard", "cause", "effect", "severity", "occurrence",
           "detectability", "controls", "residual_severity", "residual_occurrence",
           "residual_detectability"),
    note="Scored 1 to 5 before and after the controls; an FMEA also scores detectability "
         "(5 = hard to detect). Risks change while the assessment is a draft.",
    states=(S.DRAFT,), after=(rescore,),
    labels={"severity": "S", "occurrence": "O", "detectability": "D",
            "residual_severity": "Residual S", "residual_occurrence": "Residual O",
            "residual_detectability": "Residual D"},
)

RISKS = RecordKind(
    slug="risks", model=RiskAssessment, workflow=RISK_WORKFLOW, prefix="RA",
    label="Risk assessment", action_prefix="risks", closed_states=(S.RETIRED,),
    summary="Quality risk management (ICH Q9(R1)): FMEA or risk-matrix assessments of "
            "systems, processes and changes, cyber risks in the same register, accepted by "
            "a named approver with an e-signature and an expiry.",
    nav_section="Systems and risk", nav_icon="alert", nav_order=30,
    filterset=RiskFilter, row_badges=risk_badges, checks=(approver_able,),
    detail_template="risks/risk_detail.html", detail_context=page_context,
    rows=(RISKS_TABLE,),
    own_urls="cyberqms.assets.risks.urls",
    columns=(Column("number", "Number", "number"), Column("title", "Title", "title"),
             Column("subject", "Assessed"), Column("highest", "Highest risk"),
             Column("highest_residual", "Residual"), Column("state", "State", "state"),
             Column("site", "Site"), Column("owner", "Assessor"),
             Column("acceptance_expires", "Acceptance expires")),
    create_fields=(*_SUBJECT, "owner", "approver", "due_date"),
    editable={
        S.DRAFT: frozenset({*_SUBJECT, "owner", "approver", "due_date"}),
        S.IN_REVIEW: frozenset({"approver", "acceptance_rationale", "acceptance_expires"}),
    },
    restricted={"acceptance_rationale": "approve", "acceptance_expires": "approve"},
    labels={"owner": "Assessor"},
    sections=(
        ("Assessment", ("subject", "system", "process", "method", "description")),
        ("Acceptance", ("approver", "acceptance_rationale", "acceptance_expires",
                        "accepted_at", "highest", "highest_residual")),
    ),
    form_groups=(
        FormGroup("What is assessed", _SUBJECT,
                  "A system of the inventory, or a process or change named in words."),
        FormGroup("Acceptance", ("approver", "acceptance_rationale", "acceptance_expires"),
                  "The approver accepts the remaining risk with an e-signature, until the "
                  "acceptance expires."),
    ),
)

__all__ = ["RISKS", "level_of"]
