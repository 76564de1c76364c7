"""Changes in any state, built through the services (tests and demo data).

`change_in(state, people)` walks the workflow as real users would: the author raises
and submits, QA approves (signed), IT security approves cyber-relevant changes (signed),
the owner implements and completes a task, QA writes the review and closes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from cyberqms.platform.accounts.tests.factories import SiteFactory
from cyberqms.platform.kit.tests.kit import ready_to_sign, signature

from .. import services
from ..enums import ChangeState, ChangeType, PirOutcome
from ..models import Change
from ..workflow import CHANGE_WORKFLOW

S = ChangeState

ASSESSMENT = {
    "scope": "Packaging line 3 HMI and its historian interface.",
    "product_quality_impact": "None expected: recipe parameters are unchanged.",
    "validation_impact": "OQ of the HMI alarm functions.",
    "revalidation_required": True,
    "regulatory_impact": "No filing: not a registered parameter.",
    "cyber_assessment": "New OPC UA interface to the historian, restricted to the OT zone.",
    "severity": 3, "probability": 2, "detectability": 2,
}
CYBER = {"new_interfaces": True, "data_flow_change": True}

# The path from draft to each state: (action, who takes it).
PATH: list[tuple[str, str]] = [  # reaching, in turn: assessment … closed
    ("submit", "author"),
    ("qa_approve", "qa_approver"),
    ("approve", "?"),  # security_approve (cyber) or release (QA)
    ("start_implementation", "author"),
    ("complete_implementation", "author"),
    ("close", "qa_manager"),
]


def site() -> Any:
    return SiteFactory.create(code="BSL", name="Basel")


def change_draft(
    author: Any, *, cyber: bool = False, assessed: bool = True, where: Any = None, **fields: Any
) -> Change:
    values: dict[str, Any] = {}
    if assessed:
        values.update(ASSESSMENT)
        if cyber:
            values.update(CYBER)
    values.update(fields)
    return services.change_create(
        actor=author, site=where or site(), title=values.pop("title", "HMI upgrade on line 3"),
        change_type=values.pop("change_type", ChangeType.COMPUTERIZED_SYSTEM),
        justification=values.pop("justification", "Vendor support of HMI v7 ends."),
        **values,
    )


def change_in(state: str, people: dict[str, Any], *, cyber: bool = False, **fields: Any) -> Change:
    """A change in `state` (any state of the workflow), reached through the services."""
    change = change_draft(people["author"], cyber=cyber, **fields)
    if state == S.DRAFT:
        return change
    if state == S.CANCELLED:
        return CHANGE_WORKFLOW.run(change, "cancel", actor=people["qa_manager"],
                                   reason="Not needed")
    admin = people["admin"]
    for action, who in PATH:
        if action == "qa_approve":
            approver = ready_to_sign(people["qa_approver"], admin)
            CHANGE_WORKFLOW.run(change, "qa_approve", actor=approver,
                                signature=signature(approver))
        elif action == "approve":
            if change.cyber_impact:
                security = ready_to_sign(people["it_security"], admin)
                CHANGE_WORKFLOW.run(change, "security_approve", actor=security,
                                                 signature=signature(security))
            else:
                CHANGE_WORKFLOW.run(change, "release", actor=people["qa_approver"])
        elif action == "complete_implementation":
            task = services.change_task_add(
                change, actor=people["author"], description="Install HMI v7",
                owner=people["author"], due_date=timezone.localdate() + dt.timedelta(days=7),
            )
            services.change_task_complete(task, actor=people["author"], note="Installed.")
            CHANGE_WORKFLOW.run(change, "complete_implementation", actor=people["author"])
        elif action == "close":
            services.change_update(
                change, actor=people["qa_manager"], reason="Review done",
                changes={"post_implementation_review": "Alarms work; OQ passed.",
                         "pir_outcome": PirOutcome.EFFECTIVE},
            )
            manager = ready_to_sign(people["qa_manager"], admin)
            CHANGE_WORKFLOW.run(change, "close", actor=manager, signature=signature(manager))
        else:
            CHANGE_WORKFLOW.run(change, action, actor=people[who])
        if change.state == state:
            return change
    raise ValueError(f"no path to {state!r}")
