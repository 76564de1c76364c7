"""Ingestion and alerting: every write of the monitoring layer.

`ingest` is the one path from received bytes to alerts, whatever the transport (HTTP
batch, syslog listener, file import, cyberqms's own events): each payload is hashed and
kept; it is parsed and normalized to OCSF or quarantined with the reason; accepted events
are evaluated by the Sigma engine; matches raise or extend alerts. One batch is one
transaction.

Detection runs on a time the sender cannot move forward (``detection.timing``): an event
claiming a time more than ``CYBERQMS_DETECT_MAX_SKEW`` seconds after its receipt is kept as
claimed, processed on its receive time and flagged (``monitoring.clock_skew``, once per
source an hour); one older than ``CYBERQMS_DETECT_MAX_LATENESS`` seconds is processed on its
receive time and counted as late (``RawEvent.timing``); one in between keeps its time and
is correlated in its own key's windows.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from cyberqms.platform.core.access import Actor, people_able, require
from cyberqms.platform.core.events import emit_security_event
from cyberqms.platform.core.models import SecurityEvent, Severity
from cyberqms.platform.kit.records import next_number
from cyberqms.platform.kit.workflow import TransitionNotAllowed
from cyberqms.platform.notifications.services import notifications_resolve, notify
from cyberqms.platform.trail.record import audit_record, snapshot
from cyberqms.security.detect import ocsf
from cyberqms.security.detect.detection import Engine, Match
from cyberqms.security.detect.detection.timing import (
    AHEAD,
    TimePolicy,
)
from cyberqms.security.detect.enrich import Enricher
from cyberqms.security.detect.parsers import Format, parse_line
from cyberqms.security.detect.parsers.errors import ParseError
from cyberqms.security.monitoring.marker import current_drill

from . import rollups
from .baseline_store import behaviour_baselines
from .directory import DjangoUserDirectory
from .enums import LEVEL_ORDER, OPEN_ALERT_STATES, AlertState, RawStatus
from .models import Alert, DetectionBacklog, EventSource, RawEvent
from .notices import alert_raised
from .rules import load_configured_rules
from .workflow import ALERT_WORKFLOW

MAX_PAYLOAD_BYTES = 64 * 1024
# Who may work alerts (triage them, be assigned them): one right for both.
ALERT_WORK = "monitoring.alert.triage"


class SourceRefused(Exception):
    """The sender is unknown, inactive or not allowed (recorded as a security event)."""


@dataclass
class IngestResult:
    received: int = 0
    accepted: int = 0
    quarantined: int = 0
    refused: int = 0  # items of inactive sources (not stored; `ingest_received` only)
    reasons: Counter[str] = field(default_factory=Counter)
    # Accepted events whose claimed time was not used as it is: delayed, late, ahead.
    timing: Counter[str] = field(default_factory=Counter)
    alerts: list[Alert] = field(default_factory=list)  # raised or extended by this batch
    detected: bool = True  # False: left to the detector (`detector`), `alerts` stays empty


# --- the pipeline: detection engine and enricher --------------------------------------------

_engine: Engine | None = None
_engine_lock = threading.Lock()
_enricher: Enricher | None = None
_enricher_loaded = 0.0
# One batch at a time per process: the engine's correlation windows and the enricher's
# stream memory are not thread-safe (web threads may ingest HTTP batches concurrently).
_pipeline_lock = threading.Lock()
ENRICHER_TTL_S = 60.0  # how long site time zones, source kinds and account states are cached


def detection_engine() -> Engine:
    """The process's engine over the shipped pack and the site's folder (loaded once).

    Correlation windows live in this engine, so one process should ingest a given
    source's stream (the syslog listener and the web server each keep their own)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = Engine(load_configured_rules())
        return _engine


def reload_rules() -> Engine:
    """A fresh engine (empty correlation windows) and a fresh enricher."""
    global _engine, _enricher
    from .detector import reset_detector

    with _engine_lock:
        _engine = Engine(load_configured_rules())
        _enricher = None
        reset_detector()  # a detector rebuilds the fresh engine's windows from the events
        return _engine


