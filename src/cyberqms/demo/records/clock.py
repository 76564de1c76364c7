"""The simulated clock the demo runs under, and the timeline that runs the record
scripts step by step in one global time order."""

from __future__ import annotations

import contextlib
import datetime as dt
import heapq
import itertools
from collections.abc import Callable, Generator, Iterator
from typing import Any

from django.apps import apps
from django.utils import timezone

from cyberqms.platform.core.context import RequestContext, acting_context

Wait = dt.datetime | dt.timedelta
Script = Generator[Wait]


# --- the clock ------------------------------------------------------------------------------


class SimulatedClock:
    """A clock that only moves forward; each reading is a millisecond after the last, so
    entries written in one step keep their order in time too."""

    def __init__(self, start: dt.datetime) -> None:
        self.current = start

    def now(self) -> dt.datetime:
        self.current += dt.timedelta(milliseconds=1)
        return self.current

    def move_to(self, when: dt.datetime) -> None:
        self.current = max(self.current, when)


@contextlib.contextmanager
def simulated_time(clock: SimulatedClock) -> Iterator[SimulatedClock]:
    """Make `clock` the project's time: `timezone.now` and the model fields whose default
    is `timezone.now` (bound at import, so patched one by one). Restored on exit."""
    original = timezone.now
    swapped: dict[int, Any] = {}
    for model in apps.get_models():
        for f in model._meta.concrete_fields:
            if f.default is original and id(f) not in swapped:
                swapped[id(f)] = f
    try:
        for f in swapped.values():
            f.default = clock.now
            f.__dict__.pop("_get_default", None)  # a cached_property holding the old callable
        timezone.now = clock.now
        yield clock
    finally:
        timezone.now = original
        for f in swapped.values():
            f.default = original
            f.__dict__.pop("_get_default", None)


class Timeline:
    """Runs scripts step by step in the order of their times."""

    def __init__(self, clock: SimulatedClock, end: dt.datetime) -> None:
        self.clock = clock
        self.end = end
        self.steps = 0
        self.stopped = 0  # scripts whose next step fell after the end
        self._heap: list[tuple[dt.datetime, int, str, Script]] = []
        self._order = itertools.count()

    def start(self, when: dt.datetime, script: Script, name: str) -> None:
        heapq.heappush(self._heap, (when, next(self._order), name, script))

    def next_at(self) -> dt.datetime | None:
        """When the next waiting step is due (during a step: of another script)."""
        return self._heap[0][0] if self._heap else None

    def run(self, after_step: Callable[[], None] = lambda: None) -> None:
        while self._heap:
            when, _, name, script = heapq.heappop(self._heap)
            if when >= self.end:
                script.close()
                self.stopped += 1
                continue
            self.clock.move_to(when)
            try:
                with acting_context(RequestContext(channel="cli")):
                    wait = next(script)
            except StopIteration:
                continue
            except Exception as exc:
                exc.add_note(f"demo: step of {name} at {self.clock.current:%Y-%m-%d %H:%M}")
                raise
            self.steps += 1
            following = wait if isinstance(wait, dt.datetime) else self.clock.current + wait
            heapq.heappush(self._heap, (max(following, self.clock.current), next(self._order),
                                        name, script))
            after_step()
