"""Playing a drill (CYB-09).

Starting a drill (its workflow's `start`, by a person, or `run` by cyberqms at its time)
queues `play` with the step. `play` claims the drill (one player, whoever gets there
first: the worker, or the `drill run` command), then:

- an attack scenario: builds its events to end at this moment and feeds them to the live
  pipeline at once (as a relay that held them would), source by source, on the channel
  "drill", within `drill_marker`, so that the alerts they raise carry the drill's number
  (monitoring/marker.py);
- ransomware on a copy: plays it in an isolated copy restored from the newest backup
  (copy_drill.py) and keeps what was measured.

What happened next (detection, acknowledgement, incident, deviation, CAPA) is read by
scoring.py, live while the drill runs, and kept when it is scored.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import transaction
from django.tasks import task
from django.utils import timezone

from cyberqms.platform.core.context import RequestContext, acting_context
from cyberqms.platform.trail.record import audit_record, snapshot

from .enums import DrillKind
from .models import Drill
from .scenarios import DrillScenario, ScenarioError, scenario_of

logger = logging.getLogger("cyberqms.drills")
TYPE = "drills.drill"


def queue_play(drill: Drill, actor: Any) -> None:
    """The start step's side effect: the drill is played once the step has committed."""
    from cyberqms.platform.core.outbox import queue_with_change

    queue_with_change(play_drill, drill.pk)


@task
def play_drill(drill_id: int) -> dict[str, Any]:
    with acting_context(RequestContext(channel="task")):
        drill = play(drill_id)
    return {"drill": drill.number if drill else None}


def _claim(drill_id: int) -> Drill | None:
    """The drill, if this caller is the one that plays it (nobody has yet)."""
    with transaction.atomic():
        claimed = Drill.objects.filter(pk=drill_id, state="running",
                                       started_at__isnull=True).update(
            started_at=timezone.now())
    return Drill.objects.get(pk=drill_id) if claimed else None


def play(drill_id: int) -> Drill | None:
    """Play the drill `drill_id` unless another caller does (then None).

    Side effects: the scenario's events ingested (alerts, incidents as the pipeline
    decides) or the copy drill run; `events` and, for a copy drill, the scorecard kept;
    audit entry `drills.drill.play`.
    """
    drill = _claim(drill_id)
    if drill is None:
        return None
    scenario = scenario_of(drill.scenario)
    before = snapshot(drill)
    measured: dict[str, Any] = {}
    try:
        if scenario is None:
            raise ScenarioError(f"No scenario {drill.scenario!r} in the drill catalogue.")
        if drill.kind == DrillKind.RANSOMWARE:
            from .copy_drill import play_on_copy

            measured = play_on_copy(drill)
            drill.events = int(measured.get("modified", 0)) + int(measured.get("deleted", 0))
        else:
            drill.events = inject(drill, scenario, drill.started_at or timezone.now())
    except Exception as exc:  # the drill ran and failed: that is its result, kept
        logger.exception("drill %s failed to play", drill.number)
        measured = {"error": f"{type(exc).__name__}: {exc}"[:1000]}
    with transaction.atomic():
        if measured:
            drill.scorecard = {**drill.scorecard, "measured": measured}
        drill.save(update_fields=["events", "scorecard", "started_at", "updated_at"])
        audit_record(f"{TYPE}.play", drill, actor=None, before=before,
                     reason=(f"Played: {drill.events:,} events injected" if drill.kind ==
                             DrillKind.ATTACK else "Played on a restored copy")
                     if "error" not in measured else f"Could not be played: "
                     f"{measured['error']}"[:2000])
    return drill


def inject(drill: Drill, scenario: DrillScenario, at: dt.datetime) -> int:
    """Feed the scenario's events, built at `at`, to the pipeline as they would arrive:
    per source, in order; detection runs here, so the alerts are raised when this returns.
    :raises ScenarioError: the scenario cannot be built (a source it needs is missing)."""
    from cyberqms.security.monitoring import services
    from cyberqms.security.monitoring.marker import CHANNEL, drill_marker

    if scenario.build is None:
        raise ScenarioError(f"{scenario.title} is not played in the pipeline.")
    events = scenario.build(at)
    batches: list[tuple[Any, list[str]]] = []
    for source, line in events:
        if batches and batches[-1][0].pk == source.pk:
            batches[-1][1].append(line)
        else:
            batches.append((source, [line]))
    with drill_marker(drill.number, announced=drill.announced):
        for source, lines in batches:
            services.ingest(source, lines, channel=CHANNEL, detect=True)
    return len(events)


def drills_due(now: dt.datetime | None = None) -> list[str]:
    """Scheduler job: start the planned drills whose time has come (cyberqms's own step)."""
    from .workflow import DRILL_WORKFLOW

    now = now or timezone.now()
    started = []
    for drill in Drill.objects.filter(state="planned", is_deleted=False,
                                      planned_for__lte=now).order_by("planned_for"):
        DRILL_WORKFLOW.run(drill, "run", actor=None, reason="Its time came")
        started.append(drill.number)
    return started


def due_interval() -> float:
    return 60.0
