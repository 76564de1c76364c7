"""The CAPA transition table (issue 4).

draft → open (QA reviews the plan) → implementation → effectiveness_check → closed;
a failed effectiveness check reopens implementation; draft and open may be cancelled.
The owner of a CAPA never approves its plan, verifies its effectiveness or closes it
(P11-11), and a CAPA is never closed before its effectiveness check passed.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from cyberqms.platform.kit.workflow import Transition, Workflow
from cyberqms.platform.trail.canonical import canonical_json
from cyberqms.platform.trail.record import snapshot

from .enums import ActionState, CapaState, EffectivenessResult
from .models import Capa

S = CapaState

# The parts of an action that belong to the approved plan (its progress does not).
PLAN_FIELDS = ("id", "kind", "description", "owner_id", "due_date", "cancel_reason")


def plan_complete(capa: Capa, actor: Any) -> str | None:
    actions = [a for a in capa.actions.all() if a.state != ActionState.CANCELLED]
    if not actions:
        return "Add at least one corrective or preventive action first."
    if any(a.owner_id is None or a.due_date is None for a in actions):
        return "Every action needs an owner and a due date."
    if not capa.effectiveness_criteria.strip():
        return "Set the effectiveness criteria first."
    if capa.effectiveness_due is None:
        return "Set the date of the effectiveness check first."
    return None


def actions_finished(capa: Capa, actor: Any) -> str | None:
    states = [a.state for a in capa.actions.all()]
    if ActionState.OPEN in states:
        return "Complete or cancel every open action first."
    if ActionState.DONE not in states:
        return "At least one action must be done."
    return None


def effectiveness_passed(capa: Capa, actor: Any) -> str | None:
    if capa.effectiveness_result != EffectivenessResult.PASSED:
        return "The effectiveness check has not passed: a CAPA closes only after it passes."
    return None


def effectiveness_failed(capa: Capa, actor: Any) -> str | None:
    if capa.effectiveness_result != EffectivenessResult.FAILED:
        return "Only a failed effectiveness check reopens the implementation."
    return None


def with_actions(rows: QuerySet[Any]) -> QuerySet[Any]:
    """The plan's guards read the actions: fetched with the CAPAs, one query for all."""
    return rows.prefetch_related("actions")


def closing(capa: Capa, actor: Any) -> dict[str, Any]:
    return {"closed_at": timezone.now()}


def check_reset(capa: Capa, actor: Any) -> dict[str, Any]:
    """Reopening starts a new effectiveness check; the failed one stays in the trail."""
    return {
        "effectiveness_result": EffectivenessResult.PENDING,
        "effectiveness_evidence": "",
        "effectiveness_checked_by": None,
        "effectiveness_checked_at": None,
    }


def _notify_plan_submitted(capa: Capa, actor: Any) -> None:
    from .notices import plan_submitted

    plan_submitted(capa, actor)


EFFECTIVENESS_RESULT_FIELDS = (
    "effectiveness_result", "effectiveness_evidence", "effectiveness_checked_by_id",
    "effectiveness_checked_at",
)


class CapaWorkflow(Workflow[Capa]):
    """The engine, with the signed content extended by the plan (the actions)."""

    def content_hash(self, record: Capa) -> str:
        return self._hash(record, self.unsigned_fields)

    def hash_for(self, record: Capa, action: str) -> str:
        # The effectiveness result is filled after the plan approval: only the signature
        # that records it ("Verified") and the closure vouch for it, so recording it does
        # not supersede the plan approval.
        if action in (f"{self.type_name}.verify", f"{self.type_name}.close"):
            return self.content_hash(record)
        return self._hash(record, (*self.unsigned_fields, *EFFECTIVENESS_RESULT_FIELDS))

    def _hash(self, record: Capa, excluded: tuple[str, ...]) -> str:
        state = snapshot(record)
        content: dict[str, Any] = {k: v for k, v in state.items() if k not in excluded}
        content["plan"] = [
            {k: v for k, v in snapshot(action).items() if k in PLAN_FIELDS}
            for action in record.actions.order_by("pk")
        ]
        return hashlib.sha256(canonical_json(content)).hexdigest()


CAPA_WORKFLOW = CapaWorkflow(Capa, "capa.capa", [
    #          action                    source                target            permission
    Transition("submit", S.DRAFT, S.OPEN, "capa.submit", effects=(_notify_plan_submitted,),
               label="Submit plan"),
    Transition("approve_plan", S.OPEN, S.IMPLEMENTATION, "capa.approve", sign="Approved",
               not_by=("owner", "originator"), guards=(plan_complete,), label="Approve plan"),
    Transition("return_plan", S.OPEN, S.DRAFT, "capa.review", reason=True,
               not_by=("owner",), label="Return plan"),
    Transition("complete_implementation", S.IMPLEMENTATION, S.EFFECTIVENESS_CHECK, "capa.work",
               guards=(actions_finished,), label="Complete implementation"),
    Transition("close", S.EFFECTIVENESS_CHECK, S.CLOSED, "capa.close", sign="Closed",
               not_by=("owner", "originator"), guards=(effectiveness_passed,),
               updates=closing),
    Transition("reopen", S.EFFECTIVENESS_CHECK, S.IMPLEMENTATION, "capa.review", reason=True,
               guards=(effectiveness_failed,), updates=check_reset),
    Transition("cancel", (S.DRAFT, S.OPEN), S.CANCELLED, "capa.cancel", reason=True),
], unsigned_fields=("state", "updated_at", "closed_at"), guard_data=with_actions)
