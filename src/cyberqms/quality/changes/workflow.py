"""The change-control transition table (CYB-06, P11-10, P11-11).

QA approves every change; a change whose cybersecurity assessment answers any question
"yes" additionally needs IT security's signed approval before it is approved for
implementation. A change without cyber impact is released by QA without a second
signature. Nothing is implemented before approval.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from cyberqms.platform.kit.words import listing, missing
from cyberqms.platform.kit.workflow import Transition, Workflow

from . import notices
from .enums import ChangeState, PirOutcome, TaskState
from .models import Change

S = ChangeState


def assessment_complete(change: Change, actor: Any) -> str | None:
    """Submit needs every impact area answered and the risk scored."""
    absent = missing((
        ("product quality", change.product_quality_impact),
        ("validation", change.validation_impact),
        ("regulatory", change.regulatory_impact),
        ("cybersecurity", change.cyber_assessment),
    ))
    if absent:
        return f"Complete the impact assessment first: {listing(absent)}."
    if change.risk_score is None:
        return "Score the risk first (severity, probability and detectability)."
    return None


def cyber_flagged(change: Change, actor: Any) -> str | None:
    if not change.cyber_impact:
        return "This change has no cybersecurity impact: QA releases it."
    return None


def not_cyber_flagged(change: Change, actor: Any) -> str | None:
    if change.cyber_impact:
        return "This change has cybersecurity impact: IT security must approve it."
    return None


def tasks_finished(change: Change, actor: Any) -> str | None:
    states = [task.state for task in change.tasks.all()]  # prefetched with many changes
    if TaskState.OPEN in states:
        return "Finish or cancel every open implementation task first."
    if TaskState.DONE not in states:
        return "At least one implementation task must be done."
    return None


def review_effective(change: Change, actor: Any) -> str | None:
    if not change.post_implementation_review.strip():
        return "Write the post-implementation review first."
    if change.pir_outcome != PirOutcome.EFFECTIVE:
        return "Only a change whose post-implementation review found it effective is closed."
    return None


def with_tasks(rows: QuerySet[Any]) -> QuerySet[Any]:
    """The implementation's guard reads the tasks: fetched with the changes, one query."""
    return rows.prefetch_related("tasks")


def closing(change: Change, actor: Any) -> dict[str, Any]:
    return {"closed_at": timezone.now()}


def reopening(change: Change, actor: Any) -> dict[str, Any]:
    # The review is redone after more implementation work; the old verdict stays in the trail.
    return {"pir_outcome": ""}


CHANGE_WORKFLOW = Workflow(Change, "changes.change", [
    #          action                    source                 target            permission
    Transition("submit", S.DRAFT, S.ASSESSMENT, "changes.submit",
               guards=(assessment_complete,), effects=(notices.qa_approval_due,),
               label="Submit for assessment"),
    Transition("qa_approve", S.ASSESSMENT, S.QA_APPROVED, "changes.approve",
               sign="Approved", not_by=("originator",), guards=(assessment_complete,),
               effects=(notices.security_approval_due,), label="QA approve"),
    Transition("security_approve", S.QA_APPROVED, S.APPROVED, "changes.security_approve",
               sign="Approved (IT security)", not_by=("originator",),
               guards=(cyber_flagged,), effects=(notices.owner_approved,),
               label="IT security approve"),
    Transition("release", S.QA_APPROVED, S.APPROVED, "changes.approve",
               not_by=("originator",), guards=(not_cyber_flagged,),
               effects=(notices.owner_approved,),
               label="Release (no cyber impact)"),
    Transition("start_implementation", S.APPROVED, S.IMPLEMENTATION, "changes.work",
               label="Start implementation"),
    Transition("complete_implementation", S.IMPLEMENTATION, S.REVIEW, "changes.work",
               guards=(tasks_finished,), label="Complete implementation"),
    Transition("close", S.REVIEW, S.CLOSED, "changes.close", sign="Closed",
               not_by=("originator",), guards=(review_effective,), updates=closing),
    Transition("reopen", S.REVIEW, S.IMPLEMENTATION, "changes.review", reason=True,
               updates=reopening, label="Reopen implementation"),
    Transition("return", (S.ASSESSMENT, S.QA_APPROVED), S.DRAFT, "changes.review",
               reason=True, label="Return to draft"),
    Transition("cancel", (S.DRAFT, S.ASSESSMENT, S.QA_APPROVED, S.APPROVED), S.CANCELLED,
               "changes.cancel", reason=True),
], guard_data=with_tasks)
