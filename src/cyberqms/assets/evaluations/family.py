"""Periodic evaluations of computerized systems, declared for the record kit (A11-18):
their own parts are the system, the period and the evidence gathered for it."""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from cyberqms.platform.core.access import can
from cyberqms.platform.kit.record_filters import RecordFilterSet
from cyberqms.platform.kit.records import Column, FormGroup, RecordKind

from .enums import Conclusion, EvaluationState
from .evidence import shown
from .models import Evaluation
from .workflow import EVALUATION_WORKFLOW

S = EvaluationState
_WRITTEN = ("findings", "conclusion", "follow_up")


class EvaluationFilter(RecordFilterSet):
    search_fields = ("findings", "follow_up")
    conclusion = django_filters.ChoiceFilter(choices=Conclusion.choices, empty_label="Any")

    class Meta:
        model = Evaluation
        fields: list[str] = []


def same_site(evaluation: Evaluation, actor: Any, changed: tuple[str, ...]) -> None:
    """An evaluation is of a system of its own site, in use (not retired)."""
    system = evaluation.system if evaluation.system_id else None
    if "system" in changed and system is not None:
        if system.site_id != evaluation.site_id:
            raise ValidationError({"system": [
                f"{system.number} is at {system.site.code}: evaluate it at its site."]})
        if system.state == "retired" or system.is_deleted:
            raise ValidationError({"system": [f"{system.number} is no longer in use."]})


def page_context(request: HttpRequest, evaluation: Evaluation) -> dict[str, Any]:
    system = evaluation.system
    return {"evaluation": evaluation, "evidence": shown(evaluation),
            "gxp_system": system if can(request.user, "systems.view", system) else None}


EVALUATIONS = RecordKind(
    slug="evaluations", model=Evaluation, workflow=EVALUATION_WORKFLOW, prefix="EVAL",
    label="Periodic evaluation", action_prefix="evaluations",
    closed_states=(S.APPROVED, S.CANCELLED),
    summary="Periodic evaluations of computerized systems (Annex 11 §11): what a period "
            "held for the system, and QA's signed conclusion that it remains validated.",
    nav_section="Systems and risk", nav_icon="check", nav_order=15,
    filterset=EvaluationFilter, checks=(same_site,),
    detail_template="evaluations/evaluation_detail.html", detail_context=page_context,
    columns=(Column("number", "Number", "number"), Column("title", "Title", "title"),
             Column("system", "System"), Column("period_end", "Period to"),
             Column("conclusion", "Conclusion"), Column("state", "State", "state"),
             Column("site", "Site"), Column("owner", "Evaluator"),
             Column("due_date", "Due", "due")),
    create_fields=("system", "title", "period_start", "period_end", "owner", "due_date"),
    editable={S.DRAFT: frozenset({"title", "period_start", "period_end", "owner",
                                  *_WRITTEN})},
    labels={"owner": "Evaluator"},
    sections=(("Evaluation", ("period_start", "period_end", "findings", "conclusion",
                              "follow_up")),),
    form_groups=(FormGroup("Period", ("system", "title", "period_start", "period_end")),
                 FormGroup("Evaluation", _WRITTEN)),
)
