"""Parsers for the monitoring inputs: syslog (RFC 5424/3164 and TCP framing), CEF, LEEF and
JSON lines. Pure functions without Django; each returns a parsed structure or raises
``ParseError(reason)``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from .cef import CefEvent, parse_cef
from .errors import ParseError
from .jsonlines import iter_json_lines, parse_json_line
from .leef import LeefEvent, parse_leef
from .syslog import FrameDecoder, SyslogMessage, parse_rfc3164, parse_rfc5424, parse_syslog

Format = Literal["syslog", "cef", "leef", "jsonl"]
Parsed = SyslogMessage | CefEvent | LeefEvent | dict[str, Any]

__all__ = [
    "CefEvent",
    "Format",
    "FrameDecoder",
    "LeefEvent",
    "ParseError",
    "Parsed",
    "SyslogMessage",
    "iter_json_lines",
    "parse_cef",
    "parse_json_line",
    "parse_leef",
    "parse_line",
    "parse_rfc3164",
    "parse_rfc5424",
    "parse_syslog",
]


def parse_line(data: bytes | str, fmt: Format, *, received_at: datetime | None = None) -> Parsed:
    """Parse one received line or frame in the source's expected format.

    A syslog message whose content is CEF or LEEF comes back as that event, with the syslog
    envelope in its ``syslog`` attribute.
    """
    if fmt == "syslog":
        message = parse_syslog(data, received_at=received_at)
        body = message.message
        if body.startswith("CEF:"):
            return parse_cef(body, syslog=message)
        if body.startswith("LEEF:"):
            return parse_leef(body, syslog=message)
        return message
    if fmt == "cef":
        return parse_cef(data)
    if fmt == "leef":
        return parse_leef(data)
    if fmt == "jsonl":
        return parse_json_line(data)
    raise ParseError("unknown_format", str(fmt))
