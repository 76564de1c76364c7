"""Change control, declared for the record kit (CYB-06). What is a change's own stays
with it: the impact assessment and risk score (the model derives them), IT security's
approval of cyber-relevant changes (a gate action of its own), its implementation tasks."""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from cyberqms.platform.core.access import can
from cyberqms.platform.kit.record_filters import RecordFilterSet, YesNoFilter
from cyberqms.platform.kit.records import Column, FormGroup, RecordKind, check_due_date

from .enums import RISK_HIGH_FROM, RISK_MEDIUM_FROM, ChangeState, ChangeType, RiskLevel
from .models import CYBER_QUESTIONS, Change
from .workflow import CHANGE_WORKFLOW

S = ChangeState

RATING_FIELDS = ("severity", "probability", "detectability")
ASSESSMENT_FIELDS = (
    "scope", "product_quality_impact", "validation_impact", "revalidation_required",
    "regulatory_impact", "regulatory_filing_required",
    *(name for name, _question in CYBER_QUESTIONS), "cyber_assessment", *RATING_FIELDS,
    "planned_implementation_date",
)
DRAFT_FIELDS = ("title", "description", "change_type", "justification", "owner", "due_date",
                *ASSESSMENT_FIELDS)
REVIEW_FIELDS = ("post_implementation_review", "pir_outcome")
# Which fields may change in which state; everything else is fixed by then (approvals vouch
# for the content they signed).
EDITABLE: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset(DRAFT_FIELDS),
    S.ASSESSMENT: frozenset(ASSESSMENT_FIELDS),
    S.REVIEW: frozenset(REVIEW_FIELDS),
}
# States in which implementation tasks may be planned or cancelled.
TASK_STATES = (S.DRAFT, S.ASSESSMENT, S.QA_APPROVED, S.APPROVED, S.IMPLEMENTATION)


class ChangeFilter(RecordFilterSet):
    search_fields = ("scope",)
    change_type = django_filters.ChoiceFilter(choices=ChangeType.choices, empty_label="Any",
                                              label="Type")
    risk_level = django_filters.ChoiceFilter(choices=RiskLevel.choices, empty_label="Any",
                                             label="Risk")
    cyber_impact = YesNoFilter(label="Cybersecurity impact")
    sort_fields = (*RecordFilterSet.sort_fields, ("change_type", "type"),
                   ("risk_score", "risk"), ("planned_implementation_date", "planned"))

    class Meta:
        model = Change
        fields: list[str] = []


def check_change(change: Change, actor: Any, changed: tuple[str, ...]) -> None:
    """A change says why it is needed; a planned date that moves is not in the past."""
    if (change.pk is None or "justification" in changed) and not change.justification:
        raise ValidationError({"justification": ["Say why the change is needed."]})
    if "planned_implementation_date" in changed and change.planned_implementation_date:
        check_due_date(change.planned_implementation_date, field="planned_implementation_date")


def cyber_badge(change: Change) -> list[tuple[str, str, str]]:
    return [("cyber", "cyber", "Cybersecurity impact")] if change.cyber_impact else []


def tasks_out(change: Change, actor: Any) -> list[dict[str, Any]]:
    from .api import task_out

    return [task_out(t) for t in change.tasks.select_related("owner")]


def page_context(request: HttpRequest, change: Change) -> dict[str, Any]:
    """The change page's own blocks: the impact assessment, the risk table, the tasks."""
    from .forms import TaskForm

    editable = can(request.user, "changes.edit", change) and not change.is_deleted
    return {
        "change": change,
        "cyber_answers": change.cyber_answers(),
        "ratings": [(n.capitalize(), getattr(change, n)) for n in RATING_FIELDS],
        "tasks": list(change.tasks.select_related("owner")),
        "can_plan_tasks": editable and change.state in TASK_STATES,
        "can_work": can(request.user, "changes.work", change)
        and change.state == S.IMPLEMENTATION,
        "task_form": TaskForm(change=change, initial={"owner": change.owner_id}),
    }


CHANGES = RecordKind(
    slug="changes", model=Change, workflow=CHANGE_WORKFLOW, prefix="CC", label="Change",
    plural="Change control", action_prefix="changes", closed_states=(S.CLOSED, S.CANCELLED),
    summary="Planned changes to products, equipment, processes and systems: impact "
            "assessment with a cybersecurity checklist, risk score, QA approval (and IT "
            "security's for cyber-relevant changes), implementation tasks and review.",
    nav_section="Quality", nav_icon="shuffle", nav_order=30,
    filterset=ChangeFilter, row_badges=cyber_badge,
    columns=(Column("number", "Number", "number"), Column("title", "Title", "title"),
             Column("change_type", "Type", "type"), Column("risk_level", "Risk", "risk"),
             Column("state", "State", "state"), Column("site", "Site"),
             Column("owner", "Owner"),
             Column("planned_implementation_date", "Planned", "planned"),
             Column("due_date", "Due", "due")),
    create_fields=(*DRAFT_FIELDS, "event_at", "late_entry_reason"), editable=EDITABLE,
    labels={"event_at": "When the need arose", "late_entry_reason": "Reason for late entry",
            **{name: f"Cybersecurity: {question[0].lower()}{question[1:]}"
               for name, question in CYBER_QUESTIONS},
            "post_implementation_review": "Post-implementation review",
            "owner": "Change owner", "scope": "Scope / affected systems",
            "planned_implementation_date": "Planned implementation",
            "severity": "Severity (1 negligible – 5 critical)",
            "probability": "Probability (1 rare – 5 almost certain)",
            "detectability": "Detectability (1 always detected – 5 undetectable)"},
    form_groups=(
        FormGroup("Impact assessment", (
            "scope", "product_quality_impact", "validation_impact", "revalidation_required",
            "regulatory_impact", "regulatory_filing_required"),
            "What the change touches and what it means for product quality, validated "
            "state and registrations; QA approves the assessment as it stands."),
        FormGroup("Cybersecurity impact", (
            *(name for name, _question in CYBER_QUESTIONS), "cyber_assessment"),
            "Any “yes” makes the change cyber-relevant: IT security then approves it "
            "with its own signature."),
        FormGroup("Risk", RATING_FIELDS,
                  "Score each from 1 to 5; the label names both ends of the scale. The risk "
                  f"priority number is severity × probability × detectability (1–125): "
                  f"low below {RISK_MEDIUM_FROM}, medium from {RISK_MEDIUM_FROM}, high from "
                  f"{RISK_HIGH_FROM}."),
        FormGroup("Plan", ("planned_implementation_date",)),
    ),
    detail_template="changes/change_detail.html", detail_context=page_context,
    api_list_fields=("change_type", "cyber_impact", "risk_score", "risk_level",
                     "planned_implementation_date", "closed_at"),
    api_extra=(("tasks", list[dict[str, Any]], tasks_out),),
    checks=(check_change,),
    own_grants={"security_approve": ("it_security",)},
    own_urls="cyberqms.quality.changes.urls", own_api="cyberqms.quality.changes.api",
)
