"""The ways events reach `ingest`: the syslog listener (UDP, TCP with octet counting and
newline framing), the HTTP batch endpoint and file import (A11-10: every line kept or
quarantined with a reason, never dropped silently; P11-12: only registered sources)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from cyberqms.platform.accounts import services as accounts
from cyberqms.platform.core.models import SecurityEvent
from cyberqms.security.monitoring import services
from cyberqms.security.monitoring.models import Alert, EventSource, RawEvent
from cyberqms.security.monitoring.tests.test_pipeline import failed_logins
from cyberqms.security.transport.listener import ListenerConfig, SyslogListener

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fresh_engine() -> None:
    services.reload_rules()


def benign(n: int, *, start: int = 0) -> list[str]:
    return [
        f"<14>1 2026-11-20T09:{(i // 60) % 60:02d}:{i % 60:02d}Z lims01 labware 77 - - "
        f"sample S-{i:06d} viewed by qc_analyst"
        for i in range(start, start + n)
    ]


def octet(line: str | bytes) -> bytes:
    data = line.encode() if isinstance(line, str) else line
    return str(len(data)).encode() + b" " + data


class RunningListener:
    """The listener on its own event loop in a thread, on ephemeral loopback ports; it
    stamps every event as received at T0 unless given another clock."""

    def __init__(self, **config: Any) -> None:
        config = {"host": "127.0.0.1", "udp_port": 0, "tcp_port": 0, "stats_interval": 0,
                  "batch_ms": 20, "clock": lambda: T0, **config}
        self.lines: list[str] = []
        self.listener = SyslogListener(ListenerConfig(**config), report=self.lines.append)
        self._started = threading.Event()
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            try:
                await self.listener.start()
            finally:
                self._started.set()
            await self._stop.wait()
            await self.listener.stop()

        try:
            asyncio.run(main())
        except BaseException as exc:
            self._failed = exc
            self._started.set()

    def __enter__(self) -> RunningListener:
        self._thread.start()
        assert self._started.wait(10)
        if self._failed:
            raise self._failed
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self._thread.is_alive():
            assert self._loop is not None
            assert self._stop is not None
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(60)
        if self._failed:
            raise self._failed

    def wait_for(self, check: Callable[[], bool], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            assert time.monotonic() < deadline, self.listener.stats
            time.sleep(0.01)

    def tcp(self) -> socket.socket:
        assert self.listener.tcp_port
        return socket.create_connection(("127.0.0.1", self.listener.tcp_port), timeout=10)

    def udp(self, datagrams: list[bytes]) -> None:
        assert self.listener.udp_port
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for data in datagrams:
                sock.sendto(data, ("127.0.0.1", self.listener.udp_port))


@pytest.fixture
def lims(personas: dict[str, Any]) -> EventSource:
    return services.source_create(
        actor=personas["it_security"], name="LIMS BSL", kind="lims", system="LabWare LIMS",
        format="syslog", addresses=["127.0.0.0/8"],
    )


@pytest.fixture
def running() -> Iterator[Callable[..., RunningListener]]:
    started: list[RunningListener] = []

    def start(**config: Any) -> RunningListener:
        listener = RunningListener(**config).__enter__()
        started.append(listener)
        return listener

    yield start
    for listener in started:
        listener.stop()


def payloads() -> list[tuple[str, str, str]]:
    return [(bytes(r.payload).decode(errors="replace"), r.channel, r.status)
            for r in RawEvent.objects.order_by("id")]


# --- syslog listener --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_udp_datagrams_become_raw_events_a11_10(lims: EventSource, running: Any) -> None:
    lines = benign(3)
    run = running()
    run.udp([line.encode() + b"\n" for line in lines])
    run.wait_for(lambda: run.listener.stats.received == 3)
    run.stop()
    assert payloads() == [(line, "syslog-udp", "accepted") for line in lines]
    peak = run.listener.stats.peak  # how many waited at once depends on the scheduling
    assert 1 <= peak <= 3
    assert run.lines == [
        "stopped: received=3 accepted=3 quarantined=0 alerts=0 unknown=0 overflow=0 "
        f"dropped=0 rejected=0 failed=0 ahead=0 late=0 queue=0 peak={peak}"
    ]


@pytest.mark.django_db(transaction=True)
def test_tcp_octet_counted_and_newline_frames_become_raw_events(
    lims: EventSource, running: Any
) -> None:
    lines = benign(4)
    run = running()
    with run.tcp() as sock:
        # split mid-frame on purpose: framing does not depend on how the stream arrives
        stream = octet(lines[0]) + octet(lines[1])
        sock.sendall(stream[:17])
        time.sleep(0.05)
        sock.sendall(stream[17:])
    with run.tcp() as sock:
        sock.sendall(f"{lines[2]}\r\n{lines[3]}".encode())  # the last frame ends at close
    run.wait_for(lambda: run.listener.stats.received == 4)
    run.stop()
    assert sorted(payloads()) == sorted((line, "syslog-tcp", "accepted") for line in lines)


@pytest.mark.django_db(transaction=True)
def test_an_oversized_frame_is_quarantined_and_the_stream_continues_a11_10(
    lims: EventSource, running: Any
) -> None:
    big = benign(1)[0] + " " + "x" * 70_000  # over ingest's payload limit: kept, quarantined
    huge = "y" * 200_000  # over the listener's frame limit: refused by the framing, reported
    good = benign(2, start=1)
    run = running(max_frame=100_000)
    with run.tcp() as sock:
        sock.sendall(octet(good[0]) + octet(big) + f"{huge}\n{good[1]}\n".encode())
    run.wait_for(lambda: run.listener.stats.received == 4)
    run.stop()
    rows = list(RawEvent.objects.order_by("id").values_list("status", "reason", "size"))
    # The frame refused by the framing is quarantined too, with its first 4 KiB.
    assert rows == [("accepted", "", len(good[0])), ("quarantined", "oversized", len(big)),
                    ("quarantined", "oversized", 4096), ("accepted", "", len(good[1]))]
    refused = RawEvent.objects.get(size=4096)
    assert (bytes(refused.payload), refused.detail) == (
        b"y" * 4096, "oversized: line over 100000 bytes")
    assert run.listener.stats.rejected == 1
    event = SecurityEvent.objects.get(kind="monitoring.frame.rejected")
    assert event.data == {"address": "127.0.0.1", "detail": "oversized", "count": 1}
    assert sum(e.data["reasons"]["oversized"] for e in SecurityEvent.objects.filter(
        kind="monitoring.quarantine")) == 2


@pytest.mark.django_db(transaction=True)
def test_unknown_senders_are_recorded_and_nothing_is_ingested_p11_12(
    personas: dict[str, Any], running: Any
) -> None:
    services.source_create(
        actor=personas["it_security"], name="Firewall", kind="siem", system="FW",
        format="syslog", addresses=["10.9.9.9", "192.168.0.0/16"],
    )
    run = running()
    run.udp([line.encode() for line in benign(5)])
    with run.tcp() as sock:
        sock.sendall(octet(benign(1)[0]))
    run.wait_for(lambda: run.listener.stats.unknown == 6)
    run.stop()
    assert RawEvent.objects.count() == 0
    events = list(SecurityEvent.objects.filter(kind="monitoring.source.unknown")
                  .order_by("id").values_list("source_ip", "data"))
    # once per address per minute; the count of what followed is written at shutdown
    assert events == [
        ("127.0.0.1", {"address": "127.0.0.1", "detail": "udp", "count": 1}),
        ("127.0.0.1", {"address": "127.0.0.1", "detail": "at shutdown", "count": 5}),
    ]


@pytest.mark.django_db(transaction=True)
def test_brute_force_over_tcp_raises_an_alert_cyb_03(lims: EventSource, running: Any) -> None:
    run = running()
    with run.tcp() as sock:
        sock.sendall(b"".join(octet(line) for line in failed_logins(10)))
    run.wait_for(lambda: run.listener.stats.received == 10)
    run.stop()
    alert = Alert.objects.get()
    assert (alert.number, alert.level, alert.source_id) == ("ALERT-2026-0001", "high", lims.pk)
    assert run.listener.stats.alerts == 1
    assert RawEvent.objects.filter(status="accepted").count() == 10


@pytest.mark.django_db(transaction=True)
def test_udp_overflow_is_counted_and_reported_never_silent_a11_10(
    lims: EventSource, running: Any
) -> None:
    """With a tiny queue and no patience, a burst delivered in one loop turn overflows:
    what was not kept is counted and reported, and kept + overflow = sent."""
    run = running(queue_size=5, overflow_wait=0.0, batch_size=5)
    listener = run.listener
    assert run._loop is not None
    lines = [line.encode() for line in benign(500)]
    run._loop.call_soon_threadsafe(
        lambda: [listener._udp_datagram(data, ("127.0.0.1", 40000)) for data in lines]
    )
    run.wait_for(lambda: listener.stats.received == 500)
    run.stop()
    kept = RawEvent.objects.count()
    assert listener.stats.overflow > 0
    assert kept + listener.stats.overflow == 500
    reported = sum(e.data["count"] for e in SecurityEvent.objects.filter(
        kind="monitoring.overflow"))
    assert reported == listener.stats.overflow


@pytest.mark.django_db(transaction=True)
def test_a_burst_over_tcp_arrives_without_loss(lims: EventSource, running: Any) -> None:
    n = 20_000
    lines = benign(n)
    data = "".join(f"{line}\n" for line in lines).encode()
    run = running(batch_size=2000, queue_size=20_000)
    started = time.perf_counter()
    with run.tcp() as sock:
        sock.sendall(data)
    run.wait_for(lambda: run.listener.stats.accepted + run.listener.stats.quarantined == n,
                 timeout=300)
    elapsed = time.perf_counter() - started
    run.stop()
    assert RawEvent.objects.filter(status="accepted").count() == n
    print(f"\nsyslog TCP burst: {n} events received, parsed and stored in {elapsed:.2f} s "
          f"= {n / elapsed:,.0f} events/s")


# --- event time: a sender's clock cannot steer or silence detection (issue 12 item 5) ---------

FUTURE = "<14>1 2030-01-01T00:00:00Z lims01 labware 77 - - sample S-000001 viewed by qc_analyst"


def sshd_replay(n: int, *, ip: str = "112.95.230.3") -> list[str]:
    """``n`` failed root logins as sshd and PAM log them (RFC 3164: no year), dated in
    January: ten months before the listener's clock (T0), so dated back in the past."""
    lines = []
    for i in range(n):
        at = datetime(2026, 1, 10, 7, 27, 50, tzinfo=UTC) + timedelta(seconds=3 * i)
        head = f"<38>{at:%b} {at.day:2d} {at:%H:%M:%S} LabSZ sshd[{24235 + 2 * i}]:"
        lines += [
            f"{head} pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 "
            f"tty=ssh ruser= rhost={ip}  user=root",
            f"{head} Failed password for root from {ip} port {45378 + i} ssh2",
            f"{head} Received disconnect from {ip}: 11: Bye Bye [preauth]",
        ]
    return lines


