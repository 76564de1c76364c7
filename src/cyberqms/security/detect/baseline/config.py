"""Constants of the behaviour baselines (time units, bit caps, calibration bins, time
slots, recurrence, memory bounds), the two detection rules their Matches carry
(``USER_RULE``, ``SYSTEM_RULE``) and the tuning ``BaselineConfig`` that the Django settings
``CYBERQMS_BASELINE_*`` fill. Data only, no Django.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from math import log
from typing import Any, Final

from ..detection.engine import RuleInfo

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
