"""`cyberqms syslog`: receive syslog over UDP and TCP and ingest it until stopped."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cyberqms.security.transport.listener import ListenerConfig, SyslogListener


class Command(BaseCommand):
    help = (
        "Receive syslog (RFC 5424/3164, CEF and LEEF inside syslog) over UDP and TCP "
        "(octet-counted or newline framing) from registered event sources and ingest it. "
        "SIGTERM or Ctrl-C stops receiving and writes everything already received."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=None,
                            help="address to bind (CYBERQMS_SYSLOG_HOST, 127.0.0.1)")
        parser.add_argument("--udp-port", type=int, default=None,
                            help="UDP port, 0 for none (CYBERQMS_SYSLOG_UDP_PORT, 5514)")
        parser.add_argument("--tcp-port", type=int, default=None,
                            help="TCP port, 0 for none (CYBERQMS_SYSLOG_TCP_PORT, 5514)")
        parser.add_argument("--max-frame", type=int, default=1024 * 1024,
                            help="largest TCP frame accepted by the framing, in bytes")
        parser.add_argument("--queue-size", type=int, default=20_000,
                            help="events held between the receivers and the writer")
        parser.add_argument("--batch-size", type=int, default=1000,
                            help="events per ingest call at most")
        parser.add_argument("--batch-ms", type=int, default=200,
                            help="milliseconds a batch waits to fill at most")
        parser.add_argument("--stats-interval", type=float, default=60.0,
                            help="seconds between stats lines (0: none)")
        parser.add_argument("--udp-buffer", type=int, default=4 * 1024 * 1024,
                            help="UDP receive buffer to ask for, in bytes (the kernel caps "
                                 "it at net.core.rmem_max)")

    def handle(self, *args: Any, **options: Any) -> None:
        host = options["host"] or getattr(settings, "CYBERQMS_SYSLOG_HOST", "127.0.0.1")
        udp = options["udp_port"]
        tcp = options["tcp_port"]
        udp = int(getattr(settings, "CYBERQMS_SYSLOG_UDP_PORT", 5514)) if udp is None else udp
        tcp = int(getattr(settings, "CYBERQMS_SYSLOG_TCP_PORT", 5514)) if tcp is None else tcp
        for name, value in (("--udp-port", udp), ("--tcp-port", tcp)):
            if not 0 <= value <= 65535:
                raise CommandError(f"{name} must be between 0 and 65535.")
        if not udp and not tcp:
            raise CommandError("Nothing to listen on: give a UDP or a TCP port.")
        for name in ("max_frame", "queue_size", "batch_size", "batch_ms", "udp_buffer"):
            if options[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be positive.")
        config = ListenerConfig(
            host=host, udp_port=udp or None, tcp_port=tcp or None,
            max_frame=options["max_frame"], queue_size=options["queue_size"],
            batch_size=options["batch_size"], batch_ms=options["batch_ms"],
            stats_interval=options["stats_interval"], udp_buffer=options["udp_buffer"],
        )
        try:
            asyncio.run(self._serve(config))
        except OSError as exc:
            raise CommandError(f"Cannot listen on {host}: {exc.strerror or exc}.") from exc

    async def _serve(self, config: ListenerConfig) -> None:
        listener = SyslogListener(config, report=lambda line: self.stdout.write(
            f"syslog: {line}"))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await listener.start()
        where = ", ".join(
            f"{proto} {config.host}:{port}"
            for proto, port in (("udp", listener.udp_port), ("tcp", listener.tcp_port)) if port
        )
        if listener.udp_buffer:
            where += f" (UDP receive buffer {listener.udp_buffer} bytes)"
        self.stdout.write(f"syslog listener on {where}")
        self.stdout.flush()
        await stop.wait()
        self.stdout.write("syslog listener stopping: writing what was received")
        await listener.stop()
