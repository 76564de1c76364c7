"""The feedback loop as one chain (CYB-05, AL-10): alert(s) → security incident →
deviation(s) → CAPA(s) → change(s), with each record's key dates and the time each step
of the loop took (detect → escalate → deviation → CAPA → closed).

A chain hangs from an incident. Going down, each stage holds the records of its type
linked (either direction, any relation) to a record of an earlier stage: a CAPA linked to
the deviation, or straight to the incident, belongs to the chain. Only records the viewer
may see are shown, and nothing is followed through a record they may not see (as the
lineage does): a chain does not reveal what its viewer cannot open.

Queries: one for the alerts, one for the links and one for the records of each stage, one
for when the changes were implemented: a constant number, whatever the chain's size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from cyberqms.platform.core.access import can
from cyberqms.platform.core.models import RecordLink
from cyberqms.platform.kit.records import QualityRecord, kind_by_type, kind_of

from .models import Incident

INCIDENT = "incidents.incident"
# The chain's stages below the alerts, in order: a record joins the chain through a link to
# a record of an earlier stage.
STAGES = (INCIDENT, "deviations.deviation", "capa.capa", "changes.change")
STAGE_NAMES = {INCIDENT: "incident", "deviations.deviation": "deviation",
               "capa.capa": "capa", "changes.change": "change"}
IMPLEMENTED = "changes.change.complete_implementation"

Moment = dt.datetime | dt.date | None


@dataclass
class ChainNode:
    stage: str  # alert, incident, deviation, capa, change
    number: str
    title: str
    state: str
    state_label: str
    owner: str
    url: str
    dates: list[tuple[str, Moment]]
    parents: list[ChainNode] = field(default_factory=list)
    children: list[ChainNode] = field(default_factory=list)
    deleted: bool = False
    closed: bool = False
    level: str = ""  # alerts only
    obj: Any = None
    shown: list[tuple[str, str]] = field(default_factory=list)  # dates as the page shows them

    def date(self, label: str) -> Moment:
        return next((value for name, value in self.dates if name == label), None)


@dataclass
class LoopStep:
    """One step of the feedback loop: when it happened and how long after the step before
    (`elapsed` is None when either end has not happened)."""

    key: str
    label: str
    at: dt.datetime | None
    elapsed: dt.timedelta | None
    record: str = ""  # the number of the record the time comes from


@dataclass
class Chain:
    incident: Incident
    root: ChainNode
    stages: dict[str, list[ChainNode]]  # alert, incident, deviation, capa, change
    loop: list[LoopStep]
    closed_at: dt.datetime | None  # when the last record of the chain closed, all closed
    total: dt.timedelta | None  # first event → loop closed (or → now, while open)

    @property
    def nodes(self) -> list[ChainNode]:
        return [node for nodes in self.stages.values() for node in nodes]


def _person(user: Any) -> str:
    return user.printed_name if user is not None else ""


def _state_label(record: Any) -> str:
    display = getattr(record, "get_state_display", None)
    return str(display()) if callable(display) else str(record.state)


def _record_node(record: QualityRecord, type_name: str, implemented: Moment = None) -> ChainNode:
    kind = kind_by_type(type_name)
    stage = STAGE_NAMES[type_name]
    dates: list[tuple[str, Moment]]
    if stage == "incident":
        assert isinstance(record, Incident)
        dates = [("Event", record.event_at), ("Opened", record.created_at),
                 ("Window from", record.window_start), ("Window to", record.window_end),
                 ("Due", record.due_date), ("Closed", record.closed_at)]
    elif stage == "change":
        dates = [("Opened", record.created_at), ("Implemented", implemented),
                 ("Due", record.due_date), ("Closed", record.closed_at)]
    else:
        dates = [("Opened", record.created_at), ("Due", record.due_date),
                 ("Closed", record.closed_at)]
    return ChainNode(
        stage=stage, number=record.number, title=record.title, state=record.state,
        state_label=_state_label(record), owner=_person(record.owner),
        url=kind.detail_url(record), dates=dates, deleted=record.is_deleted,
        closed=record.is_deleted or record.state in kind.closed_states, obj=record,
    )


def _alert_node(alert: Any) -> ChainNode:
    from cyberqms.security.monitoring.enums import AlertState

    return ChainNode(
        stage="alert", number=alert.number, title=alert.title, state=alert.state,
        state_label=AlertState(alert.state).label, owner=_person(alert.assignee),
        url=reverse("monitoring:alert", args=[alert.pk]),
        dates=[("First seen", alert.first_seen), ("Last seen", alert.last_seen),
               ("Detected", alert.created_at), ("Acknowledged", alert.acknowledged_at),
               ("Closed", alert.closed_at)],
        closed=alert.closed_at is not None, level=alert.level, obj=alert,
    )


def _links_between(ends: dict[str, list[str]], other_types: Iterable[str]) -> list[RecordLink]:
    """Current links with one end in `ends` ({type: [ids]}) and the other of `other_types`."""
    others = tuple(other_types)
    where = Q(pk__in=[])
    for type_name, ids in ends.items():
        where |= Q(from_type=type_name, from_id__in=ids, to_type__in=others)
        where |= Q(to_type=type_name, to_id__in=ids, from_type__in=others)
    return list(RecordLink.objects.filter(where, removed_at__isnull=True).order_by("pk"))


def _fetch(type_name: str, ids: Iterable[str], actor: Any) -> dict[str, Any]:
    """The records of `type_name` with these ids that `actor` may see, by id."""
    kind = kind_by_type(type_name)
    pks = [int(i) for i in ids if i.isdigit()]
    if not pks:
        return {}
    rows = kind.model._default_manager.filter(pk__in=pks).select_related("owner", "site")
    return {str(r.pk): r for r in rows if can(actor, kind.view_action, r)}


def _implemented(change_ids: list[str]) -> dict[str, dt.datetime]:
    """When each change last completed its implementation (from the audit trail)."""
    if not change_ids:
        return {}
    from cyberqms.platform.trail.models import AuditEntry

    rows = AuditEntry.objects.filter(
        object_type="changes.change", object_id__in=change_ids, action=IMPLEMENTED
    ).values_list("object_id", "at")
    out: dict[str, dt.datetime] = {}
    for object_id, at in rows:
        out[object_id] = max(at, out.get(object_id, at))
    return out


def chain_of(incident: Incident, actor: Any) -> Chain:
    """The chain hanging from `incident`, as `actor` may see it."""
    root = _record_node(incident, INCIDENT)
    stages: dict[str, list[ChainNode]] = {"alert": [], "incident": [root], "deviation": [],
                                          "capa": [], "change": []}
    for alert in incident.alerts.select_related("assignee", "site").order_by("first_seen", "pk"):
        if can(actor, "monitoring.alert.view", alert):
            node = _alert_node(alert)
            node.children.append(root)
            root.parents.append(node)
            stages["alert"].append(node)
    seen: dict[tuple[str, str], ChainNode] = {(INCIDENT, str(incident.pk)): root}
    for child_type in STAGES[1:]:
        ends: dict[str, list[str]] = {}
        for type_name, pk in seen:
            ends.setdefault(type_name, []).append(pk)
        links = _links_between(ends, [child_type])
        parents_of: dict[str, list[ChainNode]] = {}
        for link in links:
            if (link.from_type, link.from_id) in seen:
                parent, child_id = seen[(link.from_type, link.from_id)], link.to_id
            else:
                parent, child_id = seen[(link.to_type, link.to_id)], link.from_id
            parents_of.setdefault(child_id, [])
            if parent not in parents_of[child_id]:
                parents_of[child_id].append(parent)
        records = _fetch(child_type, parents_of, actor)
        implemented = _implemented(list(records)) if child_type == "changes.change" else {}
        for pk, record in sorted(records.items(), key=lambda item: item[1].created_at):
            node = _record_node(record, child_type, implemented.get(pk))
            node.parents = parents_of[pk]
            for parent in node.parents:
                parent.children.append(node)
            stages[STAGE_NAMES[child_type]].append(node)
            seen[(child_type, pk)] = node
    loop, closed_at = _loop(incident, stages)
    start = loop[0].at
    end = closed_at or timezone.now()
    return Chain(incident=incident, root=root, stages=stages, loop=loop, closed_at=closed_at,
                 total=(end - start) if start else None)


def _first(nodes: list[ChainNode], label: str) -> tuple[dt.datetime | None, str]:
    """The earliest `label` date among `nodes`, with the number of the node it is from."""
    best: tuple[dt.datetime | None, str] = (None, "")
    for node in nodes:
        at = node.date(label)
        if isinstance(at, dt.datetime) and (best[0] is None or at < best[0]):
            best = (at, node.number)
    return best


def _loop(incident: Incident, stages: dict[str, list[ChainNode]]
          ) -> tuple[list[LoopStep], dt.datetime | None]:
    """The steps of the loop, each timed from the one before."""
    alerts = stages["alert"]
    seen_at, seen_by = _first(alerts, "First seen")
    if seen_at is None:  # raised by hand, or its alerts are not visible: the event time
        seen_at, seen_by = incident.event_at or incident.window_start, incident.number
    detected_at, detected_by = _first(alerts, "Detected")
    deviation_at, deviation_by = _first(stages["deviation"], "Opened")
    capa_at, capa_by = _first(stages["capa"], "Opened")
    members = [node for nodes in stages.values() for node in nodes if node.stage != "alert"]
    closed_at: dt.datetime | None = None
    if stages["capa"] and all(node.closed for node in members):
        closing = [node.date("Closed") for node in members]
        closed_at = max((c for c in closing if isinstance(c, dt.datetime)), default=None)
    steps = [
        ("seen", "First event", seen_at, seen_by),
        ("detected", "Detected (alert raised)", detected_at, detected_by),
        ("escalated", "Escalated (incident opened)", incident.created_at, incident.number),
        ("deviation", "Deviation opened", deviation_at, deviation_by),
        ("capa", "CAPA opened", capa_at, capa_by),
    ]
    changes = stages["change"]
    implemented = [n.date("Implemented") for n in changes]
    if changes:
        done = [i for i in implemented if isinstance(i, dt.datetime)]
        steps.append(("implemented", "Change implemented",
                      max(done) if len(done) == len(changes) else None,
                      changes[-1].number if done else ""))
    steps.append(("closed", "Loop closed (every record closed)", closed_at, ""))
    out: list[LoopStep] = []
    previous: dt.datetime | None = None
    for key, label, at, number in steps:
        elapsed = (at - previous) if (at is not None and previous is not None) else None
        out.append(LoopStep(key=key, label=label, at=at, elapsed=elapsed, record=number))
        if at is not None:
            previous = at
    return out, closed_at


def chains_containing(record: QualityRecord, actor: Any) -> list[Incident]:
    """The incidents whose chain shows `record` to `actor` (itself, for an incident):
    walks the links up through earlier stages only, through records `actor` may see."""
    if not can(actor, "incidents.view"):
        return []
    kind = kind_of(record)
    type_name = kind.type_name
    if type_name not in STAGES or not can(actor, kind.view_action, record):
        return []
    if type_name == INCIDENT:
        assert isinstance(record, Incident)
        return [record]
    found: dict[str, Incident] = {}
    frontier: dict[str, list[str]] = {type_name: [str(record.pk)]}
    visited = {(type_name, str(record.pk))}
    while frontier:
        upward: dict[str, set[str]] = {}
        for type_name, ids in frontier.items():
            earlier = STAGES[:STAGES.index(type_name)]
            for link in _links_between({type_name: ids}, earlier):
                mine = link.from_type == type_name and link.from_id in ids
                other = (link.to_type, link.to_id) if mine else (link.from_type, link.from_id)
                if other not in visited:
                    visited.add(other)
                    upward.setdefault(other[0], set()).add(other[1])
        frontier = {}
        for other_type, other_ids in upward.items():
            records = _fetch(other_type, other_ids, actor)
            if other_type == INCIDENT:
                found.update(records)
            elif records:
                frontier[other_type] = list(records)
    return sorted(found.values(), key=lambda i: i.pk)


def chain_page_links(record: QualityRecord, actor: Any) -> list[dict[str, str]]:
    """The "Chain" link of a record page (kit.record_pages provider), one per chain."""
    chains = chains_containing(record, actor)
    return [
        {"label": "Chain" if len(chains) == 1 else f"Chain {incident.number}",
         "url": reverse("incidents:chain", args=[incident.pk]), "testid": "chain-link",
         "title": f"Alert → {incident.number} → deviation → CAPA → change"}
        for incident in chains
    ]


def format_elapsed(delta: dt.timedelta | None) -> str:
    """A duration as people read it: 4 s, 2 min 5 s, 3 h 10 min, 2 d 4 h."""
    if delta is None:
        return ""
    seconds = int(delta.total_seconds())
    sign = "−" if seconds < 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        text = f"{days} d {hours} h" if hours else f"{days} d"
    elif hours:
        text = f"{hours} h {minutes} min" if minutes else f"{hours} h"
    elif minutes:
        text = f"{minutes} min {secs} s" if secs else f"{minutes} min"
    else:
        text = f"{secs} s"
    return sign + text
