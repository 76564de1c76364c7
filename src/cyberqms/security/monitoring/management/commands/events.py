"""`cyberqms events import FILE --source NAME`: ingest a file of events, one per line."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cyberqms.platform.core.context import RequestContext, acting_context
from cyberqms.security.monitoring import services
from cyberqms.security.monitoring.enums import EventFormat
from cyberqms.security.monitoring.models import EventSource


def _lines(stream: IO[bytes]) -> Iterator[bytes]:
    for line in stream:
        line = line.rstrip(b"\r\n")
        if line:
            yield line


class Command(BaseCommand):
    help = ("Security events from the command line: `events import FILE --source NAME`, "
            "`events retention [--dry-run]`.")

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
        imp = sub.add_parser(
            "import", help="ingest a file of events, one per line ('-' reads standard input)",
        )
        imp.add_argument("file", metavar="FILE")
        imp.add_argument("--source", required=True, help="the registered event source's name")
        imp.add_argument(
            "--format", choices=EventFormat.values, default=None,
            help="read the lines in this format instead of the source's registered one",
        )
        imp.add_argument("--batch-size", type=int, default=1000, help="lines per ingest call")
        ret = sub.add_parser(
            "retention",
            help="remove the events past their source's retention (CYBERQMS_EVENT_RETENTION), "
                 "keeping the evidence of alerts; the scheduler runs it daily",
        )
        ret.add_argument("--dry-run", action="store_true",
                         help="count what would be removed, remove nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "import":
            self._import(options)
        elif options["subcommand"] == "retention":
            self._retention(options)

    def _retention(self, options: dict[str, Any]) -> None:
        from django.core.exceptions import ImproperlyConfigured

        from cyberqms.security.monitoring import retention

        try:
            rules = retention.policy()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        described = ", ".join(
            f"{kind} {'forever' if days is None else f'{days} days'}"
            for kind, days in sorted(rules.items(), key=lambda item: item[0] != "default"))
        self.stdout.write(f"Retention: {described}; the evidence of alerts is kept.")
        verbose = options["verbosity"] >= 1 and self.stderr.isatty()

        def progress(run: retention.RetentionRun) -> None:
            if verbose:
                self.stderr.write(f"… {run.periods} periods, {run.total} events", ending="\r")

        with acting_context(RequestContext(channel="cli")):
            run = retention.apply(dry_run=options["dry_run"], progress=progress)
        verb = "would remove" if run.dry_run else "removed"
        sources = len(run.removed)
        self.stdout.write(f"{verb} {run.total} events of {sources} "
                          f"source{'' if sources == 1 else 's'}, "
                          f"kept {run.kept} as evidence of alerts")
        for name, count in sorted(run.removed.items(), key=lambda item: (-item[1], item[0])):
            self.stdout.write(f"  {name}: {count}")
        for month in run.months_dropped:
            self.stdout.write(f"  month {month} dropped whole")
        if run.months_made:
            self.stdout.write(f"  months made ahead: {', '.join(run.months_made)}")

    def _import(self, options: dict[str, Any]) -> None:
        name = options["source"]
        source = EventSource.objects.select_related("site").filter(name=name).first()
        if source is None:
            known = ", ".join(EventSource.objects.values_list("name", flat=True)) or "none"
            raise CommandError(f"No event source named {name!r} (registered: {known}).")
        if not source.is_active:
            raise CommandError(f"The event source {name!r} is not active.")
        if options["format"] and options["format"] != source.format:
            # Read this file in another format; the registered source is not changed.
            source.format = options["format"]
        batch_size = options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size must be positive.")
        path = options["file"]
        try:
            # Closed by `with stream` below, which covers stdin too; `with open()` here could not.
            stream: IO[bytes] = (
                sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115  # see above
            )
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
        totals = Counter[str]()
        reasons = Counter[str]()
        alerts: dict[str, str] = {}
        verbose = options["verbosity"] >= 1 and self.stderr.isatty()
        try:
            with stream, acting_context(RequestContext(channel="cli")):
                batch: list[bytes] = []
                for line in _lines(stream):
                    batch.append(line)
                    if len(batch) >= batch_size:
                        self._ingest(source, batch, totals, reasons, alerts, verbose)
                        batch = []
                if batch:
                    self._ingest(source, batch, totals, reasons, alerts, verbose)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
        raised = (f"alerts {len(alerts)}" if services.detects_inline()
                  else "alerts raised by the detector")
        self.stdout.write(
            f"{source.name}: received {totals['received']}, accepted {totals['accepted']}, "
            f"quarantined {totals['quarantined']}, {raised}"
        )
        for reason, count in sorted(reasons.items(), key=lambda item: (-item[1], item[0])):
            self.stdout.write(f"  quarantined {reason}: {count}")
        for number, title in alerts.items():
            self.stdout.write(f"  alert {number}: {title}")

    def _ingest(self, source: EventSource, batch: list[bytes], totals: Counter[str],
                reasons: Counter[str], alerts: dict[str, str], verbose: bool) -> None:
        try:
            result = services.ingest(source, batch, channel="file")
        except services.SourceRefused as exc:
            raise CommandError(f"{exc}.") from exc
        totals.update(received=result.received, accepted=result.accepted,
                      quarantined=result.quarantined)
        reasons.update(result.reasons)
        for alert in result.alerts:
            alerts[alert.number] = alert.title
        if verbose:
            self.stderr.write(f"… {totals['received']} lines", ending="\r")  # progress
