"""Event rollups (issue 14): ingest counts every batch per minute, source and quarantine
reason and per source in the batch's transaction; the metrics and the sources page read
those counts, never the raw events, so their cost does not grow with the events and their
figures outlive the raw rows."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import hypothesis
import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from cyberqms.platform.accounts.models import Site
from cyberqms.security.monitoring import metrics, rollups, services
from cyberqms.security.monitoring.metrics import ReasonCount, Scope, SourceTiming
from cyberqms.security.monitoring.models import (
    EventRollup,
    EventSource,
    RawEvent,
    SourceTotals,
)

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
EVENT_QUERIES = 5  # the event figures, whatever the number of events and sources
# The sources page, whatever the number of sources and events (with, for IT security, the
# systems of the inventory a source may be set to report on).
SOURCES_PAGE_QUERIES = 9


def line(claimed: datetime) -> str:
    return (f"<14>1 {claimed.strftime('%Y-%m-%dT%H:%M:%S')}Z lims01 labware 77 - - "
            "sample S-000001 viewed by qc_analyst")


# What a sender's payload does, given its receive time: accepted on time, delayed, late or
# ahead (docs/monitoring.md, "Event time"), or quarantined for one of two reasons.
PAYLOADS: dict[str, Callable[[datetime], str | bytes]] = {
    "on time": line,
    "delayed": lambda received: line(received - timedelta(hours=2)),
    "late": lambda received: line(received - timedelta(days=30)),
    "ahead": lambda received: line(received + timedelta(days=1)),
    "invalid_utf8": lambda _received: b"\xff\xfe not syslog",
    "bad_pri": lambda _received: b"not syslog at all",
}
type Item = tuple[int, int, str]  # source, seconds after T0, payload kind


@pytest.fixture(autouse=True)
def fresh_engine() -> None:
    services.reload_rules()


@pytest.fixture
def sources() -> list[EventSource]:
    site = Site.objects.create(code="BSL", name="Basel", time_zone="Europe/Zurich")
    return [EventSource.objects.create(name=name, kind="other", site=site, system=name,
                                       format="syslog", created_at=T0 - timedelta(days=1))
            for name in ("LIMS BSL", "MES BSL", "CDS BSL")]


def ingest(sources: list[EventSource], batch: list[Item]) -> None:
    services.ingest_received(
        (sources[source], PAYLOADS[kind](T0 + timedelta(seconds=offset)), "syslog-tcp",
         T0 + timedelta(seconds=offset))
        for source, offset, kind in batch)


def stored() -> tuple[dict[tuple[Any, ...], tuple[int, ...]], dict[int, tuple[Any, ...]]]:
    """The rollups and the sources' totals, as stored."""
    return (
        {(minute, source, reason): tuple(counts) for minute, source, reason, *counts in
         EventRollup.objects.values_list("minute", "source_id", "reason", *rollups.COUNTS)},
        {source: tuple(rest) for source, *rest in SourceTotals.objects.values_list(
            "source_id", *rollups.COUNTS, "last_received_at")},
    )


def scanned() -> tuple[dict[tuple[Any, ...], tuple[int, ...]], dict[int, tuple[Any, ...]]]:
    """The same counts from a scan of the raw events."""
    counts: dict[tuple[Any, ...], list[int]] = {}
    totals: dict[int, list[Any]] = {}
    for source, received, status, reason, timing in RawEvent.objects.values_list(
            "source_id", "received_at", "status", "reason", "timing"):
        accepted = status == "accepted"
        key = (received.replace(second=0, microsecond=0), source, "" if accepted else reason)
        row = [int(accepted), int(not accepted),
               *(int(timing == name) for name in ("delayed", "late", "ahead"))]
        for found in (counts.setdefault(key, [0] * 5),
                      totals.setdefault(source, [0] * 5 + [received])):
            for slot, n in enumerate(row):
                found[slot] += n
        totals[source][5] = max(totals[source][5], received)
    return ({key: tuple(found) for key, found in counts.items()},
            {source: tuple(found) for source, found in totals.items()})


MIXED: list[list[Item]] = [
    [(0, 0, "on time"), (0, 59, "late"), (1, 59, "invalid_utf8"), (2, 30, "ahead")],
    [(0, 60, "on time"), (0, 61, "delayed"), (1, 5, "bad_pri"), (1, 6, "invalid_utf8"),
     (2, 125, "on time")],
    [(0, 0, "on time"), (2, 119, "late"), (1, 120, "on time")],
]


