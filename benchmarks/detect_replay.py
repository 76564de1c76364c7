"""Replay real server logs through the syslog listener and list the alerts per source.

    python benchmarks/detect_replay.py LOG [LOG …] [--lateness-days N] [--sample 3]

Each file is one event source, sending from its own loopback address (127.0.0.2, .3 …)
over TCP to a `SyslogListener` on a fresh SQLite database, with the shipped rule pack and
the default settings. A line without a ``<PRI>`` gets ``<38>`` (auth.info), so plain
``/var/log/auth.log``-style files (e.g. loghub's ``OpenSSH_2k.log``, ``Linux_2k.log``; fetch
them, do not commit them) replay as RFC 3164 messages with their own year-less
timestamps. Before the file, each source sends one failed login dated now (for an
account and a documentation address no alert can involve): the listener has seen current
events, as a listener in service has (``--fresh``: not).

Lines older than ``CYBERQMS_DETECT_MAX_LATENESS`` (one day by default) are detected on
their receive time (all at once: a file replayed in seconds compresses its days into one
window); ``--lateness-days`` raises the bound so that they are correlated in their own
time. Prints, per source, what was accepted and quarantined, how many lines were late,
and each alert with its group, count, time span and the first ``--sample`` events behind
it, so that each alert can be judged against the log. Nothing is asserted: figures for
docs/detection-quality.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))


def setup_django(data_dir: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "cyberqms.settings"
    os.environ["CYBERQMS_DATA_DIR"] = str(data_dir)
    os.environ["CYBERQMS_ENV"] = "development"
    os.environ["CYBERQMS_MONITOR_OWN_EVENTS"] = "0"
    os.environ.pop("DATABASE_URL", None)
    for name in ("CYBERQMS_TRAIL_KEY_FILE", "CYBERQMS_SECRET_KEY"):
        os.environ.pop(name, None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def frames(path: Path) -> list[bytes]:
    out = []
    for raw in path.read_bytes().splitlines():
        line = raw.rstrip(b"\r")
        if not line.strip():
            continue
        if not line.startswith(b"<"):
            line = b"<38>" + line
        out.append(str(len(line)).encode() + b" " + line)
    return out


def current_line(host: str) -> bytes:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    line = (f"<38>1 {now} {host} sshd 1 - - Failed password for replay-start from "
            "192.0.2.1 port 1 ssh2").encode()
    return str(len(line)).encode() + b" " + line


async def replay(files: list[Path], *, fresh: bool) -> Any:
    from cyberqms.security.transport.listener import ListenerConfig, SyslogListener

    listener = SyslogListener(ListenerConfig(udp_port=None, tcp_port=0, stats_interval=0),
                              report=lambda line: print(f"listener {line}"))
    await listener.start()
    total = 0
    for n, path in enumerate(files):
        data = [*([] if fresh else [current_line(path.stem)]), *frames(path)]
        total += len(data)
        address = f"127.0.0.{n + 2}"
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((address, 0))
            sock.connect(("127.0.0.1", listener.tcp_port))
            sock.sendall(b"".join(data))
    deadline = time.monotonic() + 600
    while listener.stats.accepted + listener.stats.quarantined < total:
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    await listener.stop()
    return listener.stats


def report(sources: dict[Path, Any], sample: int) -> None:
    from django.db.models import Count

    from cyberqms.security.monitoring.models import Alert, RawEvent

    timed = {f.name for f in RawEvent._meta.get_fields()}
    for path, source in sources.items():
        rows = RawEvent.objects.filter(source=source)
        counts = dict(rows.values_list("status").annotate(n=Count("id")))
        line = (f"\n## {source.name}: {path.name}\naccepted {counts.get('accepted', 0)}, "
                f"quarantined {counts.get('quarantined', 0)}")
        if "timing" in timed:
            timing = dict(rows.exclude(timing="").values_list("timing").annotate(n=Count("id")))
            line += ", " + ", ".join(f"{k} {v}" for k, v in sorted(timing.items()))
        print(line)
        alerts = Alert.objects.filter(source=source).order_by("rule_id", "first_seen", "id")
        by_rule = dict(alerts.order_by().values_list("title").annotate(n=Count("id")))
        print("alerts: " + (", ".join(f"{t} ×{n}" for t, n in sorted(by_rule.items()))
                            or "none"))
        for alert in alerts:
            print(f"- {alert.number} {alert.title} [{alert.group_key}] count {alert.count}, "
                  f"{alert.first_seen:%Y-%m-%d %H:%M:%S} – {alert.last_seen:%H:%M:%S}")
            events = alert.events.order_by("event_time", "id")[:sample]
            for event in events:
                print(f"    {bytes(event.payload).decode(errors='replace')[:160]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logs", nargs="+", type=Path, help="log files, one source each")
    parser.add_argument("--lateness-days", type=float, default=None,
                        help="CYBERQMS_DETECT_MAX_LATENESS for the run, in days")
    parser.add_argument("--sample", type=int, default=3, help="events shown per alert")
    parser.add_argument("--fresh", action="store_true",
                        help="no current failed login before each file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cyberqms-replay-") as tmp:
        setup_django(Path(tmp))
        from django.conf import settings
        from django.utils import timezone

        from cyberqms.security.monitoring.models import EventSource

        if args.lateness_days is not None:
            settings.CYBERQMS_DETECT_MAX_LATENESS = int(args.lateness_days * 86_400)
        sources = {
            path: EventSource.objects.create(
                name=path.stem, kind="other", system=path.stem, format="syslog",
                addresses=[f"127.0.0.{n + 2}"], created_at=timezone.now())
            for n, path in enumerate(args.logs)
        }
        started = time.perf_counter()
        stats = asyncio.run(replay(args.logs, fresh=args.fresh))
        print(f"replayed in {time.perf_counter() - started:.1f} s; "
              f"late {getattr(stats, 'late', '-')}, ahead {getattr(stats, 'ahead', '-')}")
        report(sources, args.sample)


if __name__ == "__main__":
    main()
