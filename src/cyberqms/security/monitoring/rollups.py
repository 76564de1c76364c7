"""Pre-aggregated event counts (issue 14): what the metrics and the sources page read
instead of the raw events.

Ingest counts each batch into `EventRollup` (per UTC minute, source and quarantine reason)
and `SourceTotals` (per source, with its last receive time) in the batch's transaction:
one row per (minute, source, reason) and one per source the batch touched, upserted so
that the database adds the batch's counts to the stored ones (``INSERT … ON CONFLICT …
DO UPDATE SET n = n + excluded.n``, SQLite and PostgreSQL alike; one statement per table
on PostgreSQL), so concurrent ingest processes never lose a count. The rows are written in key
order, so two batches lock the rows they share in the same order. The rollups do not
depend on the raw rows staying: a retention policy may drop raw events, the figures remain.

`rebuild` recounts both from the stored raw events (two grouped ``INSERT … SELECT``): the
upgrade that introduced them runs it once (migration 0007), so an upgraded site shows its
history.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

from .enums import EventTiming, RawStatus
from .models import EventRollup, RawEvent, SourceTotals

# Table names come from the models, never from input; every value is bound.
_ROLLUPS = EventRollup._meta.db_table
_TOTALS = SourceTotals._meta.db_table
_RAW = RawEvent._meta.db_table
COUNTS = ("accepted", "quarantined", "delayed", "late", "ahead")
_ADD = ", ".join(f"{name} = {{table}}.{name} + excluded.{name}" for name in COUNTS)
_ROLLUP_COLUMNS = f"{_ROLLUPS} (minute, source_id, reason, {', '.join(COUNTS)})"
_ROLLUP_TYPES = ("timestamptz", "bigint", "text", *["bigint"] * len(COUNTS))
_ROLLUP_CONFLICT = (f"ON CONFLICT (minute, source_id, reason) "
                    f"DO UPDATE SET {_ADD.format(table=_ROLLUPS)}")
_TOTALS_COLUMNS = f"{_TOTALS} (source_id, {', '.join(COUNTS)}, last_received_at)"
_TOTALS_TYPES = ("bigint", *["bigint"] * len(COUNTS), "timestamptz")
# The later of two receive times: max() of two values on SQLite, GREATEST on PostgreSQL.
_LATER = {"sqlite": "max", "postgresql": "GREATEST"}
_TOTALS_CONFLICT = (
    f"ON CONFLICT (source_id) DO UPDATE SET {_ADD.format(table=_TOTALS)}, "
    f"last_received_at = {{later}}({_TOTALS}.last_received_at, excluded.last_received_at)"
)
_ACCEPTED, _QUARANTINED = RawStatus.ACCEPTED.value, RawStatus.QUARANTINED.value
_TIMING_SLOT = {EventTiming.DELAYED.value: 2, EventTiming.LATE.value: 3,
                EventTiming.AHEAD.value: 4}


def _minute(received: Any) -> Any:
    """The UTC minute a receive time falls in, as the column takes it: SQLite's text
    ("YYYY-MM-DD HH:MM:SS[.ffffff]", UTC) or an aware datetime."""
    if isinstance(received, str):
        return received[:16] + ":00"
    return received.replace(second=0, microsecond=0)


def record(cursor: Any, rows: Sequence[Sequence[Any]], columns: Sequence[str]) -> None:
    """Count a batch of raw event rows, as ingest inserts them (`columns` names their
    fields), into the rollups and the sources' totals, on `cursor` (in the batch's
    transaction)."""
    source_at, received_at, status_at, reason_at, timing_at = (
        columns.index(name) for name in ("source_id", "received_at", "status", "reason",
                                         "timing"))
    minutes: dict[Any, Any] = {}
    # (minute, source, reason) → accepted, quarantined, delayed, late, ahead, last received
    counts: dict[tuple[Any, int, str], list[Any]] = {}
    for row in rows:
        received = row[received_at]
        minute = minutes.get(received)
        if minute is None:
            minute = minutes[received] = _minute(received)
        accepted = row[status_at] == _ACCEPTED
        key = (minute, row[source_at], "" if accepted else row[reason_at])
        found = counts.get(key)
        if found is None:
            found = counts[key] = [0, 0, 0, 0, 0, received]
        found[0 if accepted else 1] += 1
        timing = row[timing_at]
        if timing:
            found[_TIMING_SLOT[timing]] += 1
        if received > found[5]:
            found[5] = received
    if not counts:
        return
    keyed = sorted(counts.items())
    totals: dict[int, list[Any]] = {}
    for (_at, source, _reason), found in keyed:
        total = totals.get(source)
        if total is None:
            totals[source] = list(found)
            continue
        for slot in range(5):
            total[slot] += found[slot]
        total[5] = max(total[5], found[5])
    vendor = cursor.db.vendor
    _upsert(cursor, _ROLLUP_COLUMNS, _ROLLUP_TYPES, _ROLLUP_CONFLICT,
            [[*key, *found[:5]] for key, found in keyed])
    _upsert(cursor, _TOTALS_COLUMNS, _TOTALS_TYPES, _TOTALS_CONFLICT.format(later=_LATER[vendor]),
            [[source, *total] for source, total in sorted(totals.items())])


def _upsert(cursor: Any, into: str, types: Sequence[str], conflict: str,
            rows: list[list[Any]]) -> None:
    """Insert `rows`, or add them to the stored ones."""
    if cursor.db.vendor == "postgresql":
        # One statement, the columns as arrays: a VALUES list of thousands of values (a
        # batch spanning hours) costs PostgreSQL more to plan than to run, and one
        # statement per row costs a round trip each.
        arrays = ", ".join(f"%s::{name}[]" for name in types)
        cursor.execute(f"INSERT INTO {into} SELECT * FROM unnest({arrays}) {conflict}",  # noqa: S608  # names and types from this module, values bound
                       [list(column) for column in zip(*rows, strict=True)])
    else:  # SQLite runs in the process: a statement per row costs no round trip
        values = ", ".join(["%s"] * len(types))
        cursor.executemany(f"INSERT INTO {into} VALUES ({values}) {conflict}", rows)  # noqa: S608  # see above


def rebuild(using: str = DEFAULT_DB_ALIAS) -> None:
    """Recount the rollups and the sources' totals from the stored raw events (what the
    upgrade to rollups runs once). Only while every raw event is kept: once a retention
    policy has dropped raw events, a rebuild would lose their counts."""
    connection = connections[using]
    minute = {"sqlite": "substr(received_at, 1, 16) || ':00'",
              "postgresql": "date_trunc('minute', received_at)"}[connection.vendor]
    statuses = [_ACCEPTED, _QUARANTINED]
    # The five counts, in COUNTS' order: by status, then by timing.
    counted = ", ".join(["SUM(CASE WHEN status = %s THEN 1 ELSE 0 END)"] * 2
                        + ["SUM(CASE WHEN timing = %s THEN 1 ELSE 0 END)"] * len(_TIMING_SLOT))
    counted_params = [*statuses, *_TIMING_SLOT]
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {_ROLLUPS}")  # noqa: S608  # name from the model
        cursor.execute(f"DELETE FROM {_TOTALS}")  # noqa: S608  # name from the model
        cursor.execute(
            f"INSERT INTO {_ROLLUP_COLUMNS} "  # noqa: S608  # names from the models
            f"SELECT {minute}, source_id, CASE WHEN status = %s THEN '' ELSE reason END, "
            f"{counted} FROM {_RAW} WHERE status IN (%s, %s) GROUP BY 1, 2, 3",
            [_ACCEPTED, *counted_params, *statuses])
        cursor.execute(
            f"INSERT INTO {_TOTALS_COLUMNS} "  # noqa: S608  # names from the models
            f"SELECT source_id, {counted}, MAX(received_at) FROM {_RAW} "
            f"WHERE status IN (%s, %s) GROUP BY source_id",
            [*counted_params, *statuses])
