"""The detection library stands alone: every module imports in a fresh interpreter where
Django and the rest of cyberqms cannot be imported at all (CYB-04's pipeline runs in the
listener, the worker and benchmarks alike)."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import cyberqms.security.detect as detect

SRC = Path(__file__).resolve().parents[4]

PROBE = """
import importlib, sys

class Forbidden:
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        inside = name == "cyberqms" or name.startswith(("cyberqms.security.detect",
                                                         "cyberqms.security"))
        if top == "django" or (top == "cyberqms" and not inside):
            raise ImportError(f"the detection library imported {name}")
        return None

sys.meta_path.insert(0, Forbidden())
for name in sys.argv[1:]:
    importlib.import_module(name)
print(sorted(m for m in sys.modules if m.startswith(("django", "cyberqms"))))
"""


def library_modules() -> list[str]:
    names = [detect.__name__]
    for info in pkgutil.walk_packages(detect.__path__, prefix=f"{detect.__name__}."):
        if ".tests" not in info.name:
            names.append(info.name)
    return names


def test_every_module_of_the_library_imports_without_django() -> None:
    modules = library_modules()
    done = subprocess.run([sys.executable, "-c", PROBE, *modules], capture_output=True,
                          text=True, cwd=SRC, env={"PYTHONPATH": str(SRC)}, check=False)
    assert (done.returncode, done.stderr) == (0, "")
    loaded = ast.literal_eval(done.stdout)
    assert [m for m in loaded if not m.startswith("cyberqms.security")] == ["cyberqms"]
    assert set(modules) <= set(loaded)


def test_the_library_has_the_modules_the_pipeline_needs() -> None:
    assert {"cyberqms.security.detect.parsers", "cyberqms.security.detect.ocsf",
            "cyberqms.security.detect.enrich", "cyberqms.security.detect.detection",
            "cyberqms.security.detect.baseline"} <= set(library_modules())
