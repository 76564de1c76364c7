"""The deviation workflow, declared as one table (docs/deviations.md shows the diagram).

draft → open (QA triage) → investigation → QA review → approved → closed; QA may send an
investigation back, and a deviation is cancelled (with a reason) before investigation.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from cyberqms.platform.core.access import can
from cyberqms.platform.kit.words import listing, missing
from cyberqms.platform.kit.workflow import Transition, Workflow

from . import notices
from .enums import Classification, DeviationState, RootCauseCategory
from .models import Deviation
from .queries import capa_links, with_capa_link

S = DeviationState


def described(d: Deviation, actor: Any) -> str | None:
    absent = missing((
        ("a description of what happened", d.description),
        ("when it happened (event date and time)", d.event_at),
    ))
    if absent:
        return f"Before submitting, give {listing(absent)}."
    return None


def impacts_explained(d: Deviation, actor: Any) -> str | None:
    if d.gxp_impact and not d.gxp_impact_text.strip():
        return "Describe the GxP impact (it is marked as having one)."
    if d.data_integrity_impact and not d.data_integrity_impact_text.strip():
        return "Describe the data-integrity impact (it is marked as having one)."
    return None


def classified(d: Deviation, actor: Any) -> str | None:
    if not d.classification:
        return "Classify the deviation (minor, major or critical) before triage."
    return None


def investigated(d: Deviation, actor: Any) -> str | None:
    absent = missing((
        ("the investigation summary", d.investigation_summary),
        ("the root-cause category", d.root_cause_category),
        ("the root cause", d.root_cause),
    ))
    if absent:
        return f"Fill in {listing(absent)} before completing the investigation."
    return None


def cyber_consistent(d: Deviation, actor: Any) -> str | None:
    if d.root_cause_category == RootCauseCategory.CYBERSECURITY and not d.cyber_related:
        return "A cybersecurity root cause makes the deviation cyber-related: mark it so."
    if d.cyber_related and not d.security_reference.strip():
        return ("A cyber-related deviation names the security alert or incident it is "
                "linked to (security reference).")
    return None


def critical_by_qa_manager(d: Deviation, actor: Any) -> str | None:
    if d.classification == Classification.CRITICAL and not can(
        actor, "deviations.approve_critical", d
    ):
        return "A critical deviation is approved by a QA manager."
    return None


def capa_spawned_if_required(d: Deviation, actor: Any) -> str | None:
    if not d.capa_required:
        return None
    linked = getattr(d, "has_capa_link", None)  # read with many rows (`with_capa_link`)
    if not (capa_links(d).exists() if linked is None else linked):
        return "A CAPA is required: spawn (or link as spawned) a CAPA before closing."
    return None


def closing_time(d: Deviation, actor: Any) -> dict[str, Any]:
    return {"closed_at": timezone.now()}


DEVIATION_WORKFLOW = Workflow(Deviation, "deviations.deviation", [
    #          action                    source                 target           permission
    Transition("submit", S.DRAFT, S.OPEN, "deviations.submit",
               guards=(described, impacts_explained), effects=(notices.triage_due,),
               label="Submit to QA"),
    Transition("triage", S.OPEN, S.INVESTIGATION, "deviations.review", not_by=("originator",),
               guards=(classified, impacts_explained), effects=(notices.investigate,),
               label="Triage: start investigation"),
    Transition("complete_investigation", S.INVESTIGATION, S.QA_REVIEW, "deviations.work",
               guards=(investigated, impacts_explained, cyber_consistent),
               effects=(notices.review_due,), label="Complete investigation"),
    Transition("return", S.QA_REVIEW, S.INVESTIGATION, "deviations.review", reason=True,
               effects=(notices.returned,), label="Return to investigation"),
    Transition("approve", S.QA_REVIEW, S.APPROVED, "deviations.approve", sign="Approved",
               not_by=("originator", "owner"),
               guards=(classified, investigated, critical_by_qa_manager),
               effects=(notices.approved,), label="Approve"),
    Transition("close", S.APPROVED, S.CLOSED, "deviations.close", sign="Closed",
               not_by=("owner", "originator"), guards=(capa_spawned_if_required,),
               updates=closing_time,
               effects=(notices.closed,), label="Close"),
    Transition("cancel", (S.DRAFT, S.OPEN), S.CANCELLED, "deviations.cancel", reason=True,
               label="Cancel"),
], guard_data=with_capa_link)
