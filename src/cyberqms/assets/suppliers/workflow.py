"""The supplier's approval, one declared table (docs/workflows/ shows the diagram).

A supplier is qualified by an assessment (questionnaire or audit); QA approves it, with
conditions or without, and disqualifies it when an assessment or its performance says so.
Every decision is e-signed (A11-03).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from cyberqms.platform.kit.workflow import Problem, Transition, Workflow
from cyberqms.platform.notifications.services import notify_record

from .enums import AssessmentOutcome, SupplierState
from .models import Supplier, SupplierAssessment

S = SupplierState


def latest_assessment(supplier: Supplier) -> SupplierAssessment | None:
    """The most recent assessment not withdrawn."""
    return (SupplierAssessment.objects.filter(record_id=supplier.pk, removed_at__isnull=True)
            .order_by("-assessed_on", "-id").first())


def assessed_for_approval(supplier: Supplier, actor: Any) -> str | None:
    latest = latest_assessment(supplier)
    if latest is None:
        return "Record the supplier's assessment first (questionnaire or audit)."
    if latest.next_due < timezone.localdate():
        return (f"The last assessment ({latest.assessed_on.isoformat()}) was due for renewal "
                f"on {latest.next_due.isoformat()}: assess the supplier again first.")
    if latest.outcome != AssessmentOutcome.APPROVED:
        return (f"The last assessment concluded “{latest.get_outcome_display()}”: approve "
                "with conditions, or assess again.")
    return None


def assessed_with_conditions(supplier: Supplier, actor: Any) -> str | None:
    latest = latest_assessment(supplier)
    if latest is None:
        return "Record the supplier's assessment first (questionnaire or audit)."
    if latest.outcome == AssessmentOutcome.REJECTED:
        return "The last assessment concluded “Do not approve”: the supplier cannot be approved."
    if not supplier.conditions.strip():
        return Problem("Write the conditions of approval first.", field="conditions")
    return None


def disqualified(supplier: Supplier, actor: Any) -> None:
    notify_record([supplier.owner], supplier, kind="info",
                  subject="disqualified: review the systems and materials it supplies",
                  exclude=actor)


def stopped(supplier: Supplier, actor: Any) -> dict[str, Any]:
    return {"closed_at": timezone.now(), "due_date": None}


def not_reassessed(supplier: Supplier, actor: Any) -> dict[str, Any]:
    """A disqualified supplier is not re-assessed on a schedule: no due date until an
    assessment to requalify it is recorded."""
    return {"due_date": None}


SUPPLIER_WORKFLOW = Workflow(Supplier, "suppliers.supplier", [
    # A candidate's approval is QA's task; a supplier approved once is requalified (or
    # approved without its conditions) when an assessment says so, not as a task.
    Transition("approve", S.CANDIDATE, S.APPROVED, "suppliers.approve",
               sign="Approved supplier", guards=(assessed_for_approval,), label="Approve"),
    Transition("approve", (S.CONDITIONAL, S.DISQUALIFIED), S.APPROVED, "suppliers.approve",
               sign="Approved supplier", guards=(assessed_for_approval,), task=False,
               label="Approve"),
    Transition("approve_conditionally", S.CANDIDATE, S.CONDITIONAL, "suppliers.approve",
               sign="Conditionally approved", guards=(assessed_with_conditions,),
               label="Approve with conditions"),
    Transition("approve_conditionally", (S.APPROVED, S.DISQUALIFIED), S.CONDITIONAL,
               "suppliers.approve", sign="Conditionally approved",
               guards=(assessed_with_conditions,), task=False,
               label="Approve with conditions"),
    Transition("disqualify", (S.CANDIDATE, S.APPROVED, S.CONDITIONAL), S.DISQUALIFIED,
               "suppliers.approve", sign="Disqualified", reason=True,
               updates=not_reassessed, effects=(disqualified,), task=False,
               label="Disqualify"),
    Transition("retire", (S.CANDIDATE, S.APPROVED, S.CONDITIONAL, S.DISQUALIFIED), S.INACTIVE,
               "suppliers.close", reason=True, updates=stopped, task=False,
               label="Stop using"),
])
