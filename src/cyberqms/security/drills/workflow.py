"""The drill's table (docs/workflows/): planned → running (run now by IT security or the
QA manager, or by cyberqms at its time) → scored, e-signed "Drill scored" once the
lessons learned are written, keeping the scorecard and showing the drill mark on an
unannounced drill's alerts; a planned drill may be cancelled with a reason."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from cyberqms.platform.accounts.queries import holders_of
from cyberqms.platform.kit.workflow import Problem, Transition, Workflow
from cyberqms.platform.notifications.services import notify_record

from .enums import DrillState
from .models import Drill
from .services import TYPE, queue_play

S = DrillState


def played(drill: Drill, actor: Any) -> Problem | None:
    if drill.started_at is None:
        return Problem("The drill has not been played yet: wait until it has run.")
    return None


def lessons_written(drill: Drill, actor: Any) -> Problem | None:
    if not drill.lessons.strip():
        return Problem("Write the lessons learned first.", field="lessons")
    return None


def kept(drill: Drill, actor: Any) -> dict[str, Any]:
    from .scoring import scorecard

    return {"scorecard": scorecard(drill), "closed_at": timezone.now()}


def disclosed(drill: Drill, actor: Any) -> None:
    from cyberqms.security.monitoring.marker import drill_disclose

    drill_disclose(drill.number)


def responders_told(drill: Drill, actor: Any) -> None:
    """An announced drill: the people who triage alerts are told it starts now."""
    if drill.announced:
        notify_record(holders_of("monitoring.alert.triage", drill.site_id), drill,
                      kind="info", subject="drill starting now: its alerts are marked "
                                           "as a drill", exclude=actor)


DRILL_WORKFLOW = Workflow(Drill, TYPE, [
    Transition("start", S.PLANNED, S.RUNNING, "drills.work",
               effects=(responders_told, queue_play), label="Run the drill now"),
    Transition("run", S.PLANNED, S.RUNNING, "drills.work", system=True,
               effects=(responders_told, queue_play), label="Run by cyberqms at its time"),
    Transition("score", S.RUNNING, S.SCORED, "drills.approve", sign="Drill scored",
               guards=(played, lessons_written), updates=kept, effects=(disclosed,),
               label="Score and sign"),
    Transition("cancel", S.PLANNED, S.CANCELLED, "drills.work", reason=True,
               label="Cancel"),
])