def event_enricher() -> Enricher:
    """Site-local time, system kinds and account states (``enrich.Enricher``) from the
    database: sites' time zones, registered sources' kinds, cyberqms accounts. Rebuilt
    every ``ENRICHER_TTL_S`` seconds so new sites, sources and leavers are picked up."""
    global _enricher, _enricher_loaded
    now = time.monotonic()
    with _engine_lock:
        if _enricher is None or now - _enricher_loaded > ENRICHER_TTL_S:
            from cyberqms.platform.accounts.models import Site

            sites = dict(Site.objects.values_list("code", "time_zone"))
            kinds: dict[str, str] = {}
            for name, system, kind in EventSource.objects.values_list("name", "system", "kind"):
                if kind and kind != "other":
                    kinds.setdefault(name, kind)
                    if system:
                        kinds.setdefault(system, kind)
            kinds.setdefault(SOURCE_QMS, "qms")
            previous = _enricher
            _enricher = Enricher(sites, DjangoUserDirectory(), kinds,
                                 default_tz=settings.TIME_ZONE or "UTC")
            if previous is not None:
                _enricher.adopt_stream_memory(previous)
            _enricher_loaded = now
        return _enricher


SOURCE_QMS = "cyberqms"
SKEW_REPORT_EVERY = timedelta(hours=1)  # one monitoring.clock_skew per source at most


def time_policy() -> TimePolicy:
    """How far an event's claimed time may be from its receipt (``CYBERQMS_DETECT_MAX_SKEW``,
    ``CYBERQMS_DETECT_MAX_LATENESS``, seconds) before detection uses the receive time."""
    return TimePolicy.from_seconds(
        settings.CYBERQMS_DETECT_MAX_SKEW, settings.CYBERQMS_DETECT_MAX_LATENESS
    )


# --- ingestion --------------------------------------------------------------------------------


def source_info(source: EventSource) -> ocsf.SourceInfo:
    return ocsf.SourceInfo(
        name=source.name, kind=source.kind, site=source.site.code if source.site else "",
        system=source.system,
    )


class _Ref:
    """A row as the correlation windows remember it: its id once inserted; while its batch
    is processed also its index and normalized event (dropped afterwards, so windows hold
    a few bytes per event)."""

    __slots__ = ("event", "id", "index")

    def __init__(self, index: int, event: dict[str, Any] | None) -> None:
        self.id: int | None = None
        self.index = index
        self.event: dict[str, Any] | None = event


def stored_ref(row_id: int) -> _Ref:
    """How the windows remember an event of an earlier batch (a replay)."""
    ref = _Ref(-1, None)
    ref.id = row_id
    return ref


_EPOCH_AWARE = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = _EPOCH_AWARE.replace(tzinfo=None)  # SQLite columns hold naive UTC
_COLUMNS = ("id", "source_id", "received_at", "channel", "sha256", "size", "payload", "status",
            "reason", "detail", "event", "event_time", "class_uid", "actor", "src_ip",
            "timing")
# Table and column names come from the model, never from input.
_INSERT = (f"INSERT INTO {RawEvent._meta.db_table} "  # noqa: S608  # names from the model
           f"({', '.join(_COLUMNS)}) VALUES ({', '.join(['%s'] * len(_COLUMNS))})")
_COPY = f"COPY {RawEvent._meta.db_table} ({', '.join(_COLUMNS)}) FROM STDIN"
_ACCEPTED, _QUARANTINED = RawStatus.ACCEPTED.value, RawStatus.QUARANTINED.value


class _Times:
    """Event times as the database column takes them. SQLite wants naive UTC text as Django
    writes it ("YYYY-MM-DD HH:MM:SS[.ffffff]"); building a datetime per event costs more
    than the arithmetic below, which reuses the day's date text."""

    __slots__ = ("day", "day_text", "naive")

    def __init__(self, naive: bool) -> None:
        self.naive = naive
        self.day = -1
        self.day_text = ""

    def column(self, ms: Any) -> datetime | str | None:
        if ms.__class__ is not int:
            return None
        try:
            if not self.naive:
                return _EPOCH_AWARE + timedelta(milliseconds=ms)
            day, in_day = divmod(ms, 86_400_000)
            if day != self.day:
                self.day_text = str((_EPOCH_NAIVE + timedelta(days=day)).date())
                self.day = day
        except OverflowError:
            return None
        seconds, millis = divmod(in_day, 1000)
        minutes, second = divmod(seconds, 60)
        hour, minute = divmod(minutes, 60)
        two = _TWO_DIGITS
        if millis:  # as Django writes them: no fraction on whole seconds
            return f"{self.day_text} {two[hour]}:{two[minute]}:{two[second]}.{_MILLIS[millis]}"
        return f"{self.day_text} {two[hour]}:{two[minute]}:{two[second]}"