# --- ingest keeps them ---------------------------------------------------------------------


def test_rollups_equal_a_scan_of_the_raw_events_after_any_batches(
    sources: list[EventSource],
) -> None:
    """A11-10 (property): whatever the batches (sources, minutes and their boundaries,
    accepted, delayed, late, ahead, quarantined for different reasons), the rollups and
    totals count exactly the stored raw events."""
    item = st.tuples(st.integers(0, 2), st.integers(0, 179), st.sampled_from(list(PAYLOADS)))

    @hypothesis.settings(max_examples=30, deadline=None, database=None)
    @given(batches=st.lists(st.lists(item, min_size=1, max_size=12), min_size=1, max_size=3))
    def check(batches: list[list[Item]]) -> None:
        with transaction.atomic():
            for batch in batches:
                ingest(sources, batch)
            found, expected = stored(), scanned()
            transaction.set_rollback(True)
        assert found == expected

    check()


def test_rollups_count_per_minute_source_and_reason(sources: list[EventSource]) -> None:
    ingest(sources, MIXED[0])
    ingest(sources, MIXED[1])
    lims, mes, cds = (s.pk for s in sources)
    minute = T0.replace(second=0)
    next_minute = minute + timedelta(minutes=1)
    assert stored() == (
        {(minute, lims, ""): (2, 0, 0, 1, 0), (next_minute, lims, ""): (2, 0, 1, 0, 0),
         (minute, mes, "invalid_utf8"): (0, 2, 0, 0, 0), (minute, mes, "bad_pri"): (0, 1, 0, 0, 0),
         (minute, cds, ""): (1, 0, 0, 0, 1),
         (next_minute + timedelta(minutes=1), cds, ""): (1, 0, 0, 0, 0)},
        {lims: (4, 0, 1, 1, 0, T0 + timedelta(seconds=61)),
         mes: (0, 3, 0, 0, 0, T0 + timedelta(seconds=59)),
         cds: (2, 0, 0, 0, 1, T0 + timedelta(seconds=125))},
    )


def test_the_upgrade_counts_the_stored_events_as_ingest_does(sources: list[EventSource]) -> None:
    """The backfill (migration 0007, `rollups.rebuild`) gives the rollups and totals
    ingest keeps: an upgraded site shows its history."""
    for batch in MIXED:
        ingest(sources, batch)
    kept = stored()
    EventRollup.objects.all().delete()
    SourceTotals.objects.all().delete()
    rollups.rebuild()
    assert stored() == kept
    assert sum(counts[0] + counts[1] for counts in kept[0].values()) == 12


