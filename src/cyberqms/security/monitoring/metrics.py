"""Monitoring metrics (issue 5, deliverable 8): how fast alerts are detected, acknowledged
and resolved, how many each rule raises and how many of those were false positives, how
many events arrive per second and how many are quarantined.

Reads only, computed by the database (aggregates, window functions for medians) so the
cost does not grow with a Python loop over events; the same SQL runs on SQLite and
PostgreSQL. Event figures read the per-minute counts ingest keeps (`EventRollup`,
`rollups.py`), never the raw events. The figures of a period cover:

- alerts *created* in the period (their later acknowledgement or closure counts with
  them): time to detect = `created_at` − the time of the alert's first event (the earliest
  `event_time` of its linked events, else `first_seen`; never below 0, a sender whose
  clock runs ahead would make it negative); time to acknowledge = `acknowledged_at` −
  `created_at`; time to resolve = `closed_at` − `created_at` of alerts resolved or closed
  as false positives; false-positive rate = false positives / closed alerts;
- events *received* in the period's minutes (`RawEvent.received_at`, counted per UTC
  minute: a minute belongs to the period if it begins in it), accepted and quarantined;
  events per second now (the last whole minute before `now`), on average over the period
  and at the busiest minute; accepted events whose claimed time detection did not use as
  it was (`RawEvent.timing`: late and ahead ones ran on their receive time, delayed ones
  in their own windows), in all and per source;
- open alerts by state: now, whatever the period.

Alerts raised by attack drills (`Alert.drill`) are left out unless the scope counts them.

Sites: an actor sees the figures of the sites where it holds the view action
(`queries.visible_sites`); alerts and sources without a site count only for actors who
see every site.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import NotSupportedError, connection
from django.db.models import (
    Avg,
    Case,
    CharField,
    Count,
    DurationField,
    Expression,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Greatest, Least, RowNumber, TruncDate
from django.utils import timezone

from cyberqms.platform.accounts.models import Site

from . import queries
from .enums import LEVEL_ORDER, OPEN_ALERT_STATES, AlertState
from .models import Alert, EventRollup, EventSource

PERIODS: dict[str, tuple[str, timedelta]] = {
    "24h": ("Last 24 hours", timedelta(hours=24)),
    "7d": ("Last 7 days", timedelta(days=7)),
    "30d": ("Last 30 days", timedelta(days=30)),
    "90d": ("Last 90 days", timedelta(days=90)),
}
DEFAULT_PERIOD = "30d"
MAX_SPAN = timedelta(days=366)
CLOSED_STATES = (AlertState.RESOLVED, AlertState.FALSE_POSITIVE)
LEVELS = queries.LEVELS  # critical first
CURRENT_WINDOW = timedelta(minutes=1)
HOURLY_UP_TO = timedelta(days=31)  # longer periods are charted per day


@dataclass(frozen=True)
class Scope:
    """What the figures cover: [start, end) and the sites (None: every site, and what has
    no site)."""

    start: datetime
    end: datetime
    sites: frozenset[int] | None = None
    drills: bool = False  # alerts raised by drills counted too (monitoring/marker.py)

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def scope_for(actor: Any, action: str, *, start: datetime, end: datetime,
              site_id: int | None = None, drills: bool = False) -> Scope:
    """The actor's scope for `action` over [start, end), narrowed to one site if asked."""
    visible = queries.visible_sites(actor, action)
    sites: frozenset[int] | None
    if site_id is not None:
        sites = frozenset({site_id}) if visible is None or site_id in visible else frozenset()
    else:
        sites = None if visible is None else frozenset(visible)
    return Scope(start, end, sites, drills)


def sites_for(actor: Any) -> list[Site]:
    """The sites whose alerts `actor` may see (the metrics filter's choices), by code."""
    visible = queries.visible_sites(actor, queries.ALERT_VIEW)
    rows = Site.objects.order_by("code")
    return list(rows if visible is None else rows.filter(pk__in=visible))


