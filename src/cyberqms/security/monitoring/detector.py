"""The detector: detection for the whole installation, in one process at a time.

With ``CYBERQMS_DETECTION = "detector"`` every receiving process (web workers taking HTTP
batches, syslog listeners, the worker feeding cyberqms's own events, on any node) keeps,
hashes, parses and quarantines what it receives, as before, and leaves a
``DetectionBacklog`` row with the batch. The scheduler that holds the lease
(``core.election``) runs ``detect_pending`` every ``CYBERQMS_DETECT_INTERVAL`` seconds: it
takes the waiting batches oldest first and runs the stateful part of the pipeline on them
(enrichment, the Sigma rules and their correlation windows, the behaviour baselines), then
raises the alerts. So the windows and baselines are one for the installation, wherever
an attacker's events arrive: a brute force spread over two web workers and a syslog
listener is counted as one.

Each batch is one transaction: its backlog row is deleted with the alerts and evidence
detection gave it, so a batch is detected once (a detector that stops half way leaves its
batch waiting for the next).

A process that becomes the detector (the scheduler's lease moved after a failure, or the
first start) rebuilds the state from the database before its first batch: the behaviour
baselines from the stored events of their window (``baseline_store``), the correlation
windows by replaying the accepted events of the engine's horizon (the longest correlation
window) that no batch still waits with. Its windows are then the ones its predecessor
left, so an attack that straddles the failover is still counted whole.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from cyberqms.security.detect.detection.timing import AHEAD

from . import services
from .baseline_store import STORED, stored_events
from .enums import RawStatus
from .models import DetectionBacklog, EventSource, RawEvent

logger = logging.getLogger("cyberqms.detector")

BATCHES_PER_RUN = 50  # a run ends after this many batches so the scheduler's other jobs run

_warmed = False


@dataclass
class DetectorRun:
    batches: int = 0
    events: int = 0
    alerts: int = 0
    replayed: int = 0  # events replayed into the windows first (a new detector)


def detect_pending(*, batches: int = BATCHES_PER_RUN) -> DetectorRun:
    """Detection over the batches that wait for it, oldest first, at most ``batches``."""
    run = DetectorRun()
    with services.pipeline_lock():
        if not _warmed:
            run.replayed = _rebuild_windows()
        pending = list(DetectionBacklog.objects.order_by("id").values_list("id", flat=True)
                       [:batches])
        for backlog_id in pending:
            with transaction.atomic():
                found = _detect_batch(backlog_id)
            if found is not None:
                run.batches += 1
                run.events += found[0]
                run.alerts += found[1]
    return run


def detect_interval() -> float:
    """Seconds between the scheduler's detection runs (``CYBERQMS_DETECT_INTERVAL``)."""
    return float(settings.CYBERQMS_DETECT_INTERVAL)


def detect_job() -> DetectorRun:
    """The scheduler's job: one detection run, logged when it did anything."""
    run = detect_pending()
    if run.batches:
        logger.info("detector: %d batches, %d events, %d alerts raised or extended",
                    run.batches, run.events, run.alerts)
    return run


def reset_detector() -> None:
    """Forget that this process rebuilt its windows (tests; after ``reload_rules``)."""
    global _warmed
    _warmed = False


def _detect_batch(backlog_id: int) -> tuple[int, int] | None:
    """One waiting batch, in the caller's transaction; None when another detector took it
    (its row is gone)."""
    try:
        batch = DetectionBacklog.objects.select_for_update().get(pk=backlog_id)
    except DetectionBacklog.DoesNotExist:
        return None
    rows = list(RawEvent.objects.filter(_in_runs(batch.runs), status=RawStatus.ACCEPTED)
                .order_by("id").values_list(*STORED, "event_time"))
    kept = {row[0]: (row[1], row[2], row[5]) for row in rows}
    detection = services.Detection()
    ids: list[int] = []
    received: list[datetime] = []
    times: list[datetime | None] = []
    source_ids: list[int] = []
    ahead_at: dict[int, datetime] = {}
    for row_id, event, at, timing in stored_events(row[:5] for row in rows):
        index = len(ids)
        source_id, received_at, event_time = kept[row_id]
        ids.append(row_id)
        received.append(received_at)
        times.append(event_time)
        source_ids.append(source_id)
        if timing == AHEAD:
            ahead_at[index] = received_at
        detection.observe(index, event, at)
    detection.stored(ids)
    if detection.evidence:
        _keep(detection.evidence, ids)
    alerts: list[Any] = []
    if detection.matches:
        sources = EventSource.objects.select_related("site").in_bulk(set(source_ids))
        alerts = services.raise_alerts(detection.matches, ids, received, times,
                                       [sources[s] for s in source_ids], ahead_at)
    batch.delete()
    return len(ids), len(alerts)


def _in_runs(runs: list[list[int]]) -> Q:
    condition = Q(pk__in=[])
    for first, last in runs:
        condition |= Q(pk__range=(first, last))
    return condition


def _keep(evidence: dict[int, dict[str, Any]], ids: list[int]) -> None:
    """The events behind alerts are kept whole on their rows (as inline detection does)."""
    prepare = services.json_column()
    values = []
    for index, event in evidence.items():
        event["metadata"]["uid"] = str(ids[index])
        values.append([prepare(event), ids[index]])
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {RawEvent._meta.db_table} SET event = %s WHERE id = %s",  # noqa: S608  # table from the model
            values)


def _rebuild_windows(now: datetime | None = None) -> int:
    """Replay the accepted events of the engine's horizon, except those still waiting in a
    batch, into this process's enrichment and correlation windows (their matches were
    judged when they were detected); the baselines warm themselves (``baseline_store``).
    Returns how many events were replayed."""
    global _warmed
    detection = services.Detection()  # builds (and warms) the engine, enricher, baselines
    engine, enricher = detection.engine, detection.enricher
    horizon = engine.horizon_ms
    replayed = 0
    if horizon:
        now = now or timezone.now()
        waiting = Q(pk__in=[])
        for runs in DetectionBacklog.objects.values_list("runs", flat=True):
            waiting |= _in_runs(runs)
        rows = (RawEvent.objects.filter(status=RawStatus.ACCEPTED,
                                        received_at__gte=now - timedelta(milliseconds=horizon))
                .exclude(waiting).order_by("received_at", "id").values_list(*STORED))
        for row_id, event, at, _ in stored_events(rows.iterator(chunk_size=2000)):
            enricher.enrich(event)
            ref = services.stored_ref(row_id)
            engine.evaluate(event, ref, at=at)
            replayed += 1
    _warmed = True
    if replayed:
        logger.info("detector: %d events replayed into the correlation windows", replayed)
    return replayed
