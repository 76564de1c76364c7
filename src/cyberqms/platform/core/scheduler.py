"""Periodic jobs: one `cyberqms scheduler` process runs them on their intervals.

Apps register jobs in their `AppConfig.ready`. A job either runs inline (only for work
that takes milliseconds and must not wait behind long tasks, such as sealing the audit
trail every second) or enqueues a background task through Django's tasks API, which the
`db_worker` process executes. Intervals come from settings, read when the scheduler
starts.

Several scheduler processes may run, on one machine or several (a standby for each node):
one of them, the holder of the ``scheduler`` lease (``core.election``), runs the jobs; the
others wait and take over within ``CYBERQMS_SCHEDULER_LEASE_SECONDS`` when it stops or
loses the database (at once when it stops cleanly). Jobs stay safe to run twice (a job
may be cut off by a failover while it runs, and ``scheduler --once`` runs them by hand).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.module_loading import import_string

from .context import open_context
from .election import Lease

logger = logging.getLogger("cyberqms.scheduler")


@dataclass
class Job:
    name: str
    interval: Callable[[], float]
    run: Callable[[], object]
    description: str = ""
    next_at: float = field(default=0.0)


JOBS: dict[str, Job] = {}


def every(
    name: str, interval: Callable[[], float] | str, run: Callable[[], object] | str,
    description: str = "",
) -> Job:
    """Register `run` to be called every `interval()` seconds (first call at start).

    Either may be the dotted path of a function, imported when first called: an app's
    `ready()` then imports none of its job's code, which every `cyberqms` command (and
    web process) would otherwise load at start-up to run none of it."""
    job = Job(name, _when_called(interval), _when_called(run), description)
    JOBS[name] = job
    return job


def _when_called[T](target: Callable[[], T] | str) -> Callable[[], T]:
    if not isinstance(target, str):
        return target
    found: list[Callable[[], T]] = []

    def call() -> T:
        if not found:
            found.append(import_string(target))
        return found[0]()

    call.__qualname__ = call.__name__ = target
    return call


def run_due(now: float) -> list[str]:
    """Run every job whose time has come; returns the names run. Never raises."""
    ran: list[str] = []
    for job in JOBS.values():
        if now < job.next_at:
            continue
        unit = open_context()
        if unit is not None:
            unit.memo.clear()  # what a job reads once is read afresh by the next
        try:
            job.run()
        except Exception:  # a failing job must not stop the others; it is logged
            logger.exception("scheduled job %s failed", job.name)
        job.next_at = now + max(job.interval(), 0.05)
        ran.append(job.name)
    return ran


LEASE = "scheduler"


def loop(stop: Callable[[], bool], tick: float = 0.25, *, lease: Lease | None = None) -> None:
    """Run the due jobs every ``tick`` seconds while this process holds the scheduler's
    lease, until ``stop()``; the lease is given up on the way out."""
    lease = lease or Lease(LEASE, ttl=settings.CYBERQMS_SCHEDULER_LEASE_SECONDS)
    try:
        while not stop():
            if lease.hold():
                run_due(time.monotonic())
            else:  # a standby: the jobs start afresh (all due) when it takes over
                for job in JOBS.values():
                    job.next_at = 0.0
            time.sleep(tick)
    finally:
        lease.release()
