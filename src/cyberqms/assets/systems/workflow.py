"""The validation state of a computerized system, one declared table (docs/workflows/).

planned → in validation → validated ⇄ under change → retired. QA signs validation, its
withdrawal and retirement; a system is validated only with its four people named (A11-02),
its version in production, a validation summary report for that version, and, when its
criticality is high, its continuity targets (A11-24). Approving a change control that names
the system moves it to "under change", closing or cancelling the last such change back
(cyberqms's own steps, `system=True`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import timezone

from cyberqms.platform.kit.words import listing
from cyberqms.platform.kit.workflow import Problem, Transition, Workflow
from cyberqms.platform.notifications.services import notify_record

from .enums import Criticality, DeliverableKind, SystemState
from .models import System, ValidationDeliverable

S = SystemState
TYPE = "systems.system"


def next_evaluation(system: System, start: dt.date) -> dt.date:
    """The date of the next periodic evaluation (A11-18) counted from `start`, by the
    system's criticality (CYBERQMS_SYSTEM_EVALUATION_MONTHS)."""
    months = settings.CYBERQMS_SYSTEM_EVALUATION_MONTHS.get(system.criticality, 24)
    year, month = divmod(start.month - 1 + months, 12)
    day = min(start.day, 28)
    return dt.date(start.year + year, month + 1, day)


def people_named(system: System, actor: Any) -> str | None:
    missing = system.people_missing()
    if missing:
        return Problem(f"Name the {listing(words for _n, words in missing)} first: a "
                       "validated system has all four (Annex 11 §2).", field=missing[0][0])
    return None


def version_reported(system: System, actor: Any) -> str | None:
    if not system.version.strip():
        return Problem("Give the version in production first.", field="version")
    reported = ValidationDeliverable.objects.filter(
        record_id=system.pk, removed_at__isnull=True, kind=DeliverableKind.REPORT,
        system_version=system.version.strip()).exists()
    if not reported:
        return (f"Record the validation summary report for version {system.version} "
                "among the deliverables first.")
    return None


def continuity_known(system: System, actor: Any) -> str | None:
    if system.criticality != Criticality.HIGH:
        return None
    if system.rto_hours is None:
        return Problem("A high-criticality system states its recovery time objective "
                       "first (Annex 11 §16).", field="rto_hours")
    if system.rpo_hours is None:
        return Problem("A high-criticality system states its recovery point objective "
                       "first.", field="rpo_hours")
    if not system.continuity_plan.strip():
        return Problem("Name the continuity plan first.", field="continuity_plan")
    return None


def validated(system: System, actor: Any) -> dict[str, Any]:
    today = timezone.localdate()
    due = system.due_date if system.due_date and system.due_date > today else (
        next_evaluation(system, today))
    return {"validated_version": system.version.strip(), "validated_at": timezone.now(),
            "due_date": due}


def change_over(system: System, actor: Any) -> dict[str, Any]:
    return {"validated_version": system.version.strip(), "validated_at": timezone.now()}


def retired(system: System, actor: Any) -> dict[str, Any]:
    return {"closed_at": timezone.now(), "due_date": None}


def withdrawn(system: System, actor: Any) -> dict[str, Any]:
    return {"validated_version": "", "due_date": None}


def validation_due(system: System, actor: Any) -> None:
    if system.qa_contact is not None:
        notify_record([system.qa_contact], system, kind="approval_due",
                      subject="validation under way: QA approval will be due",
                      exclude=actor, awaits=(S.IN_VALIDATION,))


def owner_told(system: System, actor: Any) -> None:
    people = [p for p in (system.owner, system.process_owner) if p is not None]
    notify_record(people, system, kind="info",
                  subject=f"now {system.get_state_display().lower()}", exclude=actor)


SYSTEM_WORKFLOW = Workflow(System, TYPE, [
    Transition("start_validation", S.PLANNED, S.IN_VALIDATION, "systems.work",
               effects=(validation_due,), label="Start validation"),
    Transition("validate", S.IN_VALIDATION, S.VALIDATED, "systems.approve", sign="Validated",
               not_by=("owner",), guards=(people_named, continuity_known, version_reported),
               updates=validated, effects=(owner_told,), label="Release as validated"),
    Transition("start_change", S.VALIDATED, S.UNDER_CHANGE, "systems.work", system=True,
               label="Under change (change approved)"),
    Transition("end_change", S.UNDER_CHANGE, S.VALIDATED, "systems.work", system=True,
               updates=change_over, label="Validated (change closed)"),
    Transition("revalidate", (S.VALIDATED, S.UNDER_CHANGE), S.IN_VALIDATION, "systems.work",
               system=True, updates=withdrawn, effects=(owner_told,),
               label="Back to validation (periodic evaluation)"),
    Transition("withdraw", (S.VALIDATED, S.UNDER_CHANGE), S.IN_VALIDATION, "systems.approve",
               sign="Validation withdrawn", reason=True, updates=withdrawn,
               effects=(owner_told,), task=False, label="Withdraw validation"),
    Transition("retire", (S.PLANNED, S.IN_VALIDATION, S.VALIDATED, S.UNDER_CHANGE), S.RETIRED,
               "systems.close", sign="Retired", reason=True, updates=retired, task=False,
               label="Retire"),
])