_TWO_DIGITS = tuple(f"{n:02d}" for n in range(60))
_MILLIS = tuple(f"{n:03d}000" for n in range(1000))


def _storable(text: str) -> str:
    """Text any database column takes: PostgreSQL refuses NUL (U+0000), so it becomes
    U+FFFD; the payload itself is kept byte for byte."""
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


def _dump_event(event: dict[str, Any]) -> str:
    text = json.dumps(event, ensure_ascii=False, separators=(",", ":"), default=str)
    # jsonb refuses the escape of NUL as well (see _storable).
    return text.replace("\\u0000", "\\ufffd") if "\\u0000" in text else text


def json_column() -> Any:
    """How the `event` column takes a dict: compact JSON text on SQLite (as Django reads
    it back), wrapped as jsonb on PostgreSQL."""
    if connection.vendor == "postgresql":
        from psycopg.types.json import Jsonb

        return lambda event: Jsonb(event, dumps=_dump_event)
    return _dump_event


def _allocate_ids(cursor: Any, vendor: str, count: int) -> list[int]:
    """`count` fresh RawEvent ids, under the batch's write transaction."""
    # The table name comes from the model, never from input; the values are bound.
    table = RawEvent._meta.db_table
    if vendor == "postgresql":
        cursor.execute(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "  # noqa: S608  # see above
            "FROM generate_series(1, %s)", [count])
        return [row[0] for row in cursor.fetchall()]
    # SQLite (AUTOINCREMENT): the transaction is IMMEDIATE, so nobody else inserts meanwhile.
    cursor.execute(
        f"SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence "  # noqa: S608  # see above
        f"WHERE name = %s), 0), COALESCE((SELECT MAX(id) FROM {table}), 0))", [table])
    base = cursor.fetchone()[0]
    return list(range(base + 1, base + count + 1))


def ingest(
    source: EventSource,
    payloads: Iterable[bytes | str],
    *,
    channel: str,
    received_at: datetime | None = None,
    detect: bool | None = None,
) -> IngestResult:
    """Keep, parse, normalize, enrich and evaluate one batch from `source`.

    Every payload becomes one RawEvent row with its SHA-256, size and receive time
    (A11-10: accepted or quarantined with the reason, never dropped). Accepted rows carry
    search columns (event time, OCSF class, actor, source address); the full normalized
    event is stored for the events a rule matched (the evidence behind alerts); for the
    others it can be derived again from the kept payload.

    Side effects: alerts raised or extended (`monitoring.alert.create` audited); a
    `monitoring.quarantine` security event when part of the batch was quarantined; a
    `monitoring.clock_skew` security event when events claimed times ahead of their receipt
    (at most once an hour per source).

    ``detect``: run detection on the batch here and now (``CYBERQMS_DETECTION`` "inline",
    the default when not given) or leave it to the detector (``detector``: the batch is kept
    with a ``DetectionBacklog`` row and ``alerts`` stays empty).
    :raises SourceRefused: the source is inactive (nothing is stored).
    """
    if not source.is_active:
        raise SourceRefused(f"source {source.name} is not active")
    when = received_at or timezone.now()
    return ingest_received(((source, payload, channel, when) for payload in payloads),
                           detect=detect)


# source, payload, channel, when; a payload the framing already rejected arrives as its
# ParseError (with what was received of it) and is quarantined like any other.
type Received = tuple[EventSource, bytes | str | ParseError, str, datetime]


def detects_inline() -> bool:
    """Whether a receiving process runs detection itself (``CYBERQMS_DETECTION``)."""
    return bool(settings.CYBERQMS_DETECTION == "inline")


