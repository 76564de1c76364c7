"""The per-entity state of the baselines: what is known about one user or system
(``_Subject``: its current hour, time slots, volume per hour of day with river's dispersion
and quantile estimators, hosts, actions and accounts, cut-offs and learning stage), the hour
and weekday histograms of a peer group (``_Peers``), and the time slot of an event
(``_slot``). Pure Python, no Django.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from river import stats

from .config import (
    _DAY,
    _EW_FADING,
    _HOUR,
    _NEVER,
    MAX_DISPERSION,
    MIN_DISPERSION,
    REGULAR_DAYS,
    SLOTS,
)
from .estimators import _Values


def _slot(gxp: Mapping[str, Any]) -> int:
    """The (weekday, hour) time slot of an event from its site-local ``gxp.weekday`` and
    ``gxp.hour``; 0 and 24 stand for unknown."""
    try:
        return _DAY.get(gxp.get("weekday"), 0) + _HOUR.get(gxp.get("hour"), 24)
    except TypeError:  # unhashable values
        return 24


class _Subject:
    """What the baseline knows about one user or system."""

    __slots__ = (
        "action_counts", "action_cut", "actions", "bucket", "bucket_cut", "bucket_max",
        "bucket_n", "bucket_slot", "buckets", "closed", "cuts", "day_ex", "decayed", "first",
        "host_counts", "host_cut", "hosts", "hour_b", "hour_ex", "hour_n", "key", "n",
        "next_refresh", "peer", "quiet_until", "refreshed", "slots", "stage", "user_counts",
        "user_cut", "users", "vol_disp", "vol_mean", "vol_q",
    )

    def __init__(self, key: str, ms: int, bucket: int, slot: int, *, system: bool) -> None:
        self.key = key
        self.first = self.decayed = self.refreshed = ms
        self.n = 0  # events, as of the last closed hour
        self.stage = 0  # 0 learning, 1 calibrating (scored, never alerts), 2 mature
        self.bucket = bucket
        self.bucket_n = 0
        self.bucket_max = 0.0
        self.bucket_slot = slot  # the (weekday, hour) slot of the current hour
        self.bucket_cut = _NEVER  # events this hour beyond which each is a candidate
        self.buckets = 0  # active hours (with events)
        self.hour_n = [0.0] * 24  # events per local hour of day ...
        self.hour_b = [0.0] * 24  # ... and active hours at that hour of day
        self.slots = [0.0] * SLOTS  # active hours per (weekday, hour) slot (halved: floats)
        self.hour_ex = [0.0] * 25  # excess bits per hour (24: unknown)
        self.day_ex = [0.0] * 8  # excess bits per weekday (0: unknown)
        self.cuts = [_NEVER] * SLOTS  # per time slot: events per hour that make candidates
        self.closed: list[tuple[int, int]] = []  # (slot, events) of hours closed since
        self.hosts = _Values()
        self.actions = _Values()
        self.users = _Values()  # for systems: the accounts acting on them
        # The hot path reads these copies (the same dicts; cut-offs copied at refresh).
        self.host_counts = self.hosts.counts
        self.action_counts = self.actions.counts
        self.user_counts = self.users.counts
        self.host_cut = self.action_cut = self.user_cut = 0.0
        self.vol_mean = 0.0  # events per active hour, exponentially weighted
        self.vol_disp = stats.EWVar(_EW_FADING)  # of (count - expected) / sqrt(expected)
        self.vol_q = stats.Quantile(0.99)  # events per active hour
        self.peer: str | None = None
        self.quiet_until = 0
        self.next_refresh = 0

    def expected(self, hour: int) -> float:
        """Events expected in an active hour at this local hour of day (at least 1): the
        mean of the subject's active hours at that hour of day, or, with fewer than
        ``REGULAR_DAYS`` of them, its busiest hours (the 99th percentile), so that a new
        shift is not a burst."""
        if hour < 24 and self.hour_b[hour] >= REGULAR_DAYS:
            return max(1.0, self.hour_n[hour] / self.hour_b[hour])
        return max(1.0, self.vol_mean, self.vol_q.get() or 0.0)

    def dispersion(self) -> float:
        """Overdispersion of hourly counts relative to Poisson: the variance of the
        standardized residuals, at least ``MIN_DISPERSION`` (people and shift rotations
        make hourly activity burstier than the estimate from a few weeks shows)."""
        return min(MAX_DISPERSION, max(MIN_DISPERSION, self.vol_disp.get()))

    def hours(self) -> list[float]:
        """Active hours per local hour of day."""
        slots = self.slots
        return [sum(slots[h::25]) for h in range(24)]

    def weekdays(self) -> list[float]:
        """Active hours per weekday (index 0: unknown)."""
        slots = self.slots
        return [sum(slots[d: d + 25]) for d in range(0, SLOTS, 25)]


class _Peers:
    """Hour and weekday histograms of a peer group (users sharing a work pattern)."""

    __slots__ = ("day_ex", "days", "hour_ex", "hours")

    def __init__(self) -> None:
        self.hours = [0.0] * 24
        self.days = [0.0] * 8
        self.hour_ex: list[float] | None = None
        self.day_ex: list[float] | None = None
