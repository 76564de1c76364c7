"""The system owner's tasks on the home page: posture facts overdue or never entered on
the systems they own that are in use (A11D-03), and a validated system whose supplier is
disqualified, and a periodic evaluation past its date (A11-18)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone

from cyberqms.platform.core.home import OpenTask

from .enums import SystemState
from .models import System
from .posture import entered_posture

IN_USE = (SystemState.VALIDATED, SystemState.UNDER_CHANGE)


def system_owner_tasks(user: Any) -> list[OpenTask]:
    systems = list(System.objects.filter(owner_id=user.pk, is_deleted=False,
                                         state__in=IN_USE)
                   .select_related("supplier").order_by("title")[:200])
    if not systems:
        return []
    entered = entered_posture(systems)
    today = timezone.localdate()
    tasks: list[OpenTask] = []
    for system in systems:
        url = reverse("systems:detail", args=[system.pk])
        if system.due_date is not None and system.due_date < today:
            tasks.append(OpenTask(
                f"Periodic evaluation of {system.number} {system.title} is overdue",
                "Evaluate whether it remains in a validated state (Annex 11 §11): start the "
                "evaluation from its page.", url, "high", system.due_date))
        overdue = [f for f in entered[system.pk] if f.overdue]
        if overdue:
            never = [f.label.lower() for f in overdue if f.entry is None]
            late = [f for f in overdue if f.entry is not None]
            parts = []
            if late:
                parts.append("due again: " + ", ".join(
                    f"{f.label.lower()} (since {f.due.isoformat()})" for f in late if f.due))
            if never:
                parts.append("never entered: " + ", ".join(never))
            tasks.append(OpenTask(
                f"Security posture of {system.number} {system.title}",
                "; ".join(parts).capitalize() + ".", f"{url}#posture", "medium",
                min((f.due for f in late if f.due), default=None)))
        supplier = system.supplier
        if supplier is not None and supplier.state == "disqualified":
            tasks.append(OpenTask(
                f"{system.number} {system.title}: its supplier is disqualified",
                f"{supplier.number} {supplier.title} was disqualified: assess the impact on "
                "the validated state and plan a change.", url, "high"))
    return tasks