class Detection:
    """The stateful part of the pipeline, over one batch: enrichment, the rules and their
    correlation windows, the behaviour baselines; what matched and the events to keep as
    evidence, by the batch's row index. One process's windows and baselines: hold
    ``pipeline_lock`` while it observes."""

    __slots__ = ("baselines", "engine", "enricher", "evidence", "matches", "refs")

    def __init__(self) -> None:
        self.engine = detection_engine()
        self.enricher = event_enricher()
        self.baselines = behaviour_baselines()
        self.refs: list[_Ref] = []  # of the events kept in correlation windows
        self.evidence: dict[int, dict[str, Any]] = {}
        self.matches: list[tuple[Match, int]] = []

    def observe(self, index: int, event: dict[str, Any], at: int) -> None:
        """Enrich and evaluate the batch's event ``index`` at time ``at`` (epoch ms)."""
        self.enricher.enrich(event)
        engine = self.engine
        ref = _Ref(index, event)
        found = engine.evaluate(event, ref, at=at)
        if engine.fed:  # the ref sits in a correlation window: it needs its row id
            self.refs.append(ref)
        anomalies = self.baselines.observe(event, at=at)  # behaviour baselines (baseline.py)
        if anomalies:
            found = [*found, *anomalies]
        if found:
            evidence = self.evidence
            evidence[index] = event
            for match in found:
                self.matches.append((match, index))
                for related in match.related:  # a correlation's window, this batch's part
                    if isinstance(related, _Ref) and related.event is not None:
                        evidence[related.index] = related.event

    def stored(self, ids: list[int]) -> None:
        """The batch's rows have their ids: the windows keep those, not the events."""
        for ref in self.refs:
            ref.id, ref.event = ids[ref.index], None


def pipeline_lock() -> threading.Lock:
    """One batch at a time in this process through the detection state."""
    return _pipeline_lock


