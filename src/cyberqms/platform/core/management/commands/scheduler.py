"""`cyberqms scheduler`: run the registered periodic jobs until stopped."""

from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from cyberqms.platform.core import scheduler
from cyberqms.platform.core.context import RequestContext, acting_context


class Command(BaseCommand):
    help = "Run periodic jobs (audit-trail sealing, scheduled verification, ...)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--list", action="store_true", help="list the jobs and exit")
        parser.add_argument("--once", action="store_true", help="run every job once and exit")
        parser.add_argument("--status", action="store_true",
                            help="say which scheduler process runs the jobs now, and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list"]:
            for job in scheduler.JOBS.values():
                self.stdout.write(f"{job.name:28} every {job.interval():>8g} s  {job.description}")
            return
        if options["status"]:
            self._status()
            return
        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        with acting_context(RequestContext(channel="task")):
            if options["once"]:
                scheduler.run_due(float("inf"))
                return
            self.stdout.write(f"scheduler ready to run {len(scheduler.JOBS)} jobs while it holds "
                              "the scheduler lease")
            scheduler.loop(lambda: stopping)

    def _status(self) -> None:
        from cyberqms.platform.core.election import lease_holder

        held = lease_holder(scheduler.LEASE)
        if held is None:
            self.stdout.write("no scheduler runs the jobs now")
            return
        self.stdout.write(
            f"jobs run by {held.holder} since {held.acquired_at:%Y-%m-%d %H:%M:%S} UTC "
            f"(lease renewed {held.renewed_at:%H:%M:%S}, expires {held.expires_at:%H:%M:%S} UTC)")
