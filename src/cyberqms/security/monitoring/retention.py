"""How long received security events are kept, and their removal when that time is up.

The policy (``CYBERQMS_EVENT_RETENTION``) names days per source kind: "default=365,
firewall=90,scada=730" keeps a firewall's events 90 days, a SCADA relay's two years and
every other kind's one year; "forever" keeps a kind's events. Whatever its age, an event
that an alert names is evidence: it is marked ``kept`` and stays as long as the alert
(the record's retention, which nothing here shortens).

What a removal leaves (A11-10, nothing dropped silently): the counts of every event ever
received stay in the rollups and the sources' totals, which ingest kept when it took them
(`rollups.py`); and each removal writes, in its own transaction, a
``monitoring.retention`` security event naming the period, the counts per source and the
policy applied.

Removal goes a day of receipt at a time, so that no transaction holds the write lock
long. On PostgreSQL (`partitions.py`) a month in which every source's events have expired
is dropped whole after its evidence moved out; what expires inside a month (a kind kept
less than the longest period) is deleted row by row, as on SQLite.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from cyberqms.platform.accounts.enums import IntegrationKind
from cyberqms.platform.core.events import emit_security_event
from cyberqms.platform.core.models import Severity

from . import partitions
from .models import DetectionBacklog, EventSource, RawEvent, SourceTotals

logger = logging.getLogger("cyberqms.monitoring")

DEFAULT = "default"
FOREVER = "forever"
_TABLE = RawEvent._meta.db_table
_LINKS = RawEvent.alerts.through._meta.db_table
_EVIDENCE = f"EXISTS (SELECT 1 FROM {_LINKS} l WHERE l.rawevent_id = {_TABLE}.id)"  # noqa: S608  # model names


def parse_policy(text: str) -> dict[str, int | None]:
    """``kind=days`` pairs, comma-separated, as a mapping (None: forever). A bare number
    is the default. Raises ImproperlyConfigured naming what is wrong."""
    name = "CYBERQMS_EVENT_RETENTION"
    kinds = {str(k) for k in IntegrationKind.values}
    policy: dict[str, int | None] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        kind, _, days = item.rpartition("=")
        kind = kind.strip().lower() or DEFAULT
        days = days.strip().lower()
        if kind != DEFAULT and kind not in kinds:
            raise ImproperlyConfigured(
                f"{name}: {kind!r} is not a source kind (one of {DEFAULT}, "
                f"{', '.join(sorted(kinds))}).")
        if kind in policy:
            raise ImproperlyConfigured(f"{name}: {kind} is named twice.")
        if days == FOREVER:
            policy[kind] = None
            continue
        try:
            value = int(days)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: the days for {kind} must be a whole number or {FOREVER}, "
                f"not {days!r}.") from None
        if value < 1:
            raise ImproperlyConfigured(f"{name}: the days for {kind} must be at least 1.")
        policy[kind] = value
    policy.setdefault(DEFAULT, None)
    return policy


def policy() -> dict[str, int | None]:
    return parse_policy(settings.CYBERQMS_EVENT_RETENTION)


def days_for(kind: str, rules: dict[str, int | None]) -> int | None:
    return rules[kind] if kind in rules else rules[DEFAULT]


@dataclass
class RetentionRun:
    """What one run removed (or, dry, would remove)."""

    now: datetime
    dry_run: bool
    removed: Counter[str] = field(default_factory=Counter)  # events per source name
    kept: int = 0  # events newly kept as the evidence of an alert
    periods: int = 0  # days (or whole months) gone through
    months_dropped: list[str] = field(default_factory=list)
    months_made: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.removed.values())


@dataclass(frozen=True)
class _Group:
    """The sources whose events expire at one moment (one kind's days), and where the
    previous run left them."""

    cut: datetime
    sources: dict[int, str]
    done: datetime | None  # every source's events before this are gone (None: unknown)


# Events received this long before the oldest batch the detector has not seen yet are
# held back: detection links the events of its batch and of its correlation windows
# (hours), which must not be removed under it.
DETECTION_MARGIN = timedelta(days=1)


def _detection_floor() -> datetime | None:
    oldest = (DetectionBacklog.objects.order_by("created_at")
              .values_list("created_at", flat=True).first())
    return oldest - DETECTION_MARGIN if oldest is not None else None


def _groups(now: datetime, rules: dict[str, int | None]) -> tuple[list[_Group], bool]:
    """The groups, earliest cut first, and whether every source that sent events has a
    finite period (a month may then go whole). A source that never sent anything has no
    events to remove."""
    marks: dict[int, datetime | None] = dict(
        SourceTotals.objects.values_list("source_id", "expired_before"))
    floor = _detection_floor()
    found: dict[datetime, dict[int, str]] = {}
    finite = True
    for pk, name, kind in EventSource.objects.values_list("pk", "name", "kind"):
        if pk not in marks:
            continue
        days = days_for(kind, rules)
        if days is None:
            finite = False
            continue
        cut = now - timedelta(days=days)
        found.setdefault(cut if floor is None else min(cut, floor), {})[pk] = name
    groups = []
    for cut, sources in sorted(found.items()):
        done = [marks[pk] for pk in sources]
        groups.append(_Group(cut, sources, None if None in done
                             else min(d for d in done if d is not None)))
    return groups, finite


def apply(
    *, now: datetime | None = None, dry_run: bool = False,
    progress: Callable[[RetentionRun], None] | None = None,
) -> RetentionRun:
    """Remove the events whose source's retention has passed (see the module)."""
    now = now or timezone.now()
    run = RetentionRun(now=now, dry_run=dry_run)
    partitioned = partitions.is_partitioned()
    if partitioned and not dry_run:
        run.months_made = [str(m) for m in partitions.ensure_ahead(now)]
        for month in partitions.detached():  # taken out by a run that stopped there
            _finish_month(run, month)
    groups, finite = _groups(now, policy())
    if not groups:
        return run
    names = {pk: name for group in groups for pk, name in group.sources.items()}
    counted: datetime | None = None  # a dry run's months, counted already
    if partitioned and finite:
        # A month goes whole once the longest-kept source's events in it have expired;
        # those sources' events of the month in course wait for it (kept up to a month
        # longer), so that they are not deleted row by row first.
        whole = groups[0].cut
        for month in partitions.months():
            if month.end > whole:
                break
            _drop_month(run, month, names)
            counted = month.end
            if progress:
                progress(run)
        held = partitions.Month.of(whole).start
        groups[0] = _Group(held, groups[0].sources, groups[0].done)
    for group in groups:
        known = [d for d in (group.done, counted) if d is not None]
        start = _oldest(group.sources, max(known) if known else None)
        while start is not None and start < group.cut:
            day = datetime(start.year, start.month, start.day, tzinfo=UTC)
            _remove(run, day, min(day + timedelta(days=1), group.cut), group.sources)
            if progress:
                progress(run)
            start = _oldest(group.sources, day + timedelta(days=1))
        if not dry_run:
            SourceTotals.objects.filter(source__in=group.sources).update(
                expired_before=group.cut)
    return run


def _oldest(sources: dict[int, str], after: datetime | None) -> datetime | None:
    """The receive time of the oldest event of `sources` not kept as evidence, from the
    day of `after` on."""
    rows = RawEvent.objects.filter(kept=False, source_id__in=list(sources))
    if after is not None:
        rows = rows.filter(received_at__gte=datetime(after.year, after.month, after.day,
                                                     tzinfo=UTC))
    moment = rows.order_by("received_at").values_list("received_at", flat=True).first()
    return moment.astimezone(UTC) if moment is not None else None


def _drop_month(run: RetentionRun, month: partitions.Month, names: dict[int, str]) -> None:
    run.periods += 1
    if run.dry_run:
        counted = (RawEvent.objects.filter(kept=False, received_at__gte=month.start,
                                           received_at__lt=month.end, alerts__isnull=True)
                   .values("source_id").annotate(n=Count("id")).values_list("source_id", "n"))
        run.removed.update({names.get(pk, str(pk)): n for pk, n in counted})
        return
    partitions.detach_month(month)
    _finish_month(run, month, names)


def _finish_month(run: RetentionRun, month: partitions.Month,
                  names: dict[int, str] | None = None) -> None:
    if names is None:
        names = dict(EventSource.objects.values_list("pk", "name"))
    with transaction.atomic():
        removed, kept = partitions.finish_month(month)
        _record(run, month.start, month.end, removed, kept, names, whole_month=True)
    run.months_dropped.append(str(month))


def _remove(run: RetentionRun, low: datetime, high: datetime, sources: dict[int, str]) -> None:
    """The events of `sources` received in [low, high): the evidence kept, the rest
    deleted, with the removal's record, in one transaction."""
    run.periods += 1
    marks = ", ".join(["%s"] * len(sources))
    where = f"kept = %s AND received_at >= %s AND received_at < %s AND source_id IN ({marks})"
    moment = connection.ops.adapt_datetimefield_value  # SQLite compares naive UTC text
    params: list[Any] = [False, moment(low), moment(high), *sources]
    with transaction.atomic(), connection.cursor() as cursor:
        if run.dry_run:
            cursor.execute(f"SELECT source_id, COUNT(*) FROM {_TABLE} "  # noqa: S608  # names from the models
                           f"WHERE {where} AND NOT {_EVIDENCE} GROUP BY source_id", params)
            run.removed.update({sources[pk]: n for pk, n in cursor.fetchall()})
            return
        if connection.vendor == "postgresql":
            # Links committed before are seen, links being added wait (the links first,
            # then the events: writers take the events' lock, which this does not block).
            cursor.execute(f"LOCK TABLE {_LINKS} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(f"UPDATE {_TABLE} SET kept = %s "  # noqa: S608  # names from the models
                       f"WHERE {where} AND {_EVIDENCE}", [True, *params])
        kept = cursor.rowcount
        cursor.execute(f"DELETE FROM {_TABLE} WHERE {where} AND NOT {_EVIDENCE} "  # noqa: S608  # names from the models
                       "RETURNING source_id", params)
        removed = Counter(row[0] for row in cursor.fetchall())
        _record(run, low, high, removed, kept, sources, whole_month=False)


def _record(run: RetentionRun, low: datetime, high: datetime, removed: dict[int, int],
            kept: int, names: dict[int, str], *, whole_month: bool) -> None:
    """The removal's security event, in the removal's transaction."""
    run.kept += kept
    by_name = {names.get(pk, f"source {pk}"): n for pk, n in sorted(removed.items()) if n}
    run.removed.update(by_name)
    if not by_name and not kept:
        return
    total = sum(by_name.values())
    span = f"{low:%B %Y}" if whole_month else f"{low:%Y-%m-%d}"
    message = (f"Retention removed {total:,} security event{'s' if total != 1 else ''} "
               f"received in {span}"
               + (f"; {kept:,} kept as evidence of alerts" if kept else ""))
    emit_security_event(
        "monitoring.retention", severity=Severity.INFO, message=message,
        data={"from": low.isoformat(), "to": high.isoformat(), "removed": by_name,
              "kept_as_evidence": kept, "whole_month": whole_month,
              "policy": settings.CYBERQMS_EVENT_RETENTION})


# --- the scheduler's job ------------------------------------------------------------------


def retention_interval() -> float:
    return float(settings.CYBERQMS_EVENT_RETENTION_INTERVAL)


def enqueue_retention() -> None:
    from .tasks import apply_retention

    apply_retention.enqueue()