def ingest_received(items: Iterable[Received], *, detect: bool | None = None
                    ) -> IngestResult:
    """`ingest` for a batch mixing sources, channels and receive times (the syslog
    listener's batches), in one transaction. Items of inactive sources are not stored and
    are counted in `IngestResult.refused`."""
    inline = detects_inline() if detect is None else detect
    detection = Detection() if inline else None
    place = time_policy().place
    result = IngestResult(detected=inline)
    naive = connection.vendor == "sqlite"
    times = _Times(naive)
    sha256 = hashlib.sha256
    rows: list[list[Any]] = []
    row_sources: list[EventSource] = []
    quarantined: dict[int, Counter[str]] = {}
    ahead: dict[int, tuple[int, int]] = {}  # source → (events, furthest claimed time, ms)
    ahead_at: dict[int, datetime] = {}  # row index → the receive time it was processed on
    # Per source object of the batch (by identity: the pk is a property worth skipping).
    known_sources: dict[int, tuple[EventSource, ocsf.SourceInfo, Format, int, bool]] = {}
    sources: dict[int, EventSource] = {}
    last_when: datetime | None = None
    when_db: Any = None
    when_ms = 0
    with _pipeline_lock if inline else nullcontext():
        for source, payload, channel, when in items:
            known = known_sources.get(id(source))
            if known is None:
                known = known_sources[id(source)] = (
                    source, source_info(source), cast("Format", source.format), source.pk,
                    source.is_active)
                sources[source.pk] = source
            _, info, fmt, source_pk, active = known
            if not active:
                result.refused += 1
                continue
            if when is not last_when:
                last_when = when
                when_db = str(when.astimezone(UTC).replace(tzinfo=None)) if naive else when
                when_ms = ocsf.epoch_ms(when)
            if isinstance(payload, ParseError):
                data = payload.data[:MAX_PAYLOAD_BYTES]
            else:
                data = (payload.encode("utf-8", "surrogatepass") if isinstance(payload, str)
                        else payload)
            size = len(data)
            try:
                if isinstance(payload, ParseError):
                    raise payload
                if size > MAX_PAYLOAD_BYTES:
                    raise ParseError("oversized", f"{size} bytes")
                parsed = parse_line(data, fmt, received_at=when)
                event = ocsf.normalize(parsed, source=info, received_ms=when_ms)
            except ParseError as exc:
                reason = exc.reason[:40]
                quarantined.setdefault(source_pk, Counter())[reason] += 1
                rows.append([None, source_pk, when_db, channel, sha256(data).hexdigest(),
                             size, data[:MAX_PAYLOAD_BYTES], _QUARANTINED, reason,
                             _storable(str(exc)[:300]), None, None, None, "", "", ""])
                row_sources.append(source)
                continue
            index = len(rows)
            claimed: Any = event.get("time")
            at, timing = place(claimed, when_ms)  # the time detection runs on
            if timing:
                result.timing[timing] += 1
                if timing == AHEAD:  # only a number can be ahead
                    count, furthest = ahead.get(source_pk, (0, claimed))
                    ahead[source_pk] = (count + 1, max(furthest, claimed))
                    ahead_at[index] = when
            if detection is not None:
                detection.observe(index, event, at)
            actor = event.get("actor")
            user = actor.get("user") if actor.__class__ is dict else None
            name = user.get("name") if user.__class__ is dict else None
            src = event.get("src_endpoint")
            ip = src.get("ip") if src.__class__ is dict else None
            uid = event.get("class_uid")
            rows.append([
                None, source_pk, when_db, channel, sha256(data).hexdigest(), size, data,
                _ACCEPTED, "", "", None, times.column(event.get("time")),
                uid if uid.__class__ is int and uid >= 0 else None,
                _storable(name[:150]) if name.__class__ is str else "",
                _storable(ip[:45]) if ip.__class__ is str else "", timing,
            ])
            row_sources.append(source)
    for counts in quarantined.values():
        result.reasons.update(counts)
    result.received = len(rows)
    result.quarantined = sum(result.reasons.values())
    result.accepted = result.received - result.quarantined
    if rows:
        with transaction.atomic():
            with connection.cursor() as cursor:
                ids = _allocate_ids(cursor, connection.vendor, len(rows))
                if detection is not None and detection.evidence:
                    prepare = json_column()
                    for index, event in detection.evidence.items():
                        event["metadata"]["uid"] = str(ids[index])
                        rows[index][10] = prepare(event)
                for row, row_id in zip(rows, ids, strict=True):
                    row[0] = row_id
                if connection.vendor == "postgresql":
                    # COPY streams the batch in one round trip (executemany pays one each).
                    with cursor.cursor.copy(_COPY) as copy:
                        for row in rows:
                            copy.write_row(row)
                else:
                    cursor.executemany(_INSERT, rows)
                rollups.record(cursor, rows, _COLUMNS)  # the metrics' counts, same transaction
            if detection is None:
                if result.accepted:
                    _leave_to_the_detector([ids[i] for i, row in enumerate(rows)
                                            if row[7] == _ACCEPTED])
            else:
                detection.stored(ids)
                if detection.matches:
                    result.alerts = raise_alerts(
                        detection.matches, ids, [row[2] for row in rows],
                        [row[11] for row in rows], row_sources, ahead_at)
    for source_pk, counts in quarantined.items():
        source = sources[source_pk]
        total = sum(1 for s in row_sources if s.pk == source_pk)
        emit_security_event(
            "monitoring.quarantine", severity=Severity.LOW,
            message=f"{sum(counts.values())} of {total} events from {source.name} "
                    f"quarantined: " + ", ".join(f"{r} ×{n}" for r, n in sorted(counts.items())),
            data={"source": source.name, "reasons": dict(counts)},
        )
    for source_pk, (count, furthest) in ahead.items():
        _report_clock_skew(sources[source_pk], count, furthest)
    return result


def _report_clock_skew(source: EventSource, count: int, furthest_ms: int) -> None:
    """A `monitoring.clock_skew` security event for events of `source` that claimed times
    ahead of their receipt, unless one was raised for the source within the last hour
    (the counts stay on the rows: `RawEvent.timing`)."""
    now = timezone.now()
    if SecurityEvent.objects.filter(kind="monitoring.clock_skew", data__source=source.name,
                                    created_at__gte=now - SKEW_REPORT_EVERY).exists():
        return
    # The normalizers accept times below 10^14 ms (year 5138): within datetime's range.
    claimed = (_EPOCH_AWARE + timedelta(milliseconds=furthest_ms)).isoformat()
    claimed = claimed.replace("+00:00", "Z")
    emit_security_event(
        "monitoring.clock_skew", severity=Severity.MEDIUM,
        message=f"{count} event(s) from {source.name} claimed times ahead of their receipt "
                f"(up to {claimed}); detection used the receive time",
        data={"source": source.name, "count": count, "claimed": claimed},
    )


