"""Sigma correlation rules over sliding windows (CYB-04, P11-33)."""

from __future__ import annotations

from typing import Any

from cyberqms.security.detect.detection import Engine, Match, parse_rules

MINUTE = 60_000

BASE = """\
title: failed logon
id: 10000000-0000-4000-8000-000000000001
name: failed_logon
status: test
logsource:
  product: cyberqms
detection:
  sel:
    class_uid: 3002
    status: Failure
  condition: sel
level: low
"""

EVENT_COUNT = """\
---
title: brute force
id: 10000000-0000-4000-8000-000000000002
status: test
correlation:
  type: event_count
  rules: [failed_logon]
  group-by: [actor.user.name, src_endpoint.ip]
  timespan: 5m
  condition:
    {op}: 3
{extra}level: high
tags: [attack.t1110]
"""

VALUE_COUNT = """\
---
title: spraying
id: 10000000-0000-4000-8000-000000000003
status: test
correlation:
  type: value_count
  rules: [failed_logon]
  group-by: [src_endpoint.ip]
  timespan: 10m
  condition:
    gte: 3
    field: actor.user.name
level: high
"""


def failed(user: str, ip: str, minute: float) -> dict[str, Any]:
    return {
        "class_uid": 3002,
        "status": "Failure",
        "time": int(minute * MINUTE),
        "actor": {"user": {"name": user}},
        "src_endpoint": {"ip": ip},
    }


def run(engine: Engine, events: list[dict[str, Any]]) -> list[Match]:
    return engine.evaluate_many(events)


def event_count_engine(op: str = "gte", extra: str = "", **kwargs: Any) -> Engine:
    engine = Engine(parse_rules(BASE + EVENT_COUNT.format(op=op, extra=extra)), **kwargs)
    assert engine.errors == []
    return engine


def test_event_count_just_below_threshold_does_not_fire() -> None:
    engine = event_count_engine()
    assert run(engine, [failed("ana", "10.0.0.1", m) for m in (0, 1)]) == []


def test_event_count_fires_at_threshold_with_group_and_count() -> None:
    engine = event_count_engine()
    events = [failed("ana", "10.0.0.1", m) for m in (0, 1, 2)]
    [match] = run(engine, events)
    assert match.title == "brute force"
    assert match.rule.correlation is True
    assert match.group == (("actor.user.name", "ana"), ("src_endpoint.ip", "10.0.0.1"))
    assert match.count == 3
    assert match.event is events[-1]
    assert match.techniques == ("T1110",)


def test_event_count_groups_are_separate() -> None:
    engine = event_count_engine()
    events = [
        failed("ana", "10.0.0.1", 0),
        failed("bob", "10.0.0.1", 0.1),
        failed("ana", "10.0.0.2", 0.2),
        failed("ana", "10.0.0.1", 0.3),
        failed("bob", "10.0.0.1", 0.4),
    ]
    assert run(engine, events) == []


def test_window_is_inclusive_at_exactly_the_timespan() -> None:
    engine = event_count_engine()
    [match] = run(engine, [failed("ana", "10.0.0.1", m) for m in (0, 2.5, 5)])
    assert match.count == 3


def test_events_older_than_the_window_expire() -> None:
    engine = event_count_engine()
    events = [failed("ana", "10.0.0.1", m) for m in (0, 2.5, 5.001)]
    assert run(engine, events) == []
    # the two newest are still in the window: one more fires
    [match] = run(engine, [failed("ana", "10.0.0.1", 6)])
    assert match.count == 3


def test_a_group_fires_once_then_starts_afresh() -> None:
    engine = event_count_engine()
    matches = run(engine, [failed("ana", "10.0.0.1", m / 10) for m in range(7)])
    assert [m.count for m in matches] == [3, 3]


def test_greater_than_and_equal_conditions() -> None:
    gt = event_count_engine(op="gt")
    assert [m.count for m in run(gt, [failed("ana", "h", m) for m in range(4)])] == [4]
    eq = event_count_engine(op="eq")
    assert [m.count for m in run(eq, [failed("ana", "h", m) for m in range(3)])] == [3]


def test_late_event_outside_the_window_is_not_counted() -> None:
    engine = event_count_engine()
    events = [failed("ana", "h", 10), failed("ana", "h", 11), failed("ana", "h", 1)]
    assert run(engine, events) == []
    [match] = run(engine, [failed("ana", "h", 12)])
    assert match.count == 3


