"""`cyberqms drill run SCENARIO|FILE [--site CODE] [--unannounced]`: play an attack drill
now (CYB-09) and print its scorecard as it stands; `cyberqms drill scenarios`: the drill
catalogue.

A FILE is a scenario file (docs/drills.md): checked, then kept in the catalogue
(CYBERQMS_DRILL_SCENARIO_DIR) under its id. Exit status: 0 played, 1 the drill could not
be played (the message says why), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cyberqms.platform.core.context import RequestContext, acting_context

WAIT_SECONDS = 600.0


class Command(BaseCommand):
    help = "Attack drills and their scorecards (docs/drills.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True)
        run = commands.add_parser("run", help="play a drill now")
        run.add_argument("scenario", help="a scenario id (drill scenarios) or a scenario file")
        run.add_argument("--site", default="", help="the site it is run for (default: the "
                                                    "first active site)")
        run.add_argument("--unannounced", action="store_true",
                         help="its alerts show no drill mark until it is scored")
        run.add_argument("--title", default="", help="the drill's title")
        commands.add_parser("scenarios", help="list the drill catalogue")
        # Run by a ransomware drill inside the isolated copy (copy_drill.py).
        attack = commands.add_parser("copy-attack", help=argparse.SUPPRESS)
        attack.add_argument("manifest", type=Path)
        attack.add_argument("backup", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        with acting_context(RequestContext(channel="cli")):
            if options["subcommand"] == "scenarios":
                self.scenarios()
            elif options["subcommand"] == "copy-attack":
                from cyberqms.platform.backups.container import BackupError
                from cyberqms.platform.backups.restore import require_isolated_copy

                from ...copy_drill import attack_copy

                try:
                    require_isolated_copy()
                except BackupError as exc:
                    raise CommandError(str(exc), returncode=2) from None

                manifest = json.loads(options["manifest"].read_text(encoding="utf-8"))
                self.stdout.write(json.dumps(attack_copy(manifest, options["backup"])))
            else:
                self.run(options["scenario"], options["site"], not options["unannounced"],
                         options["title"])

    def scenarios(self) -> None:
        from ...scenarios import catalogue

        for scenario in sorted(catalogue().values(), key=lambda s: s.id):
            self.stdout.write(f"{scenario.id:34} {scenario.title} ({scenario.kind}, "
                              f"{scenario.origin})")

    def _scenario(self, name: str) -> Any:
        from ...scenarios import ScenarioError, load_scenario_file, scenario_dir, scenario_of

        path = Path(name)
        if name.endswith(".json") or path.is_file():
            try:
                scenario = load_scenario_file(path)
            except ScenarioError as exc:
                raise CommandError(str(exc), returncode=1) from None
            kept = scenario_dir() / f"{scenario.id}.json"
            taken = scenario_of(scenario.id)
            if taken is not None and taken.origin != f"file {kept.name}":
                raise CommandError(f"{path.name}: the id {scenario.id!r} is taken by "
                                   f"{taken.title!r} ({taken.origin}): give the scenario "
                                   "another id.", returncode=1)
            scenario_dir().mkdir(parents=True, exist_ok=True)
            if not kept.exists() or not kept.samefile(path):
                shutil.copyfile(path, kept)
            self.stdout.write(f"Scenario {scenario.id} kept in the catalogue.")
            return scenario_of(scenario.id)
        found = scenario_of(name)
        if found is None:
            raise CommandError(f"No scenario {name!r} in the drill catalogue: see "
                               "`cyberqms drill scenarios`.", returncode=1)
        return found

    def run(self, name: str, site: str, announced: bool, title: str) -> None:
        from ...models import Drill
        from ...planning import drill_plan
        from ...scoring import scorecard
        from ...services import play
        from ...workflow import DRILL_WORKFLOW

        scenario = self._scenario(name)
        try:
            drill = drill_plan(scenario, site_code=site, announced=announced, title=title)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages), returncode=1) from None
        self.stdout.write(f"Drill {drill.number} planned: {scenario.title}. Playing it…")
        DRILL_WORKFLOW.run(drill, "run", actor=None, reason="Run from the command line")
        play(drill.pk)  # unless the worker already does
        deadline = time.monotonic() + WAIT_SECONDS
        drill = Drill.objects.get(pk=drill.pk)
        while drill.started_at is None or (drill.kind == "ransomware"
                                           and not drill.scorecard.get("measured")):
            if time.monotonic() > deadline:
                raise CommandError(f"{drill.number} was not played within "
                                   f"{WAIT_SECONDS:.0f} s.", returncode=1)
            time.sleep(0.5)
            drill = Drill.objects.get(pk=drill.pk)
        card = scorecard(drill)
        error = (card.get("measured") or {}).get("error")
        if error:
            raise CommandError(f"{drill.number} could not be played: {error}", returncode=1)
        self.stdout.write(f"Scorecard of {drill.number} as it stands ({card['score']} %):")
        for check in card["checks"]:
            mark = self.style.SUCCESS("yes") if check["met"] else self.style.WARNING("no ")
            self.stdout.write(f"  [{mark}] {check['label']}: {check['measured']}")
        copy = card.get("measured") or {}
        if drill.kind == "ransomware":
            self.stdout.write(f"  Lost by the recovery: {copy.get('entries_lost', 0):,} audit "
                              f"entries and {copy.get('records_lost', 0):,} records written "
                              "after the backup.")
            self.stdout.write("Write the lessons learned and score it on its page.")
        else:
            self.stdout.write("Acknowledge its alerts and open the incident as for a real "
                              "attack; score it on its page once the lessons are written.")
