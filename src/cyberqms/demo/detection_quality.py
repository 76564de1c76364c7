"""Detection quality on the synthetic plant: per-scenario recall, false alerts, time to detect.

The plant (``cyberqms.demo.plant``) is generated with attack scenarios scheduled
(``Schedule(per_day=N)``) and its default near misses; every line goes through the whole
pipeline (``parsers.parse_line`` → ``ocsf.normalize`` → ``enrich.Enricher`` → the shipped
GxP rule pack in ``detection.Engine``). Alerts are then matched to the labelled instances:
an alert counts for an instance when a rule of the scenario's expected detection family
raised it on one of the instance's own events (for a correlation: the event that completed
it). Alerts raised on normal traffic or near misses are false alerts.

    python benchmarks/detect_quality.py [--seed 7] [--days 14] [--per-day 5]

``measure(seed, days, per_day)`` is importable (the test suite runs a small
configuration); figures are documented in docs/detection-quality.md.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final

from cyberqms.demo.plant import Plant, build_plant, generate
from cyberqms.demo.scenarios import SCENARIO_LIST, Schedule
from cyberqms.security.detect.detection import SHIPPED_RULES_DIR, Engine, load_rules
from cyberqms.security.detect.enrich import Enricher, InMemoryDirectory, sites_from_plant
from cyberqms.security.detect.ocsf import SourceInfo, normalize
from cyberqms.security.detect.parsers import Format, ParseError, parse_line

START: Final = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
PARSER_FORMAT: Final[dict[str, Format]] = {
    "rfc5424": "syslog", "rfc3164": "syslog", "cef": "cef", "leef": "leef", "jsonl": "jsonl",
}  # fmt: skip
# Rule id of the shipped pack → detection family (cyberqms.demo.scenarios.DETECTIONS).
RULE_FAMILY: Final = {
    "24722c4b-87d8-4a98-ae99-f451f98aa1c9": "brute_force",
    "48c05ee1-9997-4084-9ee7-bfa28a7fd63a": "password_spraying",
    "1bf89609-bf61-42cb-92e8-5dff95fe8e2f": "privilege_escalation",
    "537496b7-b537-4075-a82e-56384bed66c0": "gxp_record_offhours",
    "8f59d57d-e412-4ec9-b0c7-aa0da3dac50f": "mass_modification",
    "cfd8c045-d651-4739-963c-a48faeb3ed8b": "audit_trail_failure",
    "6819da16-4da8-4aba-9a8e-72a3edbd84c3": "disabled_user_activity",
    "bdf3904e-e844-42c6-8d43-4fc022712ee7": "bulk_export",
    "a59eed2a-a54c-4b19-8eb6-2d587cabf916": "new_admin_account",
    "4d7872c7-15da-4cd7-85da-0cc665c6367b": "plc_change_without_cc",
}
# Accounts that are systems, not people (the plant's applications log under these).
SYSTEM_ACCOUNTS: Final = ("PASX-SYSTEM", "system", "SYSTEM")


def plant_directory(plant: Plant) -> InMemoryDirectory:
    """The plant's user directory: leavers departed, everyone else active; operators
    work shifts, service and system accounts run around the clock, the rest work days."""
    statuses = {p.username: "departed" if p.departed else "active" for p in plant.people}
    schedules = {
        p.username: "shift" if p.role == "operator" else "service" if p.role == "service"
        else "day"
        for p in plant.people
    }
    schedules.update(dict.fromkeys(SYSTEM_ACCOUNTS, "service"))
    return InMemoryDirectory(statuses, schedules=schedules)


def plant_enricher(plant: Plant, *, directory: bool = True) -> Enricher:
    kinds = {src.id: src.kind for src in plant.sources.values()}
    kinds.update({src.host: src.kind for src in plant.sources.values()})
    return Enricher(sites_from_plant(plant), plant_directory(plant) if directory else None,
                    kinds)


def plant_sources(plant: Plant) -> dict[str, SourceInfo]:
    return {
        src.id: SourceInfo(src.id, src.format, src.site.code, src.host)
        for src in plant.sources.values()
    }


@dataclass
class ScenarioFigures:
    scenario: str
    family: str
    instances: int = 0
    detected: int = 0
    delays_ms: list[int] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.detected / self.instances if self.instances else 0.0

    @property
    def median_s(self) -> float | None:
        return statistics.median(self.delays_ms) / 1000 if self.delays_ms else None

    @property
    def max_s(self) -> float | None:
        return max(self.delays_ms) / 1000 if self.delays_ms else None


@dataclass
class Quality:
    seed: object
    days: float
    per_day: int
    events: int
    seconds: float
    scenarios: dict[str, ScenarioFigures]
    false_alerts: int
    false_by_rule: Counter[str]
    false_per_day: list[int]  # per simulated day
    near_miss_alerts: Counter[str]  # near-miss scenario → alerts on its events
    other_family_alerts: int  # alerts on attack events by a rule of another family
    parse_errors: int

    @property
    def false_alerts_per_day(self) -> float:
        return self.false_alerts / self.days

    @property
    def min_recall(self) -> float:
        return min((f.recall for f in self.scenarios.values()), default=0.0)


def measure(seed: object, days: float, per_day: int, *, directory: bool = True,
            volume: float = 1.0) -> Quality:
    """Run the pipeline over ``days`` simulated days with ``per_day`` attack instances a
    day and the default near misses; match alerts to the labelled instances."""
    plant = build_plant()
    run = generate(seed, START, timedelta(days=days), scenarios=Schedule(per_day=per_day),
                   volume=volume, plant=plant)
    sources = plant_sources(plant)
    enrich = plant_enricher(plant, directory=directory).enrich
    engine = Engine(load_rules([SHIPPED_RULES_DIR]))
    evaluate = engine.evaluate
    start_ms = int(START.timestamp() * 1000)

    first_ms = {i.id: i.events[0].ms for i in run.attacks}
    family_of = {i.id: i.scenario.detection for i in run.attacks}
    detected_at: dict[str, int] = {}
    false_alerts = 0
    false_by_rule: Counter[str] = Counter()
    false_per_day = [0] * max(1, int(-(-days // 1)))
    near_miss_alerts: Counter[str] = Counter()
    other_family = 0
    parse_errors = 0
    events = 0
    began = time.perf_counter()
    for synthetic in run:
        events += 1
        try:
            parsed = parse_line(synthetic.line, PARSER_FORMAT[synthetic.format])
            event = normalize(parsed, source=sources[synthetic.source])
        except ParseError:
            parse_errors += 1
            continue
        matches = evaluate(enrich(event))
        if not matches:
            continue
        instance = synthetic.instance
        for match in matches:
            family = RULE_FAMILY.get(match.rule.id)
            if instance is not None and synthetic.label is not None:
                if family == family_of[instance]:
                    detected_at.setdefault(instance, synthetic.ms)
                else:
                    other_family += 1
                continue
            false_alerts += 1
            false_by_rule[match.rule.title] += 1
            day = min((synthetic.ms - start_ms) // 86_400_000, len(false_per_day) - 1)
            false_per_day[day] += 1
            if synthetic.near_miss is not None:
                near_miss_alerts[synthetic.near_miss] += 1
    seconds = time.perf_counter() - began

    figures = {
        s.id: ScenarioFigures(s.id, s.detection or "")
        for s in SCENARIO_LIST if not s.benign
    }
    for inst in run.attacks:
        f = figures[inst.scenario.id]
        f.instances += 1
        if inst.id in detected_at:
            f.detected += 1
            f.delays_ms.append(detected_at[inst.id] - first_ms[inst.id])
    figures = {k: v for k, v in figures.items() if v.instances}
    return Quality(seed, days, per_day, events, seconds, figures, false_alerts, false_by_rule,
                   false_per_day, near_miss_alerts, other_family, parse_errors)


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def table(q: Quality) -> str:
    lines = [
        f"Detection quality, seed {q.seed}: {q.days:g} simulated days, {q.per_day} attacks/day, "
        f"{q.events:,} events in {q.seconds:.1f} s ({q.events / q.seconds:,.0f} events/s)",
        "",
        "| Scenario | Family | Instances | Detected | Recall | TTD median | TTD max |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for f in q.scenarios.values():
        lines.append(f"| `{f.scenario}` | {f.family} | {f.instances} | {f.detected} | "
                     f"{f.recall:.0%} | {duration_text(f.median_s)} | {duration_text(f.max_s)} |")
    total = sum(f.instances for f in q.scenarios.values())
    found = sum(f.detected for f in q.scenarios.values())
    lines += [
        "",
        f"All scenarios: {found}/{total} detected; lowest per-scenario recall "
        f"{q.min_recall:.0%}.",
        f"False alerts: {q.false_alerts} ({q.false_alerts_per_day:.1f} per simulated day, "
        f"most in one day {max(q.false_per_day)}); on near misses: "
        f"{sum(q.near_miss_alerts.values())}; parse errors: {q.parse_errors}.",
        f"Alerts on attack events by a rule of another family (not false, not counted as "
        f"detection): {q.other_family_alerts}.",
    ]
    for title, n in q.false_by_rule.most_common():
        lines.append(f"  false: {n:>5}  {title}")
    for name, n in q.near_miss_alerts.most_common():
        lines.append(f"  near miss: {n:>5}  {name}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", default="7")
    parser.add_argument("--days", type=float, default=14)
    parser.add_argument("--per-day", type=int, default=5)
    parser.add_argument("--no-directory", action="store_true",
                        help="enrich without the user directory (stream learning only)")
    args = parser.parse_args(argv)
    q = measure(args.seed, args.days, args.per_day, directory=not args.no_directory)
    print(table(q))
