"""`make test`'s two passes (scripts/test.sh, src/cyberqms/conftest.py): the PostgreSQL
pass keeps exactly the tests that use the database, and slow tests are collected first.
Real test modules are collected by pytest processes of their own (one per pass)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[5]
TESTS = ROOT / "src" / "cyberqms"
NO_DATABASE = "platform/trail/tests/test_canonical.py"  # canonical JSON: pure functions
DATABASE = "quality/deviations/tests/test_workflow.py"  # the deviation workflow, stored
WITH_SLOW = "security/monitoring/tests/test_detection_dispatch.py"  # no database either


def collected(*args: str) -> list[str]:
    paths = [str(TESTS / p) for p in (NO_DATABASE, DATABASE, WITH_SLOW)]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", *args, *paths],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return [line for line in done.stdout.splitlines() if "::" in line]


@pytest.fixture(scope="module")
def first_pass() -> list[str]:
    return collected()


def test_the_postgresql_pass_keeps_every_test_that_uses_the_database_and_only_those(
    first_pass: list[str],
) -> None:
    assert any(NO_DATABASE in n for n in first_pass)
    assert collected("--database-tests-only") == [n for n in first_pass if DATABASE in n]


def test_slow_tests_are_collected_first_and_the_rest_keep_their_order(
    first_pass: list[str],
) -> None:
    assert [n.split("::")[1] for n in first_pass[:2]] == [
        "test_dispatch_changes_nothing_on_the_synthetic_plant_cyb_04",
        "test_dispatch_changes_nothing_on_arbitrary_events"]
    rest = [n.split("::")[1].split("[")[0] for n in first_pass[2:] if WITH_SLOW in n]
    source = (TESTS / WITH_SLOW).read_text()
    assert rest == sorted(rest, key=lambda name: source.index(f"def {name}("))
    assert rest != []