@pytest.mark.django_db(transaction=True)
def test_brute_force_after_a_future_dated_line_raises_the_alert_cyb_04(
    lims: EventSource, running: Any,
) -> None:
    run = running()
    with run.tcp() as sock:
        sock.sendall(octet(FUTURE))
    run.wait_for(lambda: run.listener.stats.accepted == 1)
    with run.tcp() as sock:
        sock.sendall(b"".join(octet(line) for line in failed_logins(10)))
    run.wait_for(lambda: run.listener.stats.accepted == 11)
    run.stop()
    assert list(Alert.objects.values_list("title", "count")) == [
        ("Brute force against one account", 10)]


@pytest.mark.django_db(transaction=True)
def test_a_year_less_replay_after_current_events_raises_the_alert_cyb_04(
    lims: EventSource, running: Any,
) -> None:
    run = running()
    with run.tcp() as sock:
        sock.sendall(b"".join(octet(line) for line in benign(3)))
    run.wait_for(lambda: run.listener.stats.accepted == 3)
    with run.tcp() as sock:
        sock.sendall(b"".join(octet(line) for line in sshd_replay(10)))
    run.wait_for(lambda: run.listener.stats.accepted == 33)
    run.stop()
    assert list(Alert.objects.values_list("title", "count", "group_key")) == [
        ("Brute force against one account", 10,
         "actor.user.name=root|src_endpoint.ip=112.95.230.3")]


