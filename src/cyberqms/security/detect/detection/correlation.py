"""Sigma correlation rules evaluated incrementally over a sliding time window.

Supported types: `event_count` (events matched by the referenced rules, per group) and
`value_count` (distinct values of a field, per group), with the conditions `gte`, `gt`
and `eq`. Each group (the tuple of `group-by` values) holds only what its window needs:
`event_count` at most the threshold's worth of timestamps, `value_count` one timestamp per
distinct value. A group fires once when its condition holds and starts afresh, so a
sustained attack raises one alert per threshold's worth of events, not one per event.

Each entry may carry a caller's reference to its event (`observe(event, ts, ref)`); a firing
returns the references of every event in the window, so an alert can show all the events
behind it, not only the one that completed it.

An event without a value for one of the `group-by` fields (or, for `value_count`, for the
counted field) is never grouped: no alert names an account or address `None`. The engine
asks `group_of` first and passes the key to `observe_group`.

Time is each event's processing time (epoch milliseconds, see `timing`: the claimed time,
or the receipt's for events too far ahead or too late). Each group keeps its own window,
ending at the newest time of its own events, so events that arrive late (a relay that
buffered, a replayed file) are counted against their own key's events, not against the
present of everyone else's. An event older than its group's window (a replay of a key
that is active now) starts the key's second, late lane: a group of its own with its own
window, so a replayed attack is counted in its own time. An event older than its lane's
window too is counted at the lane's newest time (and in `late`), never dropped.

The correlation's clock (the newest processing time it was given, which a sender cannot
move past its receipt) decides which groups are idle: a group not updated for longer than
the window is evicted, oldest first, and no correlation keeps more than `max_groups`
groups (least recently updated go first).
"""

from __future__ import annotations

import abc
import bisect
import itertools
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .fields import Event, Getter, field_getter

type GroupKey = tuple[Any, ...]

DEFAULT_MAX_GROUPS = 100_000

CONDITION_OPERATORS: dict[str, Callable[[int, int | float], bool]] = {
    "gte": lambda count, n: count >= n,
    "gt": lambda count, n: count > n,
    "eq": lambda count, n: count == n,
}


class CorrelationError(ValueError):
    """A correlation rule this engine cannot evaluate (reason in the message)."""


def _hashable(value: Any) -> Any:
    if isinstance(value, (list, dict, set)):
        return repr(value)
    return value


@dataclass(frozen=True, slots=True)
class Fired:
    """A correlation whose condition held: the group it held for and the count reached."""

    group: tuple[tuple[str, Any], ...]
    count: int
    refs: tuple[Any, ...] = ()  # the callers' references of the window's events


class _Group:
    """One group's events (a sorted list or a dict, per window type), the newest time among
    them and the correlation clock when it was last updated."""

    __slots__ = ("entries", "newest", "touched")

    def __init__(self, entries: Any, newest: float, touched: float) -> None:
        self.entries = entries
        self.newest = newest
        self.touched = touched