def _group_key(match: Match) -> str:
    if match.group:
        return "|".join(f"{name}={value}" for name, value in match.group)[:300]
    event = match.event
    for path in ("actor.user.name", "src_endpoint.ip", "device.hostname", "gxp.system"):
        value = ocsf.get(event, path)
        if value:
            return f"{path}={value}"[:300]
    return ""


def _leave_to_the_detector(ids: list[int]) -> None:
    """The batch's accepted rows wait for the detector (``detector``), as runs of ids."""
    runs: list[list[int]] = []
    for row_id in ids:
        if runs and runs[-1][1] == row_id - 1:
            runs[-1][1] = row_id
        else:
            runs.append([row_id, row_id])
    DetectionBacklog.objects.create(created_at=timezone.now(), runs=runs, events=len(ids))


def raise_alerts(
    matches: list[tuple[Match, int]], ids: list[int], received: list[Any], times: list[Any],
    row_sources: list[EventSource], ahead_at: dict[int, datetime],
) -> list[Alert]:
    """Raise or extend one alert per (rule, group key) of this batch's matches and link
    the events behind each: the matching ones and, for a correlation, its window's.
    By row index: ``ids``, receive times (``received``), event times (``times``, None where
    the event had none) and sources.
    An alert's first and last seen are its events' times, the receive time for an event
    that claimed a time ahead of it (`ahead_at`, by row index).
    A batch costs one query for the open alerts, one for the extended ones, one insert per
    new alert and one for the links."""
    grouped: dict[tuple[str, str], list[tuple[Match, int]]] = {}
    for match, index in matches:
        grouped.setdefault((match.rule_id, _group_key(match)), []).append((match, index))
    open_alerts: dict[tuple[str, str], Alert] = {}
    drill, disclosed = current_drill()
    candidates = Alert.objects.select_for_update().filter(
        state__in=OPEN_ALERT_STATES, rule_id__in={rule for rule, _ in grouped},
        group_key__in={key for _, key in grouped}, drill=drill,
    ).order_by("id")
    for alert in candidates:
        open_alerts.setdefault((alert.rule_id, alert.group_key), alert)
    # An alert belongs to the site its event names (gxp.site: a central directory or
    # cyberqms itself serves several sites), else to its source's site.
    from cyberqms.platform.accounts.models import Site

    codes = {ocsf.get(match.event, "gxp.site") for match, _ in matches}
    sites = {site.code: site for site in Site.objects.filter(
        code__in=[c for c in codes if isinstance(c, str) and c])}
    touched: dict[int, Alert] = {}
    extended: list[Alert] = []
    links: dict[int, set[int]] = {}
    earlier: dict[int, set[int]] = {}
    for (rule_id, key), found in grouped.items():
        first, last = found[0][0], found[-1][0]
        received_at = _seen(received[found[0][1]], None)
        seen = [ahead_at.get(index) or _seen(times[index], received_at) for _, index in found]
        count = sum(match.count or 1 for match, _ in found)
        source = row_sources[found[0][1]]
        site = sites.get(ocsf.get(first.event, "gxp.site") or "") or source.site
        existing = open_alerts.get((rule_id, key))
        if existing is None:
            alert = Alert(
                number=next_number("ALERT", received_at), rule_id=rule_id,
                title=first.title[:300], level=first.level or "medium",
                techniques=list(first.techniques), requirements=list(first.requirements),
                group_key=key, site=site, source=source, first_seen=min(seen),
                last_seen=max(seen), count=count, summary=_summary(last),
                context=dict(first.context or {}), created_at=received_at, drill=drill,
                drill_disclosed=disclosed,
            )
            alert.save()
            audit_record("monitoring.alert.create", alert, actor=None, created=True)
            alert_raised(alert)  # inbox and e-mail for high and critical ones, on commit
        else:
            alert = existing
            alert.count += count
            alert.last_seen = max(alert.last_seen, *seen)
            alert.summary = _summary(last)
            alert.updated_at = timezone.now()
            extended.append(alert)
        linked = links.setdefault(alert.pk, set())
        linked.update(ids[index] for _, index in found)
        earlier.setdefault(alert.pk, set()).update(
            ref.id for match, _ in found for ref in match.related
            if isinstance(ref, _Ref) and ref.id is not None and ref.id not in linked)
        touched[alert.pk] = alert
    if extended:
        Alert.objects.bulk_update(extended, ["count", "last_seen", "summary", "updated_at"])
    wanted = set().union(*earlier.values())
    if wanted:  # rows of earlier batches that still exist (a batch may have rolled back)
        present = _keep_as_evidence(wanted)
        for alert_pk, refs in earlier.items():
            links[alert_pk].update(refs & present)
    through = Alert.events.through
    through.objects.bulk_create(
        [through(alert_id=alert_pk, rawevent_id=row_id)
         for alert_pk, row_ids in links.items() for row_id in sorted(row_ids)],
        ignore_conflicts=True, batch_size=500,
    )
    return sorted(touched.values(), key=lambda a: -LEVEL_ORDER.get(a.level, 0))


