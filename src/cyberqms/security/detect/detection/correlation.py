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

Time is the events' own `time` (epoch milliseconds). The window ends at the newest time
seen by the correlation; an event older than the window when it arrives is not counted.
Groups idle for longer than the window are evicted, oldest first, and no correlation
keeps more than `max_groups` groups (least recently updated go first).
"""

from __future__ import annotations

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


class _Window:
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
        self._groups: OrderedDict[GroupKey, Any] = OrderedDict()

    def __len__(self) -> int:
        return len(self._groups)

    def _key(self, event: Event) -> GroupKey:
        return tuple(_hashable(get(event)) for get in self._getters)

    def _advance(self, ts: float) -> float | None:
        """Move the clock; return the window's cutoff, or None if `ts` is already outside."""
        if self.now is None or ts > self.now:
            self.now = ts
        cutoff = self.now - self.span_ms
        if ts < cutoff:
            return None
        groups = self._groups
        while groups:
            oldest_key = next(iter(groups))
            if self._last_update(groups[oldest_key]) >= cutoff and len(groups) < self.max_groups:
                break
            del groups[oldest_key]
        return cutoff

    def _last_update(self, bucket: Any) -> float:
        raise NotImplementedError

    def _fire(self, key: GroupKey, count: int, refs: tuple[Any, ...]) -> Fired:
        del self._groups[key]
        return Fired(tuple(zip(self.group_by, key, strict=True)), count, refs)


_order = itertools.count()  # ties between equal times never compare the references


class EventCountWindow(_Window):
    """`event_count`: how many matching events a group had within the timespan."""

    def _last_update(self, bucket: list[tuple[float, int, Any]]) -> float:
        return bucket[-1][0]

    def observe(self, event: Event, ts: float, ref: Any = None) -> Fired | None:
        cutoff = self._advance(ts)
        if cutoff is None:
            return None
        key = self._key(event)
        groups = self._groups
        bucket: list[tuple[float, int, Any]] | None = groups.get(key)
        if bucket is None:
            bucket = groups[key] = []
        else:
            groups.move_to_end(key)
        bisect.insort(bucket, (ts, next(_order), ref))
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

    def _last_update(self, bucket: dict[Any, tuple[float, Any]]) -> float:
        return next(reversed(bucket.values()))[0]

    def observe(self, event: Event, ts: float, ref: Any = None) -> Fired | None:
        value = self._value(event)
        if value is None:
            return None
        cutoff = self._advance(ts)
        if cutoff is None:
            return None
        key = self._key(event)
        groups = self._groups
        bucket: dict[Any, tuple[float, Any]] | None = groups.get(key)
        if bucket is None:
            bucket = groups[key] = {}
        else:
            groups.move_to_end(key)
        value = _hashable(value)
        previous = bucket.pop(value, None)
        bucket[value] = (ts, ref) if previous is None or ts >= previous[0] else previous
        while True:
            first = next(iter(bucket))
            if bucket[first][0] >= cutoff:
                break
            del bucket[first]
        count = len(bucket)
        if self._holds(count, self.threshold):
            refs = tuple(r for _, r in bucket.values() if r is not None)
            return self._fire(key, count, refs)
        return None
