"""Which time an event is processed on: its own, or its receipt's.

An event's ``time`` is what its sender claims. Correlation windows and behaviour baselines
run on a *processing time* that a sender cannot move forward:

- **on time**: the claimed time is within ``max_skew_ms`` of the receipt (either way): the
  claimed time is used.
- **ahead**: claimed more than ``max_skew_ms`` after the receipt (a clock running fast, or
  a line dated 2030 to push every window past the present): processed on the receive
  time; the claimed time is kept on the event and the caller flags the source.
- **delayed**: claimed more than ``max_skew_ms`` before the receipt but within
  ``max_lateness_ms`` (a relay that buffered, a recent file): the claimed time is used;
  correlation windows are kept per key (``correlation``), so such events are counted
  against their own key's recent events, not against everyone else's present.
- **late**: older than ``max_lateness_ms`` (an old file imported or replayed, RFC 3164
  lines without a year dated a year back): processed on the receive time and counted as
  late by the caller, never dropped.

``place`` is a pure function; the monitoring app fills ``TimePolicy`` from the settings
``CYBERQMS_DETECT_MAX_SKEW`` and ``CYBERQMS_DETECT_MAX_LATENESS`` (seconds). No Django.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

ON_TIME: Final = ""
AHEAD: Final = "ahead"
DELAYED: Final = "delayed"
LATE: Final = "late"
TIMINGS: Final = (ON_TIME, DELAYED, LATE, AHEAD)

DEFAULT_MAX_SKEW_S: Final = 300
DEFAULT_MAX_LATENESS_S: Final = 86_400


class Placement(NamedTuple):
    """The time to process an event on (epoch ms) and why (one of ``TIMINGS``)."""

    at: int
    timing: str


@dataclass(frozen=True, slots=True)
class TimePolicy:
    """How far a claimed event time may be from its receipt before the receipt is used."""

    max_skew_ms: int = DEFAULT_MAX_SKEW_S * 1000
    max_lateness_ms: int = DEFAULT_MAX_LATENESS_S * 1000

    def __post_init__(self) -> None:
        if self.max_skew_ms < 0 or self.max_lateness_ms < self.max_skew_ms:
            raise ValueError("need 0 <= max_skew_ms <= max_lateness_ms")

    @classmethod
    def from_seconds(cls, max_skew_s: float, max_lateness_s: float) -> TimePolicy:
        skew = max(0, int(max_skew_s * 1000))
        return cls(skew, max(skew, int(max_lateness_s * 1000)))

    def place(self, claimed: Any, received_ms: int) -> Placement:
        """Where an event claiming ``claimed`` (epoch ms; anything else counts as no time)
        and received at ``received_ms`` is processed."""
        if claimed.__class__ is not int:
            if claimed.__class__ is not float or not math.isfinite(claimed):
                return Placement(received_ms, ON_TIME)
            claimed = int(claimed)
        if claimed > received_ms + self.max_skew_ms:
            return Placement(received_ms, AHEAD)
        if claimed >= received_ms - self.max_skew_ms:
            return Placement(claimed, ON_TIME)
        if claimed >= received_ms - self.max_lateness_ms:
            return Placement(claimed, DELAYED)
        return Placement(received_ms, LATE)
