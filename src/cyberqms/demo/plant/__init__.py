"""Synthetic plant: a seeded generator of plant and QMS security events.

Two sites (Basel drug substance, Dublin fill & finish) with their GxP systems, people on
shift patterns and network zones. Every event is the raw line its system would send
(RFC 5424 or RFC 3164 syslog, CEF, LEEF, JSON lines for the QMS's own security events)
with metadata: time, source, format, and a ``label`` (``None`` for normal traffic, the
scenario id for attack traffic). Labelled attack scenarios and benign near misses live in
``cyberqms.demo.scenarios``.

``generate(seed, start, duration, scenarios=...)`` streams events in time order: one
generator per system, hour by hour, merged with a heap, so memory stays flat however long
the simulated period. The same seed gives the same lines. ``python -m
cyberqms.demo.plant`` measures the generation rate. Pure Python, no Django.

The package: ``events`` (the event record, epoch milliseconds, seeded streams),
``catalogue`` (sites, people, hosts, systems), ``lines`` (syslog, CEF, LEEF and JSON line
builders), ``traffic`` (normal traffic per kind of system), ``streams`` (activity by
shift, the per-system streams and the merged run) and ``__main__`` (the rate
measurement). Everything public is importable from ``cyberqms.demo.plant`` itself.
"""

from __future__ import annotations

from .catalogue import Person, Plant, Site, Source, build_plant, person_host
from .events import (
    DAY_MS,
    EPOCH,
    FORMATS,
    HOUR_MS,
    PEN,
    SD_ID,
    SyntheticEvent,
    from_ms,
    seeded_rng,
    to_ms,
)
from .lines import (
    Clock,
    cef,
    dc_line,
    fw_line,
    gxp_line,
    leef,
    ot_line,
    qms_json,
    syslog3164,
    syslog5424,
)
from .streams import (
    DEFAULT_NEAR_MISSES,
    SyntheticRun,
    activity,
    generate,
    scenario_catalogue,
    system_stream,
)
from .traffic import NORMAL_TRAFFIC, Emit, Renderer, Traffic, batch_id, eng_station

__all__ = [
    "DAY_MS",
    "DEFAULT_NEAR_MISSES",
    "EPOCH",
    "FORMATS",
    "HOUR_MS",
    "NORMAL_TRAFFIC",
    "PEN",
    "SD_ID",
    "Clock",
    "Emit",
    "Person",
    "Plant",
    "Renderer",
    "Site",
    "Source",
    "SyntheticEvent",
    "SyntheticRun",
    "Traffic",
    "activity",
    "batch_id",
    "build_plant",
    "cef",
    "dc_line",
    "eng_station",
    "from_ms",
    "fw_line",
    "generate",
    "gxp_line",
    "leef",
    "ot_line",
    "person_host",
    "qms_json",
    "scenario_catalogue",
    "seeded_rng",
    "syslog3164",
    "syslog5424",
    "system_stream",
    "to_ms",
]
