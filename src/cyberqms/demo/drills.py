"""The synthetic plant's attack scenarios as drills (CYB-09): each labelled attack of
`cyberqms.demo.scenarios`, with the rules of the shipped pack that should detect it,
built to end at the moment the drill runs and sent through the event sources the demo
registered for the plant's systems."""

from __future__ import annotations

import datetime as dt
from functools import cache, partial
from typing import Any

from cyberqms.security.drills.enums import DrillKind
from cyberqms.security.drills.scenarios import DrillScenario, ScenarioError


@cache
def _plant() -> Any:
    from cyberqms.demo.plant import build_plant

    return build_plant()


def plant_drill_scenarios() -> list[DrillScenario]:
    from cyberqms.demo.detection_quality import RULE_FAMILY
    from cyberqms.demo.scenarios import SCENARIO_LIST

    return [DrillScenario(
        id=s.id, title=s.title, description=s.description, kind=DrillKind.ATTACK,
        expected_rules=tuple(rule for rule, family in RULE_FAMILY.items()
                             if family == s.detection),
        techniques=s.attack, build=partial(_build, s.id), origin="synthetic plant")
        for s in SCENARIO_LIST if not s.benign]


def _build(scenario_id: str, at: dt.datetime) -> list[tuple[Any, str]]:
    from cyberqms.demo.plant import to_ms
    from cyberqms.demo.scenarios import SCENARIOS, build_instance
    from cyberqms.security.monitoring.models import EventSource
    from cyberqms.security.monitoring.own_events import qms_source

    plant = _plant()
    # Built to end at `at`: the attack has happened when its events are delivered.
    n = int(at.timestamp())
    first = build_instance(plant, "drill", SCENARIOS[scenario_id], n, to_ms(at))
    span = first.events[-1].ms - first.events[0].ms if first.events else 0
    instance = build_instance(plant, "drill", SCENARIOS[scenario_id], n, to_ms(at) - span)
    sources: dict[str, Any] = {}
    out = []
    for event in instance.events:
        if event.source not in sources:
            src = plant.sources[event.source]
            if src.kind == "qms":
                sources[event.source] = qms_source()
            else:
                name = f"{src.host} ({src.product})"
                found = EventSource.objects.filter(name=name, is_active=True).first()
                if found is None:
                    raise ScenarioError(f"The scenario arrives from {name}, which is not a "
                                        "registered event source: load the demo, or "
                                        "register it on the monitoring sources page.")
                sources[event.source] = found
        out.append((sources[event.source], event.line))
    return out