@pytest.mark.django_db(transaction=True)
def test_the_listener_counts_late_and_ahead_events_a11_10(
    lims: EventSource, running: Any,
) -> None:
    run = running()
    with run.tcp() as sock:
        sock.sendall(b"".join(octet(line) for line in [FUTURE, *sshd_replay(2)]))
    run.wait_for(lambda: run.listener.stats.accepted == 7)
    run.stop()
    assert (run.listener.stats.ahead, run.listener.stats.late) == (1, 6)


@pytest.mark.django_db(transaction=True)
def test_the_syslog_command_refuses_bad_ports() -> None:
    with pytest.raises(CommandError, match="Nothing to listen on"):
        call_command("syslog", "--udp-port", "0", "--tcp-port", "0")
    with pytest.raises(CommandError, match="--tcp-port must be between 0 and 65535"):
        call_command("syslog", "--tcp-port", "70000")


# --- HTTP batch endpoint ----------------------------------------------------------------------


@pytest.fixture
def sender(personas: dict[str, Any]) -> dict[str, Any]:
    admin = personas["admin"]
    integration = accounts.integration_create(actor=admin, name="LIMS sender", kind="lims",
                                              system="LabWare LIMS")
    source = services.source_create(
        actor=personas["it_security"], name="LIMS HTTP", kind="lims", system="LabWare LIMS",
        format="syslog", integration=integration,
    )
    issued = accounts.token_create(actor=admin, name="ingest", scopes=["monitoring.ingest"],
                                   days=30, integration=integration)
    return {"source": source, "integration": integration, "secret": issued.secret}


