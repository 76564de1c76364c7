"""The process's behaviour baselines (Django glue for ``security.detect.baseline``).

    baselines = behaviour_baselines()          # once per batch: built and warmed at first use
    for event in accepted_events:              # normalized, enriched OCSF dicts
        matches.extend(baselines.observe(event))

The first call builds the baselines from the ``CYBERQMS_BASELINE_*`` settings and warms
them from the accepted events already stored: those received in the last
``CYBERQMS_BASELINE_WARMUP_DAYS`` days, at most the newest
``CYBERQMS_BASELINE_WARMUP_EVENTS`` of them, replayed oldest first. Ingest keeps the full
normalized event (``RawEvent.event``) only for the evidence behind alerts, so the others are
derived again from their kept payload (parse, normalize, enrich, as ingest did); a stored
event is used as it is (enriched again when it was itself derived later,
``metadata.derived_at``), each on the time ingest processed it (``services.time_policy``:
the receive time for events that claimed times too far ahead or too late). The replay
also calibrates the alert thresholds; its matches are
not raised (those events were judged when they arrived). A process restart therefore keeps
what the baselines knew, up to the window. Deriving costs about the ingest pipeline's time
per event (some 30 µs): a few seconds for the default 200 000 events.

Like the detection engine, the baselines live in one process and are not thread-safe: the
process that ingests a stream (syslog listener, web worker) owns its own.
``reset_baselines()`` forgets them (tests; after changing the settings).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from cyberqms.security.detect import ocsf
from cyberqms.security.detect.baseline import BaselineConfig, Baselines
from cyberqms.security.detect.enrich import Enricher
from cyberqms.security.detect.parsers import Format, ParseError, parse_line

from .enums import RawStatus
from .models import EventSource, RawEvent

_baselines: Baselines | None = None
_lock = threading.Lock()
_CHUNK = 2000


def baseline_config() -> BaselineConfig:
    """The baselines' tuning from the settings."""
    return BaselineConfig(
        enabled=settings.CYBERQMS_BASELINE_ENABLED,
        alerts_per_day=float(settings.CYBERQMS_BASELINE_ALERTS_PER_DAY),
        learning_days=float(settings.CYBERQMS_BASELINE_LEARNING_DAYS),
    )


def behaviour_baselines() -> Baselines:
    """The process's baselines, built and warmed from stored events at first use."""
    baselines = _baselines
    if baselines is not None:
        return baselines
    return _build()


def _build() -> Baselines:
    global _baselines
    with _lock:
        if _baselines is None:
            baselines = Baselines(baseline_config())
            if baselines.config.enabled:
                warm_baselines(baselines)
            _baselines = baselines
        return _baselines


def reset_baselines() -> None:
    """Forget the process's baselines; the next ``behaviour_baselines()`` rebuilds them."""
    global _baselines
    with _lock:
        _baselines = None


def warm_baselines(baselines: Baselines, *, now: datetime | None = None) -> int:
    """Replay stored accepted events into ``baselines`` (oldest first); returns how many.

    The window is ``CYBERQMS_BASELINE_WARMUP_DAYS`` days before ``now``, bounded to the
    newest ``CYBERQMS_BASELINE_WARMUP_EVENTS`` events. One query finds the oldest event
    kept, one streams the events in chunks."""
    limit = settings.CYBERQMS_BASELINE_WARMUP_EVENTS
    days = settings.CYBERQMS_BASELINE_WARMUP_DAYS
    if limit <= 0 or days <= 0:
        return 0
    now = now or timezone.now()
    recent = RawEvent.objects.filter(
        status=RawStatus.ACCEPTED, received_at__gte=now - timedelta(days=days),
        received_at__lte=now,
    )
    oldest = (
        recent.order_by("-received_at", "-id").values_list("received_at", "id")[limit - 1:limit]
    )
    boundary = next(iter(oldest), None)
    if boundary is not None:
        at, pk = boundary
        recent = recent.filter(Q(received_at__gt=at) | Q(received_at=at, id__gte=pk))
    rows = recent.order_by("received_at", "id").values_list(*STORED)
    # A copy: the replay must not move the ingest enricher's memory of the stream.
    from .services import event_enricher

    enricher: Enricher = copy.deepcopy(event_enricher())
    return baselines.warm_at((event, at) for _, event, at, _ in stored_events(
        rows.iterator(chunk_size=_CHUNK), enricher))


# The columns `stored_events` reads, in its order.
STORED = ("id", "source_id", "received_at", "payload", "event")


def stored_events(rows: Iterable[tuple[int, int, datetime, Any, Any]],
                  enricher: Enricher | None = None,
                  ) -> Iterator[tuple[int, dict[str, Any], int, str]]:
    """Stored accepted rows (``STORED``) as ingest saw them: each row's id, its normalized
    event (derived again from the payload when the row does not keep it), the time
    detection runs it on (``services.time_policy``) and how that time was chosen (timing).

    ``enricher``: enrich each event with it (a kept event is enriched already, unless it was
    itself derived later, ``metadata.derived_at``); None leaves derived events unenriched
    (the detector enriches them as it observes them). Rows whose payload no longer parses
    (the parsers changed since) are skipped."""
    from .services import source_info, time_policy

    place = time_policy().place
    sources: dict[int, tuple[ocsf.SourceInfo, Format]] = {}
    for row_id, source_id, received_at, payload, event in rows:
        received_ms = ocsf.epoch_ms(received_at)
        if isinstance(event, dict):
            metadata = event.get("metadata")
            if enricher is not None and isinstance(metadata, dict) and "derived_at" in metadata:
                enricher.enrich(event)
            at, timing = place(event.get("time"), received_ms)
            yield row_id, event, at, timing
            continue
        known = sources.get(source_id)
        if known is None:
            source = EventSource.objects.select_related("site").get(pk=source_id)
            known = sources[source_id] = (source_info(source), cast("Format", source.format))
        info, fmt = known
        try:
            parsed = parse_line(bytes(payload), fmt, received_at=received_at)
            derived = ocsf.normalize(parsed, source=info, received_ms=received_ms)
        except ParseError:  # the parsers changed since it was accepted
            continue
        if enricher is not None:
            enricher.enrich(derived)
        at, timing = place(derived.get("time"), received_ms)
        yield row_id, derived, at, timing
