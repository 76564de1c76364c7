"""Settings refuse a debug server in production (debug pages show settings, SQL and
tracebacks to anyone who triggers an error)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _load_settings(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import cyberqms.settings"],
        env={**os.environ, "CYBERQMS_DATA_DIR": str(tmp_path), **env},
        capture_output=True, text=True, timeout=60, check=False)


def test_debug_is_refused_in_production(tmp_path: Path) -> None:
    done = _load_settings(tmp_path, CYBERQMS_ENV="production", CYBERQMS_DEBUG="true")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: CYBERQMS_DEBUG=true is refused with "
        "CYBERQMS_ENV=production")


def test_debug_is_allowed_in_development(tmp_path: Path) -> None:
    done = _load_settings(tmp_path, CYBERQMS_ENV="development", CYBERQMS_DEBUG="true")
    assert (done.returncode, done.stderr) == (0, "")
