"""JSON lines parsing (issue 5 deliverable 1): objects only, size and depth limits, fuzz."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cyberqms.security.detect.parsers import ParseError, iter_json_lines, parse_json_line


def test_object_line() -> None:
    assert parse_json_line(b'{"kind": "auth.login.failure", "data": {"n": [1, 2]}}\r') == {
        "kind": "auth.login.failure", "data": {"n": [1, 2]},
    }


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"[1, 2]", "not_object"),
        (b'"text"', "not_object"),
        (b"null", "not_object"),
        (b"{", "bad_json"),
        (b'{"a": NaN}', "bad_json"),
        (b'{"a": Infinity}', "bad_json"),
        (b'{"a": 1} {"b": 2}', "bad_json"),
        (b'{"a": "\xff"}', "invalid_utf8"),
        (b'{"a": ' + b"[" * 17 + b"]" * 17 + b"}", "too_deep"),
        (b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "oversized"),
    ],
)
def test_rejections(line: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as excinfo:
        parse_json_line(line)
    assert excinfo.value.reason == reason


def test_depth_limit_is_inclusive() -> None:
    assert parse_json_line(b'{"a": ' + b"[" * 15 + b"]" * 15 + b"}") == {"a": [[[[[[[[[[[[[[[]]]]]]]]]]]]]]]}


def test_deep_nesting_within_size_limit_does_not_crash() -> None:
    line = b"[" * 60_000 + b"]" * 60_000
    with pytest.raises(ParseError) as excinfo:
        parse_json_line(line, max_bytes=200_000)
    assert excinfo.value.reason in ("too_deep", "not_object")


def test_iter_lines_reports_every_rejection_with_its_line_number() -> None:
    data = b'{"a": 1}\n\n[1]\n{"b": "\xe2\x80\xa8 inside"}\nnope\n'
    assert list(iter_json_lines(data)) == [
        (1, {"a": 1}),
        (3, ParseError("not_object", "a JSON list, not an object")),
        (4, {"b": "\u2028 inside"}),
        (5, ParseError("bad_json", "Expecting value: line 1 column 1 (char 0)")),
    ]


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


def _attempt(data: str | bytes) -> dict[str, object] | ParseError:
    try:
        return parse_json_line(data)
    except ParseError as exc:
        return exc


@given(value=st.dictionaries(st.text(), _json, max_size=5))
@settings(max_examples=300, deadline=None)
def test_objects_round_trip(value: dict[str, object]) -> None:
    line = json.dumps(value).encode()
    result = _attempt(line)
    assert result == value or result == ParseError("too_deep", "nesting deeper than 16")


@given(data=st.one_of(st.binary(max_size=200), st.text(max_size=200)))
@settings(max_examples=1000, deadline=None)
def test_fuzz(data: bytes | str) -> None:
    obj = _attempt(data)
    assert isinstance(obj, dict) or obj.reason
