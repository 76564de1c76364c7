"""Syslog: RFC 5424 and RFC 3164 messages, and TCP framing (RFC 6587).

``parse_syslog`` picks the format from the header (``<PRI>1 `` is RFC 5424, anything else
after ``<PRI>`` is read as RFC 3164). Every rejection is a ``ParseError`` with a reason code.
Pure functions, no Django.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Final, Literal

from .errors import ParseError

FACILITIES: Final = (
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
    "authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
    "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
)  # fmt: skip
SEVERITIES: Final = (
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
)  # fmt: skip

NIL: Final = "-"
BOM: Final = "\ufeff"


@dataclass(frozen=True, slots=True)
class SyslogMessage:
    """One syslog message; absent (NILVALUE) header fields are ``None``."""

    format: Literal["rfc5424", "rfc3164"]
    facility: int
    severity: int
    timestamp: datetime | None
    hostname: str | None
    app_name: str | None
    procid: str | None
    msgid: str | None
    message: str
    structured_data: dict[str, dict[str, str]] = field(default_factory=dict)
    version: int | None = None
    timestamp_text: str | None = None  # as sent, for metadata.original_time

    @property
    def facility_name(self) -> str:
        return FACILITIES[self.facility]

    @property
    def severity_name(self) -> str:
        return SEVERITIES[self.severity]


def decode_utf8(data: bytes | str) -> str:
    """Text of ``data``; invalid UTF-8 is rejected, not replaced."""
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError("invalid_utf8", f"byte {exc.start}") from None


_PRI = re.compile(r"<(\d{1,3})>", re.ASCII)


def _pri(text: str) -> tuple[int, int, int]:
    """(facility, severity, end offset) of the leading ``<PRI>``."""
    m = _PRI.match(text)
    if m is None:
        raise ParseError("bad_pri", "message does not start with <PRI>")
    value = int(m.group(1))
    if value > 191:
        raise ParseError("bad_pri", f"PRI {value} > 191")
    return value >> 3, value & 7, m.end()


def parse_syslog(data: bytes | str, *, received_at: datetime | None = None) -> SyslogMessage:
    """Parse one syslog message, RFC 5424 or RFC 3164 (chosen by its header)."""
    text = decode_utf8(data)
    facility, severity, pos = _pri(text)
    if text.startswith("1 ", pos):
        return _parse_5424(text, facility, severity, pos)
    return _parse_3164(text, facility, severity, pos, received_at)


def parse_rfc5424(data: bytes | str) -> SyslogMessage:
    """Parse one RFC 5424 message (version 1)."""
    text = decode_utf8(data)
    facility, severity, pos = _pri(text)
    return _parse_5424(text, facility, severity, pos)


def parse_rfc3164(data: bytes | str, *, received_at: datetime | None = None) -> SyslogMessage:
    """Parse one RFC 3164 (BSD) message; the year comes from ``received_at`` (default now)."""
    text = decode_utf8(data)
    facility, severity, pos = _pri(text)
    return _parse_3164(text, facility, severity, pos, received_at)


# --- RFC 5424 ------------------------------------------------------------------------------

_HEADER_5424 = re.compile(r"([1-9]\d{0,2}) (\S+) (\S+) (\S+) (\S+) (\S+) ", re.ASCII)
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2}):(\d{2}))\Z",
    re.ASCII,
)
_SD_ID = re.compile(r'\[([^ =\]"]{1,32})')
# The value as an unrolled loop (runs of plain characters between escapes): one charset
# repeat per run instead of an alternation per character.
_SD_PARAM = re.compile(r' ([^ =\]"]{1,32})="([^"\\]*(?:\\.[^"\\]*)*)"', re.DOTALL)
_SD_ESCAPE = re.compile(r'\\([\\"\]])')
_MAX_LEN: Final = {"hostname": 255, "app_name": 48, "procid": 128, "msgid": 32}


def _header_field(value: str, name: str) -> str | None:
    if value == NIL:
        return None
    if len(value) > _MAX_LEN[name] or not (value.isascii() and value.isprintable()):
        raise ParseError("bad_header", f"{name} is not 1-{_MAX_LEN[name]} printable ASCII")
    return value


def parse_timestamp(text: str) -> datetime:
    """An RFC 3339 timestamp as RFC 5424 allows it (fraction up to 9 digits kept to µs)."""
    m = _TIMESTAMP.match(text)
    if m is None:
        raise ParseError("bad_timestamp", text[:40])
    year, month, day, hour, minute, second, frac, zulu, sign, oh, om = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    if zulu:
        tz: tzinfo = UTC
    else:
        if int(oh) > 23 or int(om) > 59:
            raise ParseError("bad_timestamp", text[:40])
        offset = timedelta(hours=int(oh), minutes=int(om))
        tz = UTC if not offset else timezone(-offset if sign == "-" else offset)
    try:
        return datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tz
        )
    except ValueError as exc:
        raise ParseError("bad_timestamp", str(exc)) from None


def _parse_5424(text: str, facility: int, severity: int, pos: int) -> SyslogMessage:
    m = _HEADER_5424.match(text, pos)
    if m is None:
        # A message with a NILVALUE structured data and no MSG ends without the last space.
        m = _HEADER_5424.match(text + " ", pos)
        if m is None or m.end() != len(text) + 1:
            raise ParseError("bad_header", "RFC 5424 header incomplete")
    version, ts, host, app, procid, msgid = m.groups()
    timestamp = None if ts == NIL else parse_timestamp(ts)
    pos = m.end()
    sd: dict[str, dict[str, str]] = {}
    if text.startswith(NIL, pos):
        pos += 1
    elif text.startswith("[", pos):
        pos = _parse_sd(text, pos, sd)
    else:
        raise ParseError("bad_structured_data", "expected '-' or '['")
    if pos < len(text):
        if text[pos] != " ":
            raise ParseError("bad_structured_data", "no space after structured data")
        pos += 1
    message = text[pos:]
    if message.startswith(BOM):
        message = message[1:]
    return SyslogMessage(
        format="rfc5424",
        facility=facility,
        severity=severity,
        timestamp=timestamp,
        hostname=_header_field(host, "hostname"),
        app_name=_header_field(app, "app_name"),
        procid=_header_field(procid, "procid"),
        msgid=_header_field(msgid, "msgid"),
        message=message,
        structured_data=sd,
        version=int(version),
        timestamp_text=None if ts == NIL else ts,
    )


def _parse_sd(text: str, pos: int, sd: dict[str, dict[str, str]]) -> int:
    """Read SD-ELEMENTs from ``pos`` into ``sd``; returns the offset after the last one."""
    while pos < len(text) and text[pos] == "[":
        m = _SD_ID.match(text, pos)
        if m is None:
            raise ParseError("bad_structured_data", f"bad SD-ID at {pos}")
        sd_id = m.group(1)
        if sd_id in sd:
            raise ParseError("bad_structured_data", f"SD-ID {sd_id!r} repeated")
        params: dict[str, str] = {}
        pos = m.end()
        while True:
            p = _SD_PARAM.match(text, pos)
            if p is None:
                break
            value = p.group(2)
            if "\\" in value:
                value = _SD_ESCAPE.sub(r"\1", value)
            params[p.group(1)] = value
            pos = p.end()
        if not text.startswith("]", pos):
            raise ParseError("bad_structured_data", f"unterminated SD-ELEMENT {sd_id!r}")
        sd[sd_id] = params
        pos += 1
    return pos


# --- RFC 3164 ------------------------------------------------------------------------------

_MONTHS: Final = {
    m: i for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}  # fmt: skip
_BSD_TIMESTAMP = re.compile(r"([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) ", re.ASCII)
_ISO_TIMESTAMP = re.compile(r"(\d{4}-\d{2}-\d{2}T\S+) ", re.ASCII)
MAX_CLOCK_SKEW: Final = timedelta(days=2)
_HOST = re.compile(r"([^\s:\[\]]+) ")
_TAG = re.compile(r"([^\s:\[\]]{1,48})(?:\[([^\]\s]{1,128})\])?: ?")


def _infer_year(
    month: int, day: int, hms: tuple[int, int, int], received_at: datetime, tz: tzinfo
) -> datetime:
    """The latest date in the received year or either neighbour that is not later than
    ``received_at`` plus the clock skew we accept (so ``Dec 31`` received on 1 January is
    last year's, and ``Jan 1`` from a clock running ahead on 31 December is next year's)."""
    year = received_at.astimezone(tz).year
    latest = received_at + MAX_CLOCK_SKEW
    for candidate_year in (year + 1, year, year - 1):
        try:
            candidate = datetime(candidate_year, month, day, *hms, tzinfo=tz)
        except ValueError:
            continue  # 29 February outside a leap year
        if candidate <= latest:
            return candidate
    raise ParseError("bad_timestamp", f"no date {month:02d}-{day:02d} near the receive year")


def _parse_3164(
    text: str,
    facility: int,
    severity: int,
    pos: int,
    received_at: datetime | None,
    tz: tzinfo = UTC,
) -> SyslogMessage:
    if received_at is None:
        received_at = datetime.now(UTC)
    timestamp: datetime | None = None
    timestamp_text: str | None = None
    hostname: str | None = None
    m = _BSD_TIMESTAMP.match(text, pos)
    if m is not None:
        month = _MONTHS.get(m.group(1))
        if month is None:
            raise ParseError("bad_timestamp", f"unknown month {m.group(1)!r}")
        hms = (int(m.group(3)), int(m.group(4)), int(m.group(5)))
        if hms[0] > 23 or hms[1] > 59 or hms[2] > 59:
            raise ParseError("bad_timestamp", m.group(0).strip())
        timestamp = _infer_year(month, int(m.group(2)), hms, received_at, tz)
        timestamp_text = m.group(0)[:-1]
        pos = m.end()
    else:
        iso = _ISO_TIMESTAMP.match(text, pos)
        if iso is not None:
            timestamp = parse_timestamp(iso.group(1))
            timestamp_text = iso.group(1)
            pos = iso.end()
    if timestamp is not None:
        # RFC 3164 4.3.2: a HOSTNAME follows a valid TIMESTAMP; without one the whole rest
        # is content.
        h = _HOST.match(text, pos)
        if h is not None:
            hostname = h.group(1)
            pos = h.end()
    app_name = procid = None
    t = _TAG.match(text, pos)
    # "CEF:0|…" and "LEEF:1.0|…" right after the host are content, not a tag.
    if t is not None and not (t.group(1) in ("CEF", "LEEF") and t.group(2) is None):
        app_name, procid = t.group(1), t.group(2)
        pos = t.end()
    return SyslogMessage(
        format="rfc3164",
        facility=facility,
        severity=severity,
        timestamp=timestamp,
        hostname=hostname,
        app_name=app_name,
        procid=procid,
        msgid=None,
        message=text[pos:],
        timestamp_text=timestamp_text,
    )


# --- TCP framing (RFC 6587) ----------------------------------------------------------------

Framing = Literal["auto", "octet", "newline"]
_LF: Final = 0x0A
_CR: Final = 0x0D
_NUL: Final = 0x00
_MAX_DIGITS: Final = 10


HEAD_BYTES: Final = 4096  # kept of a frame the framing rejects


class FrameDecoder:
    """Incremental TCP syslog frame decoder: feed bytes, get complete frames.

    ``framing="auto"`` reads each frame as octet-counted (``123 <34>1 …``) when it starts
    with a valid ``MSG-LEN SP`` prefix, else as newline-terminated (LF, CRLF or NUL, the
    trailing CR dropped, empty frames skipped). A frame longer than ``max_frame`` bytes
    (counted before the terminator, CR included) yields ``ParseError("oversized")`` in
    its place and the stream continues with the next frame. The output does not depend on
    how the stream was split into chunks.
    """

    __slots__ = ("_buf", "_discard_line", "_skip", "framing", "max_frame")

    def __init__(self, *, max_frame: int = 64 * 1024, framing: Framing = "auto") -> None:
        if max_frame < 1:
            raise ValueError("max_frame must be positive")
        self.max_frame = max_frame
        self.framing = framing
        self._buf = bytearray()
        self._skip = 0  # octets of an oversized counted frame still to drop
        self._discard_line = False  # dropping an oversized line up to its terminator

    def feed(self, data: bytes) -> list[bytes | ParseError]:
        """Frames completed by ``data``, in order; rejected frames as ``ParseError``."""
        buf = self._buf
        buf += data
        out: list[bytes | ParseError] = []
        pos = 0
        end = len(buf)
        max_frame = self.max_frame
        while pos < end:
            if self._skip:
                n = min(self._skip, end - pos)
                pos += n
                self._skip -= n
                continue
            if self._discard_line:
                i = self._find_terminator(buf, pos)
                if i < 0:
                    pos = end
                    break
                pos = i + 1
                self._discard_line = False
                continue
            c = buf[pos]
            if self.framing != "newline" and 0x31 <= c <= 0x39:
                prefix = self._octet_prefix(buf, pos, end)
                if prefix is None:
                    break  # need more bytes to decide
                length, start = prefix
                if length >= 0:
                    if length > max_frame:
                        out.append(ParseError("oversized", f"counted frame of {length} octets",
                                              data=bytes(buf[start:start + HEAD_BYTES])))
                        self._skip = length
                        pos = start
                        continue
                    if end - start < length:
                        break
                    out.append(bytes(buf[start : start + length]))
                    pos = start + length
                    continue
            if c in (_LF, _NUL):
                pos += 1
                continue
            if self.framing == "octet":
                if c in (_CR, 0x20):
                    pos += 1
                    continue
                out.append(ParseError("bad_octet_count", "frame does not start with MSG-LEN",
                                      data=self._head(buf, pos)))
                self._discard_line = True
                continue
            i = self._find_terminator(buf, pos)
            if i < 0:
                if end - pos > max_frame:
                    out.append(ParseError("oversized", f"line over {max_frame} bytes",
                                          data=bytes(buf[pos:pos + HEAD_BYTES])))
                    self._discard_line = True
                    pos = end
                break
            if i - pos > max_frame:
                out.append(ParseError("oversized", f"line of {i - pos} bytes",
                                      data=bytes(buf[pos:pos + HEAD_BYTES])))
            else:
                frame = bytes(buf[pos : i - 1 if buf[i - 1] == _CR else i])
                if frame:
                    out.append(frame)
            pos = i + 1
        del buf[:pos]
        return out

    def _head(self, buf: bytearray, pos: int) -> bytes:
        """The rest of the line at ``pos`` (up to HEAD_BYTES) for a rejected frame."""
        end = self._find_terminator(buf, pos)
        stop = len(buf) if end < 0 else end
        return bytes(buf[pos:min(stop, pos + HEAD_BYTES)])

    def close(self) -> list[bytes | ParseError]:
        """End of stream: the last unterminated frame, or why it was incomplete."""
        buf = bytes(self._buf)
        pending = bool(buf) and not (self._skip or self._discard_line)
        out: list[bytes | ParseError] = []
        if pending and self.framing != "newline" and 0x31 <= buf[0] <= 0x39:
            prefix = self._octet_prefix(self._buf, 0, len(buf))
            if prefix is not None and prefix[0] >= 0:
                out = [ParseError("truncated", "stream ended inside a counted frame",
                                  data=buf[:HEAD_BYTES])]
                pending = False
        if pending and self.framing == "octet":
            out = [ParseError("bad_octet_count", "frame does not start with MSG-LEN",
                              data=self._head(self._buf, 0))]
            pending = False
        if pending:
            # Newline framing: the rest is one frame, as if a terminator followed it.
            out = self.feed(b"\n")
        self._buf.clear()
        self._skip = 0
        self._discard_line = False
        return out

    @staticmethod
    def _find_terminator(buf: bytearray, pos: int) -> int:
        lf = buf.find(b"\n", pos)
        nul = buf.find(b"\x00", pos, lf if lf >= 0 else len(buf))
        return nul if nul >= 0 else lf

    @staticmethod
    def _octet_prefix(buf: bytearray, pos: int, end: int) -> tuple[int, int] | None:
        """(length, frame start) for a ``MSG-LEN SP`` prefix; (-1, pos) if there is none;
        None if the bytes so far could still become one."""
        limit = min(end, pos + _MAX_DIGITS + 1)
        sp = buf.find(b" ", pos, limit)
        if sp < 0:
            if end - pos <= _MAX_DIGITS and buf[pos:end].isdigit():
                return None
            return -1, pos
        if not buf[pos:sp].isdigit():
            return -1, pos
        return int(buf[pos:sp]), sp + 1
