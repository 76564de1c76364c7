"""A change control that names a system moves it: approving the change puts the validated
system "under change", closing or cancelling the last such change returns it to
"validated" (A11-05, A11-11). The change names the system by a link "Affects" (from the
change, on its Links tab); both steps are cyberqms's own and commit with the change's.

Change control is a family above this one (quality/), so the system hears the kit's
`state_changed` signal instead of importing it: the change's type and states are named
here, and nowhere else in this app.
"""

from __future__ import annotations

from typing import Any

from cyberqms.platform.kit.record_parts import linked_ids

from .enums import SystemState
from .models import System
from .workflow import SYSTEM_WORKFLOW, TYPE

CHANGE_TYPE = "changes.change"
APPROVED = "approved"
# A change holds its systems from its approval until it ends.
HOLDING = ("approved", "implementation", "review")
ENDED = ("closed", "cancelled")
AFFECTS = "affects"


def systems_of_change(change_pk: Any) -> list[System]:
    ids = linked_ids(CHANGE_TYPE, change_pk, TYPE, AFFECTS)
    return list(System.objects.filter(pk__in=ids, is_deleted=False).order_by("pk"))


def _held_elsewhere(system: System, change_pk: Any) -> bool:
    """Whether another change still holds the system (approved and not ended)."""
    from cyberqms.platform.kit.records import kind_by_type

    others = [i for i in linked_ids(TYPE, system.pk, CHANGE_TYPE, AFFECTS)
              if str(i) != str(change_pk)]
    if not others:
        return False
    model = kind_by_type(CHANGE_TYPE).model
    return model._default_manager.filter(pk__in=others, state__in=HOLDING,
                                         is_deleted=False).exists()


def on_change_step(sender: Any, *, record: Any, type_name: str, source: str, target: str,
                   actor: Any, **kwargs: Any) -> None:
    """Move the systems a change names (runs inside the change's transaction)."""
    if type_name != CHANGE_TYPE:
        return
    if target == APPROVED:
        for system in systems_of_change(record.pk):
            if system.state == SystemState.VALIDATED:
                SYSTEM_WORKFLOW.run(system, "start_change", actor=None,
                                    reason=f"{record.number} approved")
    elif target in ENDED and source in HOLDING:
        for system in systems_of_change(record.pk):
            if system.state == SystemState.UNDER_CHANGE and not _held_elsewhere(
                    system, record.pk):
                SYSTEM_WORKFLOW.run(system, "end_change", actor=None,
                                    reason=f"{record.number} {target}")
