"""`cyberqms backup create [--to FOLDER]`: take an encrypted backup of the running
database, with progress on the terminal and a summary.

Run by an operator on the server, as the system (channel "cli"); the backup is recorded
and audited. Exit status: 0 done, 1 the backup failed (nothing that looks like a backup is
left), 2 usage error.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cyberqms.platform.core.context import RequestContext, acting_context

from ...container import BackupError
from ...services import backup_create


class Command(BaseCommand):
    help = "Encrypted backups of the database (docs/backups.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True)
        create = commands.add_parser("create", help="take a backup now")
        create.add_argument("--to", type=Path, default=None,
                            help="the folder to write it to (default CYBERQMS_BACKUP_DIR)")

    def handle(self, *args: Any, **options: Any) -> None:
        with acting_context(RequestContext(channel="cli")):
            try:
                self.create(options["to"])
            except BackupError as exc:
                raise CommandError(str(exc), returncode=1) from None

    def create(self, folder: Path | None) -> None:
        shown: dict[str, int] = {}  # part → the MiB last shown
        tty = sys.stdout.isatty()

        def progress(part: str, done: int) -> None:
            mib = done // (1024 * 1024)
            if part not in shown or mib >= shown[part] + (1 if tty else 16):
                shown[part] = mib
                end = "\r" if tty else "\n"
                self.stdout.write(f"  {part}: {done / 1024 / 1024:,.1f} MiB encrypted",
                                  ending=end)
                self.stdout.flush()

        self.stdout.write("Backing up: checkpoint sealed, snapshot of the database…")
        backup = backup_create(folder=folder, progress=progress)
        if tty:
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
