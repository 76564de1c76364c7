"""The periodic evaluation's table (docs/workflows/): draft → QA review → approved, QA's
e-signature "Evaluated". Sending it for review keeps what the period held (the evidence);
approval dates the system's next evaluation and, when the evaluation concludes the system is
no longer validated, takes it back to validation (the system's own step)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from cyberqms.assets.systems.workflow import SYSTEM_WORKFLOW, next_evaluation
from cyberqms.platform.kit.words import listing, missing
from cyberqms.platform.kit.workflow import Problem, Transition, Workflow
from cyberqms.platform.notifications.services import notify_record
from cyberqms.platform.trail.record import audit_record, snapshot

from .enums import Conclusion, EvaluationState
from .evidence import gather
from .models import Evaluation

S = EvaluationState


def concluded(evaluation: Evaluation, actor: Any) -> str | None:
    absent = missing((("the evaluation", evaluation.findings),
                      ("the conclusion", evaluation.conclusion)))
    if absent:
        return Problem(f"Write {listing(absent)} first.",
                       field="findings" if not evaluation.findings.strip() else "conclusion")
    if evaluation.conclusion == Conclusion.REVALIDATE and not evaluation.follow_up.strip():
        return Problem("Say what follows (the change or CAPA that revalidates it).",
                       field="follow_up")
    return None


def system_in_use(evaluation: Evaluation, actor: Any) -> str | None:
    if evaluation.system.state == "retired":
        return f"{evaluation.system.number} is retired: it is no longer evaluated."
    return None


def kept(evaluation: Evaluation, actor: Any) -> dict[str, Any]:
    return {"evidence": gather(evaluation)}


def dropped(evaluation: Evaluation, actor: Any) -> dict[str, Any]:
    return {"evidence": {}}


def closing(evaluation: Evaluation, actor: Any) -> dict[str, Any]:
    return {"closed_at": timezone.now()}


def review_due(evaluation: Evaluation, actor: Any) -> None:
    contact = evaluation.system.qa_contact
    if contact is not None:
        notify_record([contact], evaluation, kind="approval_due",
                      subject="periodic evaluation ready for QA review", exclude=actor)


def system_evaluated(evaluation: Evaluation, actor: Any) -> None:
    """The system's last and next evaluation dates (in the approval's transaction); a
    system no longer validated goes back to validation."""
    from cyberqms.assets.systems.models import System

    system = System.objects.select_for_update().get(pk=evaluation.system_id)
    before = snapshot(system)
    system.last_evaluated_on = evaluation.period_end
    if system.state in ("validated", "under_change"):
        system.due_date = next_evaluation(system, evaluation.period_end)
    system.save(update_fields=["last_evaluated_on", "due_date", "updated_at"])
    audit_record("systems.system.evaluated", system, actor=actor, before=before,
                 reason=f"{evaluation.number}: {evaluation.get_conclusion_display()}")
    if evaluation.conclusion == Conclusion.REVALIDATE and system.state in (
            "validated", "under_change"):
        SYSTEM_WORKFLOW.run(system, "revalidate", actor=None,
                            reason=f"{evaluation.number} concluded it is no longer validated")


EVALUATION_WORKFLOW = Workflow(Evaluation, "evaluations.evaluation", [
    Transition("submit", S.DRAFT, S.IN_REVIEW, "evaluations.submit",
               guards=(concluded, system_in_use), updates=kept, effects=(review_due,),
               label="Send for QA review"),
    Transition("return", S.IN_REVIEW, S.DRAFT, "evaluations.review", reason=True,
               updates=dropped, task=False, label="Return to the author"),
    Transition("approve", S.IN_REVIEW, S.APPROVED, "evaluations.approve", sign="Evaluated",
               not_by=("owner", "originator"), guards=(concluded, system_in_use),
               updates=closing, effects=(system_evaluated,), label="Approve"),
    Transition("cancel", S.DRAFT, S.CANCELLED, "evaluations.cancel", reason=True,
               label="Cancel"),
])