@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_lose_no_count() -> None:
    """PostgreSQL: batches of several processes (here threads, each with its own session)
    adding to the same minute and source in overlapping transactions: every event is
    counted once (the upsert adds in the database)."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one ingest transaction at a time")
    source = EventSource.objects.create(name="LIMS BSL", kind="other", system="LIMS",
                                        format="syslog", created_at=T0)
    writers, batches, size = 4, 10, 25
    ready = threading.Barrier(writers)
    failures: list[Exception] = []

    def write() -> None:
        try:
            ready.wait()
            for _ in range(batches):
                services.ingest(source, [line(T0)] * size, channel="syslog-tcp",
                                received_at=T0)
        except Exception as exc:  # a thread's failure, asserted below
            failures.append(exc)
        finally:
            connection.close()  # this thread's session

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    expected = writers * batches * size
    assert list(EventRollup.objects.values_list("accepted", flat=True)) == [expected]
    assert SourceTotals.objects.get().accepted == expected
    assert RawEvent.objects.count() == expected


# --- the figures read them -------------------------------------------------------------------


def test_the_figures_outlive_the_raw_events(sources: list[EventSource]) -> None:
    """A retention policy may drop raw events: the metrics and totals stay."""
    for batch in MIXED:
        ingest(sources, batch)
    scope = Scope(T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    before = metrics.event_metrics(scope, now=T0 + timedelta(minutes=3))
    RawEvent.objects.all().delete()
    after = metrics.event_metrics(scope, now=T0 + timedelta(minutes=3))
    assert after == before
    assert (after.accepted, after.quarantined, after.late, after.ahead, after.delayed) == (
        9, 3, 2, 1, 1)
    assert after.quarantined_by_reason == [ReasonCount("invalid_utf8", 2),
                                           ReasonCount("bad_pri", 1)]
    assert after.timing_by_source == [SourceTiming("CDS BSL", delayed=0, late=1, ahead=1),
                                      SourceTiming("LIMS BSL", delayed=1, late=1, ahead=0)]
    assert (after.peak_per_second, after.peak_minute) == (7 / 60, T0)
    assert SourceTotals.objects.count() == 3


def test_now_is_the_last_whole_minute(sources: list[EventSource]) -> None:
    """Events per second now: the events of the last whole minute before `now` (the
    current minute is still filling)."""
    ingest(sources, [(0, 50, "on time"), (1, 59, "on time"), (0, 60, "on time")])
    scope = Scope(T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    figures = metrics.event_metrics(scope, now=T0 + timedelta(seconds=90))
    assert (figures.current_per_second, figures.accepted) == (2 / 60, 3)


def test_a_minute_counts_whole_in_the_period_it_begins_in(sources: list[EventSource]) -> None:
    """The period's edges are rounded up to the minute: events in the minute its start
    falls in are left out, those of the minute its end falls in counted."""
    ingest(sources, [(0, 10, "on time"), (0, 40, "on time"), (0, 70, "on time"),
                     (0, 130, "on time"), (0, 150, "on time")])
    scope = Scope(T0 + timedelta(seconds=30), T0 + timedelta(seconds=140))
    figures = metrics.event_metrics(scope, now=T0 + timedelta(minutes=5))
    # 09:00 begins before the start: out; 09:01 and 09:02 (its 09:02:30 too) in.
    assert figures.accepted == 3


def test_event_figures_cost_the_same_queries_for_one_and_many_sources_and_events(
    sources: list[EventSource],
) -> None:
    scope = Scope(T0 - timedelta(days=1), T0 + timedelta(days=1))
    ingest(sources, [(0, 0, "on time")])
    with CaptureQueriesContext(connection) as one:
        metrics.event_metrics(scope, now=T0)
    ingest(sources, [(n % 3, 7 * n, kind) for n in range(30) for kind in PAYLOADS])
    with CaptureQueriesContext(connection) as many:
        figures = metrics.event_metrics(scope, now=T0)
    assert figures.total == 181
    assert len(one) == len(many) == EVENT_QUERIES
    assert all("monitoring_rawevent" not in q["sql"] for q in many.captured_queries)


def test_the_sources_page_costs_the_same_queries_for_one_and_many_sources(
    sources: list[EventSource], personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    client = login(personas["it_security"])
    ingest(sources, [(0, 0, "on time")])
    client.get(reverse("monitoring:sources"))  # the session's first request

    def page() -> CaptureQueriesContext:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("monitoring:sources")).status_code == 200
        assert all("monitoring_rawevent" not in q["sql"] for q in queries.captured_queries)
        return queries

    few = page()
    ingest(sources, [(n % 3, n, kind) for n in range(60) for kind in PAYLOADS])
    for n in range(5):
        EventSource.objects.create(name=f"Relay {n}", kind="other", system="relay",
                                   format="syslog", created_at=T0)
    many = page()
    assert len(few) == len(many) == SOURCES_PAGE_QUERIES


def test_the_sources_page_shows_the_totals(
    sources: list[EventSource], personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    for batch in MIXED:
        ingest(sources, batch)
    response = login(personas["it_security"]).get(reverse("monitoring:sources"))
    assert {s.name: s.tally for s in response.context["sources"]} == {
        "CDS BSL": {"accepted": 3, "quarantined": 0, "late": 1, "ahead": 1,
                    "last": T0 + timedelta(seconds=125), "expired_before": None, "kept_days": 365},
        "LIMS BSL": {"accepted": 5, "quarantined": 0, "late": 1, "ahead": 0,
                     "last": T0 + timedelta(seconds=61), "expired_before": None, "kept_days": 365},
        "MES BSL": {"accepted": 1, "quarantined": 3, "late": 0, "ahead": 0,
                    "last": T0 + timedelta(seconds=120), "expired_before": None, "kept_days": 365},
    }