def period_bounds(period: str, *, now: datetime | None = None) -> tuple[datetime, datetime]:
    """[start, end) of a named period ending now."""
    end = now or timezone.now()
    return end - PERIODS[period][1], end


# --- result types ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Durations:
    """Median and mean of a duration over `count` alerts, in seconds (None when none)."""

    count: int
    median_s: float | None
    mean_s: float | None


NO_DURATIONS = Durations(0, None, None)


@dataclass(frozen=True)
class RuleRow:
    rule_id: str
    title: str
    level: str  # the most severe level the rule raised in the period
    alerts: int
    open: int
    closed: int
    false_positives: int
    time_to_detect: Durations

    @property
    def false_positive_rate(self) -> float | None:
        return self.false_positives / self.closed if self.closed else None


@dataclass(frozen=True)
class DayRow:
    day: date
    by_level: dict[str, int]  # every level, critical first
    total: int


@dataclass(frozen=True)
class AlertMetrics:
    total: int
    by_level: dict[str, int]  # every level, critical first
    per_day: list[DayRow]  # every day of the period (UTC), oldest first
    by_rule: list[RuleRow]  # most alerts first
    time_to_detect: Durations
    time_to_acknowledge: Durations
    time_to_resolve: Durations
    closed: int
    false_positives: int
    open_by_state: dict[str, int]  # now, whatever the period
    oldest_open: datetime | None

    @property
    def false_positive_rate(self) -> float | None:
        return self.false_positives / self.closed if self.closed else None

    @property
    def open_total(self) -> int:
        return sum(self.open_by_state.values())


@dataclass(frozen=True)
class RatePoint:
    start: datetime
    events: int
    per_second: float


@dataclass(frozen=True)
class ReasonCount:
    reason: str
    count: int


@dataclass(frozen=True)
class SourceTiming:
    """A source's accepted events of the period that detection ran on their receive time
    (late, ahead) or in their own windows (delayed)."""

    source: str
    delayed: int
    late: int
    ahead: int


@dataclass(frozen=True)
class EventMetrics:
    accepted: int
    quarantined: int
    quarantined_by_reason: list[ReasonCount]  # most first
    current_per_second: float  # over the minute before `now`
    average_per_second: float  # over the period
    peak_per_second: float  # over the busiest minute of the period
    peak_minute: datetime | None
    bucket_seconds: int
    series: list[RatePoint] = field(default_factory=list)  # every bucket, oldest first
    delayed: int = 0  # accepted events older than the skew: correlated in their own windows
    late: int = 0  # older than the lateness bound: processed on their receive time
    ahead: int = 0  # claimed a time ahead of their receipt: processed on their receive time
    timing_by_source: list[SourceTiming] = field(default_factory=list)  # most first

    @property
    def total(self) -> int:
        return self.accepted + self.quarantined

    @property
    def quarantined_share(self) -> float | None:
        return self.quarantined / self.total if self.total else None


@dataclass(frozen=True)
class Overview:
    scope: Scope
    alerts: AlertMetrics
    events: EventMetrics | None  # None: the actor may not see events


# --- SQL building blocks --------------------------------------------------------------------


