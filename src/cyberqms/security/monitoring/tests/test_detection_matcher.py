"""Sigma matching semantics of the compiled detection engine (CYB-04)."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cyberqms.security.detect.detection import SHIPPED_RULES_DIR, Engine, load_rules, parse_rules
from cyberqms.security.detect.detection.fields import get

RULE = """\
title: test rule
id: 00000000-0000-4000-8000-000000000001
status: test
logsource:
  product: cyberqms
level: high
detection:
{detection}
"""


def engine_for(detection: str) -> Engine:
    text = RULE.format(detection=textwrap.indent(textwrap.dedent(detection).strip(), "  "))
    rules = parse_rules(text, "test.yml")
    engine = Engine(rules)
    assert [str(e) for e in engine.errors] == []
    assert len(engine.rules) == 1
    return engine


def fires(engine: Engine, event: dict[str, Any]) -> bool:
    return len(engine.evaluate(event)) == 1


def test_plain_value_is_case_insensitive_equality() -> None:
    engine = engine_for("""
        sel:
          actor.user.name: Alice
        condition: sel
    """)
    assert fires(engine, {"actor": {"user": {"name": "alice"}}})
    assert fires(engine, {"actor": {"user": {"name": "ALICE"}}})
    assert not fires(engine, {"actor": {"user": {"name": "alice2"}}})
    assert not fires(engine, {"actor": {"user": {}}})
    assert not fires(engine, {})


def test_flat_dotted_key_is_found_too() -> None:
    engine = engine_for("""
        sel:
          actor.user.name: alice
        condition: sel
    """)
    assert fires(engine, {"actor.user.name": "alice"})


def test_cased_modifier_is_case_sensitive() -> None:
    engine = engine_for("""
        sel:
          message|cased: Admin
        condition: sel
    """)
    assert fires(engine, {"message": "Admin"})
    assert not fires(engine, {"message": "admin"})


def test_contains() -> None:
    engine = engine_for("""
        sel:
          message|contains: Drop Table
        condition: sel
    """)
    assert fires(engine, {"message": "x; DROP TABLE batch;"})
    assert not fires(engine, {"message": "drop the table"})


def test_startswith_and_endswith() -> None:
    starts = engine_for("""
        sel:
          file.name|startswith: BATCH-
        condition: sel
    """)
    assert fires(starts, {"file": {"name": "batch-0042.pdf"}})
    assert not fires(starts, {"file": {"name": "x-batch-0042.pdf"}})
    ends = engine_for("""
        sel:
          file.name|endswith: .locked
        condition: sel
    """)
    assert fires(ends, {"file": {"name": "record.PDF.LOCKED"}})
    assert not fires(ends, {"file": {"name": "record.locked.pdf"}})


def test_regular_expression_is_searched_and_case_sensitive() -> None:
    engine = engine_for("""
        sel:
          message|re: 'user=[a-z]+ denied'
        condition: sel
    """)
    assert fires(engine, {"message": "login user=bob denied at 10:00"})
    assert not fires(engine, {"message": "login USER=bob denied"})
    anchored = engine_for("""
        sel:
          message|re: '^denied$'
        condition: sel
    """)
    assert fires(anchored, {"message": "denied"})
    assert not fires(anchored, {"message": "access denied"})
    ignore_case = engine_for("""
        sel:
          message|re|i: 'user=[a-z]+ denied'
        condition: sel
    """)
    assert fires(ignore_case, {"message": "USER=BOB DENIED"})


def test_all_modifier_needs_every_value() -> None:
    engine = engine_for("""
        sel:
          message|contains|all:
            - export
            - batch
        condition: sel
    """)
    assert fires(engine, {"message": "Export of batch records"})
    assert not fires(engine, {"message": "Export of deviation records"})


def test_list_of_values_is_or() -> None:
    engine = engine_for("""
        sel:
          activity_id:
            - 3
            - 4
        condition: sel
    """)
    assert fires(engine, {"activity_id": 3})
    assert fires(engine, {"activity_id": 4})
    assert fires(engine, {"activity_id": "4"})
    assert fires(engine, {"activity_id": 4.0})
    assert not fires(engine, {"activity_id": 5})
    assert not fires(engine, {"activity_id": True})


def test_list_of_maps_is_or_and_map_items_are_and() -> None:
    engine = engine_for("""
        sel:
          - class_uid: 3001
            activity_id: 7
          - class_uid: 3005
            activity_id: 1
        condition: sel
    """)
    assert fires(engine, {"class_uid": 3001, "activity_id": 7})
    assert fires(engine, {"class_uid": 3005, "activity_id": 1})
    assert not fires(engine, {"class_uid": 3001, "activity_id": 1})


def test_cidr_v4_and_v6() -> None:
    engine = engine_for("""
        sel:
          src_endpoint.ip|cidr:
            - 10.0.0.0/8
            - 2001:db8::/32
        condition: sel
    """)
    assert fires(engine, {"src_endpoint": {"ip": "10.20.30.40"}})
    assert fires(engine, {"src_endpoint": {"ip": "2001:db8::1"}})
    assert not fires(engine, {"src_endpoint": {"ip": "11.0.0.1"}})
    assert not fires(engine, {"src_endpoint": {"ip": "2001:db9::1"}})
    assert not fires(engine, {"src_endpoint": {"ip": "not an address"}})
    assert not fires(engine, {"src_endpoint": {"ip": 167772161}})


def test_wildcards_and_escaped_star() -> None:
    engine = engine_for("""
        sel:
          file.name: 'batch-??.*'
        condition: sel
    """)
    assert fires(engine, {"file": {"name": "BATCH-42.pdf"}})
    assert not fires(engine, {"file": {"name": "batch-420.pdf"}})
    literal = engine_for(r"""
        sel:
          message: 'rm \*'
        condition: sel
    """)
    assert fires(literal, {"message": "rm *"})
    assert not fires(literal, {"message": "rm -rf"})


def test_null_matches_missing_or_null() -> None:
    engine = engine_for("""
        sel:
          gxp.change_ref: null
        condition: sel
    """)
    assert fires(engine, {})
    assert fires(engine, {"gxp": {"change_ref": None}})
    assert fires(engine, {"gxp": "not a mapping"})
    assert not fires(engine, {"gxp": {"change_ref": "CC-12"}})


def test_exists_and_numeric_comparisons() -> None:
    engine = engine_for("""
        sel:
          gxp.record_type|exists: true
          gxp.hour|lt: 6
        condition: sel
    """)
    assert fires(engine, {"gxp": {"record_type": "batch", "hour": 5}})
    assert fires(engine, {"gxp": {"record_type": "batch", "hour": "5"}})
    assert not fires(engine, {"gxp": {"record_type": "batch", "hour": 6}})
    assert not fires(engine, {"gxp": {"hour": 5}})


def test_field_holding_a_list_matches_any_element() -> None:
    engine = engine_for("""
        sel:
          privileges|contains: admin
        condition: sel
    """)
    assert fires(engine, {"privileges": ["reader", "SysAdmin"]})
    assert not fires(engine, {"privileges": ["reader", "author"]})
    assert not fires(engine, {"privileges": []})


def test_keywords_search_the_message() -> None:
    engine = engine_for("""
        keywords:
          - checkpoint mismatch
          - 'tamper*detected'
        condition: keywords
    """)
    assert fires(engine, {"message": "trail: CHECKPOINT MISMATCH at 42"})
    assert fires(engine, {"message": "tamper was detected"})
    assert not fires(engine, {"message": "all good"})
    assert not fires(engine, {"msg": "checkpoint mismatch"})


def test_booleans() -> None:
    engine = engine_for("""
        sel:
          actor.user.disabled: true
        condition: sel
    """)
    assert fires(engine, {"actor": {"user": {"disabled": True}}})
    assert fires(engine, {"actor": {"user": {"disabled": "true"}}})
    assert not fires(engine, {"actor": {"user": {"disabled": False}}})
    assert not fires(engine, {"actor": {"user": {"disabled": 1}}})


CONDITION_DETECTION = """
    sel_a:
      a: 1
    sel_b:
      b: 1
    filter:
      c: 1
    condition: {condition}
