"""Monitoring metrics (issue 5, deliverable 8; A11D-04): time to detect, acknowledge and
resolve (median and mean), alerts per rule, level and day, false-positive rate, events per
second, accepted and quarantined counts, open alerts by state; the overview page and
`GET /api/v1/monitoring/metrics`, by persona and with filters.

The fixture is built by hand with known times, so every figure is asserted exactly."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cyberqms.platform.accounts.models import Site
from cyberqms.security.monitoring import charts, metrics, rollups
from cyberqms.security.monitoring.metrics import Durations, ReasonCount
from cyberqms.security.monitoring.models import Alert, EventSource, RawEvent

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # "now" of the fixture
WEEK = (T0 - timedelta(days=7), T0)
OVERVIEW_QUERIES = 16  # whatever the number of alerts and events


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=UTC)


@dataclass
class Plant:
    bsl: Site
    dub: Site
    lims: EventSource
    firewall: EventSource
    qms: EventSource
    alerts: dict[str, Alert]


def raw(source: EventSource, received: datetime, *, status: str = "accepted", reason: str = "",
        event_time: datetime | None = None) -> RawEvent:
    """A stored event, counted in the rollups as ingest counts it."""
    payload = f"{source.name} {received.isoformat()} {status} {reason}".encode()
    row = RawEvent.objects.create(
        source=source, received_at=received, channel="syslog-tcp",
        sha256=hashlib.sha256(payload).hexdigest(), size=len(payload), payload=payload,
        status=status, reason=reason, event_time=event_time,
    )
    with connection.cursor() as cursor:
        rollups.record(cursor, [[source.pk, connection.ops.adapt_datetimefield_value(received),
                                 status, reason, ""]],
                       ["source_id", "received_at", "status", "reason", "timing"])
    return row


def alert(number: str, rule: str, title: str, level: str, site: Site | None,
          source: EventSource, created: datetime, *, detect_s: int, state: str = "new",
          ack_s: int | None = None, closed_s: int | None = None) -> Alert:
    return Alert.objects.create(
        number=number, rule_id=rule, title=title, level=level, site=site, source=source,
        state=state, first_seen=created - timedelta(seconds=detect_s), last_seen=created,
        created_at=created,
        acknowledged_at=created + timedelta(seconds=ack_s) if ack_s is not None else None,
        closed_at=created + timedelta(seconds=closed_s) if closed_s is not None else None,
    )


@pytest.fixture
def plant(db: Any) -> Plant:
    bsl = Site.objects.create(code="BSL", name="Basel", time_zone="Europe/Zurich")
    dub = Site.objects.create(code="DUB", name="Dublin", time_zone="Europe/Dublin")

    def source(name: str, site: Site | None, fmt: str) -> EventSource:
        return EventSource.objects.create(name=name, kind="other", site=site, system=name,
                                          format=fmt, created_at=T0 - timedelta(days=30))

    lims, firewall, qms = source("LIMS BSL", bsl, "syslog"), source("FW DUB", dub, "cef"), \
        source("cyberqms", None, "jsonl")
    a1_created = at(14, 10, 0, 5)
    alerts = {
        # Brute force: 3 in the week (BSL resolved, DUB false positive, BSL new) + 1 older.
        "A1": alert("ALERT-2026-0001", "bf", "Brute force", "high", bsl, lims, a1_created,
                    detect_s=30, state="resolved", ack_s=600, closed_s=7200),
        "A2": alert("ALERT-2026-0002", "bf", "Brute force", "high", dub, firewall,
                    at(15, 9), detect_s=60, state="false_positive", ack_s=1200,
                    closed_s=3600),
        "A3": alert("ALERT-2026-0003", "bf", "Brute force", "high", bsl, lims, at(18, 8),
                    detect_s=20),
        # PLC change: investigating at DUB; resolved at BSL (its sender's clock runs 30 s
        # ahead: time to detect 0, not negative).
        "B1": alert("ALERT-2026-0004", "plc", "PLC download without change control",
                    "critical", dub, firewall, at(17, 14), detect_s=90, state="investigating",
                    ack_s=300),
        "B2": alert("ALERT-2026-0005", "plc", "PLC download without change control",
                    "critical", bsl, lims, at(19, 16), detect_s=-30, state="resolved",
                    ack_s=60, closed_s=1800),
        # Off-hours, from cyberqms itself (no site): a false positive a day later.
        "C1": alert("ALERT-2026-0006", "offhours", "GxP record changed off-hours", "medium",
                    None, qms, at(16, 2), detect_s=600, state="false_positive", ack_s=86400,
                    closed_s=86400),
        # Before the week: not in the period's figures, but open (acknowledged) now.
        "OLD": alert("ALERT-2026-0000", "bf", "Brute force", "high", bsl, lims, at(10, 10),
                     detect_s=5, state="acknowledged", ack_s=100),
    }
    # A1's correlation window: its first event 180 s before the alert (first_seen says 30 s).
    window = [raw(lims, a1_created, event_time=a1_created - timedelta(seconds=180)),
              raw(lims, a1_created, event_time=a1_created - timedelta(seconds=100)),
              raw(lims, a1_created)]
    alerts["A1"].events.add(*window)
    raw(lims, at(14, 10, 0, 40), status="quarantined", reason="bad_header")
    raw(lims, at(14, 10, 0, 41), status="quarantined", reason="bad_header")
    raw(firewall, at(18, 7, 59), status="quarantined", reason="invalid_utf8")
    raw(qms, T0 - timedelta(seconds=30))
    raw(qms, T0 - timedelta(seconds=30))
    raw(lims, at(12, 9))  # before the week
    raw(lims, T0)  # the end is exclusive
    return Plant(bsl, dub, lims, firewall, qms, alerts)


def week(actor: Any, site: Site | None = None) -> metrics.Overview:
    return metrics.overview(actor, start=WEEK[0], end=WEEK[1], now=T0,
                            site_id=site.pk if site else None)


# --- the figures -------------------------------------------------------------------------------


def test_times_to_detect_acknowledge_and_resolve_median_and_mean_a11d_04(
    plant: Plant, personas: dict[str, Any]
) -> None:
    alerts = week(personas["it_security"]).alerts
    # Detect: A1 180 (its first linked event), A2 60, A3 20, B1 90, B2 0 (clock ahead),
    # C1 600 → median of 0 20 60 90 180 600 = 75, mean 950 / 6.
    assert alerts.time_to_detect == Durations(count=6, median_s=75.0, mean_s=158.333333)
    # Acknowledge: 600, 1200, 300, 60, 86400 (A3 is still new).
    assert alerts.time_to_acknowledge == Durations(count=5, median_s=600.0, mean_s=17712.0)
    # Resolve: closed ones only, A1 7200, A2 3600, B2 1800, C1 86400.
    assert alerts.time_to_resolve == Durations(count=4, median_s=5400.0, mean_s=24750.0)


def test_alerts_per_rule_level_and_day_with_false_positive_rates(
    plant: Plant, personas: dict[str, Any]
) -> None:
    alerts = week(personas["it_security"]).alerts
    assert alerts.total == 6
    assert alerts.by_level == {"critical": 2, "high": 3, "medium": 1, "low": 0,
                               "informational": 0}
    assert [(r.rule_id, r.title, r.level, r.alerts, r.open, r.closed, r.false_positives,
             r.false_positive_rate, r.time_to_detect) for r in alerts.by_rule] == [
        ("bf", "Brute force", "high", 3, 1, 2, 1, 0.5,
         Durations(3, median_s=60.0, mean_s=86.666667)),
        ("plc", "PLC download without change control", "critical", 2, 1, 1, 0, 0.0,
         Durations(2, median_s=45.0, mean_s=45.0)),
        ("offhours", "GxP record changed off-hours", "medium", 1, 0, 1, 1, 1.0,
         Durations(1, median_s=600.0, mean_s=600.0)),
    ]
    assert (alerts.closed, alerts.false_positives, alerts.false_positive_rate) == (4, 2, 0.5)
    assert [(d.day, d.total) for d in alerts.per_day] == [
        (date(2026, 11, 13), 0), (date(2026, 11, 14), 1), (date(2026, 11, 15), 1),
        (date(2026, 11, 16), 1), (date(2026, 11, 17), 1), (date(2026, 11, 18), 1),
        (date(2026, 11, 19), 1), (date(2026, 11, 20), 0),
    ]
    assert alerts.per_day[4].by_level == {"critical": 1, "high": 0, "medium": 0, "low": 0,
                                          "informational": 0}
    assert alerts.open_by_state == {"new": 1, "acknowledged": 1, "investigating": 1}
    assert alerts.oldest_open == at(10, 10)


def test_events_per_second_and_the_quarantine_by_reason_a11_10(
    plant: Plant, personas: dict[str, Any]
) -> None:
    events = week(personas["it_security"]).events
    assert events is not None
    assert (events.accepted, events.quarantined, events.total) == (5, 3, 8)
    assert events.quarantined_by_reason == [ReasonCount("bad_header", 2),
                                            ReasonCount("invalid_utf8", 1)]
    assert events.current_per_second == 2 / 60  # the last minute before T0
    assert events.average_per_second == 8 / (7 * 86400)
    assert (events.peak_per_second, events.peak_minute) == (5 / 60, at(14, 10))
    assert events.bucket_seconds == 3600
    assert len(events.series) == 7 * 24
    assert events.series[0].start == WEEK[0]
    assert [(p.start, p.events, p.per_second) for p in events.series if p.events] == [
        (at(14, 10), 5, 5 / 3600), (at(18, 7), 1, 1 / 3600), (at(20, 11), 2, 2 / 3600),
    ]


def test_one_site_and_site_scoped_personas_see_only_their_sites(
    plant: Plant, personas: dict[str, Any], make_user: Callable[..., Any]
) -> None:
    basel = week(personas["it_security"], plant.bsl)
    # A1 180, A3 20, B2 0.
    assert basel.alerts.total == 3
    assert basel.alerts.time_to_detect == Durations(3, median_s=20.0, mean_s=66.666667)
    assert basel.alerts.open_by_state == {"new": 1, "acknowledged": 1, "investigating": 0}
    assert basel.events is not None
    assert (basel.events.accepted, basel.events.quarantined) == (3, 2)
    assert basel.events.current_per_second == 0.0

    dublin_analyst = make_user("dub_analyst", "it_security", site=plant.dub)
    dublin = week(dublin_analyst)
    assert list(dublin.alerts.by_level.values()) == [1, 1, 0, 0, 0]
    assert dublin.alerts.open_by_state == {"new": 0, "acknowledged": 0, "investigating": 1}
    assert dublin.events is not None
    assert (dublin.events.accepted, dublin.events.quarantined) == (0, 1)
    # Asking for a site it cannot see gives nothing, not Basel's figures.
    assert week(dublin_analyst, plant.bsl).alerts.total == 0
    assert [s.code for s in metrics.sites_for(dublin_analyst)] == ["DUB"]
    assert [s.code for s in metrics.sites_for(personas["it_security"])] == ["BSL", "DUB"]


def test_events_are_left_out_for_those_who_may_not_view_them(
    plant: Plant, personas: dict[str, Any]
) -> None:
    qa = week(personas["qa_manager"])
    assert qa.alerts.total == 6
    assert qa.events is None
    auditor = week(personas["auditor"])
    assert auditor.events is not None
    assert auditor.events.total == 8


def test_an_empty_period_has_zero_counts_and_no_durations(personas: dict[str, Any]) -> None:
    figures = week(personas["it_security"])
    assert figures.alerts.total == 0
    assert figures.alerts.time_to_detect == Durations(0, None, None)
    assert figures.alerts.false_positive_rate is None
    assert figures.alerts.by_rule == []
    assert figures.events is not None
    assert (figures.events.total, figures.events.peak_per_second,
            figures.events.peak_minute) == (0, 0.0, None)
    assert len(figures.events.series) == 168


def test_the_overview_costs_a_fixed_number_of_queries(
    plant: Plant, personas: dict[str, Any]
) -> None:
    actor = personas["it_security"]
    week(actor)  # warm the access profile cache
    with CaptureQueriesContext(connection) as few:
        week(actor)
    for n in range(5):
        created = at(16, 9 + n)
        more = alert(f"ALERT-2026-01{n:02d}", f"rule{n}", f"Rule {n}", "low", plant.bsl,
                     plant.lims, created, detect_s=n, state="resolved", ack_s=10, closed_s=20)
        more.events.add(raw(plant.lims, created, event_time=created))
    with CaptureQueriesContext(connection) as many:
        week(actor)
    assert len(few) == len(many) == OVERVIEW_QUERIES


def test_longer_periods_are_charted_per_day(plant: Plant, personas: dict[str, Any]) -> None:
    start = T0 - timedelta(days=90)
    figures = metrics.overview(personas["it_security"], start=start, end=T0, now=T0)
    assert figures.events is not None
    assert figures.events.bucket_seconds == 86400
    assert len(figures.events.series) == 91  # 90 days from noon touch 91 UTC days
    assert [(p.start, p.events) for p in figures.events.series if p.events] == [
        (at(12, 0), 1), (at(14, 0), 5), (at(18, 0), 1), (at(20, 0), 2),
    ]
    assert len(figures.alerts.per_day) == 91


# --- wording and chart geometry ---------------------------------------------------------------


@pytest.mark.parametrize(("seconds", "text"), [
    (None, "—"), (0, "0 s"), (75, "75 s"), (89.6, "90 s"), (600, "10 min"), (5400, "1.5 h"),
    (24750, "6.9 h"), (86400 * 2.5, "2.5 d"),
])
def test_durations_read_like_a_person_would_say_them(seconds: float | None, text: str) -> None:
    assert charts.format_duration(seconds) == text


def test_rates_and_shares_are_formatted() -> None:
    assert [charts.format_rate(x) for x in (0, 0.00001, 0.00342, 0.0833, 12.34, 2345.6)] == [
        "0", "<0.0001", "0.0034", "0.08", "12.3", "2,346"]
    assert [charts.format_share(x) for x in (None, 0.0, 0.0024, 0.5, 1 / 3)] == [
        "—", "0%", "0.2%", "50%", "33%"]
    assert [charts.nice_step(x) for x in (0, 3, 9, 41, 0.3)] == [1.0, 1, 2.5, 20, 0.1]


def test_day_chart_stacks_levels_with_critical_on_top(
    plant: Plant, personas: dict[str, Any]
) -> None:
    chart = charts.days_chart(week(personas["it_security"]).alerts.per_day)
    assert chart.peak == 1
    assert [r.label for r in chart.rects] == [
        "2026-11-14: 1 high", "2026-11-15: 1 high", "2026-11-16: 1 medium",
        "2026-11-17: 1 critical", "2026-11-18: 1 high", "2026-11-19: 1 critical",
    ]
    base = chart.y_ticks[0].y
    assert all(r.y + r.height == pytest.approx(base) for r in chart.rects)
    assert [t.text for t in chart.y_ticks] == ["0", "1"]  # whole alerts, up to the peak
    assert [(charts.axis(x, whole=True)) for x in (0, 3, 5, 8, 41)] == [
        (1.0, 1), (1.0, 3), (2.0, 3), (2.0, 4), (20.0, 3)]
    events = week(personas["it_security"]).events
    assert events is not None
    spark = charts.sparkline(events.series, 3600)
    # The busiest hour had 5 events: 0.0014 per second.
    assert [t.text for t in spark.y_ticks] == ["0", "0.0005", "0.001", "0.0015"]
    assert [t.text for t in chart.x_ticks] == [
        "Nov 13", "Nov 14", "Nov 15", "Nov 16", "Nov 17", "Nov 18", "Nov 19", "Nov 20"]


# --- the page ---------------------------------------------------------------------------------

WEEK_QUERY = {"start": "2026-11-13", "end": "2026-11-19"}  # UTC days, inclusive


def test_overview_page_shows_tiles_charts_and_rules_a11d_04(
    plant: Plant, personas: dict[str, Any], login: Callable[[Any], Client]
) -> None:
    client = login(personas["it_security"])
    response = client.get(reverse("monitoring:overview"), WEEK_QUERY)
    assert response.status_code == 200
    window = response.context["window"]
    assert (window.start, window.end, window.site, window.period) == (
        at(13, 0), at(20, 0), None, "")
    assert response.context["window"].label == "2026-11-13 to 2026-11-19"
    tiles = {t["key"]: (t["value"], t["sub"]) for t in response.context["tiles"]}
    assert tiles == {
        "alerts": ("6", "5 high or critical"),
        "detect": ("75 s", "median · mean 3 min"),
        "acknowledge": ("10 min", "median of 5 · mean 4.9 h"),
        "resolve": ("1.5 h", "median of 4 closed · mean 6.9 h"),
        "fp": ("50%", "2 of 4 closed"),
    }
    text = response.text
    assert text.count('data-rule="') == 3
    assert '<title>2026-11-17: 1 critical</title>' in text
    assert 'data-testid="events-sparkline"' in text
    assert "bad_header" in text
    assert 'href="/monitoring/events/?status=quarantined"' in text
    assert 'href="/monitoring/alerts/?state=&amp;rule=bf"' in text
    assert 'style=' not in text.split("<main", 1)[-1]  # strict CSP: no inline styles
    # The navigation marks the overview.
    assert 'class="active" data-nav="Monitoring"' in text


def test_overview_page_site_filter_and_default_period(
    plant: Plant, personas: dict[str, Any], login: Callable[[Any], Client]
) -> None:
    client = login(personas["it_security"])
    response = client.get(reverse("monitoring:overview"), {**WEEK_QUERY, "site": "BSL"})
    assert response.status_code == 200
    assert response.context["alerts"].total == 3
    assert response.context["window"].site == plant.bsl
    assert 'href="/monitoring/alerts/?state=new&amp;site=BSL"' in response.text
    default = client.get(reverse("monitoring:overview"))
    assert default.status_code == 200
    window = default.context["window"]
    assert (window.period, window.end - window.start, window.label) == (
        "30d", timedelta(days=30), "Last 30 days")
    week_ = client.get(reverse("monitoring:overview"), {"period": "7d"})
    assert week_.context["window"].end - week_.context["window"].start == timedelta(days=7)


def test_qa_manager_sees_alert_figures_without_the_event_feed(
    plant: Plant, personas: dict[str, Any], login: Callable[[Any], Client]
) -> None:
    response = login(personas["qa_manager"]).get(reverse("monitoring:overview"), WEEK_QUERY)
    assert response.status_code == 200
    assert response.context["events"] is None
    assert 'data-testid="alerts-per-rule"' in response.text
    assert 'data-testid="events-sparkline"' not in response.text
    assert "Open the quarantine" not in response.text


@pytest.mark.parametrize("persona", ["author", "qa_approver", "system_owner", "outsider"])
def test_overview_is_refused_without_alert_view(
    plant: Plant, personas: dict[str, Any], login: Callable[[Any], Client], persona: str
) -> None:
    assert login(personas[persona]).get(reverse("monitoring:overview")).status_code == 403
    api = login(personas[persona]).get("/api/v1/monitoring/metrics")
    assert api.status_code == 403
    assert api["Content-Type"] == "application/problem+json"


BAD_FILTERS = [
    ({"start": "not-a-date"}, "start"),
    ({"start": "2026-13-45"}, "start"),
    ({"start": "99999-01-01"}, "start"),
    ({"start": "1999-12-31", "end": "2000-01-02"}, "start"),
    ({"end": "2026-11-19"}, "start"),
    ({"start": "2026-11-19", "end": "2026-11-13"}, "end"),
    ({"start": "2024-01-01", "end": "2025-06-30"}, "end"),
    ({"start": "2026-11-01", "end": "2030-01-01"}, "end"),
    ({"period": "5y"}, "period"),
    ({"period": "<script>"}, "period"),
    ({"site": "XYZ"}, "site"),
    ({"site": "x" * 5000}, "site"),
]


@pytest.mark.parametrize(("query", "field"), BAD_FILTERS)
def test_bad_filters_answer_400_with_the_field_never_500(
    plant: Plant, personas: dict[str, Any], login: Callable[[Any], Client],
    query: dict[str, str], field: str,
) -> None:
    client = login(personas["it_security"])
    page = client.get(reverse("monitoring:overview"), query)
    assert page.status_code == 400
    assert field in page.context["form"].errors
    assert 'data-testid="filter-errors"' in page.text
    assert page.context["window"].period == "30d"  # the default figures beside the errors
    api = client.get("/api/v1/monitoring/metrics", query)
    assert api.status_code == 400
    assert api["Content-Type"] == "application/problem+json"
    body = api.json()
    assert body["status"] == 400
    assert field in {e["field"] for e in body["errors"]}


def test_a_site_scoped_persona_cannot_filter_on_another_site(
    plant: Plant, login: Callable[[Any], Client], make_user: Callable[..., Any]
) -> None:
    analyst = make_user("dub_analyst", "it_security", site=plant.dub)
    client = login(analyst)
    assert client.get(reverse("monitoring:overview"), {"site": "BSL"}).status_code == 400
    response = client.get(reverse("monitoring:overview"), WEEK_QUERY)
    assert response.context["alerts"].total == 2
    assert [v for v, _label in response.context["form"].fields["site"].choices] == ["", "DUB"]


# --- the API ----------------------------------------------------------------------------------


def test_metrics_api_returns_the_page_figures(
    plant: Plant, personas: dict[str, Any], login: Callable[[Any], Client]
) -> None:
    response = login(personas["auditor"]).get("/api/v1/monitoring/metrics", WEEK_QUERY)
    assert response.status_code == 200
    body = response.json()
    assert body["period"] == {"start": "2026-11-13T00:00:00Z", "end": "2026-11-20T00:00:00Z",
                              "period": "", "site": None}
    alerts = body["alerts"]
    assert alerts["total"] == 6
    assert alerts["by_level"] == {"critical": 2, "high": 3, "medium": 1, "low": 0,
                                  "informational": 0}
    assert alerts["time_to_detect"] == {"count": 6, "median_s": 75.0, "mean_s": 158.333333}
    assert alerts["time_to_acknowledge"] == {"count": 5, "median_s": 600.0, "mean_s": 17712.0}
    assert alerts["time_to_resolve"] == {"count": 4, "median_s": 5400.0, "mean_s": 24750.0}
    assert (alerts["closed"], alerts["false_positives"], alerts["false_positive_rate"]) == (
        4, 2, 0.5)
    assert alerts["by_rule"][0] == {
        "rule_id": "bf", "title": "Brute force", "level": "high", "alerts": 3, "open": 1,
        "closed": 2, "false_positives": 1, "false_positive_rate": 0.5,
        "time_to_detect": {"count": 3, "median_s": 60.0, "mean_s": 86.666667},
    }
    assert [d["day"] for d in alerts["per_day"]][:2] == ["2026-11-13", "2026-11-14"]
    assert alerts["open_by_state"] == {"new": 1, "acknowledged": 1, "investigating": 1}
    assert alerts["oldest_open"] == "2026-11-10T10:00:00Z"
    events = body["events"]
    assert (events["accepted"], events["quarantined"]) == (3, 3)  # T0's last minute is out
    assert events["quarantined_by_reason"] == [{"reason": "bad_header", "count": 2},
                                               {"reason": "invalid_utf8", "count": 1}]
    assert events["peak_minute"] == "2026-11-14T10:00:00Z"
    assert events["peak_per_second"] == 5 / 60
    assert len(events["series"]) == 7 * 24


def test_metrics_api_filters_by_site_and_hides_events_from_qa(
    plant: Plant, personas: dict[str, Any], login: Callable[[Any], Client]
) -> None:
    basel = login(personas["it_security"]).get("/api/v1/monitoring/metrics",
                                               {**WEEK_QUERY, "site": "BSL"})
    assert basel.status_code == 200
    assert basel.json()["period"]["site"] == "BSL"
    assert basel.json()["alerts"]["total"] == 3
    qa = login(personas["qa_manager"]).get("/api/v1/monitoring/metrics", {"period": "90d"})
    assert qa.status_code == 200
    assert qa.json()["events"] is None
    assert qa.json()["period"]["period"] == "90d"
    anonymous = Client().get("/api/v1/monitoring/metrics")
    assert anonymous.status_code == 401
