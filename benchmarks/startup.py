"""How long `cyberqms` commands take to start (issue 14, item 6: at most 1 s).

Runs each command `--runs` times (default 5) in a fresh process on a throw-away data
directory and prints the median and the fastest wall time, and the CPU time of the
median run; `django.setup()` alone is measured the same way. Figures are for comparison
between runs on one machine, never asserted in tests (`core/tests/test_startup.py`
asserts what start-up must not load).

    .venv/bin/python benchmarks/startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
COMMANDS = {
    "django.setup()": [str(BIN / "python"), "-c", "import django; django.setup()"],
    "cyberqms version": [str(BIN / "cyberqms"), "version"],
    "cyberqms help": [str(BIN / "cyberqms"), "help"],
    "cyberqms trail --help": [str(BIN / "cyberqms"), "trail", "--help"],
    "cyberqms check": [str(BIN / "cyberqms"), "check"],
}


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False,  # noqa: S603  (fixed commands)
                          cwd=ROOT)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        sys.exit(f"{' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="cyberqms-startup-")
    # Bytecode cached, as an installed package has it (a first run writes what is missing).
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "PYTHONDONTWRITEBYTECODE")}
    env.update(DJANGO_SETTINGS_MODULE="cyberqms.settings", CYBERQMS_ENV="development",
               CYBERQMS_DATA_DIR=data_dir, PYTHONPATH=str(ROOT / "src"))
    for command in COMMANDS.values():  # the first runs write bytecode and keys
        timed(command, env)
    print(f"{'command':26} {'median s':>9} {'fastest s':>10} {'cpu s':>7}")
    for name, command in COMMANDS.items():
        runs = sorted((timed(command, env) for _ in range(args.runs)), key=lambda r: r[0])
        median = statistics.median(r[0] for r in runs)
        cpu = runs[len(runs) // 2][1]
        print(f"{name:26} {median:9.2f} {runs[0][0]:10.2f} {cpu:7.2f}")


if __name__ == "__main__":
    main()