"""


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        # (a, b, c) for the 8 combinations, in order 000 001 010 011 100 101 110 111
        ("sel_a and sel_b", [0, 0, 0, 0, 0, 0, 1, 1]),
        ("sel_a or sel_b", [0, 0, 1, 1, 1, 1, 1, 1]),
        ("sel_a and not filter", [0, 0, 0, 0, 1, 0, 1, 0]),
        ("not (sel_a or filter)", [1, 0, 1, 0, 0, 0, 0, 0]),
        ("sel_a or sel_b and filter", [0, 0, 0, 1, 1, 1, 1, 1]),
        ("(sel_a or sel_b) and filter", [0, 0, 0, 1, 0, 1, 0, 1]),
        ("1 of sel_*", [0, 0, 1, 1, 1, 1, 1, 1]),
        ("all of sel_*", [0, 0, 0, 0, 0, 0, 1, 1]),
        ("1 of sel_* and not filter", [0, 0, 1, 0, 1, 0, 1, 0]),
        ("all of them", [0, 0, 0, 0, 0, 0, 0, 1]),
        ("1 of them", [0, 1, 1, 1, 1, 1, 1, 1]),
        ("any of them", [0, 1, 1, 1, 1, 1, 1, 1]),
    ],
)
def test_condition_forms(condition: str, expected: list[int]) -> None:
    engine = engine_for(CONDITION_DETECTION.format(condition=condition))
    got = []
    for a in (0, 1):
        for b in (0, 1):
            for c in (0, 1):
                got.append(int(fires(engine, {"a": a, "b": b, "c": c})))
    assert got == expected


def test_match_carries_rule_metadata() -> None:
    text = RULE.format(detection="  sel:\n    a: 1\n  condition: sel") + textwrap.dedent("""\
        tags:
          - attack.credential-access
          - attack.t1110.001
          - cyberqms.req.cyb-03
        requirements: [P11-33]
    """)
    engine = Engine(parse_rules(text))
    event = {"a": 1}
    [match] = engine.evaluate(event)
    assert match.rule_id == "00000000-0000-4000-8000-000000000001"
    assert match.title == "test rule"
    assert match.level == "high"
    assert match.techniques == ("T1110.001",)
    assert match.requirements == ("P11-33", "CYB-03")
    assert match.tags == ("attack.credential-access", "attack.t1110.001", "cyberqms.req.cyb-03")
    assert match.event is event
    assert match.count is None
    assert match.group == ()


def test_get_reads_dotted_paths() -> None:
    event = {"actor": {"user": {"name": "ana"}}, "gxp.site": "basel"}
    assert get(event, "actor.user.name") == "ana"
    assert get(event, "gxp.site") == "basel"
    assert get(event, "actor.user.uid") is None
    assert get(event, "actor.user.name.first") is None


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**4000, max_value=10**4400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["10.1.2.3", "::1", "Failure", "admin", "PLC", "export", "trail.verify"]),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=12), children, max_size=4),
    ),
    max_leaves=12,
)
field_names = st.sampled_from(
    [
        "class_uid",
        "activity_id",
        "status",
        "status_id",
        "time",
        "message",
        "actor",
        "user",
        "privileges",
        "src_endpoint",
        "gxp",
        "api",
        "finding_info",
        "metadata",
        "activity_name",
    ]
)
events = st.dictionaries(st.one_of(field_names, st.text(max_size=12)), values, max_size=10)

_PACK = load_rules([SHIPPED_RULES_DIR])


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.lists(events, max_size=8))
def test_fuzz_arbitrary_events_never_raise(stream: list[dict[str, Any]]) -> None:
    """CYB-04: no event shape makes the matcher or the correlations raise."""
    engine = Engine(_PACK)
    for event in stream:
        matches = engine.evaluate(event)
        assert all(m.event is event for m in matches)


def test_field_reference_timestamp_part_and_expansions() -> None:
    fieldref = engine_for("""
        sel:
          actor.user.name|fieldref: user.name
        condition: sel
    """)
    assert fires(fieldref, {"actor": {"user": {"name": "Ana"}}, "user": {"name": "ana"}})
    assert not fires(fieldref, {"actor": {"user": {"name": "ana"}}, "user": {"name": "bob"}})
    hour = engine_for("""
        sel:
          time|hour: 3
        condition: sel
    """)
    assert fires(hour, {"time": 3 * 3_600_000 + 5})
    assert not fires(hour, {"time": 4 * 3_600_000})
    windash = engine_for("""
        sel:
          message|windash|contains: -enc
        condition: sel
    """)
    assert fires(windash, {"message": "powershell /enc AAA"})
    assert not fires(windash, {"message": "powershell -e AAA"})
    base64 = engine_for("""
        sel:
          message|base64offset|contains: hello
        condition: sel
    """)
    assert fires(base64, {"message": "x aGVsbG8 y"})
    assert not fires(base64, {"message": "hello"})


def test_several_conditions_are_or() -> None:
    engine = engine_for("""
        sel_a:
          a: 1
        sel_b:
          b: 1
        condition:
          - sel_a
          - sel_b
    """)
    assert fires(engine, {"a": 1})
    assert fires(engine, {"b": 1})
    assert not fires(engine, {"c": 1})


def test_filter_in_the_same_file_applies() -> None:
    text = RULE.format(detection="  sel:\n    a: 1\n  condition: sel") + textwrap.dedent("""\
        ---
        title: site filter
        id: 00000000-0000-4000-8000-000000000002
        logsource:
          product: cyberqms
        filter:
          rules: [00000000-0000-4000-8000-000000000001]
          selection:
            actor.user.name: svc_backup
          condition: not selection
    """)
    engine = Engine(parse_rules(text))
    assert engine.errors == []
    assert fires(engine, {"a": 1, "actor": {"user": {"name": "ana"}}})
    assert not fires(engine, {"a": 1, "actor": {"user": {"name": "svc_backup"}}})
