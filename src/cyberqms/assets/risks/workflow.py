"""The risk assessment's table (docs/workflows/): draft → in review → accepted by the named
approver (e-signed "Risk accepted", with a rationale and an expiry) → back to review when
the acceptance expires (cyberqms's step, daily); revised only under an approved change
control that names it; retired with a reason (ICH Q9(R1), A11-01)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from cyberqms.platform.core.access import capable
from cyberqms.platform.kit.record_parts import linked_ids
from cyberqms.platform.kit.workflow import Problem, Transition, Workflow
from cyberqms.platform.notifications.services import notify_record

from .enums import RiskState
from .models import Risk, RiskAssessment

S = RiskState
TYPE = "risks.risk_assessment"
CHANGE_TYPE = "changes.change"
# A change holds what it revises from its approval until it ends (as it holds a system).
HOLDING = ("approved", "implementation", "review")


def scored(assessment: RiskAssessment, actor: Any) -> str | None:
    if not Risk.objects.filter(record_id=assessment.pk, removed_at__isnull=True).exists():
        return "Record at least one risk first."
    if assessment.approver_id is None:
        return Problem("Name the approver who accepts the risk first.", field="approver")
    if not capable(assessment.approver, "risks.approve", assessment):
        return Problem(f"{assessment.approver} cannot accept risks at "
                       f"{assessment.site.code}: name another approver.", field="approver")
    return None


def justified(assessment: RiskAssessment, actor: Any) -> str | None:
    if not assessment.acceptance_rationale.strip():
        return Problem("Say why the remaining risk is acceptable first.",
                       field="acceptance_rationale")
    expires = assessment.acceptance_expires
    if expires is None:
        return Problem("Give the date the acceptance expires first.",
                       field="acceptance_expires")
    if expires <= timezone.localdate():
        return Problem("The acceptance expires after today.", field="acceptance_expires")
    return None


def the_approver(assessment: RiskAssessment, actor: Any) -> str | None:
    if assessment.approver_id != getattr(actor, "pk", None):
        who = assessment.approver.printed_name if assessment.approver else "the approver"
        return f"The acceptance is {who}'s: they were named to accept these risks."
    return None


def under_change(assessment: RiskAssessment, actor: Any) -> str | None:
    """An accepted assessment is revised under an approved change control that names it
    ("Affects", either end), not otherwise."""
    from cyberqms.platform.kit.records import kind_by_type

    ids = linked_ids(TYPE, assessment.pk, CHANGE_TYPE, "affects")
    if ids and kind_by_type(CHANGE_TYPE).model._default_manager.filter(
            pk__in=ids, state__in=HOLDING, is_deleted=False).exists():
        return None
    return ("An accepted assessment is revised under an approved change control: link the "
            "change to it (Affects) once it is approved.")


def accepted(assessment: RiskAssessment, actor: Any) -> dict[str, Any]:
    return {"accepted_at": timezone.now()}


def reopened(assessment: RiskAssessment, actor: Any) -> dict[str, Any]:
    return {"accepted_at": None}


def retired(assessment: RiskAssessment, actor: Any) -> dict[str, Any]:
    return {"closed_at": timezone.now()}


def acceptance_due(assessment: RiskAssessment, actor: Any) -> None:
    if assessment.approver is not None:
        notify_record([assessment.approver], assessment, kind="approval_due",
                      subject="risks to accept", exclude=actor)


RISK_WORKFLOW = Workflow(RiskAssessment, TYPE, [
    Transition("submit", S.DRAFT, S.IN_REVIEW, "risks.submit", guards=(scored,),
               effects=(acceptance_due,), label="Send to the approver"),
    Transition("return", S.IN_REVIEW, S.DRAFT, "risks.review", reason=True, task=False,
               label="Return to the assessor"),
    Transition("accept", S.IN_REVIEW, S.ACCEPTED, "risks.approve", sign="Risk accepted",
               only=the_approver, not_by=("owner", "originator"),
               guards=(scored, justified), updates=accepted, label="Accept the risk"),
    Transition("expire", S.ACCEPTED, S.IN_REVIEW, "risks.work", system=True,
               updates=reopened, effects=(acceptance_due,),
               label="Back to review (acceptance expired)"),
    Transition("revise", S.ACCEPTED, S.DRAFT, "risks.work", reason=True,
               guards=(under_change,), updates=reopened, task=False,
               label="Revise under change control"),
    Transition("retire", (S.DRAFT, S.IN_REVIEW, S.ACCEPTED), S.RETIRED, "risks.close",
               reason=True, updates=retired, task=False, label="Retire"),
])


def expire_acceptances() -> int:
    """Take every accepted assessment whose acceptance has expired back to review (the
    scheduler, daily); returns how many."""
    due = RiskAssessment.objects.filter(state=S.ACCEPTED, is_deleted=False,
                                        acceptance_expires__lte=timezone.localdate())
    count = 0
    for assessment in due.order_by("pk"):
        RISK_WORKFLOW.run(assessment, "expire", actor=None,
                          reason=f"Acceptance expired on {assessment.acceptance_expires}")
        count += 1
    return count


def expiry_interval() -> float:
    return 6 * 3600.0
