"""The witness checkpoint kept next to the key catches a trail cut back together with its
checkpoints and log head, which the database alone cannot reveal (P11-06, CYB-02)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from cyberqms.platform.trail import guards, keys
from cyberqms.platform.trail.integrity import check_trail
from cyberqms.platform.trail.log import trail_seal
from cyberqms.platform.trail.models import Checkpoint


@pytest.fixture
def committed_trail(transactional_db: Any, trail_key: Path,
                    write_entries: Callable[..., list[int]]) -> None:
    """Real commits, so the sealer's on-commit witness update runs: checkpoints 10, 20."""
    write_entries(10)
    trail_seal()
    write_entries(10)
    trail_seal()


def test_witness_follows_each_committed_seal(committed_trail: None) -> None:
    assert keys.read_witness_size() == 20
    assert keys.read_witness() == Checkpoint.objects.get(size=20).note
    assert check_trail(reconcile=False).problems == []


def test_cutting_back_entries_checkpoint_and_head_is_reported(committed_trail: None) -> None:
    guards.remove(connection)
    try:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM trail_auditentry WHERE seq > 10")
            cursor.execute("DELETE FROM trail_checkpoint WHERE size > 10")
            cursor.execute("DELETE FROM trail_treenode")
            cursor.execute(
                "UPDATE trail_loghead SET size = 10, root = %s",
                [bytes(Checkpoint.objects.get(size=10).root)],
            )
    finally:
        guards.install(connection)
    report = check_trail(reconcile=False)
    assert [p.message for p in report.problems] == [
        "the trail was cut back: the witness checkpoint signed 20 entries, the database's "
        "latest checkpoint covers 10 (entries and checkpoints deleted)"
    ]
    assert (report.problems[0].kind, report.problems[0].seq) == ("checkpoint", 11)


def test_a_witness_never_moves_backwards(trail_key: Path) -> None:
    keys.write_witness(5, "origin\n5\nroot\n")
    keys.write_witness(3, "origin\n3\nroot\n")
    assert keys.read_witness_size() == 5
