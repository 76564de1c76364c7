"""CEF parsing (issue 5 deliverable 1): header and extension escapes, custom labels, fuzz."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cyberqms.security.detect.parsers import CefEvent, ParseError, parse_cef, parse_line

# The example from the ArcSight CEF implementation standard, in a syslog envelope.
ARCSIGHT_EXAMPLE = (
    "Sep 19 08:26:10 host CEF:0|security|threatmanager|1.0|100|worm successfully stopped|10|"
    "src=10.0.0.1 dst=2.1.2.2 spt=1232"
)


def test_arcsight_example() -> None:
    assert parse_cef(ARCSIGHT_EXAMPLE) == CefEvent(
        version=0,
        device_vendor="security",
        device_product="threatmanager",
        device_version="1.0",
        signature_id="100",
        name="worm successfully stopped",
        severity="10",
        extension={"src": "10.0.0.1", "dst": "2.1.2.2", "spt": "1232"},
    )


def test_header_escapes() -> None:
    event = parse_cef(r"CEF:0|Acme\|Corp|Path C:\\bin|1.0|7|pipe \| and \\ backslash|5|")
    assert (event.device_vendor, event.device_product, event.name) == (
        "Acme|Corp", "Path C:\\bin", "pipe | and \\ backslash",
    )
    assert event.extension == {}


def test_extension_escapes_and_spaces_in_values() -> None:
    event = parse_cef(
        r"CEF:1|Acme|MES|4.2|REC-UPD|Record updated|Medium|"
        r"msg=Setpoint a\=b changed\nby operator c:\\d  suser=ana fname=batch record 7.pdf"
    )
    assert event.version == 1
    assert event.severity == "Medium"
    assert event.extension == {
        "msg": "Setpoint a=b changed\nby operator c:\\d",
        "suser": "ana",
        "fname": "batch record 7.pdf",
    }


def test_custom_labels() -> None:
    event = parse_cef(
        "CEF:0|Rockwell|FactoryTalk|12|CFG|Controller program download|8|"
        "suser=jdoe cs1Label=Equipment cs1=PLC-7 cs2=orphan cn1Label=Batch cn1=2026001 "
        "cs3Label=Change Control cs3=CC-42"
    )
    assert event.labels == {"Equipment": "PLC-7", "Batch": "2026001", "Change Control": "CC-42"}
    assert event.extension["cs2"] == "orphan"


def test_cef_inside_syslog_keeps_the_envelope() -> None:
    line = "<134>1 2026-03-01T10:00:00Z fw01 pan - - - CEF:0|PAN|FW|10|DENY|deny|4|src=10.0.0.1 act=deny"
    event = parse_line(line, "syslog")
    assert isinstance(event, CefEvent)
    assert event.syslog is not None
    assert (event.syslog.hostname, event.extension) == ("fw01", {"src": "10.0.0.1", "act": "deny"})


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("no marker", "not_cef"),
        ("CEF:0|a|b|c|d|e", "bad_header"),
        ("CEF:x|a|b|c|d|e|1|", "bad_header"),
        ("CEF:0|a|b|c|d|e|1|garbage without pairs", "bad_extension"),
        ("CEF:0|a|b|c|d|e|1|junk src=1.2.3.4", "bad_extension"),
        (b"CEF:0|a|b|c|d|e|1|msg=\xff", "invalid_utf8"),
    ],
)
def test_rejections(line: str | bytes, reason: str) -> None:
    with pytest.raises(ParseError) as excinfo:
        parse_cef(line)
    assert excinfo.value.reason == reason


_cef_like = st.builds(
    "".join,
    st.lists(
        st.one_of(
            st.sampled_from(["CEF:0|", "CEF:", "|", "\\|", "\\\\", "\\=", "=", " ", "cs1Label=",
                             "cs1=", "src=", "\\n", "msg="]),
            st.text(max_size=8),
        ),
        max_size=20,
    ),
)


def _attempt(data: str | bytes) -> CefEvent | ParseError:
    try:
        return parse_cef(data)
    except ParseError as exc:
        return exc


@given(data=st.one_of(_cef_like, st.binary(max_size=200), st.text(max_size=200)))
@settings(max_examples=1000, deadline=None)
def test_fuzz(data: str | bytes) -> None:
    event = _attempt(data)
    if isinstance(event, ParseError):
        assert event.reason
        return
    assert isinstance(event.version, int)
    for value in (event.device_vendor, event.device_product, event.device_version,
                  event.signature_id, event.name, event.severity):
        assert isinstance(value, str)
    assert all(isinstance(k, str) and k and isinstance(v, str) for k, v in event.extension.items())
    assert all(isinstance(v, str) for v in event.labels.values())


@given(values=st.dictionaries(st.from_regex(r"[a-z][A-Za-z0-9]{0,10}", fullmatch=True),
                              st.text(max_size=20).map(lambda s: s.strip(" ")), max_size=6))
@settings(max_examples=300, deadline=None)
def test_escaped_extension_round_trips(values: dict[str, str]) -> None:
    table = str.maketrans({"\\": "\\\\", "=": "\\=", "\n": "\\n", "\r": "\\r"})
    body = " ".join(f"{k}={v.translate(table)}" for k, v in values.items())
    assert parse_cef(f"CEF:0|v|p|1|s|n|1|{body}").extension == values