class TimeBucket(Func):
    """The UTC minute, hour or day of a timestamp, for grouping, computed by built-in SQL
    on both backends (Django's Trunc calls a Python function per row on SQLite, too slow
    for grouping a month of events): text on SQLite ("2026-11-20 09:15"), a naive UTC
    timestamp on PostgreSQL. `parse` turns either into an aware datetime."""

    output_field = CharField()
    LENGTH = {"minute": 16, "hour": 13, "day": 10}  # of SQLite's "YYYY-MM-DD HH:MM:SS"
    PARSE = {"minute": "%Y-%m-%d %H:%M", "hour": "%Y-%m-%d %H", "day": "%Y-%m-%d"}

    TEMPLATES = {
        # SQLite keeps aware datetimes as UTC text, "YYYY-MM-DD HH:MM:SS[.ffffff]".
        "sqlite": "substr({column}, 1, {length})",
        # date_trunc on the UTC wall time: a timestamp without time zone (cheaper than
        # to_char); `parse` reads both shapes.
        "postgresql": "date_trunc('{unit}', {column} AT TIME ZONE 'UTC')",
    }

    def __init__(self, expression: Any, unit: str) -> None:
        if unit not in self.LENGTH:
            raise ValueError(f"unit is one of {', '.join(self.LENGTH)}")
        self.unit = unit
        super().__init__(expression)

    @classmethod
    def sql(cls, column: str, unit: str, vendor: str) -> str:
        """The bucket of `column` (SQL) in the SQL of `vendor`."""
        if vendor not in cls.TEMPLATES:
            raise NotSupportedError("TimeBucket supports SQLite and PostgreSQL")
        return cls.TEMPLATES[vendor].format(column=column, unit=unit, length=cls.LENGTH[unit])

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection,
                           template=self.sql("%(expressions)s", self.unit, connection.vendor),
                           **extra)

    as_postgresql = as_sqlite

    def as_mysql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        raise NotSupportedError("TimeBucket supports SQLite and PostgreSQL")

    as_oracle = as_mysql

    @classmethod
    def parse(cls, value: str | datetime, unit: str) -> datetime:
        """The bucket's start, aware UTC (SQLite gives text, PostgreSQL a naive UTC time)."""
        if isinstance(value, datetime):
            return value.replace(tzinfo=UTC)
        return datetime.strptime(value, cls.PARSE[unit]).replace(tzinfo=UTC)


def _duration(later: Any, earlier: Any) -> Expression:
    """`later` − `earlier`, never below zero."""
    return Greatest(
        ExpressionWrapper(later - earlier, output_field=DurationField()),
        Value(timedelta(0), output_field=DurationField()),
    )


def detect_delay() -> Expression:
    """Time to detect of an alert: its creation − the time of its first event."""
    first_linked = Subquery(
        Alert.events.through.objects
        .filter(alert_id=OuterRef("pk"), rawevent__event_time__isnull=False)
        .order_by("rawevent__event_time").values("rawevent__event_time")[:1]
    )
    first = Least(F("first_seen"), Coalesce(first_linked, F("first_seen")))
    return _duration(F("created_at"), first)


def _level_rank() -> Case:
    return Case(*(When(level=name, then=Value(rank)) for name, rank in LEVEL_ORDER.items()),
                default=Value(-1), output_field=IntegerField())


def _durations(rows: QuerySet[Alert], delay: Expression, *, by: str | None = None
               ) -> dict[Any, Durations]:
    """Count, median and mean of `delay` over `rows`, per value of `by` (or under None).

    Two queries whatever the number of rows: the counts and means grouped, then the one
    or two middle rows of each group, found with window functions (ROW_NUMBER over the
    ordered delays and the group's size)."""
    measured = rows.order_by().annotate(delay=delay)
    totals: list[tuple[Any, int, timedelta | None]]
    if by is None:
        overall = measured.aggregate(n=Count("pk"), mean=Avg("delay"))
        totals = [(None, overall["n"], overall["mean"])]
    else:
        totals = list(measured.values_list(by).annotate(n=Count("pk"), mean=Avg("delay")))
    partition = [F(by)] if by else None
    middle = (
        measured.annotate(
            rank=Window(RowNumber(), partition_by=partition,
                        order_by=[F("delay").asc(), F("pk").asc()]),
            size=Window(Count("pk"), partition_by=partition),
        )
        # The median is the middle row (odd size) or the mean of the two middle ones:
        # rows ranked in [size/2, size/2 + 1].
        .filter(rank__gte=F("size") / 2.0, rank__lte=F("size") / 2.0 + 1)
        .values_list(by or "pk", "delay")
    )
    halves: dict[Any, list[timedelta]] = defaultdict(list)
    for key, value in middle:
        halves[key if by else None].append(value)
    found = {}
    for key, n, mean in totals:
        if not n:
            continue
        values = halves.get(key, [])
        median = sum(values, timedelta(0)) / len(values) if values else None
        found[key] = Durations(
            count=n,
            median_s=median.total_seconds() if median is not None else None,
            mean_s=mean.total_seconds() if mean is not None else None,
        )
    return found


