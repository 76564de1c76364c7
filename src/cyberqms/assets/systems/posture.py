"""A system's security posture (A11D-03): what cyberqms computes from its own records,
next to what people enter with a date and evidence.

Apps that know something of a system register a source (`register_posture_source`): the
monitoring app its event sources and open alerts, incidents the open incidents. A source
answers for many systems at once, so a list of systems costs a fixed number of queries.
Entered facts (patch level, scans, tests, zone) are the newest posture entry of each
item; one older than its item's age (CYBERQMS_POSTURE_MAX_AGE_DAYS), or never entered, is
overdue and becomes a task of the system owner.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from .enums import PostureItem, SystemState
from .models import PEOPLE, PostureEntry, System


@dataclass(frozen=True)
class PostureFact:
    """One line of the posture: what, the finding in words, since when, and how it reads
    ("ok", "warn", "bad", "info")."""

    label: str
    value: str
    status: str = "info"
    when: dt.datetime | dt.date | None = None
    url: str = ""


@dataclass(frozen=True)
class RelatedList:
    """A list of records that land on a system (its alerts, its incidents), for its page."""

    heading: str
    columns: tuple[str, ...]
    rows: tuple[tuple[tuple[str, ...], str], ...]  # (cells, url)
    empty: str = "None."


PostureSource = Callable[[Sequence[System]], dict[int, list[PostureFact]]]
RelatedSource = Callable[[System, Any], list[RelatedList]]
_SOURCES: list[PostureSource] = []
_RELATED: list[RelatedSource] = []


def register_posture_source(source: PostureSource) -> None:
    if source not in _SOURCES:
        _SOURCES.append(source)


def register_related(source: RelatedSource) -> None:
    if source not in _RELATED:
        _RELATED.append(source)


def computed_posture(systems: Sequence[System]) -> dict[int, list[PostureFact]]:
    """What cyberqms knows of each system, by system id: its own sources' facts, then the
    second factor of its named people and its supplier's status."""
    out: dict[int, list[PostureFact]] = {s.pk: [] for s in systems}
    for source in [*_SOURCES, _people_mfa, _supplier_status]:
        for pk, facts in source(systems).items():
            out.setdefault(pk, []).extend(facts)
    return out


def related_lists(system: System, actor: Any) -> list[RelatedList]:
    return [found for source in _RELATED for found in source(system, actor)]


def _people_mfa(systems: Sequence[System]) -> dict[int, list[PostureFact]]:
    from django.contrib.auth import get_user_model

    from cyberqms.platform.accounts.queries import with_totp

    ids = {getattr(s, f"{name}_id") for s in systems for name, _w in PEOPLE} - {None}
    users = {u.pk: u for u in with_totp(get_user_model()._default_manager.filter(pk__in=ids))}
    out: dict[int, list[PostureFact]] = {}
    for system in systems:
        named = [users[i] for i in {getattr(system, f"{n}_id") for n, _w in PEOPLE} - {None}
                 if i in users]
        if not named:
            continue
        without = sorted(u.printed_name for u in named if not u.has_mfa())
        out[system.pk] = [PostureFact(
            "Second factor of its named people",
            f"{len(named) - len(without)} of {len(named)} use one"
            + (f" (not: {', '.join(without)})" if without else ""),
            "bad" if without else "ok")]
    return out


def _supplier_status(systems: Sequence[System]) -> dict[int, list[PostureFact]]:
    out: dict[int, list[PostureFact]] = {}
    for system in systems:
        supplier = system.supplier if system.supplier_id else None
        if supplier is None:
            continue
        status = {"approved": "ok", "conditional": "warn", "disqualified": "bad"}.get(
            supplier.state, "warn")
        out[system.pk] = [PostureFact("Supplier", f"{supplier.number} {supplier.title}: "
                                      f"{supplier.get_state_display().lower()}", status,
                                      url=f"/suppliers/{supplier.pk}/")]
    return out


@dataclass(frozen=True)
class EnteredFact:
    item: str
    label: str
    entry: PostureEntry | None
    due: dt.date | None  # when it is due again; None: never entered
    overdue: bool
    needed: bool = True  # a penetration test is asked of high-criticality systems only


# Items asked only of systems of some criticality: the others may enter them all the same.
NEEDED_FOR: dict[str, tuple[str, ...]] = {PostureItem.PENETRATION_TEST.value: ("high",)}


def entered_posture(systems: Iterable[System], *, today: dt.date | None = None
                    ) -> dict[int, list[EnteredFact]]:
    """The newest entry of every posture item of each system (one query), each with when it
    is due again; never entered, or past its age, it is overdue."""
    today = today or timezone.localdate()
    ages = settings.CYBERQMS_POSTURE_MAX_AGE_DAYS
    systems = list(systems)
    criticality = {s.pk: s.criticality for s in systems}
    by_system: dict[int, dict[str, PostureEntry]] = {s.pk: {} for s in systems}
    for found in (PostureEntry.objects.filter(record_id__in=list(by_system),
                                              removed_at__isnull=True)
                  .order_by("assessed_on", "id")):
        by_system[found.record_id][found.item] = found  # the newest wins
    out: dict[int, list[EnteredFact]] = {}
    for pk, newest in by_system.items():
        facts = []
        for item, label in PostureItem.choices:
            entry: PostureEntry | None = newest.get(item)
            due = (entry.assessed_on + dt.timedelta(days=ages.get(item, 365))
                   if entry is not None else None)
            needed = criticality[pk] in NEEDED_FOR.get(item, (criticality[pk],))
            facts.append(EnteredFact(item, str(label), entry, due,
                                     overdue=needed and (due is None or due < today),
                                     needed=needed))
        out[pk] = facts
    return out


def posture_watched(system: System) -> bool:
    """Posture is kept for systems in use: validated or under change."""
    return system.state in (SystemState.VALIDATED, SystemState.UNDER_CHANGE)