def post(secret: str, body: bytes | str, content_type: str = "text/plain") -> Any:
    return Client().post("/api/v1/monitoring/events", data=body, content_type=content_type,
                         headers={"Authorization": f"Bearer {secret}"})


@pytest.mark.django_db
def test_http_batch_is_ingested_202_a11_10(sender: dict[str, Any]) -> None:
    body = "\n".join([*failed_logins(10), "not syslog at all", ""])
    response = post(sender["secret"], body)
    assert response.status_code == 202
    assert response.json() == {"received": 11, "accepted": 10, "quarantined": 1,
                               "reasons": {"bad_pri": 1},
                               "alerts": [Alert.objects.get().number], "detection": "inline"}
    assert set(RawEvent.objects.values_list("channel", flat=True)) == {"http"}


@pytest.mark.django_db
def test_http_json_lines(personas: dict[str, Any], sender: dict[str, Any]) -> None:
    EventSource.objects.filter(pk=sender["source"].pk).update(format="jsonl")
    lines = [json.dumps({"class_uid": 3002, "time": 1795683600000, "message": "sign-in",
                         "actor": {"user": {"name": "qc_analyst"}}}), "{broken"]
    response = post(sender["secret"], "\r\n".join(lines), "application/x-ndjson")
    assert response.status_code == 202
    data = response.json()
    assert (data["received"], data["accepted"], data["quarantined"]) == (2, 1, 1)


@pytest.mark.django_db
def test_http_unknown_token_401_and_recorded(sender: dict[str, Any]) -> None:
    forged = sender["secret"][:-4] + "AAAA"
    response = post(forged, failed_logins(1)[0])
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == (
        "Authentication required: a session or a valid bearer token.")
    assert SecurityEvent.objects.filter(kind="auth.token.rejected").count() == 1
    assert RawEvent.objects.count() == 0


@pytest.mark.django_db
def test_http_token_whose_holder_has_no_source_403(personas: dict[str, Any]) -> None:
    admin = personas["admin"]
    integration = accounts.integration_create(actor=admin, name="MES", kind="mes", system="MES")
    issued = accounts.token_create(actor=admin, name="ingest", scopes=["monitoring.ingest"],
                                   days=30, integration=integration)
    response = post(issued.secret, failed_logins(1)[0])
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == (
        "This token's holder is not registered as an event source.")
    assert RawEvent.objects.count() == 0


