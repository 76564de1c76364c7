"""Retention of received security events (issue 14, item 8; A11-10): each source kind's
events go after its days, the evidence of alerts stays with the alert, every removal is
recorded with its counts, and the figures survive in the rollups. On PostgreSQL the table
is partitioned (evidence apart, the rest by month) and an expired month goes whole."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import hypothesis
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from cyberqms.platform.core.models import SecurityEvent
from cyberqms.security.monitoring import partitions, retention, services
from cyberqms.security.monitoring.models import (
    Alert,
    DetectionBacklog,
    EventSource,
    RawEvent,
    SourceTotals,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 25, 12, 0, tzinfo=UTC)
POSTGRES = connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def fresh_engine() -> None:
    services.reload_rules()


def source(name: str, kind: str) -> EventSource:
    return EventSource.objects.create(name=name, kind=kind, system=name, format="syslog",
                                      created_at=NOW - timedelta(days=400))


def receive(src: EventSource, when: datetime, count: int = 1) -> list[int]:
    """`count` events of `src` received at `when`; their ids."""
    lines = [f"<14>1 {when:%Y-%m-%dT%H:%M:%S}Z host app 1 - - event {n}" for n in range(count)]
    services.ingest(src, lines, channel="syslog-tcp", received_at=when, detect=True)
    return list(RawEvent.objects.filter(source=src, received_at=when)
                .order_by("id").values_list("id", flat=True))


def alert_naming(ids: list[int]) -> Alert:
    alert = Alert.objects.create(number=f"ALR-{ids[0]}", rule_id="r", title="Evidence",
                                 level="high", first_seen=NOW, last_seen=NOW,
                                 created_at=NOW)
    alert.events.add(*ids)
    return alert


def left(src: EventSource) -> int:
    return RawEvent.objects.filter(source=src).count()


# --- the policy ---------------------------------------------------------------------------


def test_policy_names_days_per_kind_and_a_default() -> None:
    assert retention.parse_policy("default=365, firewall=90,scada=forever") == {
        "default": 365, "firewall": 90, "scada": None}


def test_policy_bare_number_is_the_default() -> None:
    assert retention.parse_policy("30") == {"default": 30}


def test_policy_without_default_keeps_other_kinds_forever() -> None:
    assert retention.parse_policy("firewall=90") == {"firewall": 90, "default": None}


@pytest.mark.parametrize(("text", "message"), [
    ("printer=30", "'printer' is not a source kind"),
    ("firewall=ninety", "whole number or forever, not 'ninety'"),
    ("firewall=0", "at least 1"),
    ("firewall=30,firewall=60", "firewall is named twice"),
])
def test_policy_refuses_what_it_cannot_read(text: str, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        retention.parse_policy(text)


@hypothesis.settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("=,0123456789 -abcdefghilmnorstuvwxyzADF"), max_size=40))
def test_policy_fuzz_reads_or_refuses(text: str) -> None:
    try:
        rules = retention.parse_policy(text)
    except ImproperlyConfigured:
        return
    assert "default" in rules
    assert all(days is None or days >= 1 for days in rules.values())


# --- removal ------------------------------------------------------------------------------


def test_events_older_than_their_kinds_days_are_removed(settings) -> None:
    settings.CYBERQMS_EVENT_RETENTION = "default=30,firewall=10"
    fw, lims = source("FW", "firewall"), source("LIMS", "lims")
    for src in (fw, lims):
        receive(src, NOW - timedelta(days=60), 3)
        receive(src, NOW - timedelta(days=20), 2)
        receive(src, NOW - timedelta(days=5), 1)
    run = retention.apply(now=NOW)
    assert (left(fw), left(lims)) == (1, 3)
    assert dict(run.removed) == {"FW": 5, "LIMS": 3}


def test_a_kind_kept_forever_loses_nothing(settings) -> None:
    settings.CYBERQMS_EVENT_RETENTION = "default=30,scada=forever"
    scada = source("SCADA", "scada")
    receive(scada, NOW - timedelta(days=300), 4)
    run = retention.apply(now=NOW)
    assert (left(scada), run.total) == (4, 0)


def test_evidence_of_an_alert_is_kept_whatever_its_age(settings) -> None:
    settings.CYBERQMS_EVENT_RETENTION = "default=30"
    fw = source("FW", "firewall")
    old = receive(fw, NOW - timedelta(days=90), 5)
    alert = alert_naming(old[:2])
    run = retention.apply(now=NOW)
    assert sorted(alert.events.values_list("id", flat=True)) == old[:2]
    assert list(RawEvent.objects.filter(source=fw).values_list("kept", flat=True)) == [True] * 2
    assert (run.total, run.kept) == (3, 2)


def test_each_removal_is_a_security_event_with_counts(settings) -> None:
    settings.CYBERQMS_EVENT_RETENTION = "default=30"
    fw, lims = source("FW", "firewall"), source("LIMS", "lims")
    day = datetime(2026, 10, 2, 8, 0, tzinfo=UTC)
    receive(fw, day, 3)
    receive(lims, day + timedelta(hours=1), 2)
    alert_naming(receive(fw, day + timedelta(hours=2), 1))
    retention.apply(now=NOW)
    event = SecurityEvent.objects.get(kind="monitoring.retention")
    assert event.data["removed"] == {"FW": 3, "LIMS": 2}
    assert event.data["kept_as_evidence"] == 1
    assert event.data["policy"] == "default=30"


def test_the_removal_message_names_the_period(settings) -> None:
    settings.CYBERQMS_EVENT_RETENTION = "default=30"
    receive(source("FW", "firewall"), datetime(2026, 10, 2, 8, 0, tzinfo=UTC), 3)
    retention.apply(now=NOW)
    messages = list(SecurityEvent.objects.filter(kind="monitoring.retention")
                    .values_list("message", flat=True))
    # PostgreSQL drops October whole (every source's events in it have expired).
    assert messages == [
        "Retention removed 3 security events received in "
        + ("October 2026" if POSTGRES else "2026-10-02")]


def test_the_counts_survive_in_the_sources_totals(settings) -> None:
    settings.CYBERQMS_EVENT_RETENTION = "default=30"
    fw = source("FW", "firewall")
    receive(fw, NOW - timedelta(days=60), 4)
    receive(fw, NOW - timedelta(days=1), 1)
    retention.apply(now=NOW)
    totals = SourceTotals.objects.get(source=fw)
    assert (left(fw), totals.accepted) == (1, 5)


def test_a_dry_run_removes_nothing_and_counts_what_it_would(settings) -> None:
    settings.CYBERQMS_EVENT_RETENTION = "default=30"
    fw = source("FW", "firewall")
    receive(fw, NOW - timedelta(days=60), 6)
    run = retention.apply(now=NOW, dry_run=True)
    assert (dict(run.removed), left(fw)) == ({"FW": 6}, 6)
    assert not SecurityEvent.objects.filter(kind="monitoring.retention").exists()


def test_a_second_run_removes_nothing_more(settings) -> None:
    settings.CYBERQMS_EVENT_RETENTION = "default=30"
    fw = source("FW", "firewall")
    receive(fw, NOW - timedelta(days=60), 2)
    retention.apply(now=NOW)
    again = retention.apply(now=NOW)
    assert (again.total, SecurityEvent.objects.filter(kind="monitoring.retention").count()) \
        == (0, 1)


def test_the_next_day_starts_where_the_last_run_ended(settings) -> None:
    settings.CYBERQMS_EVENT_RETENTION = "default=60,firewall=30"
    fw = source("FW", "firewall")
    receive(source("LIMS", "lims"), NOW - timedelta(days=1))  # kept longest: see below
    receive(fw, NOW - timedelta(days=30, hours=-6), 2)  # expires six hours after NOW
    retention.apply(now=NOW)
    later = retention.apply(now=NOW + timedelta(days=1))
    assert (dict(later.removed), left(fw)) == ({"FW": 2}, 0)


def test_events_the_detector_has_not_seen_yet_are_held_back(settings) -> None:
    settings.CYBERQMS_EVENT_RETENTION = "default=30"
    fw = source("FW", "firewall")
    waiting = receive(fw, NOW - timedelta(days=40), 2)
    DetectionBacklog.objects.create(created_at=NOW - timedelta(days=40), runs=[waiting],
                                    events=2)
    run = retention.apply(now=NOW)
    assert (run.total, left(fw)) == (0, 2)


def test_a_source_that_never_sent_anything_changes_nothing(settings) -> None:
    settings.CYBERQMS_EVENT_RETENTION = "default=30,scada=forever"
    source("SCADA", "scada")  # kept forever, but silent: months may still go whole
    fw = source("FW", "firewall")
    receive(fw, datetime(2026, 10, 12, tzinfo=UTC), 2)
    run = retention.apply(now=NOW)
    assert (run.total, run.months_dropped) == (2, ["2026-10"] if POSTGRES else [])


def test_on_postgresql_the_longest_kept_events_go_with_their_month(settings) -> None:
    settings.CYBERQMS_EVENT_RETENTION = "default=30"
    fw = source("FW", "firewall")
    receive(fw, datetime(2026, 11, 10, tzinfo=UTC), 2)  # expired (before November 25)
    run = retention.apply(now=NOW)
    # SQLite deletes them now; PostgreSQL drops November whole once it has all expired.
    assert (run.total, left(fw)) == ((0, 2) if POSTGRES else (2, 0))


# --- the command ----------------------------------------------------------------------------


def test_command_prints_the_policy_and_what_it_removed(settings) -> None:
    settings.CYBERQMS_EVENT_RETENTION = "default=30,firewall=7"
    receive(source("FW", "firewall"), datetime.now(UTC) - timedelta(days=10), 2)
    receive(source("LIMS", "lims"), datetime.now(UTC) - timedelta(days=1))
    out = io.StringIO()
    call_command("events", "retention", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[:3] == [
        "Retention: default 30 days, firewall 7 days; the evidence of alerts is kept.",
        "removed 2 events of 1 source, kept 0 as evidence of alerts",
        "  FW: 2",
    ]


def test_command_refuses_a_policy_it_cannot_read(settings) -> None:
    settings.CYBERQMS_EVENT_RETENTION = "firewall=soon"
    with pytest.raises(CommandError, match="whole number or forever, not 'soon'"):
        call_command("events", "retention", stdout=io.StringIO())


# --- partitions (PostgreSQL) ----------------------------------------------------------------


def test_an_expired_month_goes_whole_with_its_evidence_moved_out(settings) -> None:
    settings.CYBERQMS_EVENT_RETENTION = "default=20"
    fw = source("FW", "firewall")
    october = receive(fw, datetime(2026, 10, 12, tzinfo=UTC), 4)
    receive(fw, datetime(2026, 11, 30, 23, 0, tzinfo=UTC), 3)
    receive(fw, datetime(2026, 12, 20, tzinfo=UTC), 1)
    alert_naming(october[:1])
    run = retention.apply(now=NOW)
    assert (run.months_dropped, run.total, run.kept, left(fw)) == (
        ["2026-10", "2026-11"] if POSTGRES else [], 6, 1, 2)


@pytest.mark.skipif(not POSTGRES, reason="partitions exist on PostgreSQL only")
def test_the_table_is_partitioned_by_evidence_then_month() -> None:
    assert partitions.is_partitioned()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_partkeydef(to_regclass(%s)), "
                       "pg_get_partkeydef(to_regclass(%s))",
                       [partitions.TABLE, partitions.RECENT])
        assert cursor.fetchone() == ("LIST (kept)", "RANGE (received_at)")


@pytest.mark.skipif(not POSTGRES, reason="partitions exist on PostgreSQL only")
def test_events_outside_the_months_made_move_into_their_month_when_it_is_made() -> None:
    fw = source("FW", "firewall")
    when = datetime(2025, 3, 9, tzinfo=UTC)
    ids = receive(fw, when, 2)
    made = partitions.ensure_ahead(NOW)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {partitions.TABLE} "
                       "WHERE id = ANY(%s)", [ids])
        homes = {row[0] for row in cursor.fetchall()}
    assert (partitions.Month(2025, 3) in made, homes) == (True, {"monitoring_rawevent_p2025_03"})


@pytest.mark.skipif(not POSTGRES, reason="partitions exist on PostgreSQL only")
def test_ids_keep_growing_from_the_sequence() -> None:
    fw = source("FW", "firewall")
    first = receive(fw, NOW, 1)[0]
    second = RawEvent.objects.create(source=fw, received_at=NOW, channel="http", sha256="0" * 64,
                                     size=0, payload=b"", status="accepted")
    assert second.pk == first + 1


# --- the sources page -----------------------------------------------------------------------


def test_sources_page_shows_each_sources_days_and_what_was_removed(
    settings, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    settings.CYBERQMS_EVENT_RETENTION = "default=30,firewall=7"
    fw, lims = source("FW", "firewall"), source("LIMS", "lims")
    receive(fw, NOW - timedelta(days=10))
    receive(lims, NOW - timedelta(days=10))
    retention.apply(now=NOW)
    response = login(personas["it_security"]).get(reverse("monitoring:sources"))
    kept = {s.name: (s.tally["kept_days"], s.tally["expired_before"])
            for s in response.context["sources"] if s.name in {"FW", "LIMS"}}
    # The longest-kept source's events go with their month on PostgreSQL (see below).
    lims_done = datetime(2026, 11, 1, tzinfo=UTC) if POSTGRES else NOW - timedelta(days=30)
    assert kept == {"FW": (7, NOW - timedelta(days=7)), "LIMS": (30, lims_done)}


# --- the scheduler ----------------------------------------------------------------------------


def test_the_scheduler_queues_a_daily_run(settings) -> None:
    from cyberqms.platform.core import scheduler

    settings.CYBERQMS_EVENT_RETENTION = "default=10,firewall=2"
    fw = source("FW", "firewall")
    receive(fw, datetime.now(UTC) - timedelta(days=3), 2)
    receive(source("LIMS", "lims"), datetime.now(UTC) - timedelta(days=1))
    job = scheduler.JOBS["monitoring.retention"]
    job.run()  # the test settings' task backend runs the task at once
    assert (job.interval(), left(fw)) == (86_400.0, 0)


@pytest.mark.skipif(not POSTGRES, reason="partitions exist on PostgreSQL only")
def test_a_month_left_detached_by_a_stopped_run_is_finished_by_the_next() -> None:
    fw = source("FW", "firewall")
    evidence = receive(fw, datetime(2026, 10, 12, tzinfo=UTC), 3)[:1]
    alert_naming(evidence)
    partitions.ensure_ahead(NOW)
    partitions.detach_month(partitions.Month(2026, 10))  # then the process stopped
    run = retention.apply(now=NOW)
    assert (run.months_dropped, run.total, run.kept, partitions.detached()) == (
        ["2026-10"], 2, 1, [])