def test_out_of_order_events_inside_the_window_count() -> None:
    engine = event_count_engine()
    [match] = run(engine, [failed("ana", "h", 4), failed("ana", "h", 2), failed("ana", "h", 3)])
    assert match.count == 3


def test_idle_groups_are_evicted() -> None:
    engine = event_count_engine()
    run(engine, [failed(f"user{i}", "h", 0) for i in range(100)])
    window = engine._correlations[0].window
    assert len(window) == 100
    run(engine, [failed("late", "h", 5.5)])
    assert len(window) == 1


def test_group_count_is_bounded() -> None:
    engine = event_count_engine(max_groups=10)
    run(engine, [failed(f"user{i}", "h", 0) for i in range(1000)])
    assert len(engine._correlations[0].window) <= 10


def test_referenced_rule_stays_quiet_unless_generate() -> None:
    engine = event_count_engine()
    assert run(engine, [failed("ana", "h", 0)]) == []
    loud = event_count_engine(extra="  generate: true\n")
    [match] = run(loud, [failed("ana", "h", 0)])
    assert match.title == "failed logon"


def test_events_without_time_use_the_latest_time_seen() -> None:
    engine = event_count_engine()
    untimed = failed("ana", "h", 0)
    del untimed["time"]
    [match] = run(engine, [failed("ana", "h", 7), untimed, untimed])
    assert match.count == 3


def test_value_count_counts_distinct_values() -> None:
    engine = Engine(parse_rules(BASE + VALUE_COUNT))
    assert engine.errors == []
    repeated = [failed("ana", "10.0.0.9", m) for m in range(5)]
    assert run(engine, repeated) == []
    [match] = run(engine, [failed("bob", "10.0.0.9", 5), failed("cy", "10.0.0.9", 6)])
    assert match.title == "spraying"
    assert match.group == (("src_endpoint.ip", "10.0.0.9"),)
    assert match.count == 3


def test_value_count_window_expires_old_values() -> None:
    engine = Engine(parse_rules(BASE + VALUE_COUNT))
    events = [failed("ana", "h", 0), failed("bob", "h", 1), failed("cy", "h", 10.5)]
    assert run(engine, events) == []
    [match] = run(engine, [failed("dan", "h", 10.9)])
    assert match.count == 3


def test_value_count_ignores_events_without_the_field() -> None:
    engine = Engine(parse_rules(BASE + VALUE_COUNT))
    nameless = failed("x", "h", 0)
    del nameless["actor"]
    assert run(engine, [nameless, failed("ana", "h", 0), failed("bob", "h", 0)]) == []


def test_unsupported_correlations_are_reported() -> None:
    temporal = """\
---
title: temporal
id: 10000000-0000-4000-8000-000000000004
status: test
correlation:
  type: temporal
  rules: [failed_logon]
  group-by: [src_endpoint.ip]
  timespan: 10m
level: high
---
title: lte
id: 10000000-0000-4000-8000-000000000005
status: test
correlation:
  type: event_count
  rules: [failed_logon]
  timespan: 10m
  condition:
    lte: 3
level: high
"""
    engine = Engine(parse_rules(BASE + temporal, "corr.yml"))
    assert [str(e) for e in engine.errors] == [
        "corr.yml: rule 'temporal': correlation type 'temporal' is not supported",
        "corr.yml: rule 'lte': condition 'lte' is not supported in streaming evaluation "
        "(supported: gte, gt, eq)",
    ]
    assert [r.title for r in engine.rules] == ["failed logon"]


def test_a_boolean_correlation_condition_is_reported_not_raised() -> None:
    """A temporal correlation may carry a boolean condition (`rule_a and rule_b`); a site's
    own rule folder with one loads the other rules and names this one."""
    boolean = """\
---
title: both
id: 10000000-0000-4000-8000-000000000006
status: test
correlation:
  type: temporal
  rules: [failed_logon]
  group-by: [src_endpoint.ip]
  timespan: 10m
  condition: failed_logon and failed_logon
level: high
"""
    engine = Engine(parse_rules(BASE + boolean, "corr.yml"))
    assert ([str(e) for e in engine.errors], [r.title for r in engine.rules]) == (
        ["corr.yml: rule 'both': boolean correlation conditions are not supported"],
        ["failed logon"])
