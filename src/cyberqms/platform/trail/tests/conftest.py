"""Fixtures for the Django side of the audit trail: a key per test, trails, tampering."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction

from cyberqms.platform.core.context import RequestContext, acting_context
from cyberqms.platform.trail import guards
from cyberqms.platform.trail.tests.writers import CYBERQMS, child_env


@pytest.fixture
def trail_key(settings: Any, tmp_path: Path) -> Path:
    """A fresh signing key file for this test (keys.py caches by path and mtime)."""
    path = tmp_path / "keys" / "trail-signing.key"
    settings.CYBERQMS_TRAIL_KEY_FILE = path
    return path


@pytest.fixture
def write_entries(db: Any, trail_key: Path) -> Callable[..., list[int]]:
    """Append `count` entries about unregistered test subjects; returns their seqs."""
    from cyberqms.platform.trail.record import audit_record

    def write(count: int, *, action: str = "test.thing.touch") -> list[int]:
        seqs = []
        with acting_context(RequestContext(channel="system")), transaction.atomic():
            for _ in range(count):
                number = len(seqs)
                entry = audit_record(
                    action, object_type="test.thing", object_id=number % 7,
                    label=f"thing {number % 7}", changes={"count": [number, number + 1]},
                )
                seqs.append(entry.seq)
        return seqs

    return write


@pytest.fixture
def sealed_trail(write_entries: Callable[..., list[int]]) -> dict[str, Any]:
    """45 entries: checkpoints at 10, 25 and 40, then 5 unsealed entries."""
    from cyberqms.platform.trail.log import trail_seal

    for count in (10, 15, 15):
        write_entries(count)
        trail_seal()
    write_entries(5)
    return {"sizes": [10, 25, 40], "entries": 45}


@pytest.fixture
def unguarded(db: Any) -> Iterator[None]:
    """Lift the append-only triggers, as an attacker owning the database would."""
    guards.remove(connection)
    try:
        yield
    finally:
        guards.install(connection)


# --- child processes (CLI and fault tests) ------------------------------------------------


@pytest.fixture(scope="session")
def migrated_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with a migrated SQLite database, made once per run."""
    template = tmp_path_factory.mktemp("migrated")
    subprocess.run([str(CYBERQMS), "migrate", "-v0"], env=child_env(template), check=True,
                   timeout=180)
    return template


@pytest.fixture
def data_dir(migrated_data_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the migrated data directory (its own database and key)."""
    target = tmp_path / "data"
    shutil.copytree(migrated_data_dir, target)
    return target
