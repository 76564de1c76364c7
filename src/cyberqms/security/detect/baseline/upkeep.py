"""The state of the baselines and its upkeep, off the per-event path: the subject tables,
peer groups, calibration and thresholds (``_Model``, the base of ``Baselines``), closing a
subject's hour and refreshing its model (time slots, volume, peer groups, learning stage,
cut-offs), halving old counts, retuning the thresholds once a day and evicting the least
recently active subjects. Pure Python, no Django.
"""

from __future__ import annotations

from collections.abc import Mapping
from math import sqrt
from typing import Any

from .config import (
    _EW_FADING,
    _HOUR_KERNEL,
    _MAX_PEER_GROUPS,
    DAY_MS,
    HOUR_MS,
    REGULAR_DAYS,
    BaselineConfig,
)
from .estimators import _Calibrator, _cyclic_excess, _volume_cut
from .subject import _Peers, _slot, _Subject


class _Model:
    """The learned state of per-user and per-system baselines and its upkeep (hours, days,
    subjects); ``Baselines`` adds scoring and the per-event path."""

    def __init__(self, config: BaselineConfig | None = None) -> None:
        self.config = config = config or BaselineConfig()
        self._enabled = config.enabled
        self._users: dict[str, _Subject] = {}
        self._systems: dict[str, _Subject] = {}
        self._peers: dict[str, _Peers] = {}
        self._calibration = {
            "user": _Calibrator(config.window_days),
            "system": _Calibrator(config.window_days),
        }
        self.thresholds = {"user": config.prior_threshold, "system": config.prior_threshold}
        self._now = 0
        self._day: int | None = None
        self._action_names: dict[int, tuple[Any, ...]] = {}  # action hash -> action
        self._day_end = -(2**62)  # start of the next UTC day, ms
        self._gate = config.notable_bits
        self._user_limit = config.max_values
        self._system_limit = 4 * config.max_values
        self._learning_ms = int(config.learning_days * DAY_MS)
        self._decay_ms = max(HOUR_MS, int(config.half_life_days * DAY_MS))
        # Figures for benchmarks and the docs.
        self.candidates = 0
        self.alerts = 0
        self.refreshes = 0
        self.evictions = 0
        self.rejected = 0

    # -- hour boundaries ----------------------------------------------------------------

    def _roll(self, s: _Subject, system: bool, gxp: Mapping[str, Any], bucket: int,
              ms: int) -> None:
        """Close the subject's hour (kept for the next refresh; its highest score goes to
        the calibration) and open the next one with its cut-off, refreshing the subject's
        model first when due. ``gxp`` is that of the first event of the new hour."""
        count = s.bucket_n
        if count:
            s.n += count
            s.closed.append((s.bucket_slot, count))
            if s.bucket_max > 0.0:
                self._calibration["system" if system else "user"].record(s.bucket_max)
        s.bucket = bucket
        s.bucket_n = 0
        s.bucket_max = 0.0
        slot = s.bucket_slot = _slot(gxp)
        since = ms - s.refreshed
        # While learning: daily, and when the history grew by an eighth (6 hours apart);
        # a mature subject's model moves slowly: every other day.
        if s.stage < 2:
            if since >= DAY_MS or (s.n >= s.next_refresh and since >= 6 * HOUR_MS):
                self._refresh(s, system, gxp, ms)
        elif since >= 2 * DAY_MS:
            self._refresh(s, system, gxp, ms)
        s.bucket_cut = s.cuts[slot]

    def _refresh(self, s: _Subject, system: bool, gxp: Mapping[str, Any], ms: int) -> None:
        """Learn the hours closed since the last refresh (active time slots, volume per
        hour of day, peer groups), advance the learning stage, and recompute the cut-offs
        (amortized: a few times a day per subject at most)."""
        self.refreshes += 1
        s.refreshed = ms
        s.next_refresh = s.n + max(32, s.n // 8)
        if not system:
            pattern = gxp.get("work_pattern")
            s.peer = pattern if pattern.__class__ is str else None
        peers = self._peer_group(s.peer) if s.peer is not None else None
        slots, hour_n, hour_b, disp = s.slots, s.hour_n, s.hour_b, s.vol_disp
        for slot, count in s.closed:
            slots[slot] += 1  # time: when the subject is active
            hour = slot % 25
            if hour < 24:
                if hour_b[hour] >= REGULAR_DAYS:  # a mean of its own to compare with
                    lam = s.expected(hour)
                    disp.update((count - lam) / sqrt(lam))
                hour_n[hour] += count
                hour_b[hour] += 1
                if peers is not None:
                    peers.hours[hour] += 1
            if peers is not None and slot >= 25:
                peers.days[slot // 25] += 1
            if s.buckets:
                s.vol_mean += _EW_FADING * (count - s.vol_mean)
            else:
                s.vol_mean = float(count)
            s.vol_q.update(count)
            s.buckets += 1
        s.closed = []
        if ms - s.decayed >= self._decay_ms:
            self._decay(s, ms)
        config = self.config
        age = ms - s.first
        if s.stage < 2 and age >= self._learning_ms and s.n >= config.min_events:
            s.stage = 2
        elif s.stage == 0 and age * 2 >= self._learning_ms and s.n * 2 >= config.min_events:
            s.stage = 1
        # Categorical cut-offs even while learning, so that recurring rare values are
        # followed from the start (see _Values.regular).
        gate = self._gate
        s.hosts.refresh(gate)
        s.actions.refresh(gate)
        s.users.refresh(gate)
        s.host_cut, s.action_cut, s.user_cut = s.hosts.cut, s.actions.cut, s.users.cut
        if not s.stage:
            return
        # An hour of day at which the subject was active on REGULAR_DAYS days is routine.
        hour_ex = [0.0 if b >= REGULAR_DAYS else x
                   for x, b in zip(_cyclic_excess(s.hours(), _HOUR_KERNEL), s.hour_b,
                                   strict=True)]
        # Weekdays mean something only once the subject has lived a whole week.
        day_ex = [0.0] * 8
        if age >= 7 * DAY_MS:
            day_ex[1:] = _cyclic_excess(s.weekdays()[1:], ())
        if peers is not None and peers.hour_ex is not None and peers.day_ex is not None:
            # Unusual for the user and for users who work like them.
            hour_ex = [min(a, b) for a, b in zip(hour_ex, peers.hour_ex, strict=True)]
            day_ex = [min(a, b) for a, b in zip(day_ex, peers.day_ex, strict=True)]
        s.hour_ex = [*hour_ex, 0.0]
        s.day_ex = day_ex
        # Events per hour beyond which each is a candidate; none when the time is notable.
        dispersion = s.dispersion()
        row = [0.0 if x >= gate else _volume_cut(s.expected(h), dispersion, gate)
               for h, x in enumerate(s.hour_ex)]
        zero = [0.0] * 25
        cuts: list[float] = []
        for x in day_ex:
            cuts += zero if x >= gate else row
        s.cuts = cuts

    def _peer_group(self, pattern: str) -> _Peers | None:
        peers = self._peers.get(pattern)
        if peers is None and len(self._peers) < _MAX_PEER_GROUPS:
            peers = self._peers[pattern] = _Peers()
        return peers

    def _decay(self, s: _Subject, ms: int) -> None:
        """Halve every count so that old behaviour fades (every ``half_life_days``)."""
        s.decayed = ms
        s.slots = [c / 2 for c in s.slots]
        s.buckets //= 2
        s.hour_n = [c / 2 for c in s.hour_n]
        s.hour_b = [c / 2 for c in s.hour_b]
        s.n //= 2
        s.hosts.halve()
        s.actions.halve()
        s.users.halve()
        s.next_refresh = 0

    # -- days and subjects --------------------------------------------------------------

    def _new_day(self, day: int) -> None:
        """Close calibration days, retune the thresholds, refresh the peer groups."""
        if self._day is not None and day > self._day:
            config = self.config
            for _ in range(min(day - self._day, config.window_days + 1)):
                for calibrator in self._calibration.values():
                    calibrator.close_day()
            budget = config.alerts_per_day * config.headroom
            targets = {"user": budget * config.user_share,
                       "system": budget * (1.0 - config.user_share)}
            for kind, calibrator in self._calibration.items():
                self.thresholds[kind] = calibrator.threshold(
                    targets[kind], config.min_threshold, config.prior_threshold)
            halve = day % max(1, round(config.half_life_days)) == 0
            for peers in self._peers.values():
                if halve:
                    peers.hours = [c / 2 for c in peers.hours]
                    peers.days = [c / 2 for c in peers.days]
                peers.hour_ex = _cyclic_excess(peers.hours, _HOUR_KERNEL)
                peers.day_ex = [0.0, *_cyclic_excess(peers.days[1:], ())]
        self._day = day
        self._day_end = (day + 1) * DAY_MS

    def _add_subject(self, table: dict[str, _Subject], key: str, ms: int, bucket: int,
                     gxp: Mapping[str, Any], *, system: bool) -> _Subject:
        if len(table) >= (self.config.max_systems if system else self.config.max_users):
            # Evict the least recently active tenth (amortized: once per tenth of the cap).
            by_age = sorted(table.items(), key=lambda kv: kv[1].bucket)
            for old, _ in by_age[: max(1, len(by_age) // 10)]:
                del table[old]
                self.evictions += 1
        subject = table[key] = _Subject(key[:200], ms, bucket, _slot(gxp), system=system)
        return subject