# --- alerts ----------------------------------------------------------------------------------


def _alert_sites(rows: QuerySet[Alert], scope: Scope) -> QuerySet[Alert]:
    """`rows` at the scope's sites, drills left out unless the scope counts them."""
    if not scope.drills:
        rows = rows.filter(drill="")
    return rows if scope.sites is None else rows.filter(site_id__in=scope.sites)


def alerts_in(scope: Scope) -> QuerySet[Alert]:
    """Alerts created in the scope's period, at its sites."""
    rows = Alert.objects.order_by().filter(created_at__gte=scope.start, created_at__lt=scope.end)
    return _alert_sites(rows, scope)


def time_to_detect(scope: Scope) -> Durations:
    return _durations(alerts_in(scope), detect_delay()).get(None, NO_DURATIONS)


def time_to_acknowledge(scope: Scope) -> Durations:
    rows = alerts_in(scope).filter(acknowledged_at__isnull=False)
    return _durations(rows, _duration(F("acknowledged_at"), F("created_at"))).get(
        None, NO_DURATIONS)


def time_to_resolve(scope: Scope) -> Durations:
    """Creation to closure of the alerts closed (resolved or false positive)."""
    rows = alerts_in(scope).filter(state__in=CLOSED_STATES, closed_at__isnull=False)
    return _durations(rows, _duration(F("closed_at"), F("created_at"))).get(
        None, NO_DURATIONS)


def alerts_by_rule(scope: Scope) -> list[RuleRow]:
    """Alerts per rule with their outcome and time to detect, most alerts first."""
    rows = alerts_in(scope)
    detect = _durations(rows, detect_delay(), by="rule_id")
    rank_to_level = {rank: name for name, rank in LEVEL_ORDER.items()}
    grouped = (
        rows.values("rule_id")
        .annotate(
            title=Max("title"), level_rank=Max(_level_rank()), alerts=Count("pk"),
            open=Count("pk", filter=Q(state__in=OPEN_ALERT_STATES)),
            closed=Count("pk", filter=Q(state__in=CLOSED_STATES)),
            false_positives=Count("pk", filter=Q(state=AlertState.FALSE_POSITIVE)),
        )
        .order_by("-alerts", "title", "rule_id")
    )
    return [
        RuleRow(
            rule_id=row["rule_id"], title=row["title"],
            level=rank_to_level.get(row["level_rank"], "medium"), alerts=row["alerts"],
            open=row["open"], closed=row["closed"], false_positives=row["false_positives"],
            time_to_detect=detect.get(row["rule_id"], NO_DURATIONS),
        )
        for row in grouped
    ]


def days_of(scope: Scope) -> list[date]:
    """The UTC days the period touches, oldest first."""
    first = scope.start.astimezone(UTC).date()
    last = (scope.end - timedelta(microseconds=1)).astimezone(UTC).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def alerts_per_day(scope: Scope) -> list[DayRow]:
    """Alerts created each UTC day of the period, per level; days without alerts too."""
    counts: dict[date, dict[str, int]] = {}
    grouped = (alerts_in(scope).annotate(day=TruncDate("created_at", tzinfo=UTC))
               .values_list("day", "level").annotate(n=Count("pk")))
    for day, level, n in grouped:
        per_level = counts.setdefault(day, {})
        per_level[level] = per_level.get(level, 0) + n
    rows = []
    for day in days_of(scope):
        found = counts.get(day, {})
        by_level = {level: found.get(level, 0) for level in LEVELS}
        rows.append(DayRow(day=day, by_level=by_level, total=sum(found.values())))
    return rows


