"""Bursts into the syslog listener: are they absorbed without loss, and how fast?

Starts a real `cyberqms syslog` listener (a subprocess on free loopback ports, its own
throw-away SQLite database, migrated), blasts messages at it as fast as the sender can
over several TCP connections, then over UDP (unpaced, then paced), waits for the writer
to drain the queue, and counts the stored `RawEvent` rows against what was sent.

    .venv/bin/python benchmarks/burst.py [--tcp 20000] [--connections 4] [--udp 20000]
                                         [--udp-rate 5000] [--queue-size 20000]

For each phase it prints: sent, stored, lost (TCP must lose nothing: back-pressure slows the
senders instead), for UDP the datagrams not kept and why (queue overflow after waiting
`overflow_wait`, or dropped by the kernel because the receive buffer was full; both are
counted by the listener and reported as `monitoring.overflow` security events, never
silent: sent = stored + overflow + dropped is checked), the peak queue depth, the send
rate, the time to drain after the last message was sent, and the end-to-end throughput
(stored / (first send → last row stored)). Exit status 1 if a check fails.
"""

from __future__ import annotations

import argparse
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CYBERQMS = [sys.executable, "-m", "cyberqms"]


@dataclass
class Phase:
    name: str
    sent: int
    stored: int = 0
    overflow: int = 0
    dropped: int = 0
    rejected: int = 0
    peak: int = 0
    send_s: float = 0.0
    drain_s: float = 0.0
    total_s: float = 0.0

    @property
    def lost(self) -> int:
        return self.sent - self.stored

    @property
    def unaccounted(self) -> int:
        return self.sent - self.stored - self.overflow - self.dropped - self.rejected


