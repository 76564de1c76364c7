"""The demo's monitoring history (issue 5, deliverable 8): a few simulated days of the
synthetic plant fed through ingest on the records' simulated clock, the alerts triaged by
the demo's IT security analyst and QA manager, the figures non-trivial; the trail stays in
time order. (The full three weeks run in test_demo_records with the whole demo.)"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from cyberqms.demo import monitoring as demo_monitoring
from cyberqms.demo import records as demo_records
from cyberqms.platform.accounts.models import Site
from cyberqms.platform.trail.models import AuditEntry
from cyberqms.security.monitoring import metrics
from cyberqms.security.monitoring.models import Alert, EventSource, RawEvent

pytestmark = pytest.mark.django_db

ORIGINAL_NOW = timezone.now


def last_friday_evening() -> dt.datetime:
    """The feed's end: the latest Friday, 18:00 UTC, that has passed. The three days fed
    before it are working days whatever day the suite runs (people triage on working
    days: a feed over a weekend closes fewer alerts)."""
    now = timezone.now()
    end = (now - dt.timedelta(days=(now.weekday() - 4) % 7)).replace(
        hour=18, minute=0, second=0, microsecond=0)
    return end if end < now else end - dt.timedelta(days=7)


def test_a_few_days_of_monitoring_are_fed_and_triaged_on_the_simulated_clock(
    make_user: Callable[..., Any],
) -> None:
    sites = {"BSL": Site.objects.create(code="BSL", name="Basel", time_zone="Europe/Zurich"),
             "DUB": Site.objects.create(code="DUB", name="Dublin", time_zone="Europe/Dublin")}
    end = last_friday_evening()
    clock = demo_records.SimulatedClock(end - dt.timedelta(days=4))
    timeline = demo_records.Timeline(clock, end)
    with demo_records.simulated_time(clock):
        # The people hold their roles from before monitoring goes live.
        personas = {name: make_user(name, name) for name in ("it_security", "qa_manager")}
        cast = demo_records.Cast(admin=None, sites=sites, people={
            "aokafor": personas["it_security"], "hbrandt": personas["qa_manager"]})
        entries_before = AuditEntry.objects.count()
        feed = demo_monitoring.MonitoringFeed(cast, clock, timeline, end, days=3)
        timeline.start(feed.start, feed.run(), "security monitoring")
        timeline.run()
        summary = feed.finish()
    assert timezone.now is ORIGINAL_NOW

    # One source per plant system, registered by IT security when monitoring went live.
    assert summary.sources == 12
    assert EventSource.objects.filter(name="bsl-lims01 (LabWare LIMS)", site=sites["BSL"],
                                      format="syslog", kind="lims").exists()
    # Every delivered line is kept; a few quarantined with the parser's reason.
    assert RawEvent.objects.count() == summary.received
    assert 1500 <= summary.received <= 6000
    quarantined = RawEvent.objects.filter(status="quarantined")
    assert quarantined.count() == summary.quarantined
    assert all(r.reason for r in quarantined)
    received = RawEvent.objects.order_by("received_at")
    first, last = received.first(), received.last()
    assert first is not None
    assert last is not None
    assert feed.start <= first.received_at
    assert last.received_at < end

    # Alerts were raised at receive time and triaged later, by people, with reasons.
    alerts = list(Alert.objects.all())
    assert len(alerts) == summary.alerts >= 6
    states = {a.state for a in alerts}
    assert "resolved" in states
    assert states & {"new", "acknowledged", "investigating"}  # the latest stay open
    for alert in alerts:
        assert feed.start <= alert.created_at < end
        if alert.acknowledged_at is not None:
            assert alert.created_at < alert.acknowledged_at < end
        if alert.state in ("resolved", "false_positive"):
            assert alert.closed_at is not None
            assert alert.acknowledged_at is not None
            assert alert.acknowledged_at <= alert.closed_at < end
    closings = AuditEntry.objects.filter(
        action__in=("monitoring.alert.resolve", "monitoring.alert.false_positive"))
    assert closings.count() >= 2
    assert all(len(entry.reason) > 20 for entry in closings)
    closers = set(closings.values_list("actor_id", flat=True))
    assert closers <= {personas["it_security"].pk, personas["qa_manager"].pk}
    assert personas["it_security"].pk in closers

    # The history is one time-ordered trail.
    ats = list(AuditEntry.objects.filter(seq__gt=entries_before).order_by("seq")
               .values_list("at", flat=True))
    assert len(ats) > len(alerts)
    assert all(a <= b for a, b in itertools.pairwise(ats))
    assert ats[-1] < end + dt.timedelta(minutes=1)

    # The metrics have something to show.
    figures = metrics.overview(personas["it_security"], start=feed.start, end=end, now=end)
    assert figures.alerts.total == len(alerts)
    assert figures.alerts.time_to_detect.median_s is not None
    assert figures.alerts.time_to_acknowledge.count >= 3
    assert figures.alerts.time_to_resolve.count >= 2
    assert figures.events is not None
    assert figures.events.total == summary.received
    assert figures.events.peak_per_second > figures.events.average_per_second > 0
    assert "security monitoring: 3 days from 12 sources" in summary.line()
