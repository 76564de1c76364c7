"""The big-site generator (`benchmarks/bigsite.py`, issue 14) at a tiny size: the sizes
asked for exactly, a trail that verifies (CYB-02: every generated row has the entries its
service would write), and events stored as ingest stores them."""

from __future__ import annotations

import importlib
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from cyberqms.platform.trail.integrity import check_trail
from cyberqms.security.detect import ocsf
from cyberqms.security.detect.parsers import parse_line
from cyberqms.security.monitoring.models import RawEvent
from cyberqms.security.monitoring.services import source_info

BENCHMARKS = str(Path(__file__).resolve().parents[4] / "benchmarks")


@pytest.fixture(scope="module")
def bigsite() -> Iterator[ModuleType]:
    """The generator (benchmarks are scripts, not a package: found on the path meanwhile)."""
    sys.path.insert(0, BENCHMARKS)
    try:
        yield importlib.import_module("bigsite")
    finally:
        sys.path.remove(BENCHMARKS)


@pytest.fixture
def tiny_site(db: Any, bigsite: ModuleType) -> Any:
    """6 people, 20 records, 60 entries, 100 events, generated on the test database."""
    sizes = bigsite.Sizes(people=6, records=20, entries=60, events=100)
    bigsite.generate(sizes, out=io.StringIO())
    return sizes


def test_a_tiny_site_has_exactly_the_sizes_asked_for(
    bigsite: ModuleType, tiny_site: Any
) -> None:
    assert bigsite.counts() == tiny_site


def test_the_trail_of_a_tiny_site_verifies_with_every_row_reconciled(tiny_site: Any) -> None:
    report = check_trail()

    assert [p.message for p in report.problems] == []
    assert report.entries == 60
    assert report.unsealed == 0


def test_events_carry_the_columns_ingest_derives_from_their_payload(tiny_site: Any) -> None:
    from bigsite_events import searched

    stored, parsed = [], []
    for row in RawEvent.objects.select_related("source").filter(status="accepted"):
        received_ms = int(row.received_at.timestamp() * 1000)
        event = ocsf.normalize(
            parse_line(bytes(row.payload), row.source.format, received_at=row.received_at),
            source=source_info(row.source), received_ms=received_ms)
        stored.append((row.class_uid, row.actor, row.src_ip,
                       int(row.event_time.timestamp() * 1000)))
        parsed.append((*searched(event), event["time"]))

    assert len(stored) >= 95
    assert stored == parsed
