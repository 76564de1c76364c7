"""Keys of a test's own for tests that take backups: a backup seals a trail checkpoint,
whose local witness beside the shared trail key file would outlive the test's database and
make later tests' trails look cut back."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def own_backup_keys(settings: Any, tmp_path: Path) -> None:
    settings.CYBERQMS_BACKUP_KEY_FILE = tmp_path / "backup.key"
    settings.CYBERQMS_TRAIL_KEY_FILE = tmp_path / "keys" / "trail-signing.key"
    settings.CYBERQMS_BACKUP_DIR = tmp_path / "backups"
