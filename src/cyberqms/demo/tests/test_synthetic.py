"""Synthetic plant (issue 5, deliverable 9): determinism, order, shift volumes, scenarios,
well-formed lines."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from cyberqms.demo.plant import FORMATS, build_plant, generate
from cyberqms.demo.scenarios import (
    DETECTIONS,
    SCENARIO_LIST,
    SCENARIOS,
    Injection,
    Schedule,
)

MONDAY = datetime(2026, 3, 2, tzinfo=UTC)
ATTACKS = [s.id for s in SCENARIO_LIST if not s.benign]
BENIGN = [s.id for s in SCENARIO_LIST if s.benign]


@pytest.fixture(scope="module")
def week() -> list:
    """A week with every attack and near-miss scenario at least once."""
    return list(generate(42, MONDAY, timedelta(days=7),
                         scenarios=Schedule(per_day=3), near_misses=Schedule(per_day=2,
                                                                             nightly=True)))


def test_same_seed_same_lines_twice_in_one_process() -> None:
    def lines(seed: object) -> list[tuple]:
        run = generate(seed, MONDAY, timedelta(hours=30), scenarios=Schedule(per_day=4))
        return [(e.ms, e.source, e.line, e.label, e.instance, e.near_miss) for e in run]

    first, second = lines(7), lines(7)
    assert first == second
    assert len(first) > 10_000
    assert lines(8) != first


def test_events_in_time_order_and_inside_the_window(week: list) -> None:
    times = [e.ms for e in week]
    assert times == sorted(times)
    assert week[0].time >= MONDAY
    assert week[-1].time < MONDAY + timedelta(days=7)


def test_night_shift_quieter_than_day_and_weekend_quieter_than_weekdays(week: list) -> None:
    """Manufacturing runs 3 shifts (night at 70 %); day workers 07-17; weekends quieter."""
    plant = build_plant()
    zurich = plant.sites["BSL"].tz
    mes_day, mes_night, lims_day, lims_night = Counter(), Counter(), Counter(), Counter()
    weekday_dc, weekend_dc = 0, 0
    for e in week:
        local = e.time.astimezone(zurich)
        if e.source == "BSL-DC":
            if local.weekday() < 5:
                weekday_dc += 1
            else:
                weekend_dc += 1
        if local.weekday() >= 5 or e.label or e.near_miss:
            continue
        day = 8 <= local.hour < 13  # inside the early shift and the office day
        night = local.hour >= 23 or local.hour < 4
        if e.source == "BSL-MES":
            mes_day[day] += 1
            mes_night[night] += 1
        elif e.source == "BSL-LIMS":
            lims_day[day] += 1
            lims_night[night] += 1
    # Same number of hours (5) in each window: operators at night work at ~70 %.
    ratio = mes_night[True] / mes_day[True]
    assert 0.55 < ratio < 0.9, ratio
    # LIMS at night: only the instrument interface, far below the QC day.
    assert lims_night[True] / lims_day[True] < 0.3
    # 5 weekdays vs 2 weekend days, per day.
    assert (weekend_dc / 2) / (weekday_dc / 5) < 0.75


def test_every_scenario_present_labelled_with_ground_truth(week: list) -> None:
    run = generate(42, MONDAY, timedelta(days=7), scenarios=Schedule(per_day=3),
                   near_misses=Schedule(per_day=2, nightly=True))
    seen = {i.scenario.id for i in run.instances}
    assert seen == set(SCENARIOS)
    by_instance: dict[str, list] = {}
    for e in week:
        if e.instance:
            by_instance.setdefault(e.instance, []).append(e)
    for inst in run.instances:
        assert inst.events, inst.id
        assert by_instance[inst.id] == list(inst.events)
        for e in inst.events:
            if inst.scenario.benign:
                assert (e.label, e.near_miss) == (None, inst.scenario.id)
            else:
                assert (e.label, e.near_miss) == (inst.scenario.id, None)
    # Normal traffic is unlabelled, and only injected events carry a label.
    labelled = sum(1 for e in week if e.label)
    assert labelled == sum(len(i.events) for i in run.attacks)


def test_scenarios_name_rule_families_and_attack_techniques() -> None:
    assert {s.detection for s in SCENARIO_LIST if not s.benign} == set(DETECTIONS)
    for s in SCENARIO_LIST:
        if not s.benign:
            assert s.attack
            assert all(re.fullmatch(r"T\d{4}(\.\d{3})?", t) for t in s.attack)


def test_injection_at_a_given_time_and_unknown_scenario() -> None:
    at = MONDAY + timedelta(hours=2, minutes=17)
    run = generate(3, MONDAY, timedelta(hours=4), scenarios=[Injection("brute_force_qms", at)],
                   near_misses=None, sources=[])
    events = list(run)
    assert [i.id for i in run.instances] == ["brute_force_qms#1"]
    assert events[0].time == at
    assert [e.line.count('"kind":"auth.login.failure"') for e in events].count(1) == 30
    assert json.loads(events[-1].line)["kind"] == "auth.lockout"
    with pytest.raises(ValueError, match="unknown scenario 'nope'"):
        generate(3, MONDAY, timedelta(hours=4), scenarios=["nope"])
    with pytest.raises(ValueError, match="timezone-aware"):
        generate(3, datetime(2026, 3, 2), timedelta(hours=1))  # noqa: DTZ001  # naive on purpose


def test_near_misses_look_like_attacks_but_are_benign() -> None:
    run = generate(5, MONDAY, timedelta(days=2), scenarios=(),
                   near_misses=Schedule(per_day=4, nightly=True))
    events = list(run)
    assert not any(e.label for e in events)
    planned = [e for e in events if e.near_miss == "planned_plc_change"]
    assert any("PROGRAM_DOWNLOAD" in e.line and "cs1Label=ChangeRef cs1=CC-2026-0014" in e.line
               for e in planned)
    backups = [e for e in events if e.near_miss == "nightly_backup_export"]
    assert len(backups) == 2
    assert all("svc_backup" in e.line and 'destination="backup"' in e.line for e in backups)
    typos = [e for e in events if e.near_miss == "password_typo"]
    assert [e.line.split("|")[4] for e in typos[:3]] == ["4625", "4625", "4624"]


RFC5424 = re.compile(r'<(\d{1,3})>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S+ \S+ \d+ [A-Z_]{1,32} '
                     r'\[gxp@32473( [a-z_]+="(?:[^"\\\]]|\\.)*")+\] .+')
RFC3164 = re.compile(r"<(\d{1,3})>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ [A-Za-z]+\[\d+\]: "
                     r'(\w+=\S+ )+msg=".*"')
CEF = re.compile(r"CEF:0\|(?:[^|\\]|\\.)*\|(?:[^|\\]|\\.)*\|[^|]*\|[A-Z_]+\|[^|]+\|\d+\|"
                 r"rt=\d{13} dvchost=\S+( \w+=(?:[^=\\]|\\.)*)+")
LEEF = re.compile(r"LEEF:1\.0\|Microsoft\|Windows Security Auditing\|10\.0\|\d{4}\|"
                  r"devTime=\S+\t[^\t]+(\t\w+=[^\t]*)+")
JSON_KEYS = {"created_at", "kind", "severity", "username", "source_ip", "channel", "message",
             "data"}
SEVERITIES = {"info", "low", "medium", "high", "critical"}


def test_lines_well_formed(week: list) -> None:
    counts = Counter(e.format for e in week)
    assert set(counts) == set(FORMATS)
    for e in week:
        if e.format == "rfc5424":
            assert RFC5424.fullmatch(e.line), e.line
            assert e.time.strftime("%Y-%m-%dT%H:%M:%S") in e.line
        elif e.format == "rfc3164":
            assert RFC3164.fullmatch(e.line), e.line
        elif e.format == "cef":
            assert CEF.fullmatch(e.line), e.line
            assert f"rt={e.ms} " in e.line
        elif e.format == "leef":
            assert LEEF.fullmatch(e.line), e.line
        else:
            doc = json.loads(e.line)
            assert set(doc) == JSON_KEYS
            assert doc["severity"] in SEVERITIES
            assert doc["created_at"] == e.time.isoformat(timespec="milliseconds")[:-6] + "Z"


@pytest.mark.slow
def test_every_line_parses(week: list) -> None:
    from cyberqms.security.detect import parsers

    fmt = {"rfc5424": "syslog", "rfc3164": "syslog", "cef": "cef", "leef": "leef",
           "jsonl": "jsonl"}
    for e in week:
        parsed = parsers.parse_line(e.line, fmt[e.format], received_at=e.time)
        if isinstance(parsed, parsers.SyslogMessage):
            assert parsed.timestamp is not None
            assert parsed.timestamp == e.time.replace(
                microsecond=0 if e.format == "rfc3164" else e.time.microsecond)


def test_plant_matches_the_demo() -> None:
    plant = build_plant()
    assert set(plant.sites) == {"BSL", "DUB"}
    for username in ("jweber", "hbrandt", "treyes", "pnatarajan", "aokafor", "mbianchi"):
        assert username in plant.user
    assert {p.username for p in plant.departed} == {"kfischer", "lgarcia", "dmurphy"}
    assert len({p.username for p in plant.people}) == len(plant.people)
    assert {s.kind for s in plant.sources.values()} == {
        "lims", "mes", "cds", "dc", "firewall", "scada", "plc", "qms"}
