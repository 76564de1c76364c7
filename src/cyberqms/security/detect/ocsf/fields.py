"""Field helpers of OCSF dicts: dotted-path access (``get``, ``put`` and the two-part
``_put2`` of the hot path) and time values (``epoch_ms``, ``parse_time`` for epoch seconds or
milliseconds, ISO 8601 and the CEF ``MMM dd yyyy HH:mm:ss`` form). Pure functions, no Django.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Final

# --- dotted access -------------------------------------------------------------------------


def get(event: Mapping[str, Any], path: str, default: Any = None) -> Any:
    """The value at a dotted path (``"actor.user.name"``), or ``default``."""
    current: Any = event
    for part in path.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        else:
            return default
    return current


def put(event: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted path, creating the objects on the way; ``None`` and ``""`` are skipped."""
    if value is None or value == "":
        return
    parents, last = _split_path(path)
    current = event
    for part in parents:
        child = current.get(part)
        if child.__class__ is not dict:
            child = current[part] = {}
        current = child
    current[last] = value


def _put2(event: dict[str, Any], outer: str, key: str, value: Any) -> None:
    """``put`` for a two-part path (``src_endpoint.ip``), the common case, without the
    path split."""
    if value is None or value == "":
        return
    child = event.get(outer)
    if child.__class__ is not dict:
        child = event[outer] = {}
    child[key] = value


@lru_cache(maxsize=512)
def _split_path(path: str) -> tuple[tuple[str, ...], str]:
    parts = path.split(".")
    return tuple(parts[:-1]), parts[-1]


# --- time ----------------------------------------------------------------------------------

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MS: Final = timedelta(milliseconds=1)
_CEF_DATE = re.compile(
    r"([A-Z][a-z]{2}) (\d{1,2}) (\d{4}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?"
    r"(?: (?:UTC|GMT|Z))?\Z",
    re.ASCII,
)
_MONTHS: Final = {
    m: i for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}  # fmt: skip


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch; a naive datetime is read as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MS


def parse_time(value: object) -> int | None:
    """Epoch ms from epoch seconds or milliseconds, ISO 8601 or ``MMM dd yyyy HH:mm:ss``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return epoch_ms(value)
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            number = float(text) if text[0].isdigit() and text.isascii() else float("nan")
        except ValueError:
            number = float("nan")
        if number != number:  # not a number: a date text
            return _parse_date_text(text)
    else:
        return None
    if not (0 <= number < 1e14):
        return None
    return int(number) if number >= 1e11 else int(number * 1000)


def _parse_date_text(text: str) -> int | None:
    m = _CEF_DATE.match(text)
    try:
        if m is not None:
            month = _MONTHS.get(m.group(1))
            if month is None:
                return None
            moment = datetime(
                int(m.group(3)), month, int(m.group(2)), int(m.group(4)), int(m.group(5)),
                int(m.group(6)), int((m.group(7) or "0").ljust(3, "0")) * 1000, UTC,
            )  # fmt: skip
            return epoch_ms(moment)
        if len(text) < 10 or not text[:4].isdigit():
            return None
        return epoch_ms(datetime.fromisoformat(text))
    except (ValueError, OverflowError):
        return None