def _keep_as_evidence(ids: set[int]) -> set[int]:
    """Of rows stored by earlier batches, those that exist; the ones stored without their
    normalized event get it now, derived again from the kept payload (without the
    enrichment of the time: marked ``metadata.derived_at``)."""
    rows = list(RawEvent.objects.filter(pk__in=ids).select_related("source", "source__site")
                .only("pk", "payload", "received_at", "event", "status", "source"))
    prepare = json_column()
    now = ocsf.epoch_ms(timezone.now())
    with connection.cursor() as cursor:
        for row in rows:
            if row.event is not None or row.status != RawStatus.ACCEPTED:
                continue
            source = row.source
            try:
                parsed = parse_line(bytes(row.payload), cast("Format", source.format),
                                    received_at=row.received_at)
                event = ocsf.normalize(parsed, source=source_info(source),
                                       received_at=row.received_at)
            except ParseError:  # the parsers changed since: keep the row as it is
                continue
            event["metadata"]["uid"] = str(row.pk)
            event["metadata"]["derived_at"] = now
            cursor.execute(
                f"UPDATE {RawEvent._meta.db_table} "  # noqa: S608  # table from the model
                "SET event = %s WHERE id = %s",
                [prepare(event), row.pk])
    return {row.pk for row in rows}


def _seen(value: datetime | str | None, default: datetime | None) -> datetime:
    """A row's time column back as an aware datetime (`default` when it has none)."""
    if value is None:
        assert default is not None
        return default
    if isinstance(value, str):  # SQLite column text: naive UTC
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value


def _summary(match: Match) -> str:
    """What the latest match saw, in the event's words. The number of events is the
    alert's `count` (the whole alert), never the match's (one correlation window)."""
    return str(match.event.get("message") or match.title)[:500]


# --- sources ----------------------------------------------------------------------------------


def source_create(
    *, actor: Actor, name: str, kind: str, system: str, format: str, site: Any = None,
    integration: Any = None, addresses: list[str] | None = None, gxp_system: Any = None,
) -> EventSource:
    """Register an event source (P11-12), optionally of a system of the inventory.

    Side effects: audit `monitoring.source.create`."""
    require(actor, "monitoring.source.manage")
    _check_gxp_system(gxp_system, site)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["Name the source."]})
    if EventSource.objects.filter(name=name).exists():
        raise ValidationError({"name": [f"A source named {name!r} exists."]})
    with transaction.atomic():
        source = EventSource.objects.create(
            name=name, kind=kind, system=system, format=format, site=site,
            integration=integration, addresses=addresses or [], created_at=timezone.now(),
            gxp_system=gxp_system,
        )
        audit_record("monitoring.source.create", source, actor=actor, created=True)
    return source


