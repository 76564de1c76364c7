"""`cyberqms backup create [--to FOLDER]`: take an encrypted backup of the running
database, with progress on the terminal and a summary.
`cyberqms backup verify [BACKUP]`: test its restore in an isolated copy (the newest backup
when none is named), step by step; the result is a restore-test record.
`cyberqms backup restore BACKUP [--replace --reason TEXT]`: replace the database by the
backup's, with the site stopped; says how many audit entries are lost.

Run by an operator on the server, as the system (channel "cli"); backups and restore tests
are recorded and audited. Exit status: 0 done (the restore test passed), 1 the backup or
the restore test failed (the message says where), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cyberqms.platform.core.context import RequestContext, acting_context

from ...container import BackupError
from ...services import backup_create
from ...verify import VerifyResult, backup_verify


class Command(BaseCommand):
    help = "Encrypted backups of the database (docs/backups.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True)
        create = commands.add_parser("create", help="take a backup now")
        create.add_argument("--to", type=Path, default=None,
                            help="the folder to write it to (default CYBERQMS_BACKUP_DIR)")
        verify = commands.add_parser("verify", help="test the restore of a backup")
        verify.add_argument("backup", nargs="?", type=Path, default=None,
                            help="the backup file (default: the newest in "
                                 "CYBERQMS_BACKUP_DIR)")
        restore = commands.add_parser(
            "restore", help="replace the database by a backup's (stop the site first)")
        restore.add_argument("backup", type=Path, help="the backup file")
        restore.add_argument("--replace", action="store_true",
                             help="replace a database that holds data")
        restore.add_argument("--reason", default="",
                             help="why the database is replaced (kept in the trail)")
        # Run by `verify` inside the isolated copy (platform/backups/probe.py).
        probe = commands.add_parser("probe", help=argparse.SUPPRESS)
        probe.add_argument("manifest", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "probe":
            self.probe(options["manifest"])
            return
        with acting_context(RequestContext(channel="cli")):
            try:
                if options["subcommand"] == "verify":
                    self.verify(options["backup"])
                elif options["subcommand"] == "restore":
                    self.restore(options["backup"], options["replace"], options["reason"])
                else:
                    self.create(options["to"])
            except BackupError as exc:
                raise CommandError(str(exc), returncode=1) from None

    def probe(self, manifest: Path) -> None:
        from ...probe import probe
        from ...restore import require_isolated_copy

        try:
            require_isolated_copy()
        except BackupError as exc:
            raise CommandError(str(exc), returncode=2) from None
        with acting_context(RequestContext(channel="cli")):
            report = probe(json.loads(manifest.read_text(encoding="utf-8")))
        self.stdout.write(json.dumps(report))

    def verify(self, backup: Path | None) -> None:
        self.stdout.write(f"Testing the restore of {backup or 'the newest backup'}…")
        result = backup_verify(backup, progress=self._progress("checked"))
        if sys.stdout.isatty():
            self.stdout.write("")
        self._steps(result)
        for record in result.records:
            self.stdout.write(f"  Restore test recorded: {record}")
        if not result.passed:
            failure = result.failure or {}
            raise CommandError(f"Restore test failed at \"{failure.get('label', '')}\": "
                               f"{failure.get('detail', '')}", returncode=1)
        self.stdout.write(self.style.SUCCESS(
            f"Restore test passed: time to restore {result.time_to_restore:.1f} s, "
            f"{result.seconds:.1f} s in all."))

    def restore(self, backup: Path, replace: bool, reason: str) -> None:
        from django.conf import settings

        from ...container import derive, read_key
        from ...recover import backup_restore

        keys = derive(read_key(Path(settings.CYBERQMS_BACKUP_KEY_FILE), create=False))
        self.stdout.write(f"Restoring {backup}: every chunk checked first…")
        report = backup_restore(backup, reason=reason, replace=replace, keys=keys,
                                progress=self._progress("read"))
        if sys.stdout.isatty():
            self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(
            f"Database restored from {backup.name} in {report.seconds:.1f} s"
            f"{f', {report.migrations} migrations applied' if report.migrations else ''}."))
        self.stdout.write(f"  The trail goes on from the backup's checkpoint of "
                          f"{report.restored_size:,} entries.")
        if report.seen is not None and report.entries_lost:
            self.stdout.write(self.style.WARNING(
                f"  {report.entries_lost:,} audit entries are lost: the largest checkpoint "
                f"seen before held {report.seen.size:,} ({report.seen.source})."))
        else:
            self.stdout.write("  No audit entry signed before the restore is lost.")
        for kept in report.kept_witnesses:
            self.stdout.write(f"  The witness that held the lost checkpoint is kept as {kept}.")

    def _steps(self, result: VerifyResult) -> None:
        for step in result.steps:
            mark = self.style.SUCCESS("pass") if step["ok"] else self.style.ERROR("FAIL")
            self.stdout.write(f"  [{mark}] {step['label']} ({step['seconds']:.1f} s): "
                              f"{step['detail']}")

    def _progress(self, verb: str) -> Any:
        shown: dict[str, int] = {}  # part → the MiB last shown
        tty = sys.stdout.isatty()

        def progress(part: str, done: int) -> None:
            mib = done // (1024 * 1024)
            if part not in shown or mib >= shown[part] + (1 if tty else 16):
                shown[part] = mib
                self.stdout.write(f"  {part}: {done / 1024 / 1024:,.1f} MiB {verb}",
                                  ending="\r" if tty else "\n")
                self.stdout.flush()

        return progress

    def create(self, folder: Path | None) -> None:
        self.stdout.write("Backing up: checkpoint sealed, snapshot of the database…")
        backup = backup_create(folder=folder, progress=self._progress("encrypted"))
        if sys.stdout.isatty():
            self.stdout.write("")
        checkpoint = backup.checkpoint_size
        self.stdout.write(self.style.SUCCESS(
            f"Backup written: {Path(backup.folder) / backup.file_name}"))
        self.stdout.write(
            f"  {backup.size / 1024 / 1024:,.1f} MiB, {backup.engine}, {backup.rows:,} rows in "
            f"{len(backup.manifest['rows'])} tables, trail checkpoint "
            f"{checkpoint if checkpoint is not None else 'none'}, {backup.seconds:.1f} s")
        self.stdout.write(f"  SHA-256 {backup.sha256}")
        self.stdout.write("  Keep the backup key (CYBERQMS_BACKUP_KEY_FILE) apart from the "
                          "backups: without it they cannot be read.")
