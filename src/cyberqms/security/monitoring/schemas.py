"""API shapes of the monitoring metrics (`GET /api/v1/monitoring/metrics`)."""
# No "from __future__ import annotations": pydantic resolves these annotations at runtime.

from datetime import date, datetime

from ninja import Schema


class DurationsOut(Schema):
    count: int
    median_s: float | None
    mean_s: float | None


class RuleOut(Schema):
    rule_id: str
    title: str
    level: str
    alerts: int
    open: int
    closed: int
    false_positives: int
    false_positive_rate: float | None
    time_to_detect: DurationsOut


class DayOut(Schema):
    day: date
    total: int
    by_level: dict[str, int]


class AlertMetricsOut(Schema):
    total: int
    by_level: dict[str, int]
    per_day: list[DayOut]
    by_rule: list[RuleOut]
    time_to_detect: DurationsOut
    time_to_acknowledge: DurationsOut
    time_to_resolve: DurationsOut
    closed: int
    false_positives: int
    false_positive_rate: float | None
    open_by_state: dict[str, int]
    oldest_open: datetime | None


class RatePointOut(Schema):
    start: datetime
    events: int
    per_second: float


class ReasonOut(Schema):
    reason: str
    count: int


class SourceTimingOut(Schema):
    source: str
    delayed: int
    late: int
    ahead: int


class EventMetricsOut(Schema):
    accepted: int
    quarantined: int
    quarantined_by_reason: list[ReasonOut]
    current_per_second: float
    average_per_second: float
    peak_per_second: float
    peak_minute: datetime | None
    bucket_seconds: int
    series: list[RatePointOut]
    delayed: int  # older than the skew allowance: correlated in their own time windows
    late: int  # older than the lateness bound: detection used the receive time
    ahead: int  # claimed a time ahead of their receipt: detection used the receive time
    timing_by_source: list[SourceTimingOut]


class PeriodOut(Schema):
    start: datetime
    end: datetime
    period: str  # 24h, 7d, 30d, 90d; empty when dates were given
    site: str | None


class MetricsOut(Schema):
    period: PeriodOut
    alerts: AlertMetricsOut
    events: EventMetricsOut | None  # null: the caller may not view events
