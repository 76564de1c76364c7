"""RFC 8785 canonical JSON: known answers, domain enforcement, equivalence to rfc8785."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from cyberqms.platform.trail import canonical
from cyberqms.platform.trail.canonical import (
    MAX_DEPTH,
    MAX_SAFE_INTEGER,
    canonical_json,
    canonical_json_prevalidated,
    check_canonical_domain,
    loads_strict,
)

# Characters around the UTF-16 vs code-point ordering boundary (RFC 8785 §3.2.3),
# JSON escapes and line separators, mixed into keys and strings.
TRICKY = (
    'a\x00\x1f\x7f"\\/\n\r\t\b\f\u0080\u00f6\u2028\u2029\u20ac'
    "\ud7ff\ue000\ufb33\uffff\U00010000\U0001f600\U0010ffff"
)

tricky_text = st.text() | st.text(alphabet=st.sampled_from(TRICKY), max_size=6)
safe_ints = st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
json_values = st.recursive(
    st.none() | st.booleans() | safe_ints | tricky_text,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(tricky_text, children, max_size=6)
    ),
    max_leaves=40,
)


def test_known_answer_compact_sorted_and_escaped() -> None:
    value = {"b": [1, True, None], "a": {"z": '\u00e9\n"\\', "y": -5}, "": ""}
    assert canonical_json(value) == (
        b'{"":"","a":{"y":-5,"z":"\xc3\xa9\\n\\"\\\\"},"b":[1,true,null]}'
    )


def test_control_characters_use_short_or_lowercase_u_escapes() -> None:
    assert canonical_json("\x00\x08\x09\x0a\x0c\x0d\x1f\x7f") == (
        b'"\\u0000\\b\\t\\n\\f\\r\\u001f\x7f"'
    )


def test_rfc8785_sorting_example_uses_utf16_code_units() -> None:
    # RFC 8785 §3.2.3: U+1F600 (a surrogate pair in UTF-16) sorts before U+FB33.
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    keys = list(json.loads(canonical_json(value)))
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    assert canonical_json(value) == rfc8785.dumps(value)


def test_non_bmp_keys_nested_take_the_exact_path() -> None:
    value = [{"x": {"\ue000": 1, "\U00010000": 2}}]
    assert canonical_json(value) == rfc8785.dumps(value)
    assert canonical_json(value).index("\U00010000".encode()) < canonical_json(value).index(
        "\ue000".encode()
    )


@pytest.mark.parametrize("value", [1.5, 0.0, [1, 2.0], {"a": {"b": [float("nan")]}}, math.inf])
def test_floats_are_rejected_with_type_error(value: object) -> None:
    with pytest.raises(TypeError, match="float"):
        canonical_json(value)


def test_error_message_names_the_json_path() -> None:
    with pytest.raises(TypeError, match=r"\$\['changes'\]\[1\]\['amount'\]"):
        canonical_json({"changes": [{}, {"amount": 1.25}]})


@pytest.mark.parametrize("value", [2**53, -(2**53), [10**20], {"n": -(10**30)}])
def test_integers_outside_ijson_range_are_rejected(value: object) -> None:
    with pytest.raises(ValueError, match="range"):
        canonical_json(value)


def test_integer_range_boundaries_are_accepted() -> None:
    bounds = [MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, 0]
    assert canonical_json(bounds) == rfc8785.dumps(bounds)


@pytest.mark.parametrize(
    "value",
    [{1: "a"}, {None: 1}, {("t",): 1}, b"bytes", {1, 2}, Decimal("1.5"), object()],
)
def test_unsupported_types_and_keys_raise_type_error(value: object) -> None:
    with pytest.raises(TypeError):
        canonical_json(value)


def test_lone_surrogates_are_rejected() -> None:
    with pytest.raises(ValueError, match="surrogate"):
        canonical_json({"a": "\ud800"})
    with pytest.raises(ValueError, match="surrogate"):
        canonical_json_prevalidated(loads_strict('{"a": "\\udc00"}'))


def test_nesting_limit_and_cycles_raise_value_error() -> None:
    deep: Any = "leaf"
    for _ in range(MAX_DEPTH + 2):
        deep = [deep]
    with pytest.raises(ValueError, match="nesting"):
        canonical_json(deep)
    cyclic: dict[str, Any] = {}
    cyclic["self"] = cyclic
    with pytest.raises(ValueError, match="nesting"):
        canonical_json(cyclic)


def test_subclasses_and_tuples_serialise_like_their_base_types() -> None:
    class Colour(StrEnum):
        RED = "red"

    class Level(IntEnum):
        HIGH = 3

    value = {"c": Colour.RED, "l": Level.HIGH, "t": (1, "x"), "b": False}
    assert canonical_json(value) == b'{"b":false,"c":"red","l":3,"t":[1,"x"]}'


def test_check_canonical_domain_accepts_the_domain() -> None:
    check_canonical_domain({"a": [1, "x", None, True, {"b": []}]})


@pytest.mark.parametrize(
    "text",
    ["1.0", "[1e5]", '{"a": 1E-2}', "NaN", "[Infinity]", "-Infinity", "9007199254740992"],
)
def test_loads_strict_rejects_non_domain_numbers(text: str) -> None:
    with pytest.raises(ValueError, match=r"not an integer|not valid JSON|range"):
        loads_strict(text)


def test_loads_strict_rejects_duplicate_keys_and_deep_nesting() -> None:
    with pytest.raises(ValueError, match="duplicate object key 'a'"):
        loads_strict('{"a": 1, "b": 2, "a": 3}')
    with pytest.raises(ValueError, match="nesting too deep"):
        loads_strict("[" * 100_000 + "]" * 100_000)


def test_prevalidated_path_turns_excessive_depth_into_value_error() -> None:
    # Parses fine, but the exact (non-BMP) serialiser cannot recurse that deep.
    value = loads_strict("[" * 5000 + '"\U0001f600"' + "]" * 5000)
    with pytest.raises(ValueError, match="nesting too deep"):
        canonical_json_prevalidated(value)


def test_loads_strict_accepts_domain_values() -> None:
    assert loads_strict('{"a": [-9007199254740991, "x", null, true]}') == {
        "a": [-MAX_SAFE_INTEGER, "x", None, True]
    }


def test_fallback_encoder_without_c_accelerator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json.encoder, "c_make_encoder", None)
    encode = canonical._make_fast_encoder()
    value: Any = {"b": [1, "\u00e9"], "a": None}
    assert encode(value).encode() == rfc8785.dumps(value)


@settings(max_examples=400, deadline=None, database=None)
@given(json_values)
def test_canonical_json_equals_rfc8785(value: Any) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


@settings(max_examples=300, deadline=None, database=None)
@given(json_values)
def test_parse_then_prevalidated_equals_rfc8785(value: Any) -> None:
    for text in (json.dumps(value), json.dumps(value, ensure_ascii=False, indent=1)):
        assert canonical_json_prevalidated(loads_strict(text)) == rfc8785.dumps(value)


@settings(max_examples=200, deadline=None, database=None)
@given(json_values)
def test_canonical_json_is_idempotent_under_reparsing(value: object) -> None:
    once = canonical_json(value)
    assert canonical_json(loads_strict(once.decode("utf-8"))) == once
