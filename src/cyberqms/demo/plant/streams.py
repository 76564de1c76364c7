"""The event streams: who is busy when, one generator per system an hour at a time, and
the run that merges them with the injected scenarios in time order."""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING, Final

from .catalogue import Person, Plant, Source, build_plant
from .events import HOUR_MS, SyntheticEvent, from_ms, seeded_rng, to_ms
from .lines import Clock
from .traffic import NORMAL_TRAFFIC, Emit

if TYPE_CHECKING:
    from ..scenarios import Injection, Scenario, ScenarioInstance, Schedule

# ------------------------------------------------------------------------ streams


def activity(person: Person, local_hour: int, weekday: int, week: int) -> float:
    """How busy a person is in a local hour (0..1): 3 shifts in manufacturing rotating
    weekly with a quieter night shift; day work 07-17 for QA/QC, engineers, managers;
    weekends quieter; administrators and security on call at night."""
    role = person.role
    if role == "service":
        return 1.0
    if role == "operator":
        shift = 0 if 6 <= local_hour < 14 else 1 if 14 <= local_hour < 22 else 2
        if ((person.shift or 0) + week) % 3 != shift:
            return 0.0
        return (0.7 if shift == 2 else 1.0) * (0.5 if weekday >= 5 else 1.0)
    busy = 1.0 if 7 <= local_hour < 17 else 0.3 if local_hour in (6, 17, 18) else 0.0
    if weekday >= 5:
        busy *= 0.04
    if busy == 0.0 and role in ("admin", "security"):
        return 0.01
    return busy


def system_stream(plant: Plant, src: Source, seed: object, start_ms: int, end_ms: int,
                  volume: float = 1.0) -> Iterator[SyntheticEvent]:
    """Normal traffic of one source in time order, generated an hour at a time."""
    spec = NORMAL_TRAFFIC[src.kind]
    rng = seeded_rng(seed, "normal", src.id)
    clock = Clock()
    users = [p for p in plant.staff(None if src.kind == "qms" else src.site.code)
             if spec.per_hour.get(p.role)]
    rates = [spec.per_hour[p.role] for p in users]
    sid, kind, site, fmt = src.id, src.kind, src.site.code, src.format
    carry: list[tuple[int, str]] = []
    t0 = start_ms
    while t0 < end_ms:
        t1 = min((t0 // HOUR_MS + 1) * HOUR_MS, end_ms)
        local = from_ms(t0).astimezone(src.site.tz)
        hour, weekday, week = local.hour, local.weekday(), local.isocalendar().week
        actors: list[Person | None] = [None]
        cum = [spec.background]
        total = spec.background
        for p, rate in zip(users, rates, strict=True):
            w = rate * activity(p, hour, weekday, week)
            if w > 0.0:
                total += w
                actors.append(p)
                cum.append(total)
        items = carry
        carry = []
        emit: Emit = items.append
        if total > 0.0:
            lam = total * volume / HOUR_MS
            expo, choices, render = rng.expovariate, rng.choices, spec.render
            t = t0 + expo(lam)
            while t < t1:
                render(rng, plant, src, clock, int(t), choices(actors, cum_weights=cum)[0],
                       emit)
                t += expo(lam)
        items.sort(key=itemgetter(0))
        for ms, line in items:
            if ms < t1:
                yield SyntheticEvent(ms, sid, kind, site, fmt, line)
            else:
                carry.append((ms, line))
        t0 = t1


class SyntheticRun(Iterator[SyntheticEvent]):
    """The merged event stream of one run, with the injected instances as ground truth."""

    def __init__(self, seed: object, start_ms: int, end_ms: int,
                 instances: tuple[ScenarioInstance, ...], streams: list[Iterator[SyntheticEvent]]
                 ) -> None:
        self.seed = seed
        self.start = from_ms(start_ms)
        self.end = from_ms(end_ms)
        self.instances = instances
        self._merged = heapq.merge(*streams, key=attrgetter("ms"))

    def __next__(self) -> SyntheticEvent:
        return next(self._merged)

    @property
    def attacks(self) -> tuple[ScenarioInstance, ...]:
        return tuple(i for i in self.instances if not i.scenario.benign)

    @property
    def near_misses(self) -> tuple[ScenarioInstance, ...]:
        return tuple(i for i in self.instances if i.scenario.benign)


DEFAULT_NEAR_MISSES: Final = "default"


def generate(seed: object, start: datetime, duration: timedelta, *,
             scenarios: Schedule | Sequence[Injection | str] | None = (),
             near_misses: Schedule | Sequence[Injection | str] | str | None = DEFAULT_NEAR_MISSES,
             volume: float = 1.0, plant: Plant | None = None,
             sources: Sequence[str] | None = None) -> SyntheticRun:
    """Stream the plant's events from ``start`` for ``duration`` in time order.

    ``scenarios``: attack scenarios to inject, as ``Schedule(per_day=N)`` (N instances per
    simulated day at random times), a list of ``Injection(id, at)`` or of scenario ids (each
    once at a random time). ``near_misses``: benign look-alikes, by default
    ``Schedule(per_day=4)`` plus the nightly backup export; ``None`` for none. ``volume``
    scales normal traffic. ``sources`` limits normal traffic to some source ids.
    """
    from ..scenarios import Schedule, plan

    plant = plant or build_plant()
    start_ms = to_ms(start)
    end_ms = start_ms + duration // timedelta(milliseconds=1)
    if near_misses == DEFAULT_NEAR_MISSES:
        near_misses = Schedule(per_day=4, nightly=True)
    assert not isinstance(near_misses, str)
    instances = (plan(plant, seed, start_ms, end_ms, scenarios, benign=False)
                 + plan(plant, seed, start_ms, end_ms, near_misses, benign=True))
    chosen = plant.sources if sources is None else {s: plant.sources[s] for s in sources}
    streams: list[Iterator[SyntheticEvent]] = [
        system_stream(plant, src, seed, start_ms, end_ms, volume) for src in chosen.values()]
    injected = sorted((e for i in instances for e in i.events), key=attrgetter("ms"))
    streams.append(iter(injected))
    return SyntheticRun(seed, start_ms, end_ms, tuple(instances), streams)


def scenario_catalogue() -> dict[str, Scenario]:
    from ..scenarios import SCENARIOS

    return dict(SCENARIOS)
