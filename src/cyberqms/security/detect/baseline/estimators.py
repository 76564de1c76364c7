"""The streaming estimators and the surprisal arithmetic of the baselines: counts of a
categorical feature with what Good-Turing needs (``_Values``), the excess surprisal of a value
(``_excess_bits``), the daily score histograms that tune the alert thresholds
(``_Calibrator``), smoothed hour and weekday histograms (``_cyclic_excess``) and the Poisson
volume bound with its cheap cut-offs (``_volume_bits``, ``_volume_cut``, ``_volume_limit``).
Pure Python, no Django.
"""

from __future__ import annotations

from collections import deque
from math import log, log2, sqrt
from typing import Any

from .config import _LN2, _PSEUDO, BIN_WIDTH, BINS, MAX_FEATURE_BITS, REGULAR_DAYS


class _Values:
    """Counts of one categorical feature of one subject, with what Good-Turing needs."""

    __slots__ = ("counts", "cut", "days", "entropy", "lost", "ones", "total")

    def __init__(self) -> None:
        self.counts: dict[Any, int] = {}
        self.days: dict[Any, list[int]] = {}  # rare values: [last UTC day seen, days seen]
        self.ones = 0  # values seen exactly once
        self.lost = 0  # events whose value was forgotten (``max_values``)
        self.total = 0  # events counted, as of the last refresh
        self.entropy = 0.0  # expected surprisal (bits), as of the last refresh
        self.cut = 0.0  # counts below this are candidates

    def bits(self, count: int) -> float:
        """Excess surprisal of a value seen ``count`` times (see ``_surprise``)."""
        return _excess_bits(self.total, self.ones, count, self.entropy)

    def refresh(self, gate: float) -> None:
        counts = self.counts
        n = sum(counts.values()) + self.lost
        self.total = n
        if n <= 0:
            self.entropy = 0.0
            self.cut = 0.0
            return
        new = self.ones + 1
        scale = n + new
        bits = sum(c * log2(scale / max(c, new)) for c in counts.values())
        bits += self.lost * log2(scale / new)
        self.entropy = bits / n
        # A value is a candidate when max(count, new) < scale * 2^-(entropy + gate).
        cut = scale * 2.0 ** -(self.entropy + gate)
        self.cut = cut if cut > new else 0.0

    def regular(self, value: Any, day: int) -> bool:
        """Whether a rare value recurs (seen on ``REGULAR_DAYS`` distinct days while rare):
        the nightly backup job, the QA manager who opens the MES twice a day."""
        seen = self.days.get(value)
        if seen is None:
            self.days[value] = [day, 1]
            return False
        if seen[0] != day:
            seen[0] = day
            seen[1] += 1
        return seen[1] >= REGULAR_DAYS

    def insert(self, value: Any, limit: int) -> None:
        """First sight of ``value``; when full, forget the values seen once (their events
        are remembered as ``lost``), and if that is not enough halve every count."""
        counts = self.counts
        if len(counts) >= limit:
            for key in [k for k, c in counts.items() if c <= 1]:
                del counts[key]
                self.lost += 1
            if len(counts) >= limit:
                self.halve()
            self.ones = sum(1 for c in counts.values() if c == 1)
            self.days = {k: v for k, v in self.days.items() if k in counts}
        counts[value] = 1
        self.ones += 1

    def halve(self) -> None:
        counts = self.counts
        for key in list(counts):
            counts[key] //= 2
            if not counts[key]:
                del counts[key]
        self.lost //= 2
        self.ones = sum(1 for c in counts.values() if c == 1)
        # Recurrence fades too, but a value that was routine stays routine while it is
        # remembered at all.
        days = {}
        for key, (last, seen) in self.days.items():
            if key in counts and seen > 1:
                days[key] = [last, REGULAR_DAYS if seen >= REGULAR_DAYS else seen // 2]
        self.days = days


def _excess_bits(n: int, ones: int, count: int, entropy: float) -> float:
    """``-log2 p(value)`` minus the subject's expected surprisal, floored at 0 and capped.

    ``p`` is ``count / n`` for values seen before, and the Good-Turing estimate of the
    chance of a new value, ``(ones + 1) / n``, for values never seen (or seen more rarely
    than that: a value is never more surprising than a new one)."""
    if n <= 0:
        return 0.0
    new = ones + 1
    surprise = log2((n + new) / max(count, new)) - entropy
    if surprise <= 0.0:
        return 0.0
    return surprise if surprise < MAX_FEATURE_BITS else MAX_FEATURE_BITS


class _Calibrator:
    """Daily histograms of subject-hour maximum scores of one subject kind."""

    __slots__ = ("days", "today")

    def __init__(self, window: int) -> None:
        self.today = [0] * BINS
        self.days: deque[list[int]] = deque(maxlen=window)

    def record(self, score: float) -> None:
        self.today[min(int(score / BIN_WIDTH), BINS - 1)] += 1

    def close_day(self) -> None:
        self.days.append(self.today)
        self.today = [0] * BINS

    def threshold(self, target: float, floor: float, prior: float) -> float:
        """The lowest bin edge with at most ``target`` subject-hours a day above it."""
        if not self.days:
            return prior
        per_day = len(self.days)
        above = 0
        for index in range(BINS - 1, -1, -1):
            above += sum(day[index] for day in self.days)
            if above / per_day > target:
                return max(floor, (index + 1) * BIN_WIDTH)
        return floor

    def daily_above(self, threshold: float) -> list[int]:
        """Subject-hours per complete day whose maximum reached ``threshold``."""
        first = int(threshold / BIN_WIDTH)
        return [sum(day[first:]) for day in self.days]


def _cyclic_excess(counts: list[int] | list[float],
                   kernel: tuple[tuple[int, float], ...]) -> list[float]:
    """Excess surprisal (bits) of each slot of a cyclic histogram (hours or weekdays):
    ``-log2 p(slot)``, smoothed over neighbouring slots by ``kernel``, minus its
    expectation under the histogram itself; floored at 0 and capped."""
    size = len(counts)
    smoothed = list(counts)
    for shift, weight in kernel:
        shifted = counts[shift:] + counts[:shift]  # shifted[i] = counts[(i + shift) % size]
        smoothed = [a + weight * b for a, b in zip(smoothed, shifted, strict=True)]
    total = sum(smoothed) + _PSEUDO * size
    surprise = [log2(total / (v + _PSEUDO)) for v in smoothed]
    n = sum(counts)
    expected = sum(c * s for c, s in zip(counts, surprise, strict=True)) / n if n else 0.0
    return [min(MAX_FEATURE_BITS, max(0.0, s - expected)) for s in surprise]


def _volume_bits(count: int, lam: float, dispersion: float) -> float:
    """``-log2 P(X >= count)`` for ``X`` Poisson with mean ``lam`` (the Chernoff bound),
    deflated by the overdispersion."""
    if count <= lam:
        return 0.0
    nats = count * log(count / lam) - count + lam
    return min(MAX_FEATURE_BITS, nats / dispersion / _LN2)


def _volume_cut(lam: float, dispersion: float, gate: float) -> float:
    """A count below which the volume excess cannot reach the gate (a Gaussian bound, which
    lies below the Poisson one, so the cut is safe and cheap)."""
    return lam + sqrt(2.0 * lam * dispersion * _LN2 * gate)


def _volume_limit(lam: float, dispersion: float, gate: float) -> int:
    """The smallest count whose volume excess reaches the gate (by bisection)."""
    lo = int(lam)
    hi = max(lo + 1, int(_volume_cut(lam, dispersion, gate)) + 1)
    while _volume_bits(hi, lam, dispersion) < gate:
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _volume_bits(mid, lam, dispersion) < gate:
            lo = mid
        else:
            hi = mid
    return hi
