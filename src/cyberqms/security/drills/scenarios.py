"""The drill catalogue (CYB-09): the scenarios a drill can play, each with the rules that
should detect it.

Three places fill it:
- built in: ransomware played on a restored copy of the database (`copy_drill.py`);
- apps that register a provider (`register_scenarios`): the synthetic plant's labelled
  attack scenarios (the demo app), built at the moment the drill runs;
- scenario files (JSON) in `CYBERQMS_DRILL_SCENARIO_DIR`, written by IT security from
  their own logs: each event names the event source it arrives from and its raw line,
  where `{time}` is replaced by its moment (RFC 3339, UTC): `after_s` seconds after the
  first event, the last one at the moment the drill runs.

A drill delivers its scenario's events at once, as a relay that held them would, ending at
the moment it runs: the time to detect is the pipeline's, from delivery to alert; the
attack's own duration (first to last event) is shown beside it.

A file is refused, naming where and why, unless it is exactly this (`ScenarioError`)::

    {"id": "lims_brute_force", "title": "…", "description": "…",
     "expect": ["<rule id>", …],
     "events": [{"source": "<event source name>", "after_s": 0.0, "line": "…"}, …]}
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from .enums import DrillKind

MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_EVENTS = 20_000
MAX_LINE = 64 * 1024
_ID = re.compile(r"[a-z0-9][a-z0-9_.-]{0,78}")
# Built at the moment of injection: (event source, raw line) in the order they arrive.
Builder = Callable[[dt.datetime], list[tuple[Any, str]]]


class ScenarioError(ValueError):
    """A scenario that cannot be played, with where and why in words."""


@dataclass(frozen=True)
class DrillScenario:
    id: str
    title: str
    description: str
    kind: str  # DrillKind
    expected_rules: tuple[str, ...]  # rule ids that should detect it
    techniques: tuple[str, ...] = ()
    build: Builder | None = field(default=None, compare=False)
    origin: str = "built in"


Provider = Callable[[], Iterable[DrillScenario]]
_PROVIDERS: list[Provider] = []

RANSOMWARE = DrillScenario(
    id="ransomware_copy", title="Ransomware and mass modification on a restored copy",
    description="The newest backup is restored into an isolated copy; there, records are "
                "modified and deleted in bulk straight in the database, as ransomware with "
                "database access would. Detection by the trail's verification and the "
                "monitoring pipeline is measured, then the copy is recovered from the "
                "backup: time to recover and records lost.",
    kind=DrillKind.RANSOMWARE,
    expected_rules=("cfd8c045-d651-4739-963c-a48faeb3ed8b",),  # audit-trail verification
    techniques=("T1486", "T1485", "T1565.001"))


def register_scenarios(provider: Provider) -> None:
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


def scenario_dir() -> Path:
    return Path(settings.CYBERQMS_DRILL_SCENARIO_DIR)


def catalogue() -> dict[str, DrillScenario]:
    """Every scenario a drill can play, by id (a file that does not read is left out:
    `drill scenarios` names it)."""
    found: dict[str, DrillScenario] = {RANSOMWARE.id: RANSOMWARE}
    for provider in _PROVIDERS:
        for scenario in provider():
            found.setdefault(scenario.id, scenario)
    for path in sorted(scenario_dir().glob("*.json")) if scenario_dir().is_dir() else []:
        from_file = _file_scenario(path)
        if from_file is not None:
            found.setdefault(from_file.id, from_file)
    return found


# Parsed files, by path, as long as their size and time of change stay the same.
_PARSED: dict[Path, tuple[tuple[int, int], DrillScenario | None]] = {}


def _file_scenario(path: Path) -> DrillScenario | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    stamp = (stat.st_size, stat.st_mtime_ns)
    cached = _PARSED.get(path)
    if cached is None or cached[0] != stamp:
        try:
            parsed: DrillScenario | None = load_scenario_file(path)
        except ScenarioError:
            parsed = None
        cached = _PARSED[path] = (stamp, parsed)
    return cached[1]


def scenario_of(scenario_id: str) -> DrillScenario | None:
    return catalogue().get(scenario_id)


def scenario_choices() -> list[tuple[str, str]]:
    return sorted(((s.id, s.title) for s in catalogue().values()), key=lambda c: c[1])


def load_scenario_file(path: Path) -> DrillScenario:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ScenarioError(f"{path.name}: larger than {MAX_FILE_BYTES // 1024 // 1024} MiB.")
        data = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"{path.name}: cannot be read: {exc.strerror or exc}") from None
    return parse_scenario(data, name=path.name)


def _text(obj: dict[str, Any], key: str, where: str, *, limit: int, required: bool = True
          ) -> str:
    value = obj.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise ScenarioError(f"{where}: \"{key}\" must be {'a non-empty ' if required else ''}"
                            "text.")
    if len(value) > limit:
        raise ScenarioError(f"{where}: \"{key}\" is longer than {limit:,} characters.")
    return value


def parse_scenario(data: bytes, *, name: str = "scenario") -> DrillScenario:
    """A scenario file's contents, checked to the last field.
    :raises ScenarioError: naming the file, the event (by its position) and the field."""
    try:
        obj = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{name}: not UTF-8 (byte {exc.start:,}).") from None
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"{name}: not JSON: {exc.msg} (line {exc.lineno}, column "
                            f"{exc.colno}).") from None
    if not isinstance(obj, dict):
        raise ScenarioError(f"{name}: a scenario is a JSON object.")
    unknown = sorted(set(obj) - {"id", "title", "description", "expect", "events",
                                 "techniques"})
    if unknown:
        raise ScenarioError(f"{name}: unknown field \"{unknown[0]}\".")
    scenario_id = _text(obj, "id", name, limit=79)
    if not _ID.fullmatch(scenario_id):
        raise ScenarioError(f"{name}: \"id\" is lower-case letters, digits, _ . and - "
                            "(at most 79).")
    title = _text(obj, "title", name, limit=200)
    description = _text(obj, "description", name, limit=2000, required=False)
    expect = obj.get("expect")
    if not isinstance(expect, list) or not expect or not all(
            isinstance(r, str) and 0 < len(r) <= 64 for r in expect):
        raise ScenarioError(f"{name}: \"expect\" lists the ids of the rules that should "
                            "detect it (at least one).")
    techniques = obj.get("techniques", [])
    if not isinstance(techniques, list) or not all(
            isinstance(t, str) and re.fullmatch(r"T\d{4}(\.\d{3})?", t) for t in techniques):
        raise ScenarioError(f"{name}: \"techniques\" lists ATT&CK ids (T1110, T1485.001).")
    events = obj.get("events")
    if not isinstance(events, list) or not events:
        raise ScenarioError(f"{name}: \"events\" lists the events to inject (at least one).")
    if len(events) > MAX_EVENTS:
        raise ScenarioError(f"{name}: more than {MAX_EVENTS:,} events.")
    planned: list[tuple[str, float, str]] = []
    for index, event in enumerate(events, start=1):
        where = f"{name}, event {index}"
        if not isinstance(event, dict) or set(event) - {"source", "after_s", "line"}:
            raise ScenarioError(f"{where}: an event has \"source\", \"after_s\" and \"line\".")
        source = _text(event, "source", where, limit=200)
        line = _text(event, "line", where, limit=MAX_LINE)
        if "\n" in line or "\r" in line:
            raise ScenarioError(f"{where}: \"line\" is one line (no line break).")
        after = event.get("after_s", 0)
        if isinstance(after, bool) or not isinstance(after, int | float) or not (
                0 <= after <= 86_400):
            raise ScenarioError(f"{where}: \"after_s\" is seconds from the start, 0 to "
                                "86400.")
        planned.append((source, float(after), line))

    def build(at: dt.datetime) -> list[tuple[Any, str]]:
        from cyberqms.security.monitoring.models import EventSource

        names = {source for source, _, _ in planned}
        sources = {s.name: s for s in EventSource.objects.filter(name__in=names)}
        missing = sorted(names - set(sources))
        if missing:
            raise ScenarioError(f"{name}: no event source named \"{missing[0]}\": register "
                                "it on the monitoring sources page first.")
        out = []
        last = max(after for _, after, _ in planned)
        for source, after, line in sorted(planned, key=lambda p: p[1]):
            # The events end at `at`: the attack has happened when they are delivered.
            moment = (at - dt.timedelta(seconds=last - after)).astimezone(dt.UTC)
            out.append((sources[source], line.replace(
                "{time}", moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"))))
        return out

    return DrillScenario(id=scenario_id, title=title, description=description,
                         kind=DrillKind.ATTACK, expected_rules=tuple(expect),
                         techniques=tuple(techniques), build=build, origin=f"file {name}")