def line(i: int) -> bytes:
    return (f"<14>1 2026-11-20T09:{(i // 60) % 60:02d}:{i % 60:02d}.{i % 1000:03d}Z lims01 "
            f"labware 77 - - sample S-{i:07d} viewed by qc_analyst on terminal T{i % 40}"
            ).encode()


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Listener:
    """`cyberqms syslog` in a subprocess; its stats lines are read as they come."""

    STATS = re.compile(r"(\w+)=(\d+)")

    def __init__(self, env: dict[str, str], args: argparse.Namespace) -> None:
        self.udp_port = free_port(socket.SOCK_DGRAM)
        self.tcp_port = free_port(socket.SOCK_STREAM)
        self.stats: dict[str, int] = {}
        self.lines: list[str] = []
        self.proc = subprocess.Popen(  # noqa: S603 (our own command, fixed arguments)
            [*CYBERQMS, "syslog", "--host", "127.0.0.1", "--udp-port", str(self.udp_port),
             "--tcp-port", str(self.tcp_port), "--queue-size", str(args.queue_size),
             "--batch-size", str(args.batch_size), "--stats-interval", "0.5"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 120
        while True:
            ready, _, _ = select.select([self.proc.stdout], [], [], 1)
            if ready:
                text = self.proc.stdout.readline()
                if not text:
                    raise SystemExit("the listener ended before listening:\n"
                                     + "".join(self.lines))
                self.lines.append(text)
                if text.startswith("syslog listener on"):
                    self.started = text.strip()
                    break
            if time.monotonic() > deadline:
                raise SystemExit("the listener did not start within 120 s")
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for text in self.proc.stdout:
            self.lines.append(text)
            if text.startswith("syslog: "):
                self.stats = {k: int(v) for k, v in self.STATS.findall(text)}

    def stop(self) -> dict[str, int]:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(300)
        self._reader.join(10)
        return self.stats


def stored(channel: str) -> int:
    from cyberqms.security.monitoring.models import RawEvent

    return RawEvent.objects.filter(channel=channel).count()


def wait_for_rows(channel: str, target: int, listener: Listener, *, quiet_s: float) -> float:
    """Poll until `target` rows of `channel` are stored, or the listener has taken in
    everything it received and nothing changed for `quiet_s`; the time it took."""
    started = time.perf_counter()
    last, last_change = -1, time.perf_counter()
    while True:
        count = stored(channel)
        now = time.perf_counter()
        if count != last:
            last, last_change = count, now
        if count >= target:
            return now - started
        s = listener.stats
        handled = sum(s.get(key, 0) for key in (
            "accepted", "quarantined", "failed", "overflow", "unknown"))
        settled = s and s.get("queue", 1) == 0 and handled >= s.get("received", 0)
        if settled and now - last_change > quiet_s:
            return last_change - started
        if listener.proc.poll() is not None:
            raise SystemExit("the listener ended:\n" + "".join(listener.lines[-20:]))
        if now - last_change > 300:
            raise SystemExit(f"no progress for 300 s at {count} rows; listener: {s}")
        time.sleep(0.05)


def tcp_phase(env: dict[str, str], args: argparse.Namespace) -> Phase:
    phase = Phase(f"TCP, {args.connections} connections", args.tcp)
    listener = Listener(env, args)
    print(f"  {listener.started}")
    before = stored("syslog-tcp")
    per = [range(c, args.tcp, args.connections) for c in range(args.connections)]

    def blast(numbers: range) -> None:
        with socket.create_connection(("127.0.0.1", listener.tcp_port)) as sock:
            chunk: list[bytes] = []
            for i in numbers:
                data = line(i)
                chunk.append(b"%d %b" % (len(data), data))
                if len(chunk) == 500:
                    sock.sendall(b"".join(chunk))
                    chunk = []
            sock.sendall(b"".join(chunk))

    started = time.perf_counter()
    senders = [threading.Thread(target=blast, args=(numbers,)) for numbers in per]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    phase.send_s = time.perf_counter() - started
    phase.drain_s = wait_for_rows("syslog-tcp", before + args.tcp, listener, quiet_s=10)
    phase.total_s = phase.send_s + phase.drain_s
    final = listener.stop()
    phase.stored = stored("syslog-tcp") - before
    phase.peak, phase.rejected = final.get("peak", 0), final.get("rejected", 0)
    return phase


def udp_phase(env: dict[str, str], args: argparse.Namespace, rate: int) -> Phase:
    name = f"UDP, paced {rate}/s" if rate else "UDP, unpaced"
    phase = Phase(name, args.udp)
    listener = Listener(env, args)
    before = stored("syslog-udp")
    gap = 1 / rate if rate else 0.0
    started = time.perf_counter()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        target = ("127.0.0.1", listener.udp_port)
        next_at = started
        for i in range(args.udp):
            if gap:
                next_at += gap
                pause = next_at - time.perf_counter()
                if pause > 0.001:
                    time.sleep(pause)
            sock.sendto(line(1_000_000 + i), target)  # blocks while its own buffer is full
    phase.send_s = time.perf_counter() - started
    phase.drain_s = wait_for_rows("syslog-udp", before + args.udp, listener, quiet_s=3)
    phase.total_s = phase.send_s + phase.drain_s
    final = listener.stop()  # counts the last drops and writes the last reports
    phase.stored = stored("syslog-udp") - before
    phase.overflow, phase.dropped = final.get("overflow", 0), final.get("dropped", 0)
    phase.peak = final.get("peak", 0)
    return phase


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tcp", type=int, default=20_000, help="messages over TCP")
    parser.add_argument("--connections", type=int, default=4, help="TCP connections")
    parser.add_argument("--udp", type=int, default=20_000, help="datagrams per UDP phase")
    parser.add_argument("--udp-rate", type=int, default=5_000,
                        help="datagrams per second of the paced UDP phase (0: skip it)")
    parser.add_argument("--queue-size", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="cyberqms-burst-")
    env = {**os.environ, "CYBERQMS_DATA_DIR": data_dir, "DJANGO_SETTINGS_MODULE":
           "cyberqms.settings", "PYTHONUNBUFFERED": "1", "CYBERQMS_SIEM_ADDRESS": "",
           "CYBERQMS_MONITOR_OWN_EVENTS": "false", "CYBERQMS_LOG_LEVEL": "WARNING",
           "PYTHONPATH": str(ROOT / "src")}
    env.pop("DATABASE_URL", None)  # its own SQLite database, never a shared server
    os.environ.update({k: v for k, v in env.items() if k != "PYTHONPATH"})
    sys.path.insert(0, str(ROOT / "src"))
    print(f"database: {data_dir}/cyberqms.sqlite3 (migrating …)")
    subprocess.run(  # noqa: S603  # our own command, fixed arguments
        [*CYBERQMS, "migrate", "--verbosity", "0"], env=env, check=True)

    import django

    django.setup()
    from django.utils import timezone

    from cyberqms.security.monitoring.models import EventSource

    EventSource.objects.create(name="burst", kind="other", system="burst benchmark",
                               format="syslog", addresses=["127.0.0.1"],
                               created_at=timezone.now())
    phases = []
    if args.tcp:
        phases.append(tcp_phase(env, args))
    if args.udp:
        phases.append(udp_phase(env, args, 0))
        if args.udp_rate:
            phases.append(udp_phase(env, args, args.udp_rate))

    print(f"\nqueue {args.queue_size}, batches of {args.batch_size}, {os.cpu_count()} CPU(s)")
    head = (f"{'phase':<24}{'sent':>8}{'stored':>8}{'lost':>7}{'overflow':>9}{'dropped':>8}"
            f"{'peak q':>8}{'send/s':>9}{'drain s':>8}{'stored/s':>9}")
    print(head)
    print("-" * len(head))
    ok = True
    for p in phases:
        print(f"{p.name:<24}{p.sent:>8}{p.stored:>8}{p.lost:>7}{p.overflow:>9}{p.dropped:>8}"
              f"{p.peak:>8}{p.sent / p.send_s:>9,.0f}{p.drain_s:>8.1f}"
              f"{p.stored / p.total_s:>9,.0f}")
        if p.name.startswith("TCP") and p.lost:
            print(f"  FAIL: {p.lost} TCP message(s) lost")
            ok = False
        if p.unaccounted:
            print(f"  FAIL: {p.unaccounted} message(s) neither stored nor counted as lost")
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
