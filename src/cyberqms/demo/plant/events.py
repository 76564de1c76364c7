"""The plant's event record and time arithmetic: epoch milliseconds, seeded streams."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

FORMATS: Final = ("rfc5424", "rfc3164", "cef", "leef", "jsonl")
PEN: Final = 32473  # the documentation enterprise number (RFC 5612) names our SD-IDs
SD_ID: Final = f"gxp@{PEN}"
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
HOUR_MS: Final = 3_600_000
DAY_MS: Final = 24 * HOUR_MS


def seeded_rng(*parts: object) -> random.Random:
    """A generator seeded from a string, so streams are independent and reproducible."""
    # Not for secrets: a reproducible simulation needs a seeded PRNG.
    return random.Random("/".join(str(p) for p in parts))  # noqa: S311  # see above


def to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("synthetic plant times must be timezone-aware")
    return (moment - EPOCH) // timedelta(milliseconds=1)


def from_ms(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


# ---------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class SyntheticEvent:
    """One raw line as a system would send it, with the generator's ground truth."""

    ms: int  # epoch milliseconds, UTC; the line carries the same instant
    source: str  # source id, e.g. "BSL-LIMS"
    system: str  # system kind: lims, mes, cds, dc, firewall, scada, plc, qms
    site: str
    format: str  # one of FORMATS
    line: str
    label: str | None = None  # scenario id for attack traffic
    instance: str | None = None  # "brute_force_qms#2": which injected instance
    near_miss: str | None = None  # benign scenario id: must not alert

    @property
    def time(self) -> datetime:
        return from_ms(self.ms)

    def as_dict(self) -> dict[str, object]:
        return {"time": self.time.isoformat(), "source": self.source, "system": self.system,
                "site": self.site, "format": self.format, "line": self.line,
                "label": self.label, "instance": self.instance, "near_miss": self.near_miss}