def open_alerts(scope: Scope) -> tuple[dict[str, int], datetime | None]:
    """Open alerts by state now (whatever the period) and when the oldest was created."""
    rows = _alert_sites(Alert.objects.order_by().filter(state__in=OPEN_ALERT_STATES), scope)
    found = {state: (n, oldest) for state, n, oldest in
             rows.values_list("state").annotate(n=Count("pk"), oldest=Min("created_at"))}
    oldest = min((o for _n, o in found.values()), default=None)
    return {state.value: found.get(state, (0, None))[0] for state in OPEN_ALERT_STATES}, oldest


def alert_metrics(scope: Scope) -> AlertMetrics:
    per_day = alerts_per_day(scope)
    by_rule = alerts_by_rule(scope)
    by_level = {level: sum(day.by_level[level] for day in per_day) for level in LEVELS}
    open_by_state, oldest = open_alerts(scope)
    return AlertMetrics(
        total=sum(by_level.values()), by_level=by_level, per_day=per_day, by_rule=by_rule,
        time_to_detect=time_to_detect(scope), time_to_acknowledge=time_to_acknowledge(scope),
        time_to_resolve=time_to_resolve(scope),
        closed=sum(r.closed for r in by_rule),
        false_positives=sum(r.false_positives for r in by_rule),
        open_by_state=open_by_state, oldest_open=oldest,
    )


# --- events ----------------------------------------------------------------------------------


def rollups_in(scope: Scope) -> QuerySet[EventRollup]:
    """The event counts (`EventRollup`, kept by ingest) of the minutes that begin in the
    period, from sources at the scope's sites: a minute counts whole, so the period's
    edges are rounded up to the minute. Read through the rollups' key, minute first."""
    rows = EventRollup.objects.order_by().filter(minute__gte=scope.start, minute__lt=scope.end)
    if scope.sites is not None:
        rows = rows.filter(source__in=EventSource.objects.filter(site_id__in=scope.sites))
    return rows


def _received() -> Expression:
    return Sum(F("accepted") + F("quarantined"))


def _per_bucket(scope: Scope, unit: str) -> dict[datetime, tuple[int, int, int]]:
    """Per bucket (`unit`) of the period: its accepted and quarantined events and those
    of its busiest minute. One pass over the period's rollups, read in key order (minute
    first): summed per minute, then the minutes per bucket."""
    per_minute = (rollups_in(scope).values(at=F("minute"))
                  .annotate(a=Sum("accepted"), q=Sum("quarantined")))
    try:
        minutes, params = per_minute.query.sql_with_params()
    except EmptyResultSet:  # no site in scope
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {TimeBucket.sql('at', unit, connection.vendor)}, SUM(a), SUM(q), "  # noqa: S608  # our own SQL, values bound
            f"MAX(a + q) FROM ({minutes}) per_minute GROUP BY 1", params)
        return {TimeBucket.parse(bucket, unit): (int(a), int(q), int(busiest))
                for bucket, a, q, busiest in cursor.fetchall()}


