"""18 months of demo quality records, made through the services under a simulated clock.

`cyberqms demo` on a fresh database starts a `SimulatedClock` about 18.5 months ago and
patches `django.utils.timezone.now` with it (`simulated_time`), so every timestamp the
project writes (audit entries, signatures, access decisions, `auto_now` fields) is the
simulated one. Each record is a *script*: a generator that takes one workflow step, then
yields when its next step happens. `Timeline` runs the steps of all scripts in one global
time order, so the audit trail stays ordered in time and verifies like any other.

Nothing here writes to the database directly: deviations, security incidents, CAPAs,
actions, effectiveness checks, change tasks, comments, attachments, links, extensions and
deletions all go through their services, with e-signatures given by the demo people on
the CLI channel. A script whose next step would fall after the end of the simulation
simply stops: recent records stay open at whatever step they reached. A few are meant to
stall (overdue).

The data are reproducible: one `random.Random(2026)` draws every choice of the records,
one of its own the times of the security incidents.

The package: `clock` (the simulated clock and the timeline), `base` (the demo's figures,
the cast, the loader's state and helpers), `deviations`, `capas` and `changes` (the record
scripts, one class each that the loader inherits), `incidents` (the security incident
each cyber-related deviation names, with its course), `evidence` (attachment contents) and
`loader` (`RecordLoader`, which schedules and runs them, and the summary). Everything
public is importable from `cyberqms.demo.records` itself.
"""

from __future__ import annotations

from .base import (
    CHANGES,
    DEVIATIONS,
    RECORDS_FROM_DAY,
    SEED,
    SIMULATED_DAYS,
    STANDALONE_CAPAS,
    Cast,
    LoaderBase,
)
from .capas import CapaScripts
from .changes import ChangeScripts
from .clock import Script, SimulatedClock, Timeline, Wait, simulated_time
from .deviations import DeviationScripts
from .evidence import evidence_file
from .incidents import IncidentScripts
from .loader import RecordLoader, Summary, records_loaded, summarize

__all__ = [
    "CHANGES",
    "DEVIATIONS",
    "RECORDS_FROM_DAY",
    "SEED",
    "SIMULATED_DAYS",
    "STANDALONE_CAPAS",
    "CapaScripts",
    "Cast",
    "ChangeScripts",
    "DeviationScripts",
    "IncidentScripts",
    "LoaderBase",
    "RecordLoader",
    "Script",
    "SimulatedClock",
    "Summary",
    "Timeline",
    "Wait",
    "evidence_file",
    "records_loaded",
    "simulated_time",
    "summarize",
]
