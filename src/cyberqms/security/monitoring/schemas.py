"""API shapes of the monitoring metrics (`GET /api/v1/monitoring/metrics`) and of the
alerts (`/api/v1/monitoring/alerts`)."""
# No "from __future__ import annotations": pydantic resolves these annotations at runtime.

from datetime import date, datetime
from typing import Literal

from ninja import Schema
from pydantic import AwareDatetime, ConfigDict, Field

from cyberqms.platform.core.paging import CURSOR_HELP


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


# --- alerts (`/api/v1/monitoring/alerts`) ----------------------------------------------------

# The values the list filters take (a test checks they are the enums' and sorts' values).
StateFilter = Literal["open", "any", "new", "acknowledged", "investigating", "resolved",
                      "false_positive"]
LevelFilter = Literal["critical", "high", "medium", "low", "informational"]
SortKey = Literal["number", "-number", "title", "-title", "state", "-state", "count",
                  "-count", "first", "-first", "last", "-last"]


class AlertFilters(Schema):
    state: StateFilter = Field("open", description=(
        "`open` (new, acknowledged or investigating; the default), `any`, or one state"))
    level: LevelFilter | None = Field(None, description="Severity level")
    site: str | None = Field(None, max_length=20, description="Site code")
    rule: str | None = Field(None, max_length=64, description="Rule id (`rule_id`)")
    assignee: str | None = Field(None, max_length=150, description=(
        "`me`, `none` (nobody assigned) or a username"))
    since: AwareDatetime | None = Field(None, description=(
        "Alerts last seen at or after this moment (with its zone)"))
    until: AwareDatetime | None = Field(None, description=(
        "Alerts first seen before this moment (with its zone)"))
    q: str | None = Field(None, max_length=100, description=(
        "Search in number, title, grouping values and summary"))
    sort: SortKey = Field("-last", description="A column key, - for descending")
    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int = Field(50, ge=1, le=200)
    cursor: str | None = Field(None, max_length=2000, description=CURSOR_HELP)


class PersonOut(Schema):
    username: str
    name: str  # as printed on records


class GroupValueOut(Schema):
    label: str  # the event field in words: "Account", "Source address"
    value: str


class AlertOut(Schema):
    id: int
    number: str
    url: str  # the alert's page
    title: str  # the rule's title
    rule_id: str
    level: str
    state: str
    state_label: str
    site: str | None  # site code
    source: str | None  # event source name
    group_key: str  # as the engine wrote it; `grouped_on` in words
    grouped_on: list[GroupValueOut]
    assignee: PersonOut | None
    count: int  # matching events over the alert's life
    first_seen: datetime
    last_seen: datetime
    created_at: datetime  # when it was detected
    acknowledged_at: datetime | None
    closed_at: datetime | None


class AlertPageOut(Schema):
    count: int
    count_exact: bool
    page: int | None
    pages: int | None
    results: list[AlertOut]
    next: str | None
    previous: str | None


class FeatureOut(Schema):
    feature: str  # hour, weekday, volume, host, action, user
    label: str  # in words: "Hour of day (site time)"
    value: str  # observed
    usual: str  # what is usual for the subject, in words
    contribution: float  # share of the score, 0 to 1


class ExplanationOut(Schema):
    baseline: str  # user or system
    subject: str  # the account or system
    score: float  # bits
    threshold: float  # bits
    events_learned: int | None
    learning_since: datetime | None
    features: list[FeatureOut]  # the top contributors, largest first


class RecordRefOut(Schema):
    number: str
    title: str
    state: str
    state_label: str
    url: str


class AlertActionOut(Schema):
    action: str  # for `POST …/transitions/{action}`
    title: str
    reason_required: bool
    refusal: str | None  # why the caller cannot take it now; null: they can


class GxpSystemOut(Schema):
    """The system of the inventory an alert's source reports on (A11-05)."""

    number: str
    name: str
    url: str
    state: str  # validation state: planned, in_validation, validated, under_change, retired
    state_label: str
    gamp_category: str  # 1, 3, 4 or 5
    criticality: str
    validated_version: str
    owner: PersonOut  # the system owner


class AlertDetailOut(AlertOut):
    summary: str  # the latest matching event's message
    resolution: str
    techniques: list[str]  # MITRE ATT&CK
    requirements: list[str]  # requirement ids the rule covers
    events: int  # events kept with the alert (the evidence)
    explanation: ExplanationOut | None  # behaviour baselines only
    incidents: list[RecordRefOut]  # the incident(s) it was escalated to
    deviations: list[RecordRefOut]  # linked to the alert or to its incidents
    actions: list[AlertActionOut]  # lifecycle steps from its state
    gxp_system: GxpSystemOut | None  # where the alert lands, if the caller may see it


class AlertTransitionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field("", max_length=2000, description=(
        "Required to resolve, mark a false positive or reopen"))


class AlertAssignIn(Schema):
    model_config = ConfigDict(extra="forbid")

    assignee: str = Field(..., min_length=1, max_length=150, description=(
        "Username of a person who may work alerts at the alert's site"))