def event_rates(scope: Scope, *, now: datetime | None = None
                ) -> tuple[float, float, datetime | None, int, list[RatePoint], int, int]:
    """(per second now, at the busiest minute, that minute, bucket seconds, series,
    accepted, quarantined). Now is the last whole minute before `now`."""
    now = now or timezone.now()
    this_minute = now.astimezone(UTC).replace(second=0, microsecond=0)
    last_minute = rollups_in(Scope(this_minute - CURRENT_WINDOW, this_minute, scope.sites)
                             ).aggregate(n=_received())["n"] or 0
    unit = "hour" if scope.end - scope.start <= HOURLY_UP_TO else "day"
    bucket = timedelta(hours=1) if unit == "hour" else timedelta(days=1)
    counts = _per_bucket(scope, unit)
    peak, peak_minute = max((busiest for _a, _q, busiest in counts.values()), default=0), None
    if peak:  # the earliest minute that busy, in the first bucket that holds one
        first = min(moment for moment, (_a, _q, busiest) in counts.items() if busiest == peak)
        within = Scope(max(first, scope.start), min(first + bucket, scope.end), scope.sites)
        peak_minute = (rollups_in(within).values("minute").annotate(n=_received())
                       .filter(n=peak).order_by("minute").values_list("minute", flat=True)
                       .first())
    start = scope.start.astimezone(UTC)
    moment = (start.replace(minute=0, second=0, microsecond=0) if unit == "hour"
              else start.replace(hour=0, minute=0, second=0, microsecond=0))
    series = []
    while moment < scope.end:
        accepted, quarantined, _busiest = counts.get(moment, (0, 0, 0))
        n = accepted + quarantined
        series.append(RatePoint(moment, n, n / bucket.total_seconds()))
        moment += bucket
    return (
        last_minute / CURRENT_WINDOW.total_seconds(),
        peak / 60,
        peak_minute,
        int(bucket.total_seconds()),
        series,
        sum(accepted for accepted, _q, _b in counts.values()),
        sum(quarantined for _a, quarantined, _b in counts.values()),
    )


def event_metrics(scope: Scope, *, now: datetime | None = None) -> EventMetrics:
    """The event figures of the scope, from the rollups: five queries (four for an empty
    period) whatever the number of events and sources, none over the raw events."""
    rows = rollups_in(scope)
    timing_by_source = [
        SourceTiming(name, delayed, late, ahead) for name, delayed, late, ahead in
        rows.filter(Q(delayed__gt=0) | Q(late__gt=0) | Q(ahead__gt=0))
        .values_list("source__name")
        .annotate(delayed=Sum("delayed"), late=Sum("late"), ahead=Sum("ahead"))
        .order_by("-late", "-ahead", "-delayed", "source__name")
    ]
    reasons = [
        ReasonCount(reason, n) for reason, n in
        rows.filter(quarantined__gt=0).values_list("reason")
        .annotate(n=Sum("quarantined")).order_by("-n", "reason")
    ]
    current, peak, peak_minute, bucket_seconds, series, accepted, quarantined = event_rates(
        scope, now=now)
    total = accepted + quarantined
    return EventMetrics(
        accepted=accepted, quarantined=quarantined,
        quarantined_by_reason=reasons, current_per_second=current,
        average_per_second=total / scope.seconds if scope.seconds > 0 else 0.0,
        peak_per_second=peak, peak_minute=peak_minute, bucket_seconds=bucket_seconds,
        series=series, delayed=sum(t.delayed for t in timing_by_source),
        late=sum(t.late for t in timing_by_source),
        ahead=sum(t.ahead for t in timing_by_source), timing_by_source=timing_by_source,
    )


# --- everything, for one actor ---------------------------------------------------------------


def overview(actor: Any, *, start: datetime, end: datetime, site_id: int | None = None,
             now: datetime | None = None, drills: bool = False) -> Overview:
    """Every figure of the monitoring page and API for `actor`: alerts at the sites where
    it may view alerts; events only if it may view events (else None)."""
    from cyberqms.platform.core.access import can

    alerts_scope = scope_for(actor, queries.ALERT_VIEW, start=start, end=end, site_id=site_id,
                             drills=drills)
    events = None
    if can(actor, queries.EVENT_VIEW):
        events_scope = scope_for(actor, queries.EVENT_VIEW, start=start, end=end,
                                 site_id=site_id)
        events = event_metrics(events_scope, now=now)
    return Overview(scope=alerts_scope, alerts=alert_metrics(alerts_scope), events=events)