@pytest.mark.django_db
def test_http_token_without_the_ingest_scope_403(personas: dict[str, Any],
                                                 sender: dict[str, Any]) -> None:
    issued = accounts.token_create(actor=personas["admin"], name="other",
                                   scopes=["monitoring.event.view"], days=30,
                                   integration=sender["integration"])
    response = post(issued.secret, failed_logins(1)[0])
    assert response.status_code == 403
    assert response.json()["detail"].startswith("Not allowed")
    assert RawEvent.objects.count() == 0


@pytest.mark.django_db
def test_http_body_over_the_limit_413(sender: dict[str, Any], settings: Any) -> None:
    settings.CYBERQMS_MAX_BODY_BYTES = 2048
    response = post(sender["secret"], "\n".join(failed_logins(40)))
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert RawEvent.objects.count() == 0


@pytest.mark.django_db
def test_http_empty_body_422_and_wrong_type_415(sender: dict[str, Any]) -> None:
    response = post(sender["secret"], "\n\r\n")
    assert (response.status_code, response["Content-Type"]) == (422, "application/problem+json")
    assert response.json()["errors"] == [
        {"field": "body", "message": "at least one non-empty line"}]
    response = post(sender["secret"], "{}", "application/json")
    assert (response.status_code, response["Content-Type"]) == (415, "application/problem+json")
    assert RawEvent.objects.count() == 0


@pytest.mark.django_db
def test_http_inactive_source_403(sender: dict[str, Any]) -> None:
    EventSource.objects.filter(pk=sender["source"].pk).update(is_active=False)
    response = post(sender["secret"], failed_logins(1)[0])
    assert response.status_code == 403
    assert response.json()["detail"] == "source LIMS HTTP is not active."


# --- file import ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_import_summarises_what_was_kept_a11_10(lims: EventSource, tmp_path: Path,
                                                capsys: Any) -> None:
    path = tmp_path / "events.log"
    path.write_bytes(("\n".join([*failed_logins(10), "garbage", "<13>bad"]) + "\n\n").encode()
                     + b"\xff\xfe\n")
    call_command("events", "import", str(path), "--source", "LIMS BSL", "--batch-size", "4")
    out = capsys.readouterr().out.splitlines()
    alert = Alert.objects.get()
    assert out == [
        "LIMS BSL: received 13, accepted 11, quarantined 2, alerts 1",
        "  quarantined bad_pri: 1",
        "  quarantined invalid_utf8: 1",
        f"  alert {alert.number}: {alert.title}",
    ]
    assert set(RawEvent.objects.values_list("channel", flat=True)) == {"file"}


@pytest.mark.django_db
def test_import_with_another_format(lims: EventSource, tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps({"class_uid": 3002, "message": "sign-in"}) + "\n")
    call_command("events", "import", str(path), "--source", "LIMS BSL", "--format", "jsonl")
    assert capsys.readouterr().out.splitlines() == [
        "LIMS BSL: received 1, accepted 1, quarantined 0, alerts 0"]
    lims.refresh_from_db()
    assert lims.format == "syslog"  # the registered source is unchanged


@pytest.mark.django_db
def test_import_refuses_unknown_source_and_unreadable_file(lims: EventSource,
                                                           tmp_path: Path) -> None:
    path = tmp_path / "events.log"
    path.write_text(failed_logins(1)[0])
    with pytest.raises(CommandError) as refused:
        call_command("events", "import", str(path), "--source", "Nope")
    assert str(refused.value) == "No event source named 'Nope' (registered: LIMS BSL)."
    assert refused.value.returncode == 1  # the shell sees exit status 1 and the message
    with pytest.raises(CommandError) as refused:
        call_command("events", "import", str(tmp_path / "missing.log"), "--source", "LIMS BSL")
    assert str(refused.value) == f"Cannot read {tmp_path / 'missing.log'}: No such file or directory."
    assert RawEvent.objects.count() == 0
