"""LEEF 1.0 and 2.0 parsing (issue 5 deliverable 1), fuzzed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cyberqms.security.detect.parsers import LeefEvent, ParseError, parse_leef, parse_line


def test_leef_1_tab_delimited() -> None:
    # After IBM's LEEF 1.0 example.
    line = (
        "LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|src=192.0.2.0\tdst=172.50.123.1\t"
        "sev=5\tcat=anomaly\tsrcPort=81\tdstPort=21\tusrName=joe.black"
    )
    assert parse_leef(line) == LeefEvent(
        version="1.0",
        vendor="Microsoft",
        product="MSExchange",
        product_version="4.0 SP1",
        event_id="15345",
        delimiter="\t",
        attributes={"src": "192.0.2.0", "dst": "172.50.123.1", "sev": "5", "cat": "anomaly",
                    "srcPort": "81", "dstPort": "21", "usrName": "joe.black"},
    )


def test_leef_2_caret_delimiter() -> None:
    # After IBM's LEEF 2.0 example.
    event = parse_leef("LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5^sev=5^srcPort=81^dstPort=21")
    assert (event.version, event.delimiter) == ("2.0", "^")
    assert event.attributes == {"src": "10.0.1.8", "dst": "10.0.0.5", "sev": "5", "srcPort": "81", "dstPort": "21"}


@pytest.mark.parametrize(("token", "delimiter"), [("x09", "\t"), ("0x5E", "^"), ("xa6", "¦"), ("", "\t")])
def test_leef_2_hex_and_empty_delimiters(token: str, delimiter: str) -> None:
    event = parse_leef(f"LEEF:2.0|V|P|1|E|{token}|a=1{delimiter}b=x=y")
    assert (event.delimiter, event.attributes) == (delimiter, {"a": "1", "b": "x=y"})


def test_leef_2_without_delimiter_field() -> None:
    event = parse_leef("LEEF:2.0|V|P|1|E|a=1\tb=2")
    assert (event.delimiter, event.attributes) == ("\t", {"a": "1", "b": "2"})


def test_delimiter_inside_a_value_continues_it() -> None:
    event = parse_leef("LEEF:2.0|V|P|1|E|,|msg=one, two,usrName=ana")
    assert event.attributes == {"msg": "one, two", "usrName": "ana"}


def test_leef_1_space_separated_fallback() -> None:
    event = parse_leef("LEEF:1.0|V|P|1|E|usrName=ana src=10.0.0.1 msg=two words")
    assert event.attributes == {"usrName": "ana", "src": "10.0.0.1", "msg": "two words"}


def test_leef_in_syslog() -> None:
    event = parse_line("<13>Mar  1 10:00:00 dc1 LEEF:1.0|Microsoft|Windows|10|4625|usrName=bob", "syslog")
    assert isinstance(event, LeefEvent)
    assert event.syslog is not None
    assert (event.syslog.hostname, event.attributes) == ("dc1", {"usrName": "bob"})


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("nothing", "not_leef"),
        ("LEEF:3.0|V|P|1|E|a=1", "bad_header"),
        ("LEEF:1.0|V|P|1", "bad_header"),
        ("LEEF:2.0|V|P|1|E|x00|a=1", "bad_delimiter"),
        ("LEEF:1.0|V|P|1|E|junk\ta=1", "bad_attributes"),
    ],
)
def test_rejections(line: str, reason: str) -> None:
    with pytest.raises(ParseError) as excinfo:
        parse_leef(line)
    assert excinfo.value.reason == reason


_leef_like = st.builds(
    "".join,
    st.lists(
        st.one_of(
            st.sampled_from(["LEEF:1.0|", "LEEF:2.0|", "|", "\\|", "x09|", "^|", "=", "\t", "^",
                             " ", "usrName=", "xD800|", "0x0|"]),
            st.text(max_size=8),
        ),
        max_size=20,
    ),
)


def _attempt(data: str | bytes) -> LeefEvent | ParseError:
    try:
        return parse_leef(data)
    except ParseError as exc:
        return exc


@given(data=st.one_of(_leef_like, st.binary(max_size=200)))
@settings(max_examples=1000, deadline=None)
def test_fuzz(data: str | bytes) -> None:
    event = _attempt(data)
    if isinstance(event, ParseError):
        assert event.reason
        return
    assert event.version in ("1.0", "2.0")
    assert len(event.delimiter) == 1
    assert all(isinstance(k, str) and k and isinstance(v, str) for k, v in event.attributes.items())
