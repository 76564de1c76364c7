"""Issue 14, item 6: a `cyberqms` command loads what it needs when it needs it. Starting
Django (what every command, worker and web process does first) loads neither the API
framework (django-ninja and pydantic, 0.2 s) nor the jobs' code (signing, verification,
publishing) nor PDF rendering; the times are in `benchmarks/startup.py`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.contrib.staticfiles import finders

SRC = Path(__file__).resolve().parents[4]
NOT_AT_START = ("ninja", "pydantic", "cyberqms.api", "cyberqms.platform.trail.tasks",
                "weasyprint")
PROBE = (
    "import json, sys, django; django.setup(); "
    f"print(json.dumps(sorted(m for m in {NOT_AT_START!r} if m in sys.modules)))"
)


def test_starting_django_loads_no_api_framework_job_code_or_pdf_renderer(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DJANGO_SETTINGS_MODULE="cyberqms.settings", CYBERQMS_ENV="development",
               CYBERQMS_DATA_DIR=str(tmp_path), PYTHONPATH=str(SRC))
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                          text=True, check=False, timeout=60)
    assert (done.returncode, done.stderr) == (0, "")
    assert json.loads(done.stdout) == []


def test_the_api_documentation_still_finds_swagger_ui_without_ninja_installed_as_an_app(
) -> None:
    found = finders.find("ninja/swagger-ui-bundle.js")
    assert found is not None
    assert Path(str(found)).name == "swagger-ui-bundle.js"
