"""ArcSight Common Event Format (CEF).

``CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity|Extension``

Header fields escape ``\\|`` and ``\\\\``; extension values escape ``\\=``, ``\\\\``, ``\\n``
and ``\\r``. The CEF text may follow a syslog header (``parse_cef`` starts at ``CEF:``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from .errors import ParseError
from .syslog import SyslogMessage, decode_utf8

# Custom fields whose meaning is given by a sibling "<key>Label" field.
LABELLED_KEYS: Final = frozenset(
    [f"cs{i}" for i in range(1, 7)]
    + [f"cn{i}" for i in range(1, 4)]
    + [f"cfp{i}" for i in range(1, 5)]
    + [f"c6a{i}" for i in range(1, 5)]
    + ["flexString1", "flexString2", "flexNumber1", "flexNumber2", "flexDate1"]
    + ["deviceCustomDate1", "deviceCustomDate2"]
)

# A key follows a space; the text gets a leading space so that its first key does too
# (a pattern that starts with a literal lets the regex engine skip ahead to each space).
_EXT_KEY = re.compile(r" ([A-Za-z0-9_.\[\]-]+)=")
_EXT_ESCAPE = re.compile(r"\\([=\\nr])")
_EXT_UNESCAPED: Final = {"=": "=", "\\": "\\", "n": "\n", "r": "\r"}
_HEADER_FIELD = re.compile(r"((?:[^|\\]|\\.)*)\|", re.DOTALL)
_HEADER_ESCAPE = re.compile(r"\\([|\\])")


@dataclass(frozen=True, slots=True)
class CefEvent:
    """One CEF event. ``labels`` holds custom fields by their label (``cs1Label=Batch`` and
    ``cs1=B-1`` give ``{"Batch": "B-1"}``)."""

    version: int
    device_vendor: str
    device_product: str
    device_version: str
    signature_id: str
    name: str
    severity: str
    extension: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    syslog: SyslogMessage | None = None


def split_header(text: str, count: int, pos: int) -> tuple[list[str], int]:
    """The first ``count`` pipe-terminated header fields from ``pos``, unescaped."""
    fields: list[str] = []
    if "\\" not in text:
        for _ in range(count):
            i = text.find("|", pos)
            if i < 0:
                raise ParseError("bad_header", f"{len(fields)} of {count} header fields")
            fields.append(text[pos:i])
            pos = i + 1
        return fields, pos
    for _ in range(count):
        m = _HEADER_FIELD.match(text, pos)
        if m is None:
            raise ParseError("bad_header", f"{len(fields)} of {count} header fields")
        value = m.group(1)
        fields.append(_HEADER_ESCAPE.sub(r"\1", value) if "\\" in value else value)
        pos = m.end()
    return fields, pos


def _unescape_value(value: str) -> str:
    return _EXT_ESCAPE.sub(lambda m: _EXT_UNESCAPED[m.group(1)], value)


def parse_extension(text: str) -> dict[str, str]:
    """CEF ``key=value`` pairs separated by spaces; values may contain unescaped spaces."""
    result: dict[str, str] = {}
    # [text before the first key, key1, value1, key2, value2, …] in one pass of the regex.
    parts = _EXT_KEY.split(" " + text)
    if len(parts) == 1:
        if text.strip():
            raise ParseError("bad_extension", "no key=value pair")
        return result
    if parts[0].strip():
        raise ParseError("bad_extension", "text before the first key")
    pairs = iter(parts)
    next(pairs)
    for key, value in zip(pairs, pairs, strict=True):
        value = value.rstrip(" ")
        if "\\" in value:
            value = _unescape_value(value)
        result[key] = value
    return result


def labelled(extension: dict[str, str]) -> dict[str, str]:
    """Custom fields that carry a label, keyed by the label."""
    labels: dict[str, str] = {}
    for key, value in extension.items():
        if key in LABELLED_KEYS:
            label = extension.get(key + "Label")
            if label:
                labels[label] = value
    return labels


def parse_cef(data: bytes | str, *, syslog: SyslogMessage | None = None) -> CefEvent:
    """Parse a CEF event; text before ``CEF:`` (a syslog header) is ignored."""
    text = decode_utf8(data)
    start = text.find("CEF:")
    if start < 0:
        raise ParseError("not_cef", "no 'CEF:' marker")
    fields, pos = split_header(text, 7, start + 4)
    version = fields[0].strip()
    if not (version.isascii() and version.isdigit()) or len(version) > 2:
        raise ParseError("bad_header", f"CEF version {version[:10]!r}")
    extension = parse_extension(text[pos:].rstrip("\r\n"))
    return CefEvent(
        version=int(version),
        device_vendor=fields[1],
        device_product=fields[2],
        device_version=fields[3],
        signature_id=fields[4],
        name=fields[5],
        severity=fields[6].strip(),
        extension=extension,
        labels=labelled(extension),
        syslog=syslog,
    )
