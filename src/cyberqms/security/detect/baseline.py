"""Behaviour baselines: per-user and per-system behaviour learned from the event stream,
each event scored as it arrives, anomalies explained by their top contributing features.

    baselines = Baselines(BaselineConfig(alerts_per_day=5))
    for event in enriched:                     # normalized + enriched OCSF dicts, time order
        for match in baselines.observe(event):  # detection Matches, like the Sigma engine's
            ...

Subjects are each acting user (``actor.user.name``) and each system (``gxp.system``, else
``device.hostname``, else ``metadata.log_name``). Per subject the baseline learns:

- time: active hours per site-local hour of day (``gxp.hour``) and weekday
  (``gxp.weekday``), from the enrichment step; for users also compared with their peer
  group (``gxp.work_pattern``: day, shift, service), so that an operator's weekly shift
  rotation or a service account's night job is not unusual;
- volume: events per hour, as a mean per hour of day with its overdispersion;
- hosts: ``src_endpoint.hostname``, else ``.ip``;
- actions: (``type_uid``, failed or not, ``gxp.record_type``, ``metadata.event_code``);
- users: for systems, the accounts acting on them.

Scoring. Each feature contributes its excess surprisal in bits: ``-log2 p(value | subject)``
minus what is typical for that subject (its expected surprisal, the entropy of its own
distribution), floored at 0 and capped at ``MAX_FEATURE_BITS``. Values never seen get the
Good-Turing chance of a new value (the share of values seen once): a firewall that meets new
addresses all day finds one more ordinary, a PLC that has talked to three HMIs for weeks
does not. Volume contributes ``-log2 P(X >= n)`` for the events ``n`` of the current hour
(the Chernoff bound of a Poisson law with the subject's mean at that hour of day), divided
by the subject's overdispersion. A rare value seen on ``REGULAR_DAYS`` distinct days (a
nightly job), and an hour of day active on as many days, are routine and contribute nothing.
The score sums the features of at least half ``notable_bits`` provided one reaches
``notable_bits``; an event alerts when the score reaches its kind's threshold, the subject
has finished its learning period, and it did not alert within the cooldown (one Match per
subject and episode; the alert groups the rest). The Match context names the top features
with the observed value, what is usual for the subject and their share of the score.

Alert budget. The threshold of each kind (users, systems) is tuned from the stream: per UTC
day, a histogram of each subject-hour's highest score (0.5-bit bins); once a day the
threshold becomes the lowest bin edge at which the mean number of subject-hours per day
above it, over the last ``window_days`` complete days, stays within ``headroom`` x the
kind's share of ``alerts_per_day``; never below ``min_threshold``, ``prior_threshold`` before
the first complete day. A subject alerts at most once per cooldown, so the expected number
of alerts on traffic like the recent past stays within the budget. See docs/baselines.md.

Speed. ``observe`` must cost a few microseconds (the ingest budget is 50 us an event in
all), so the per-event path is ours: a few dict and list operations per subject, compared
with cut-offs precomputed at refresh (daily per subject; every other day once mature).
Only candidates (some feature past its cut-off: 0.2-0.3 % of the plant's events) are scored
in full; closed hours are kept in a list and learned at the next refresh. The cut-offs are
set so that a non-candidate cannot have a notable feature.

What river does, and what we wrote. ``river.stats`` (Rust-backed) estimates each subject's
volume dispersion (``EWVar`` of the standardized hourly residuals, fading 0.05: it follows
drift over a few days of activity) and the 99th percentile of its hourly volume
(``Quantile``, the P-squared estimator), which sets the expected volume where an hour of day
has no history yet and is quoted in explanations. They are updated once per closed hour, not
per event. river's detectors were measured and left out of the per-event path:
``anomaly.HalfSpaceTrees`` costs about 26 us per event for score and learn (five times the
whole budget), ``proba.Multinomial`` 0.5 us per update (we need five to eight per event),
and neither explains its score per feature. Ours: the counters, the smoothing, the
surprisal arithmetic, the candidate gating and the budget calibration.

Bounded memory: at most ``max_users`` users and ``max_systems`` systems (the least
recently active tenth is forgotten when full), at most ``max_values`` distinct hosts and
actions per user (four times that per system; values seen once are forgotten first), and
counts halve every ``half_life_days`` so that the baseline follows change.

Pure Python, no Django (``baseline_store`` is the glue). Not thread-safe: one per process,
fed in time order, like the detection engine. Action keys are hashes, valid in one process:
baselines are rebuilt from stored events, never persisted. ``observe`` never raises: parts
of unexpected types are ignored, an event without ``get`` is counted in ``rejected``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from math import ceil, log, log2, sqrt
from typing import Any, Final

from river import stats

from .detection.engine import Match, RuleInfo
from .ocsf import CLASSES

HOUR_MS: Final = 3_600_000
DAY_MS: Final = 24 * HOUR_MS
STATUS_FAILURE: Final = 2
MAX_FEATURE_BITS: Final = 24.0
BIN_WIDTH: Final = 0.5  # bits per calibration histogram bin
BINS: Final = 320  # 0 .. 160 bits; higher scores land in the last bin
TOP_FEATURES: Final = 3
MIN_DISPERSION, MAX_DISPERSION = 2.0, 16.0
REGULAR_DAYS: Final = 3  # a rare value seen on this many days is part of the routine
FEATURES: Final = ("hour", "weekday", "volume", "host", "action", "user")
# Time slots: weekday (0 unknown, 1..7 ISO) x 25 + hour (0..23, 24 unknown).
SLOTS: Final = 8 * 25
_HOUR: Final[dict[Any, int]] = {h: h for h in range(24)}
_DAY: Final[dict[Any, int]] = {d: d * 25 for d in range(1, 8)}
_HOUR_KERNEL: Final = ((-2, 0.25), (-1, 0.5), (1, 0.5), (2, 0.25))
_PSEUDO: Final = 0.1  # pseudo-count (active hours) per hour of day or weekday
_LN2: Final = log(2)
_DAY_NAMES: Final = ("", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_NEVER: Final = float("inf")
_EW_FADING: Final = 0.05
_EMPTY: Final[Mapping[str, Any]] = {}
_MAX_PEER_GROUPS: Final = 64  # work patterns are a short vocabulary
_MAX_ACTION_NAMES: Final = 65_536
_GXP_READ: Final = ("hour", "weekday", "system", "record_type", "work_pattern")
_USUAL: Final = 1 << 62  # stands for the count of a rare value that recurs: never unusual

USER_RULE: Final = RuleInfo(
    id="cyberqms-baseline-user",
    title="Unusual behaviour of a user (behaviour baseline)",
    level="medium",
    tags=("attack.initial_access", "attack.t1078", "cyberqms.req.cyb-04"),
    techniques=("T1078",),
    requirements=("CYB-04",),
    description="The user's activity departs from their learned baseline (time of day, "
                "weekday, volume, hosts, actions); the context lists the top features.",
    correlation=False,
)
SYSTEM_RULE: Final = RuleInfo(
    id="cyberqms-baseline-system",
    title="Unusual activity on a system (behaviour baseline)",
    level="medium",
    tags=("attack.initial_access", "attack.t1078", "cyberqms.req.cyb-04",
          "cyberqms.req.a11d-03"),
    techniques=("T1078",),
    requirements=("CYB-04", "A11D-03"),
    description="Activity on the system departs from its learned baseline (time of day, "
                "volume, source hosts, actions, accounts); the context lists the top features.",
    correlation=False,
)


@dataclass(frozen=True, slots=True)
class BaselineConfig:
    """Tuning of the baselines; the Django settings ``CYBERQMS_BASELINE_*`` fill it."""

    enabled: bool = True
    alerts_per_day: float = 5.0  # the budget: expected anomaly alerts per day, both kinds
    learning_days: float = 7.0  # a subject alerts only after this much history
    min_events: int = 50  # ... and at least this many events
    max_users: int = 5_000  # users followed (the least recently active are forgotten)
    max_systems: int = 1_000  # systems followed
    max_values: int = 256  # distinct hosts / actions kept per user; systems keep 4x
    cooldown_ms: int = HOUR_MS  # one alert per subject per episode
    window_days: int = 7  # calibration window (complete days)
    min_threshold: float = 10.0  # bits: the threshold never goes lower
    prior_threshold: float = 24.0  # bits, before the first complete calibration day
    notable_bits: float = 4.0  # a feature counts when 16x rarer than typical for the subject
    user_share: float = 0.6  # of the budget; systems get the rest
    headroom: float = 0.8  # aim at this fraction of the budget
    half_life_days: float = 7.0  # counts halve this often


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


def _slot(gxp: Mapping[str, Any]) -> int:
    """The (weekday, hour) time slot of an event from its site-local ``gxp.weekday`` and
    ``gxp.hour``; 0 and 24 stand for unknown."""
    try:
        return _DAY.get(gxp.get("weekday"), 0) + _HOUR.get(gxp.get("hour"), 24)
    except TypeError:  # unhashable values
        return 24


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


class _Peers:
    """Hour and weekday histograms of a peer group (users sharing a work pattern)."""

    __slots__ = ("day_ex", "days", "hour_ex", "hours")

    def __init__(self) -> None:
        self.hours = [0.0] * 24
        self.days = [0.0] * 8
        self.hour_ex: list[float] | None = None
        self.day_ex: list[float] | None = None


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


class Baselines:
    """Per-user and per-system behaviour baselines over one event stream (see module doc)."""

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

    # -- the per-event path -------------------------------------------------------------

    def observe(self, event: Mapping[str, Any]) -> list[Match]:
        """Learn from one event and return the Matches it raises (at most one per subject).

        Never raises: an event whose parts have unexpected shapes is skipped (counted in
        ``rejected``)."""
        if not self._enabled:
            return []
        try:
            try:
                # Normalized events always carry these (ocsf.normalize): subscripts are
                # cheaper than get().
                ms = event["time"]
                gxp = event["gxp"]
                metadata = event["metadata"]
                system = gxp["system"]
                action = (event["type_uid"], event["status_id"] == STATUS_FAILURE,
                          gxp["record_type"], metadata["event_code"])
            except KeyError:
                get = event.get
                ms = get("time")
                gxp = get("gxp") or _EMPTY
                metadata = get("metadata") or _EMPTY
                system = gxp.get("system")
                action = (get("type_uid"), get("status_id") == STATUS_FAILURE,
                          gxp.get("record_type"), metadata.get("event_code"))
            # The action is named by its hash in the counts (computed once for both
            # subjects; a process-local key, the baselines are never persisted).
            akey = hash(action)
            actor = event.get("actor")
            name = (actor.get("user") or _EMPTY).get("name") if actor else None
            src = event.get("src_endpoint") or _EMPTY
            host = src.get("hostname") or src.get("ip")
            if system.__class__ is not str or not system:
                system = (event.get("device") or _EMPTY).get("hostname") or \
                    metadata.get("log_name")
        except (AttributeError, TypeError, KeyError, IndexError):
            return self._observe_odd(event)
        if ms.__class__ is not int:
            ms = self._now
        elif ms > self._now:
            self._now = ms
            if ms >= self._day_end:
                self._new_day(ms // DAY_MS)
        if host.__class__ is not str:
            host = None
        bucket = ms // HOUR_MS
        matches: list[Match] = []
        if name.__class__ is str and name:
            try:
                s = self._users[name]
            except KeyError:
                s = self._add_subject(self._users, name, ms, bucket, gxp, system=False)
            # --- the user (same steps as for the system below, without the user feature)
            if bucket != s.bucket and (bucket > s.bucket or bucket < s.bucket - 1):
                self._roll(s, False, gxp, bucket, ms)
            count = s.bucket_n = s.bucket_n + 1
            candidate = count > s.bucket_cut  # unusual volume, or an unusual hour or weekday
            if host is not None:
                counts = s.host_counts
                try:
                    c_host = counts[host]
                except KeyError:
                    c_host = 0
                    s.hosts.insert(host, self._user_limit)
                else:
                    counts[host] = c_host + 1
                    if c_host == 1:
                        s.hosts.ones -= 1
                if c_host < s.host_cut:
                    if s.hosts.regular(host, ms // DAY_MS):
                        c_host = _USUAL
                    else:
                        candidate = True
            else:
                c_host = -1
            counts = s.action_counts
            try:
                c_action = counts[akey]
            except KeyError:
                c_action = 0
                self._new_action(s.actions, akey, self._user_limit, action)
            else:
                counts[akey] = c_action + 1
                if c_action == 1:
                    s.actions.ones -= 1
            if c_action < s.action_cut:
                if s.actions.regular(akey, ms // DAY_MS):
                    c_action = _USUAL
                else:
                    candidate = True
            if candidate and s.stage:
                match = self._score(s, False, event, ms, count, _slot(gxp), host, c_host,
                                    akey, c_action, None, -1)
                if match is not None:
                    matches.append(match)
        else:
            name = None
        if system.__class__ is str and system:
            try:
                s = self._systems[system]
            except KeyError:
                s = self._add_subject(self._systems, system, ms, bucket, gxp, system=True)
            # --- the system: each categorical feature reads its count, learns, and
            # compares with its cut-off; a candidate is scored in full.
            if bucket != s.bucket and (bucket > s.bucket or bucket < s.bucket - 1):
                self._roll(s, True, gxp, bucket, ms)
            count = s.bucket_n = s.bucket_n + 1
            candidate = count > s.bucket_cut
            if host is not None:
                counts = s.host_counts
                try:
                    c_host = counts[host]
                except KeyError:
                    c_host = 0
                    s.hosts.insert(host, self._system_limit)
                else:
                    counts[host] = c_host + 1
                    if c_host == 1:
                        s.hosts.ones -= 1
                if c_host < s.host_cut:
                    if s.hosts.regular(host, ms // DAY_MS):
                        c_host = _USUAL
                    else:
                        candidate = True
            else:
                c_host = -1
            counts = s.action_counts
            try:
                c_action = counts[akey]
            except KeyError:
                c_action = 0
                self._new_action(s.actions, akey, self._system_limit, action)
            else:
                counts[akey] = c_action + 1
                if c_action == 1:
                    s.actions.ones -= 1
            if c_action < s.action_cut:
                if s.actions.regular(akey, ms // DAY_MS):
                    c_action = _USUAL
                else:
                    candidate = True
            if name is not None:
                counts = s.user_counts
                try:
                    c_who = counts[name]
                except KeyError:
                    c_who = 0
                    s.users.insert(name, self._system_limit)
                else:
                    counts[name] = c_who + 1
                    if c_who == 1:
                        s.users.ones -= 1
                if c_who < s.user_cut:
                    if s.users.regular(name, ms // DAY_MS):
                        c_who = _USUAL
                    else:
                        candidate = True
            else:
                c_who = -1
            if candidate and s.stage:
                match = self._score(s, True, event, ms, count, _slot(gxp), host, c_host,
                                    akey, c_action, name, c_who)
                if match is not None:
                    matches.append(match)
        return matches

    def _observe_odd(self, event: Any) -> list[Match]:
        """An event whose parts have unexpected types: observed through a sanitized copy
        of the fields the baselines read, or skipped when even that fails."""
        try:
            get = event.get
            gxp = get("gxp")
            gxp = gxp if isinstance(gxp, Mapping) else _EMPTY
            metadata = get("metadata")
            metadata = metadata if isinstance(metadata, Mapping) else _EMPTY
            actor = get("actor")
            user = actor.get("user") if isinstance(actor, Mapping) else None
            name = user.get("name") if isinstance(user, Mapping) else None
            src = get("src_endpoint")
            src = src if isinstance(src, Mapping) else _EMPTY
            device = get("device")
            device = device if isinstance(device, Mapping) else _EMPTY
            clean: dict[str, Any] = {
                "time": _plain(get("time")),
                "type_uid": _plain(get("type_uid")),
                "status_id": _plain(get("status_id")),
                "gxp": {k: _plain(gxp.get(k)) for k in _GXP_READ},
                "metadata": {"event_code": _plain(metadata.get("event_code")),
                             "log_name": _plain(metadata.get("log_name"))},
                "src_endpoint": {"hostname": _plain(src.get("hostname")),
                                 "ip": _plain(src.get("ip"))},
                "device": {"hostname": _plain(device.get("hostname"))},
            }
            if name.__class__ is str:
                clean["actor"] = {"user": {"name": name}}
        except (AttributeError, TypeError):
            self.rejected += 1
            return []
        matches = self.observe(clean)
        # Explanations and alerts point at the event as received.
        return [replace(m, event=event) for m in matches]

    def _new_action(self, values: _Values, key: int, limit: int,
                    action: tuple[Any, ...]) -> None:
        """First sight of an action for a subject; remember its name for explanations."""
        values.insert(key, limit)
        names = self._action_names
        if key not in names:
            if len(names) >= _MAX_ACTION_NAMES:
                names.clear()
            names[key] = action

    # -- scoring candidates -----------------------------------------------------------------

    def _score(self, s: _Subject, system: bool, event: Mapping[str, Any], ms: int, count: int,
               slot: int, host: str | None, c_host: int, action: int,
               c_action: int, who: str | None, c_who: int) -> Match | None:
        """Score a candidate; a Match when the score reaches the threshold of its kind."""
        self.candidates += 1
        notable = self._gate
        day, hour = divmod(slot, 25)
        bits = [
            s.hour_ex[hour],
            s.day_ex[day],
            _volume_bits(count, s.expected(hour), s.dispersion()),
            s.hosts.bits(c_host) if c_host >= 0 else 0.0,
            s.actions.bits(c_action),
            s.users.bits(c_who) if c_who >= 0 else 0.0,
        ]
        # At least one notable feature (16x rarer than typical); features 4x rarer than
        # typical support it.
        support = notable / 2
        score = sum(b for b in bits if b >= support) if max(bits) >= notable else 0.0
        if score > s.bucket_max:
            s.bucket_max = score
        if bits[2] < notable:
            # Scored once this hour: until the volume itself is notable, later events of
            # the hour are candidates only through their own host, action or user.
            s.bucket_cut = _volume_limit(s.expected(hour), s.dispersion(), notable) - 1
        kind = "system" if system else "user"
        threshold = self.thresholds[kind]
        if score < threshold or s.stage < 2 or ms < s.quiet_until:
            return None
        s.quiet_until = ms + self.config.cooldown_ms
        self.alerts += 1
        values = (hour if hour < 24 else None, day or None, count, host,
                  self._action_names.get(action), who)
        keys = (None, None, hour, host, action, who)
        parts = sorted(
            ((b, i) for i, b in enumerate(bits) if b >= support), reverse=True
        )[:TOP_FEATURES]
        features = [
            {
                "feature": FEATURES[i],
                "value": _render(FEATURES[i], values[i]),
                "usual": self._usual(s, FEATURES[i], keys[i]),
                "contribution": round(b / score, 2),
                "bits": round(b, 1),
            }
            for b, i in parts
        ]
        context = {
            "baseline": kind,
            "subject": s.key,
            "score": round(score, 1),
            "threshold": round(threshold, 1),
            "unit": "bits",
            "features": features,
            "events_learned": s.n,
            "learning_since_ms": s.first,
        }
        field = "gxp.system" if system else "actor.user.name"
        return Match(SYSTEM_RULE if system else USER_RULE, event, group=((field, s.key),),
                     context=context)

    def _usual(self, s: _Subject, feature: str, current: Any = None) -> str:
        """What is usual for the subject, in words, for the explanation (``current``: the
        event's own value, left out when this event is its first sight)."""
        if feature == "hour":
            return _ranges(s.hours(), range(24), lambda h: f"{h:02d}")
        if feature == "weekday":
            return _ranges(s.weekdays(), range(1, 8), lambda d: _DAY_NAMES[d])
        if feature == "volume":
            p99 = s.vol_q.get() or 0.0
            return (f"about {s.expected(current):.0f} events in an active hour at this time; "
                    f"{ceil(p99)} at most in 99 % of active hours")
        known = {"host": s.hosts, "action": s.actions, "user": s.users}[feature].counts
        counts = {k: n for k, n in known.items() if n > 1 or k != current}
        top = sorted(counts.items(), key=lambda kv: -kv[1])[:3]
        if feature == "action":
            top = [(self._action_names.get(key), n) for key, n in top]
        text = ", ".join(str(_render(feature, value)) for value, _ in top)
        if len(counts) > 3:
            text += f" (+{len(counts) - 3} more)"
        return text or "none yet"

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

    # -- whole streams and figures ------------------------------------------------------

    def warm(self, events: Iterable[Mapping[str, Any]]) -> int:
        """Learn from past events (oldest first) without returning their matches; the
        calibration learns from them too. Returns how many were read."""
        n = 0
        for event in events:
            self.observe(event)
            n += 1
        return n

    def figures(self) -> dict[str, Any]:
        """Counters and thresholds, for benchmarks and operations."""
        stages = [0, 0, 0]
        for table in (self._users, self._systems):
            for s in table.values():
                stages[s.stage] += 1
        return {
            "candidates": self.candidates, "alerts": self.alerts, "refreshes": self.refreshes,
            "evictions": self.evictions, "rejected": self.rejected,
            "users": len(self._users), "systems": len(self._systems),
            "learning": stages[0], "calibrating": stages[1], "mature": stages[2],
            "thresholds": dict(self.thresholds),
        }

    def calibration_days(self, kind: str) -> list[int]:
        """Subject-hours per complete calibration day at or above the current threshold."""
        return self._calibration[kind].daily_above(self.thresholds[kind])


def _render(feature: str, value: Any) -> Any:
    """A JSON-safe, readable form of a feature value."""
    if feature == "weekday" and value.__class__ is int and 1 <= value <= 7:
        return _DAY_NAMES[value]
    if feature == "action" and isinstance(value, tuple) and len(value) == 4:
        type_uid, failed, rtype, code = value
        if type_uid.__class__ is not int or type_uid < 0:
            text = "unclassified"
        else:
            cls, activity = divmod(type_uid, 100)
            name, activities = CLASSES.get(cls, (f"class {cls}", {}))
            text = f"{name}: {activities.get(activity, activity)}" if activity else name
        if failed:
            text += " (failed)"
        if rtype:
            text += f" · {str(rtype)[:64]}"
        if code:
            text += f" · {str(code)[:64]}"
        return text
    if value is None or isinstance(value, (int, str, bool)):
        return value
    return str(value)


def _ranges(counts: list[float], slots: range, label: Any) -> str:
    """Slots holding at least 2 % of the activity, as ranges: ``07–18``, ``Mon–Fri``."""
    total = sum(counts[i] for i in slots)
    if not total:
        return "none yet"
    busy = [i for i in slots if counts[i] * 50 >= total]
    groups: list[list[int]] = []
    for i in busy:
        if groups and i == groups[-1][-1] + 1:
            groups[-1].append(i)
        else:
            groups.append([i])
    # hours wrap around midnight, weekdays around Sunday
    if len(groups) > 1 and groups[0][0] == slots[0] and groups[-1][-1] == slots[-1]:
        groups[0] = groups.pop() + groups[0]
    return ", ".join(
        label(g[0]) if len(g) == 1 else f"{label(g[0])}–{label(g[-1])}" for g in groups
    )


def _plain(value: Any) -> Any:
    """A field value the baselines can use: strings and integers as they are (booleans
    excepted), anything else as missing."""
    return value if value.__class__ in (str, int) else None
