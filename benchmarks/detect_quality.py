"""Detection quality on the synthetic plant: per-scenario recall, false alerts, time to detect.

    python benchmarks/detect_quality.py --help

The measurement lives in ``cyberqms.demo.detection_quality`` (the test suite runs a small
configuration of it); this script runs the full-size one and prints the table.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from cyberqms.demo.detection_quality import main  # after the path to the package

if __name__ == "__main__":
    main()
