"""`cyberqms siem test|status`: check the forwarding of security events to the SIEM."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cyberqms.platform.core.context import RequestContext, acting_context
from cyberqms.security.transport import siem


class Command(BaseCommand):
    help = (
        "Forwarding of cyberqms's security events to the SIEM (CYBERQMS_SIEM_ADDRESS): "
        "`siem test` sends one test event now and fails if it cannot be sent; `siem status` "
        "shows where events go and the latest delivery failures."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
        test = sub.add_parser("test", help="send one test event to the SIEM now")
        test.add_argument("--timeout", type=float, default=siem.TIMEOUT_S,
                          help="seconds to wait for the connection and the send")
        sub.add_parser("status", help="where events go and the latest delivery failures")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "test":
            self._test(options["timeout"])
        else:
            self._status()

    def _target(self) -> siem.SiemTarget:
        try:
            target = siem.configured_target()
        except ImproperlyConfigured as exc:
            raise CommandError(f"{exc}.") from exc
        if target is None:
            raise CommandError("SIEM forwarding is off: set CYBERQMS_SIEM_ADDRESS (host:port).")
        return target

    def _test(self, timeout: float) -> None:
        target = self._target()
        with acting_context(RequestContext(channel="cli")):
            try:
                event = siem.send_test(target, timeout=timeout)
            except OSError as exc:
                raise CommandError(
                    f"SIEM test to {target} failed: {siem.describe(exc)}.") from exc
        note = " (UDP: no delivery confirmation)" if target.protocol == "udp" else ""
        self.stdout.write(
            f"SIEM test event {event.pk} sent to {target} as {target.message_hostname()}{note}")

    def _status(self) -> None:
        status = siem.delivery_status()
        if status["problem"]:
            self.stdout.write(f"SIEM forwarding misconfigured: {status['problem']}")
        elif status["target"]:
            self.stdout.write(f"SIEM forwarding to {status['target']}")
        else:
            self.stdout.write("SIEM forwarding is off (CYBERQMS_SIEM_ADDRESS is empty)")
        for event in status["failures"]:
            self.stdout.write(f"  {event.created_at:%Y-%m-%d %H:%M:%S} UTC  {event.message}")
        if not status["failures"]:
            self.stdout.write("  no delivery failures recorded")
