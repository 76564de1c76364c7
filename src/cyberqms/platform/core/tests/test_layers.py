"""The layout keeps its promises (docs/architecture.md): no import cycle between packages
and no module over 800 lines, as `scripts/house_metrics.py` measures them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[5]


def _figures() -> list[str]:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "house_metrics.py"),
                           "--root", str(ROOT / "src" / "cyberqms")],
                          capture_output=True, text=True, check=True, timeout=120)
    return done.stdout.splitlines()


def test_no_import_cycle_between_packages() -> None:
    assert "Import cycles between packages (tests excluded): 0" in _figures()


def test_no_module_over_800_lines() -> None:
    assert "Modules over 800 lines: 0" in _figures()
