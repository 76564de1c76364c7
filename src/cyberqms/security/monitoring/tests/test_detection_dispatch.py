"""Class dispatch in the detection engine: evaluating only the rules whose condition can
hold for an event's `class_uid` changes no result, on the synthetic plant and on
arbitrary events (CYB-04)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cyberqms.demo.plant import generate
from cyberqms.demo.scenarios import Schedule
from cyberqms.security.detect.detection import SHIPPED_RULES_DIR, Engine, load_rules, parse_rules
from cyberqms.security.detect.detection.matcher import rule_required_values
from cyberqms.security.detect.enrich import Enricher
from cyberqms.security.detect.ocsf import SourceInfo, normalize
from cyberqms.security.detect.parsers import Format, ParseError, parse_line

PACK = load_rules([SHIPPED_RULES_DIR])
FORMATS: dict[str, Format] = {"rfc5424": "syslog", "rfc3164": "syslog", "cef": "cef",
                              "leef": "leef", "jsonl": "jsonl"}


def results(engine: Engine, events: list[dict[str, Any]]) -> list[tuple[str, int, Any]]:
    return [(m.rule_id, i, m.group) for i, e in enumerate(events) for m in engine.evaluate(e)]


def test_the_pack_pins_the_classes_its_rules_can_match() -> None:
    pinned = {rule.title: rule_required_values(rule, "class_uid") for rule in PACK.rules
              if not hasattr(rule, "referenced_rules")}
    assert pinned["Failed authentication"] == {3002}
    assert pinned["Privileged role granted outside change control"] == {3001, 3005}
    assert pinned["GxP record modified off-hours or from an unusual host"] == {1001, 6003}
    # Rules that can match any class stay unpinned (an OR with an unpinned branch).
    assert pinned["PLC or SCADA configuration change without approved change control"] is None
    assert pinned["Activity by a disabled or departed user"] is None


def test_or_and_not_pin_conservatively() -> None:
    rules = parse_rules("""
title: pinned by and
id: 11111111-1111-4111-8111-111111111111
logsource: {product: test}
detection:
  a: {class_uid: [3002, '3001']}
  b: {status: Failure}
  condition: a and b
---
title: not pinned by not
id: 22222222-2222-4222-8222-222222222222
logsource: {product: test}
detection:
  a: {class_uid: 3002}
  condition: not a
---
title: not pinned by a modifier
id: 33333333-3333-4333-8333-333333333333
logsource: {product: test}
detection:
  a: {class_uid|gte: 3000}
  condition: a
""")
    pins = [rule_required_values(r, "class_uid") for r in rules.rules]
    assert pins == [{3001, 3002}, None, None]
    engine = Engine(rules)
    event = {"class_uid": 4001, "status": "Failure", "time": 1}
    assert [m.rule.title for m in engine.evaluate(event)] == ["not pinned by not",
                                                              "not pinned by a modifier"]


@pytest.mark.slow
def test_dispatch_changes_nothing_on_the_synthetic_plant_cyb_04() -> None:
    run = generate("dispatch", datetime(2026, 3, 2, tzinfo=UTC), timedelta(days=1),
                   scenarios=Schedule(per_day=8))
    events = []
    for item in run:
        source = SourceInfo(item.source, item.system, item.site, item.system)
        try:
            parsed = parse_line(item.line, FORMATS[item.format])
        except ParseError:
            continue
        events.append(normalize(parsed, source=source))
    enricher = Enricher({"BSL": "Europe/Zurich", "DUB": "Europe/Dublin"})
    events = [enricher.enrich(e) for e in events]
    with_dispatch = results(Engine(PACK), events)
    assert with_dispatch == results(Engine(PACK, dispatch=False), events)
    assert len({rule for rule, _, _ in with_dispatch}) >= 5  # the plant exercises the pack


values = st.one_of(st.none(), st.integers(-5, 9000), st.text(max_size=8), st.booleans())
events = st.fixed_dictionaries(
    {"class_uid": st.one_of(st.sampled_from([1001, 2004, 3001, 3002, 3005, 5019, 6003]),
                            values),
     "activity_id": st.integers(0, 9), "status": st.sampled_from(["Failure", "Success"]),
     "time": st.integers(0, 10**6)},
    optional={"gxp": st.fixed_dictionaries({}, optional={
        "hour": st.integers(0, 23), "record_type": st.text(max_size=5),
        "user_status": st.sampled_from(["departed", "active"]),
        "system_kind": st.sampled_from(["plc", "lims"])}),
        "actor": st.fixed_dictionaries({"user": st.fixed_dictionaries(
            {"name": st.sampled_from(["ana", "bob"])},
            optional={"disabled": st.booleans()})}),
        "message": st.sampled_from(["downloaded to PLC-1", "hello"]),
        "privileges": st.lists(st.sampled_from(["admin", "reader"]), max_size=2)},
)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.lists(events, max_size=30))
def test_dispatch_changes_nothing_on_arbitrary_events(batch: list[dict[str, Any]]) -> None:
    assert results(Engine(PACK), batch) == results(Engine(PACK, dispatch=False), batch)
