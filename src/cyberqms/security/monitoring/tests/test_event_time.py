"""Event time through ingest (CYB-03, CYB-04, A11-10; issue 12 item 5): a sender's claimed
time cannot steer or silence detection. Future-dated events are kept as claimed, detected
on their receive time and flagged; late ones are detected and counted, never dropped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.urls import reverse

from cyberqms.platform.core.models import SecurityEvent
from cyberqms.security.monitoring import metrics, services
from cyberqms.security.monitoring.metrics import Scope, SourceTiming
from cyberqms.security.monitoring.models import EventSource, RawEvent
from cyberqms.security.monitoring.tests.test_pipeline import failed_logins

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
FUTURE = "<14>1 2030-01-01T00:00:00Z lims01 labware 77 - - sample S-000001 viewed by qc_analyst"


@pytest.fixture(autouse=True)
def fresh_engine() -> None:
    services.reload_rules()


@pytest.fixture
def lims(personas: dict[str, Any]) -> EventSource:
    return services.source_create(
        actor=personas["it_security"], name="LIMS BSL", kind="lims", system="LabWare LIMS",
        format="syslog",
    )


def test_a_future_dated_event_is_kept_as_claimed_and_marked_ahead(lims: EventSource) -> None:
    result = services.ingest(lims, [FUTURE], channel="syslog-tcp", received_at=T0)
    row = RawEvent.objects.get()
    assert (row.timing, row.event_time, row.received_at, dict(result.timing)) == (
        "ahead", datetime(2030, 1, 1, tzinfo=UTC), T0, {"ahead": 1})


def test_brute_force_after_a_future_dated_event_raises_the_alert_cyb_04(
    lims: EventSource,
) -> None:
    services.ingest(lims, [FUTURE], channel="syslog-tcp", received_at=T0)
    result = services.ingest(lims, failed_logins(10, start=T0 + timedelta(seconds=5)),
                             channel="syslog-tcp", received_at=T0 + timedelta(minutes=2))
    assert [(a.title, a.count) for a in result.alerts] == [
        ("Brute force against one account", 10)]


def test_clock_skew_is_flagged_once_per_source_an_hour(lims: EventSource) -> None:
    services.ingest(lims, [FUTURE, FUTURE], channel="syslog-tcp", received_at=T0)
    services.ingest(lims, [FUTURE], channel="syslog-tcp", received_at=T0)
    flagged = SecurityEvent.objects.filter(kind="monitoring.clock_skew")
    assert [(e.severity, e.message, e.data) for e in flagged] == [(
        "medium",
        "2 event(s) from LIMS BSL claimed times ahead of their receipt (up to "
        "2030-01-01T00:00:00Z); detection used the receive time",
        {"source": "LIMS BSL", "count": 2, "claimed": "2030-01-01T00:00:00Z"},
    )]


def test_an_alert_on_future_dated_events_is_seen_at_their_receipt(lims: EventSource) -> None:
    forged = failed_logins(10, start=datetime(2030, 1, 1, tzinfo=UTC))
    [alert] = services.ingest(lims, forged, channel="syslog-tcp", received_at=T0).alerts
    assert (alert.first_seen, alert.last_seen) == (T0, T0)


def test_events_past_the_lateness_bound_are_detected_and_counted_late_a11_10(
    lims: EventSource,
) -> None:
    services.ingest(lims, failed_logins(1, user="ana"), channel="syslog-tcp", received_at=T0)
    replay = failed_logins(10, start=T0 - timedelta(days=345))
    result = services.ingest(lims, replay, channel="file", received_at=T0)
    assert ([a.title for a in result.alerts], dict(result.timing)) == (
        ["Brute force against one account"], {"late": 10})


def test_delayed_events_are_correlated_in_their_own_time(lims: EventSource) -> None:
    services.ingest(lims, failed_logins(1, user="ana"), channel="syslog-tcp", received_at=T0)
    buffered = failed_logins(10, start=T0 - timedelta(hours=2))
    result = services.ingest(lims, buffered, channel="syslog-tcp", received_at=T0)
    [alert] = result.alerts
    tenth = T0 - timedelta(hours=2) + timedelta(seconds=90)
    assert (alert.count, alert.last_seen, dict(result.timing)) == (10, tenth, {"delayed": 10})


def test_the_lateness_bound_is_a_setting(lims: EventSource, settings: Any) -> None:
    settings.CYBERQMS_DETECT_MAX_LATENESS = 400 * 86_400
    replay = failed_logins(1, start=T0 - timedelta(days=345))
    services.ingest(lims, replay, channel="file", received_at=T0)
    assert RawEvent.objects.get().timing == "delayed"


def test_the_skew_is_a_setting(lims: EventSource, settings: Any) -> None:
    settings.CYBERQMS_DETECT_MAX_SKEW = 0
    services.ingest(lims, failed_logins(1, start=T0 + timedelta(seconds=1)), channel="file",
                    received_at=T0)
    assert RawEvent.objects.get().timing == "ahead"


def test_metrics_count_late_and_ahead_events_per_source(lims: EventSource) -> None:
    services.ingest(lims, [FUTURE, *failed_logins(3, start=T0 - timedelta(days=30))],
                    channel="file", received_at=T0)
    figures = metrics.event_metrics(Scope(T0 - timedelta(hours=1), T0 + timedelta(hours=1)),
                                    now=T0)
    assert (figures.late, figures.ahead, figures.delayed, figures.timing_by_source) == (
        3, 1, 0, [SourceTiming("LIMS BSL", delayed=0, late=3, ahead=1)])


def test_the_sources_page_shows_late_and_ahead_counts(
    lims: EventSource, personas: dict[str, Any], login: Any,
) -> None:
    services.ingest(lims, [FUTURE, *failed_logins(3, start=T0 - timedelta(days=30))],
                    channel="file", received_at=T0)
    response = login(personas["it_security"]).get(reverse("monitoring:sources"))
    [source] = response.context["sources"]
    assert (source.tally["late"], source.tally["ahead"]) == (3, 1)

