"""Syslog parsing (RFC 5424, RFC 3164) and TCP framing (RFC 6587), issue 5 deliverable 1."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cyberqms.security.detect.parsers import (
    FrameDecoder,
    ParseError,
    SyslogMessage,
    parse_rfc3164,
    parse_rfc5424,
    parse_syslog,
)
from cyberqms.security.detect.parsers.syslog import Framing

RECEIVED = datetime(2003, 12, 1, 12, 0, tzinfo=UTC)


# --- RFC 5424 section 6.5 examples -----------------------------------------------------


def test_rfc5424_example_1_with_bom() -> None:
    line = (
        b"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - "
        b"\xef\xbb\xbf'su root' failed for lonvick on /dev/pts/8"
    )
    assert parse_rfc5424(line) == SyslogMessage(
        format="rfc5424",
        facility=4,
        severity=2,
        timestamp=datetime(2003, 10, 11, 22, 14, 15, 3000, tzinfo=UTC),
        hostname="mymachine.example.com",
        app_name="su",
        procid=None,
        msgid="ID47",
        message="'su root' failed for lonvick on /dev/pts/8",
        structured_data={},
        version=1,
        timestamp_text="2003-10-11T22:14:15.003Z",
    )


def test_rfc5424_example_2_offset_and_microseconds() -> None:
    line = "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts."
    msg = parse_rfc5424(line)
    assert msg.timestamp == datetime(2003, 8, 24, 5, 14, 15, 3, tzinfo=timezone(-timedelta(hours=7)))
    assert msg.timestamp.astimezone(UTC) == datetime(2003, 8, 24, 12, 14, 15, 3, tzinfo=UTC)
    assert (msg.facility_name, msg.severity_name) == ("local4", "notice")
    assert (msg.hostname, msg.app_name, msg.procid, msg.msgid) == ("192.0.2.1", "myproc", "8710", None)
    assert msg.message == "%% It's time to make the do-nuts."


def test_rfc5424_example_3_structured_data_and_message() -> None:
    line = (
        '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 '
        '[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] '
        "\ufeffAn application event log entry..."
    )
    msg = parse_syslog(line)
    assert msg.structured_data == {
        "exampleSDID@32473": {"iut": "3", "eventSource": "Application", "eventID": "1011"}
    }
    assert msg.message == "An application event log entry..."


def test_rfc5424_example_4_two_elements_no_message() -> None:
    line = (
        '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 '
        '[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"]'
        '[examplePriority@32473 class="high"]'
    )
    msg = parse_syslog(line)
    assert msg.structured_data == {
        "exampleSDID@32473": {"iut": "3", "eventSource": "Application", "eventID": "1011"},
        "examplePriority@32473": {"class": "high"},
    }
    assert msg.message == ""


def test_rfc5424_all_nil_header() -> None:
    msg = parse_syslog("<13>1 - - - - - -")
    assert (msg.timestamp, msg.hostname, msg.app_name, msg.procid, msg.msgid) == (None,) * 5
    assert (msg.structured_data, msg.message, msg.facility, msg.severity) == ({}, "", 1, 5)


def test_rfc5424_param_value_escapes() -> None:
    line = r'<14>1 - h a - - [x@1 q="say \"hi\"" b="C:\\tmp" r="a\]b" o="\n stays"] m'
    assert parse_syslog(line).structured_data == {
        "x@1": {"q": 'say "hi"', "b": "C:\\tmp", "r": "a]b", "o": "\\n stays"}
    }


def test_rfc5424_fraction_beyond_microseconds_is_truncated() -> None:
    msg = parse_syslog("<14>1 2026-01-02T03:04:05.123456789+01:30 h a - - - m")
    assert msg.timestamp == datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=timezone(timedelta(hours=1, minutes=30)))


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("no pri", "bad_pri"),
        ("<192>1 - - - - - -", "bad_pri"),
        ("<13>1 2003-13-11T22:14:15Z h a - - -", "bad_timestamp"),
        ("<13>1 2003-10-11 22:14:15Z h a - - -", "bad_timestamp"),
        ("<13>1 2003-10-11T22:14:15 h a - - -", "bad_timestamp"),
        ("<13>1 - h a -", "bad_header"),
        ("<13>1 - h a - -", "bad_structured_data"),
        ("<13>1 - h a - - [x@1 a=\"1\"", "bad_structured_data"),
        ("<13>1 - h a - - [x@1 a=1]", "bad_structured_data"),
        ("<13>1 - h a - - [x@1][x@1]", "bad_structured_data"),
        ("<13>1 - h a - - x", "bad_structured_data"),
        ("<13>1 - h a - - [x@1]m", "bad_structured_data"),
        ("<13>1 - " + "h" * 256 + " a - - -", "bad_header"),
        ("<13>1 - h " + "a" * 49 + " - - -", "bad_header"),
        ("<13>1 - hé a - - -", "bad_header"),
    ],
)
def test_rfc5424_rejections(line: str, reason: str) -> None:
    with pytest.raises(ParseError) as excinfo:
        parse_rfc5424(line)
    assert excinfo.value.reason == reason


def test_invalid_utf8_is_rejected() -> None:
    with pytest.raises(ParseError) as excinfo:
        parse_syslog(b"<13>1 - h a - - - caf\xe9")
    assert excinfo.value.reason == "invalid_utf8"


# --- RFC 3164 section 5.4 examples -------------------------------------------------------


def test_rfc3164_example_1() -> None:
    msg = parse_rfc3164(
        "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
        received_at=RECEIVED,
    )
    assert msg == SyslogMessage(
        format="rfc3164",
        facility=4,
        severity=2,
        timestamp=datetime(2003, 10, 11, 22, 14, 15, tzinfo=UTC),
        hostname="mymachine",
        app_name="su",
        procid=None,
        msgid=None,
        message="'su root' failed for lonvick on /dev/pts/8",
        timestamp_text="Oct 11 22:14:15",
    )


def test_rfc3164_example_2_no_tag() -> None:
    msg = parse_rfc3164("<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!", received_at=RECEIVED)
    assert (msg.timestamp, msg.hostname, msg.app_name, msg.message) == (
        datetime(2003, 2, 5, 17, 32, 18, tzinfo=UTC), "10.0.0.99", None, "Use the BFG!",
    )


def test_rfc3164_example_3_odd_timestamp_reads_as_the_relay_would() -> None:
    line = "<165>Aug 24 05:34:00 CST 1987 mymachine myproc[10]: %% It's time to make the do-nuts."
    msg = parse_rfc3164(line, received_at=RECEIVED)
    assert (msg.hostname, msg.app_name) == ("CST", None)
    assert msg.message == "1987 mymachine myproc[10]: %% It's time to make the do-nuts."


def test_rfc3164_example_4_without_valid_timestamp_keeps_everything_as_content() -> None:
    line = "<0>1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That's All Folks!"
    msg = parse_rfc3164(line, received_at=RECEIVED)
    assert (msg.facility, msg.severity, msg.timestamp, msg.hostname) == (0, 0, None, None)
    assert msg.message == line[3:]


def test_rfc3164_tag_with_pid() -> None:
    msg = parse_syslog(
        "<38>Mar  1 10:00:00 bastion sshd[4242]: Failed password for root from 203.0.113.7 port 2 ssh2",
        received_at=datetime(2026, 3, 1, 10, 0, 5, tzinfo=UTC),
    )
    assert (msg.format, msg.hostname, msg.app_name, msg.procid) == ("rfc3164", "bastion", "sshd", "4242")
    assert msg.message == "Failed password for root from 203.0.113.7 port 2 ssh2"


def test_rfc3164_with_rfc3339_timestamp() -> None:
    msg = parse_syslog("<14>2026-03-01T10:00:00.5+00:00 host app: hi")
    assert (msg.timestamp, msg.hostname, msg.app_name, msg.message) == (
        datetime(2026, 3, 1, 10, 0, 0, 500000, tzinfo=UTC), "host", "app", "hi",
    )


@pytest.mark.parametrize(
    ("stamp", "received", "expected_year"),
    [
        ("Dec 31 23:59:59", datetime(2026, 1, 1, 0, 0, 10, tzinfo=UTC), 2025),  # rollover
        ("Jan  1 00:00:05", datetime(2025, 12, 31, 23, 59, 58, tzinfo=UTC), 2026),  # fast clock
        ("Jun 15 12:00:00", datetime(2026, 6, 15, 11, 0, tzinfo=UTC), 2026),
        ("Jul 15 12:00:00", datetime(2026, 6, 15, 11, 0, tzinfo=UTC), 2025),  # not the future
        ("Feb 29 12:00:00", datetime(2025, 3, 1, tzinfo=UTC), 2024),  # last leap year
    ],
)
def test_rfc3164_year_inference(stamp: str, received: datetime, expected_year: int) -> None:
    msg = parse_rfc3164(f"<13>{stamp} h t: m", received_at=received)
    assert msg.timestamp is not None
    assert msg.timestamp.year == expected_year


@pytest.mark.parametrize("stamp", ["Foo 11 22:14:15", "Oct 11 25:14:15", "Feb 30 10:00:00"])
def test_rfc3164_bad_timestamps(stamp: str) -> None:
    with pytest.raises(ParseError) as excinfo:
        parse_rfc3164(f"<13>{stamp} h t: m", received_at=RECEIVED)
    assert excinfo.value.reason == "bad_timestamp"


# --- framing -------------------------------------------------------------------------------


def test_octet_counting_frames() -> None:
    first = b"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - hi"
    second = b"<13>1 - - - - - - line\nwith newline"
    stream = b"%d %s%d %s" % (len(first), first, len(second), second)
    decoder = FrameDecoder()
    assert decoder.feed(stream) == [first, second]
    assert decoder.close() == []


def test_newline_framing_lf_crlf_nul_and_blank_lines() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(b"<13>a\n<13>b\r\n\r\n\n<13>c\x00<13>d") == [b"<13>a", b"<13>b", b"<13>c"]
    assert decoder.close() == [b"<13>d"]


def test_mixed_framing_in_auto_mode() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(b"5 <13>x<13>y\n3 abc") == [b"<13>x", b"<13>y", b"abc"]


def test_oversized_frames_are_reported_and_the_stream_continues() -> None:
    decoder = FrameDecoder(max_frame=8)
    out = decoder.feed(b"<13>ok\n<13>far too long\n9 <13>12345<13>ok2\n12 ")
    assert out == [
        b"<13>ok",
        ParseError("oversized", "line of 16 bytes"),
        ParseError("oversized", "counted frame of 9 octets"),
        b"<13>ok2",
        ParseError("oversized", "counted frame of 12 octets"),
    ]
    assert decoder.feed(b"0123456789abfine\n") == [b"fine"]


def test_oversized_line_is_reported_before_its_end_arrives() -> None:
    decoder = FrameDecoder(max_frame=4)
    assert decoder.feed(b"<13>abcdef") == [ParseError("oversized", "line over 4 bytes")]
    assert decoder.feed(b"ghij\n<13>\n") == [b"<13>"]


def test_truncated_counted_frame_at_close() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(b"20 <13>short") == []
    assert decoder.close() == [ParseError("truncated", "stream ended inside a counted frame")]


def test_strict_octet_framing_rejects_lines() -> None:
    decoder = FrameDecoder(framing="octet")
    assert decoder.feed(b"<13>not counted\n3 abc") == [
        ParseError("bad_octet_count", "frame does not start with MSG-LEN"), b"abc",
    ]


def test_newline_framing_reads_digits_as_content() -> None:
    assert FrameDecoder(framing="newline").feed(b"3 abc\n") == [b"3 abc"]


def _normal(items: list[bytes | ParseError]) -> list[object]:
    return [item if isinstance(item, bytes) else ("error", item.reason) for item in items]


_frame_bytes = st.lists(
    st.one_of(
        st.binary(max_size=40),
        st.sampled_from([b"\n", b"\r\n", b"\x00", b"12 ", b"3 ", b"<13>1 - - - - - - x", b"99999 "]),
    ),
    max_size=20,
).map(b"".join)


@given(stream=_frame_bytes, cuts=st.lists(st.integers(min_value=0, max_value=800), max_size=10),
       max_frame=st.integers(min_value=1, max_value=64),
       framing=st.sampled_from(["auto", "octet", "newline"]))
@settings(max_examples=300, deadline=None)
def test_frames_do_not_depend_on_chunk_boundaries(
    stream: bytes, cuts: list[int], max_frame: int, framing: Framing
) -> None:
    whole = FrameDecoder(max_frame=max_frame, framing=framing)
    expected = whole.feed(stream) + whole.close()
    chunked = FrameDecoder(max_frame=max_frame, framing=framing)
    got: list[bytes | ParseError] = []
    bounds = sorted({0, len(stream), *(c for c in cuts if c <= len(stream))})
    for start, end in itertools.pairwise(bounds):
        got += chunked.feed(stream[start:end])
    got += chunked.close()
    assert _normal(got) == _normal(expected)
    for item in got:
        assert isinstance(item, ParseError) or 0 < len(item) <= max_frame


@given(frames=st.lists(st.binary(min_size=1, max_size=50), max_size=10),
       split=st.integers(min_value=1, max_value=7))
@settings(max_examples=200, deadline=None)
def test_octet_counted_frames_round_trip(frames: list[bytes], split: int) -> None:
    stream = b"".join(b"%d %s" % (len(f), f) for f in frames)
    decoder = FrameDecoder(framing="octet")
    got: list[bytes | ParseError] = []
    for i in range(0, len(stream), split):
        got += decoder.feed(stream[i : i + split])
    assert got + decoder.close() == frames


# --- fuzz --------------------------------------------------------------------------------


@given(data=st.one_of(st.binary(max_size=300), st.text(max_size=300)))
@settings(max_examples=500, deadline=None)
def test_syslog_parser_never_raises_anything_but_parse_error(data: bytes | str) -> None:
    _check_syslog(data)


_syslog_like = st.builds(
    "".join,
    st.lists(
        st.one_of(
            st.sampled_from(["<13>", "<165>", "1 ", "- ", "[", "]", '"', "\\", "=", " ", "@",
                             "2003-10-11T22:14:15.003Z ", "Oct 11 22:14:15 ", "x@1 a=\"b\"",
                             "host ", "app[1]: ", "\ufeff", "Feb 29 00:00:00 "]),
            st.text(max_size=8),
        ),
        max_size=16,
    ),
)


@given(data=_syslog_like)
@settings(max_examples=1000, deadline=None)
def test_syslog_parser_fuzzed_with_syslog_like_text(data: str) -> None:
    _check_syslog(data)


def _attempt(data: bytes | str) -> SyslogMessage | ParseError:
    try:
        return parse_syslog(data, received_at=RECEIVED)
    except ParseError as exc:
        return exc


def _check_syslog(data: bytes | str) -> None:
    msg = _attempt(data)
    if isinstance(msg, ParseError):
        assert msg.reason
        return
    assert msg.format in ("rfc5424", "rfc3164")
    assert 0 <= msg.facility <= 23
    assert 0 <= msg.severity <= 7
    assert msg.timestamp is None or msg.timestamp.tzinfo is not None
    assert isinstance(msg.message, str)
    for value in (msg.hostname, msg.app_name, msg.procid, msg.msgid):
        assert value is None or (isinstance(value, str) and value)
    for params in msg.structured_data.values():
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in params.items())
