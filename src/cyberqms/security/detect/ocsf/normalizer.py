"""The entry point of normalization: ``normalize`` sends what a parser returned to the
normalizer of its format (syslog, CEF and LEEF in ``syslog_family``; cyberqms records, flat
JSON and OCSF passthrough in ``json_objects``), with the receipt time standing in for a
missing event time. Pure function, no Django.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ..parsers import CefEvent, LeefEvent, SyslogMessage
from .building import SourceInfo
from .fields import epoch_ms
from .json_objects import _from_json, _from_ocsf, _from_qms
from .syslog_family import _from_cef, _from_leef, _from_syslog


def normalize(
    parsed: SyslogMessage | CefEvent | LeefEvent | Mapping[str, Any],
    *,
    source: SourceInfo,
    received_at: datetime | None = None,
    received_ms: int | None = None,
) -> dict[str, Any]:
    """The OCSF dict for one parsed event. ``received_at`` (or ``received_ms``, the same
    in epoch milliseconds, cheaper for a batch) stands in for a missing event time. A JSON
    object that claims to be OCSF but is not well-formed raises ``ParseError("invalid_ocsf")``."""
    if received_ms is not None:
        fallback_ms = received_ms
    else:
        fallback_ms = epoch_ms(received_at if received_at is not None else datetime.now(UTC))
    if isinstance(parsed, CefEvent):
        return _from_cef(parsed, source, fallback_ms)
    if isinstance(parsed, LeefEvent):
        return _from_leef(parsed, source, fallback_ms)
    if isinstance(parsed, SyslogMessage):
        return _from_syslog(parsed, source, fallback_ms)
    if isinstance(parsed, Mapping):
        if "class_uid" in parsed:
            return _from_ocsf(parsed, source, fallback_ms)
        if "kind" in parsed:
            return _from_qms(parsed, source, fallback_ms)
        return _from_json(parsed, source, fallback_ms)
    raise TypeError(f"cannot normalize {type(parsed).__name__}")