class _Window(abc.ABC):
    """Shared bookkeeping: groups in least-recently-updated order, window span, clock."""

    def __init__(
        self,
        group_by: Sequence[str],
        span_ms: int,
        operator: str,
        threshold: int | float,
        max_groups: int,
    ) -> None:
        if operator not in CONDITION_OPERATORS:
            supported = ", ".join(CONDITION_OPERATORS)
            raise CorrelationError(
                f"condition '{operator}' is not supported in streaming evaluation "
                f"(supported: {supported})"
            )
        if span_ms <= 0:
            raise CorrelationError("timespan must be positive")
        self.group_by = tuple(group_by)
        self._getters = tuple(field_getter(name) for name in self.group_by)
        self.span_ms = span_ms
        self._holds = CONDITION_OPERATORS[operator]
        self.threshold = threshold
        self.max_groups = max_groups
        self.now: float | None = None
        self.late = 0  # events older than their group's window, counted at its newest time
        self._groups: OrderedDict[GroupKey, _Group] = OrderedDict()

    def __len__(self) -> int:
        return len(self._groups)

    def group_of(self, event: Event) -> GroupKey | None:
        """The event's group; None when a `group-by` value is missing or empty."""
        key = tuple(_hashable(get(event)) for get in self._getters)
        for value in key:
            if value is None or value == "":
                return None
        return key

    def observe(self, event: Event, ts: float, ref: Any = None) -> Fired | None:
        """Count one event at ``ts`` (the clock follows the newest time seen)."""
        key = self.group_of(event)
        if key is None:
            return None
        return self.observe_group(key, event, ts, ref)

    @abc.abstractmethod
    def observe_group(self, key: GroupKey, event: Event, ts: float, ref: Any = None,
                      clock: float | None = None) -> Fired | None:
        """Count one event of group `key` at `ts` (each window kind counts its own way)."""

    def _group(self, key: GroupKey, ts: float, clock: float | None,
               empty: Callable[[], Any]) -> tuple[GroupKey, _Group, float]:
        """Move the clock (``clock``, else the newest ``ts``), evict idle groups and return
        the group to count the event in (the key's, or its late lane when ``ts`` is older
        than the key's window), its key and the time to count the event at: ``ts``, or
        the lane's newest time when ``ts`` is older than the lane's window too."""
        now = self.now
        if clock is None:
            clock = ts
        if now is None or clock > now:
            self.now = now = clock
        idle = now - self.span_ms
        groups = self._groups
        while groups:
            oldest_key = next(iter(groups))
            if groups[oldest_key].touched >= idle and len(groups) < self.max_groups:
                break
            del groups[oldest_key]
        group = groups.get(key)
        if group is not None and ts < group.newest - self.span_ms:
            key = (*key, _LATE_LANE)
            group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(empty(), ts, now)
        else:
            groups.move_to_end(key)
            group.touched = now
            if ts > group.newest:
                group.newest = ts
            elif ts < group.newest - self.span_ms:
                self.late += 1
                ts = group.newest
        return key, group, ts

    def _fire(self, key: GroupKey, count: int, refs: tuple[Any, ...]) -> Fired:
        del self._groups[key]
        group = tuple(zip(self.group_by, key[: len(self.group_by)], strict=True))
        return Fired(group, count, refs)


_LATE_LANE = object()  # ends the key of a group's late lane (never equal to a field value)
_order = itertools.count()  # ties between equal times never compare the references


class EventCountWindow(_Window):
    """`event_count`: how many matching events a group had within the timespan."""

    def observe_group(self, key: GroupKey, event: Event, ts: float, ref: Any = None,
                      clock: float | None = None) -> Fired | None:
        key, group, ts = self._group(key, ts, clock, list)
        bucket: list[tuple[float, int, Any]] = group.entries
        bisect.insort(bucket, (ts, next(_order), ref))
        cutoff = group.newest - self.span_ms
        if bucket[0][0] < cutoff:
            del bucket[: bisect.bisect_left(bucket, (cutoff,))]
        count = len(bucket)
        if self._holds(count, self.threshold):
            return self._fire(key, count, tuple(r for _, _, r in bucket if r is not None))
        return None


class ValueCountWindow(_Window):
    """`value_count`: how many distinct values of a field a group had within the timespan."""

    def __init__(
        self,
        group_by: Sequence[str],
        span_ms: int,
        operator: str,
        threshold: int | float,
        max_groups: int,
        value_field: str,
    ) -> None:
        super().__init__(group_by, span_ms, operator, threshold, max_groups)
        self.value_field = value_field
        self._value: Getter = field_getter(value_field)

    def group_of(self, event: Event) -> GroupKey | None:
        """The event's group; None also when the counted field has no value."""
        value = self._value(event)
        if value is None or value == "":
            return None
        return super().group_of(event)

    def observe_group(self, key: GroupKey, event: Event, ts: float, ref: Any = None,
                      clock: float | None = None) -> Fired | None:
        value = self._value(event)
        if value is None or value == "":
            return None
        key, group, ts = self._group(key, ts, clock, dict)
        bucket: dict[Any, tuple[float, Any]] = group.entries
        value = _hashable(value)
        previous = bucket.get(value)
        if previous is None or ts >= previous[0]:
            bucket.pop(value, None)
            bucket[value] = (ts, ref)
        cutoff = group.newest - self.span_ms
        # Late events make the insertion order differ from time order: look at every
        # value (a group holds at most the threshold's worth for `gte`).
        for stale in [v for v, (seen, _) in bucket.items() if seen < cutoff]:
            del bucket[stale]
        count = len(bucket)
        if self._holds(count, self.threshold):
            refs = tuple(r for _, r in bucket.values() if r is not None)
            return self._fire(key, count, refs)
        return None