def _check_gxp_system(gxp_system: Any, site: Any) -> None:
    if gxp_system is None:
        return
    if gxp_system.is_deleted or gxp_system.state == "retired":
        raise ValidationError({"gxp_system": [
            f"{gxp_system.number} is {gxp_system.get_state_display().lower()}: "
            "choose a system in use."]})
    if site is not None and gxp_system.site_id != site.pk:
        raise ValidationError({"gxp_system": [
            f"{gxp_system.number} is at {gxp_system.site.code}, the source at {site.code}."]})


def source_system_set(source: EventSource, *, actor: Actor, gxp_system: Any) -> EventSource:
    """Say which system of the inventory a source reports on (or none): its alerts and
    the incidents they open land on that system from then on.

    :raises ValidationError: a retired or deleted system, or one at another site
        (`gxp_system`).
    Side effects: audit `monitoring.source.system` (before and after).
    """
    require(actor, "monitoring.source.manage")
    _check_gxp_system(gxp_system, source.site)
    with transaction.atomic():
        locked = EventSource.objects.select_for_update().get(pk=source.pk)
        if locked.gxp_system_id == getattr(gxp_system, "pk", None):
            return locked
        before = snapshot(locked)
        locked.gxp_system = gxp_system
        locked.save(update_fields=["gxp_system"])
        audit_record("monitoring.source.system", locked, actor=actor, before=before)
    return locked


# --- alert lifecycle --------------------------------------------------------------------------


def alert_transition(alert: Alert, action: str, *, actor: Actor, reason: str = "") -> Alert:
    """Move an alert through its lifecycle (acknowledge, investigate, resolve,
    false_positive, reopen). Side effects: audit `monitoring.alert.<action>`."""
    return ALERT_WORKFLOW.run(alert, action, actor=actor, reason=reason)


def alert_assignees(alert: Alert) -> QuerySet[Any]:
    """The people an alert may be assigned to: named, active people whose roles let them
    work alerts (`monitoring.alert.triage`) at its site, as the gate decides."""
    return people_able(ALERT_WORK, [alert.site_id])


def alert_assign(alert: Alert, *, actor: Actor, assignee: Any) -> Alert:
    """Assign an open alert to a person who may work alerts at its site, or hand it on to
    another. Assigning it to its current assignee changes nothing.

    :raises TransitionNotAllowed: the alert is closed (resolved or a false positive).
    :raises ValidationError: `assignee` may not work alerts at the alert's site.
    Side effects: audit entry `monitoring.alert.assign` (assignee before and after); an
    assignment notice to the new assignee on commit (none when they took it themselves).
    """
    require(actor, ALERT_WORK, alert)
    if assignee is None or not alert_assignees(alert).filter(pk=assignee.pk).exists():
        who = getattr(assignee, "printed_name", "") or "Nobody"
        where = f" at {alert.site.code}" if alert.site_id and alert.site else ""
        raise ValidationError({"assignee": [
            f"{who} may not work on security alerts{where}: choose someone who can."]})
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.state not in OPEN_ALERT_STATES:
            raise TransitionNotAllowed("assign", locked.state, [
                t.action for t in ALERT_WORKFLOW.actions_from(locked.state)])
        if locked.assignee_id != assignee.pk:
            before = snapshot(locked)
            locked.assignee = assignee
            locked.save(update_fields=["assignee", "updated_at"])
            audit_record("monitoring.alert.assign", locked, actor=actor, before=before)
            # The former assignee's notice is done with; the new one holds while it is open.
            key = f"monitoring.alert:{locked.pk}:assignee"
            notifications_resolve(key, keep=assignee)
            notify([assignee], kind="assignment",
                   subject=f"{locked.number} assigned to you: {locked.title}",
                   body=f"Assigned by {_actor_name(actor)}; the {locked.level} alert is "
                        f"{AlertState(locked.state).label.lower()}.",
                   url=reverse("monitoring:alert", args=[locked.pk]),
                   record_type="monitoring.alert", record_id=locked.pk,
                   record_number=locked.number, exclude=actor,
                   awaits=OPEN_ALERT_STATES, subject_key=key)
    alert.assignee, alert.updated_at = locked.assignee, locked.updated_at
    return locked


def _actor_name(actor: Any) -> str:
    return str(getattr(actor, "printed_name", "") or getattr(actor, "username", "") or
               "Someone")
