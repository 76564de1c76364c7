"""IBM QRadar Log Event Extended Format (LEEF) 1.0 and 2.0.

``LEEF:1.0|Vendor|Product|Version|EventID|key=value<TAB>key=value``
``LEEF:2.0|Vendor|Product|Version|EventID|DelimiterCharacter|key=value^key=value``

The 2.0 delimiter is one character or its hex code (``x09``, ``0x5E``); it is optional and
defaults to a tab, as in 1.0. A 1.0 event without a tab falls back to CEF-style
space-separated ``key=value`` pairs, which some senders emit. The text may follow a
syslog header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .cef import parse_extension, split_header
from .errors import ParseError
from .syslog import SyslogMessage, decode_utf8

_HEX_DELIMITER = re.compile(r"(?:0x|x)([0-9A-Fa-f]{2,4})\Z")


@dataclass(frozen=True, slots=True)
class LeefEvent:
    version: str
    vendor: str
    product: str
    product_version: str
    event_id: str
    delimiter: str
    attributes: dict[str, str] = field(default_factory=dict)
    syslog: SyslogMessage | None = None


def _delimiter(token: str) -> str | None:
    """The delimiter a LEEF 2.0 delimiter field names, or None if it names none."""
    if len(token) == 1:
        return token
    m = _HEX_DELIMITER.match(token)
    if m is None:
        return None
    code = int(m.group(1), 16)
    if code == 0 or 0xD800 <= code <= 0xDFFF:
        raise ParseError("bad_delimiter", f"delimiter {token!r}")
    return chr(code)


def parse_attributes(text: str, delimiter: str) -> dict[str, str]:
    """``key=value`` pairs split on ``delimiter``; a piece without ``=`` continues the previous
    value (a delimiter inside a value)."""
    result: dict[str, str] = {}
    last: str | None = None
    for piece in text.split(delimiter):
        key, eq, value = piece.partition("=")
        key = key.strip()
        if eq and key and " " not in key:
            result[key] = value
            last = key
        elif last is not None:
            result[last] += delimiter + piece
        elif piece.strip():
            raise ParseError("bad_attributes", "text before the first key=value")
    return result


def parse_leef(data: bytes | str, *, syslog: SyslogMessage | None = None) -> LeefEvent:
    """Parse a LEEF 1.0 or 2.0 event; text before ``LEEF:`` (a syslog header) is ignored."""
    text = decode_utf8(data)
    start = text.find("LEEF:")
    if start < 0:
        raise ParseError("not_leef", "no 'LEEF:' marker")
    fields, pos = split_header(text, 5, start + 5)
    version = fields[0].strip()
    if version not in ("1.0", "2.0", "1", "2"):
        raise ParseError("bad_header", f"LEEF version {version[:10]!r}")
    version = version if "." in version else version + ".0"
    delimiter = "\t"
    if version == "2.0":
        bar = text.find("|", pos)
        if bar >= 0:
            named = _delimiter(text[pos:bar])
            if named is not None:
                delimiter = named
                pos = bar + 1
            elif bar == pos:
                pos += 1  # empty delimiter field: the default tab
    rest = text[pos:].rstrip("\r\n")
    if version == "1.0" and "\t" not in rest and " " in rest:
        attributes = parse_extension(rest)
        delimiter = " "
    else:
        attributes = parse_attributes(rest, delimiter)
    return LeefEvent(
        version=version,
        vendor=fields[1],
        product=fields[2],
        product_version=fields[3],
        event_id=fields[4],
        delimiter=delimiter,
        attributes=attributes,
        syslog=syslog,
    )
