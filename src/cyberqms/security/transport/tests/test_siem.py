"""Forwarding cyberqms's own security events to a SIEM (issue 5, deliverable 3; CYB-03):
syslog (RFC 5424) with CEF payloads over UDP, TCP (RFC 6587 octet counting) and TLS
(RFC 5425), checked against real loopback receivers that read what arrives with
cyberqms's own parsers."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.tasks import default_task_backend
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from cyberqms import __version__
from cyberqms.platform.core.events import emit_security_event
from cyberqms.platform.core.models import SecurityEvent, Severity
from cyberqms.security.detect.parsers import CefEvent, FrameDecoder, ParseError, parse_line
from cyberqms.security.monitoring import services
from cyberqms.security.monitoring.models import RawEvent
from cyberqms.security.transport import siem

T0 = datetime(2026, 11, 20, 9, 0, 0, 123456, tzinfo=UTC)


# --- a SIEM on loopback ---------------------------------------------------------------------


class Receiver:
    """Collects the syslog messages that arrive: UDP datagrams, or TCP/TLS streams framed
    by cyberqms's own `FrameDecoder` (octet counting only, as RFC 5425 requires)."""

    def __init__(self, protocol: str, server_context: ssl.SSLContext | None = None) -> None:
        self.protocol = protocol
        self.frames: list[bytes] = []
        self.rejected: list[ParseError] = []
        self.handshake_errors: list[str] = []
        self.connections = 0
        self._context = server_context
        self._changed = threading.Condition()
        kind = socket.SOCK_DGRAM if protocol == "udp" else socket.SOCK_STREAM
        self._sock = socket.socket(socket.AF_INET, kind)
        self._sock.bind(("127.0.0.1", 0))
        if protocol != "udp":
            self._sock.listen()
        self.port: int = self._sock.getsockname()[1]
        self._thread = threading.Thread(
            target=self._serve_udp if protocol == "udp" else self._serve_stream, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _add(self, frames: list[bytes | ParseError]) -> None:
        with self._changed:
            for frame in frames:
                if isinstance(frame, ParseError):
                    self.rejected.append(frame)
                else:
                    self.frames.append(frame)
            self._changed.notify_all()

    def _serve_udp(self) -> None:
        while True:
            try:
                data, _ = self._sock.recvfrom(65535)
            except OSError:
                return
            self._add([data])

    def _serve_stream(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        with self._changed:
            self.connections += 1
        decoder = FrameDecoder(framing="octet", max_frame=1024 * 1024)
        try:
            if self._context is not None:
                conn.settimeout(10)
                try:
                    conn = self._context.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError) as exc:
                    with self._changed:
                        self.handshake_errors.append(type(exc).__name__)
                        self._changed.notify_all()
                    return
            while chunk := conn.recv(65536):
                self._add(decoder.feed(chunk))
            self._add(decoder.close())
        except OSError:
            self._add(decoder.close())
        finally:
            conn.close()

    def wait(self, check: Callable[[Receiver], bool], timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not check(self):
                left = deadline - time.monotonic()
                assert left > 0, (self.frames, self.rejected, self.handshake_errors)
                self._changed.wait(left)

    def messages(self, n: int, timeout: float = 10) -> list[CefEvent]:
        self.wait(lambda r: len(r.frames) >= n, timeout)
        parsed = [parse_line(frame, "syslog") for frame in self.frames]
        assert all(isinstance(p, CefEvent) for p in parsed)
        return parsed  # type: ignore[return-value]  # all CefEvent, asserted above

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        self._thread.join(5)


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    started: list[Receiver] = []

    def start(protocol: str, server_context: ssl.SSLContext | None = None) -> Receiver:
        started.append(Receiver(protocol, server_context))
        return started[-1]

    yield start
    for running in started:
        running.close()


def make_pki(folder: Path) -> dict[str, Path]:
    """A throw-away CA and a server certificate for localhost and 127.0.0.1 it signed."""
    now = datetime.now(UTC)

    def build(subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name,
              signer: ec.EllipticCurvePrivateKey, *, ca: bool) -> x509.Certificate:
        public = key.public_key()
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer).public_key(public).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                signer.public_key()), critical=False)
        )
        if ca:
            builder = builder.add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        else:
            builder = builder.add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            ]), critical=False).add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cyberqms test SIEM CA")])
    ca_cert = build("cyberqms test SIEM CA", ca_key, ca_name, ca_key, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = build("localhost", server_key, ca_name, ca_key, ca=False)
    other_key = ec.generate_private_key(ec.SECP256R1())
    other_ca = build("someone else's CA", other_key, x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, "someone else's CA")]), other_key, ca=True)
    paths = {name: folder / f"{name}.pem" for name in ("ca", "cert", "key", "other_ca")}
    paths["ca"].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths["other_ca"].write_bytes(other_ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return paths


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Path]:
    return make_pki(tmp_path)


def server_context(pki: dict[str, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki["cert"], pki["key"])
    return context


@pytest.fixture
def siem_to(settings: Any) -> Callable[..., None]:
    def configure(address: str, protocol: str, *, ca_file: str = "",
                  hostname: str = "qms01.example") -> None:
        settings.CYBERQMS_SIEM_ADDRESS = address
        settings.CYBERQMS_SIEM_PROTOCOL = protocol
        settings.CYBERQMS_SIEM_CA_FILE = ca_file
        settings.CYBERQMS_SIEM_HOSTNAME = hostname

    return configure


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def emit_committed(capture: Any, **fields: Any) -> SecurityEvent:
    """Raise a security event and run what waits for the commit (the sink)."""
    with capture(execute=True):
        return emit_security_event(**fields)


LOCKOUT = {
    "kind": "auth.lockout", "severity": Severity.HIGH,
    "message": "Account treyes locked after 5 failed sign-ins | from=192.0.2.44 \\ x",
    "username": "treyes", "source_ip": "192.0.2.44", "actor_id": 42,
    "data": {"site": "BSL", "subject": "treyes", "record": "DEV-2026-0001"},
}


# --- the format, field by field ---------------------------------------------------------------


def expected_fields(event: SecurityEvent, parsed: CefEvent, hostname: str) -> None:
    """Assert that ``parsed`` (what a receiver read) carries ``event`` field by field."""
    envelope = parsed.syslog
    assert envelope is not None
    kind = event.kind
    header_kind = kind[:512].replace("\r", " ").replace("\n", " ")
    msgid = "".join(c if "!" <= c <= "~" else "_" for c in kind)[:32] or "-"
    severity = str(event.severity)
    assert (envelope.format, envelope.version, envelope.facility, envelope.severity) == (
        "rfc5424", 1, 10, siem.SYSLOG_SEVERITY.get(severity, 5))
    assert envelope.timestamp == event.created_at
    assert envelope.timestamp_text is not None
    assert envelope.timestamp_text.endswith("Z")
    assert len(envelope.timestamp_text) == len("2026-11-20T09:00:00.123456Z")
    assert (envelope.hostname, envelope.app_name, envelope.msgid) == (
        hostname, "cyberqms", None if msgid == "-" else msgid)
    assert envelope.procid is not None
    assert envelope.procid.isdigit()
    assert envelope.structured_data == {
        "cyberqms@32473": {"id": str(event.pk),
                           "kind": kind.replace("\r", " ").replace("\n", " "),
                           "severity": severity,
                           "channel": event.channel},
        "origin": {"software": "cyberqms", "swVersion": __version__},
    }
    assert (parsed.version, parsed.device_vendor, parsed.device_product,
            parsed.device_version, parsed.signature_id, parsed.name, parsed.severity) == (
        0, "cyberqms", "cyberqms", __version__, header_kind,
        siem.NAMES.get(kind, header_kind), str(siem.CEF_SEVERITY.get(severity, 5)))
    data = event.data or {}
    details = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    record = data.get("record", "")
    words = set(kind.split("."))
    expected = {
        "rt": str((event.created_at - datetime(1970, 1, 1, tzinfo=UTC))
                  // timedelta(milliseconds=1)),
        "cat": kind.split(".", 1)[0][:1023].rstrip(" "),
        "act": kind[:63].rstrip(" "),
        "outcome": "failure" if words & siem._FAILURE_WORDS else "success",
        "suser": event.username[:1023].rstrip(" "),
        "suid": "" if event.actor_id is None else str(event.actor_id),
        "duser": data.get("subject", "")[:1023].rstrip(" "),
        "src": event.source_ip or "",
        "externalId": str(event.pk),
        "msg": event.message[:1023].rstrip(" "),
    }
    labels = {"Site": data.get("site", ""), "Record": record, "Channel": event.channel,
              "Details": details if data else ""}
    expected_labels = {k: v[:4000].rstrip(" ") for k, v in labels.items()}
    ext = parsed.extension
    assert {k: ext.get(k, "") for k in expected} == expected
    assert parsed.labels == {k: v for k, v in expected_labels.items() if v}


def test_a_lockout_as_rfc5424_with_cef_field_by_field() -> None:
    event = SecurityEvent(pk=17, created_at=T0, channel="web", **LOCKOUT)
    line = siem.format_syslog(event, hostname="qms01.example", procid="4242")
    assert line.decode() == (
        '<83>1 2026-11-20T09:00:00.123456Z qms01.example cyberqms 4242 auth.lockout '
        '[cyberqms@32473 id="17" kind="auth.lockout" severity="high" channel="web"]'
        f'[origin software="cyberqms" swVersion="{__version__}"] '
        f'CEF:0|cyberqms|cyberqms|{__version__}|auth.lockout|Account locked out|8|'
        'rt=1795165200123 cat=auth act=auth.lockout outcome=failure suser=treyes suid=42 '
        'duser=treyes src=192.0.2.44 externalId=17 cs1Label=Site cs1=BSL '
        'cs2Label=Record cs2=DEV-2026-0001 cs3Label=Channel cs3=web cs4Label=Details '
        'cs4={"record":"DEV-2026-0001","site":"BSL","subject":"treyes"} '
        'msg=Account treyes locked after 5 failed sign-ins | from\\=192.0.2.44 \\\\ x'
    )
    parsed = parse_line(line, "syslog")
    assert isinstance(parsed, CefEvent)
    expected_fields(event, parsed, "qms01.example")


def test_header_escaping_and_control_characters() -> None:
    event = SecurityEvent(pk=3, created_at=T0, kind="odd|kind\\x\nnext", severity="bogus",
                          message="a\x00b\tc\r\nd  ", channel="", data={})
    cef = siem.format_cef(event)
    assert cef.startswith(f"CEF:0|cyberqms|cyberqms|{__version__}|odd\\|kind\\\\x next|"
                          "odd\\|kind\\\\x next|5|")
    assert cef.endswith("msg=a\ufffdb\tc\\r\\nd")
    parsed = parse_line(cef, "cef")
    assert isinstance(parsed, CefEvent)
    assert (parsed.signature_id, parsed.extension["msg"]) == (
        "odd|kind\\x next", "a\ufffdb\tc\r\nd")
    line = siem.format_syslog(event, hostname="h ost\u00e9", procid="1")
    assert line.split(b" ")[2:6] == [b"h_ost_", b"cyberqms", b"1", b"odd|kind\\x_next"]


# Text with what CEF and syslog must escape, non-ASCII and the occasional very long run;
# control characters other than tab, CR and LF are left to the example above.
special = st.sampled_from(["|", "=", "\\", "\n", "\r", "\t", " ", '"', "]", "[", "é", "日",
                           "\U0001f512", "CEF:", " cs1=", "\\n", "\\="])
plain = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"))
pieces = st.lists(st.one_of(special, plain), max_size=40).map("".join)
texts = st.one_of(
    pieces,
    st.builds(lambda s, n: s * n, pieces.filter(bool), st.integers(100, 1500)),
)
kinds = st.one_of(st.sampled_from(sorted(siem.NAMES)), texts)


@pytest.mark.slow
@hypothesis_settings(max_examples=300, deadline=None)
@given(
    pk=st.integers(1, 2**62), kind=kinds, severity=st.sampled_from([*Severity.values, "x"]),
    # hypothesis bounds are naive; the zones come from `timezones`
    created_at=st.datetimes(min_value=datetime(1971, 1, 1),  # noqa: DTZ001  # see above
                            max_value=datetime(2200, 1, 1),  # noqa: DTZ001  # see above
                            timezones=st.sampled_from([UTC, timezone(timedelta(hours=-7)),
                                                       timezone(timedelta(hours=5,
                                                                          minutes=30))])),
    username=texts, message=texts, channel=st.sampled_from(["web", "api", "cli", "system", ""]),
    source_ip=st.one_of(st.none(), st.ip_addresses().map(str)),
    actor_id=st.one_of(st.none(), st.integers(1, 2**40)),
    data=st.dictionaries(st.sampled_from(["site", "record", "subject", "prefix", "count"]),
                         texts, max_size=4),
)
def test_any_security_event_round_trips_through_format_and_parse(
    pk: int, kind: str, severity: str, created_at: datetime, username: str, message: str,
    channel: str, source_ip: str | None, actor_id: int | None, data: dict[str, str],
) -> None:
    event = SecurityEvent(pk=pk, created_at=created_at, kind=kind, severity=severity,
                          username=username, message=message, channel=channel,
                          source_ip=source_ip, actor_id=actor_id, data=data)
    parsed = parse_line(siem.format_syslog(event, hostname="qms01.example"), "syslog")
    assert isinstance(parsed, CefEvent)
    expected_fields(event, parsed, "qms01.example")


def test_addresses_are_host_and_port() -> None:
    assert siem.parse_address("siem.example:6514") == ("siem.example", 6514)
    assert siem.parse_address("[2001:db8::1]:514") == ("2001:db8::1", 514)
    for bad, problem in [
        ("siem.example", "expected host:port"), (":514", "expected host:port"),
        ("2001:db8::1:514", "expected host:port"),
        ("siem.example:0", "port '0' is not between 1 and 65535"),
        ("siem.example:70000", "port '70000' is not between 1 and 65535"),
        ("[2001:db8::1]514", r"write an IPv6 address as \[address\]:port"),
        ("[siem.example]:514", "'siem.example' is not an IPv6 address"),
    ]:
        with pytest.raises(ValueError, match=problem):
            siem.parse_address(bad)


# --- delivery through the worker, over real sockets ---------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("protocol", ["udp", "tcp", "tls"])
def test_security_events_reach_the_siem_field_by_field_cyb_03(
    protocol: str, receiver: Any, siem_to: Any, pki: dict[str, Path],
    django_capture_on_commit_callbacks: Any,
) -> None:
    siem_box = receiver(protocol, server_context(pki) if protocol == "tls" else None)
    siem_to(siem_box.address, protocol, ca_file=str(pki["ca"]) if protocol == "tls" else "")
    first = emit_committed(django_capture_on_commit_callbacks, **LOCKOUT)
    second = emit_committed(
        django_capture_on_commit_callbacks, kind="auth.login.failure", severity=Severity.LOW,
        message="Failed sign-in for jöns\nsecond line", username="jöns",
        source_ip="2001:db8::7")
    received = siem_box.messages(2)
    assert len(received) == 2
    by_id = {m.extension["externalId"]: m for m in received}
    for event in (first, second):
        event.refresh_from_db()
        expected_fields(event, by_id[str(event.pk)], "qms01.example")
    assert siem_box.rejected == []
    assert not SecurityEvent.objects.filter(kind="monitoring.siem.failed").exists()


@pytest.mark.django_db
def test_the_request_only_queues_a_task_no_network(
    settings: Any, siem_to: Any, receiver: Any, django_capture_on_commit_callbacks: Any,
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    siem_box = receiver("tcp")
    siem_to(siem_box.address, "tcp")
    event = emit_committed(django_capture_on_commit_callbacks, **LOCKOUT)
    (queued,) = default_task_backend.results  # type: ignore[attr-defined]  # the DummyBackend
    assert (queued.task.name, list(queued.args), queued.task.run_after) == (
        "deliver_to_siem", [[event.pk]], None)
    assert queued.task.call(*queued.args) == {"sent": 1}  # what the worker does
    siem_box.messages(1)
    # Had the request sent too, its connection would have come first: one in all.
    assert siem_box.connections == 1


@pytest.mark.django_db
def test_failures_are_retried_later_then_recorded_once_without_a_loop(
    settings: Any, siem_to: Any, django_capture_on_commit_callbacks: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    port = closed_port()
    siem_to(f"127.0.0.1:{port}", "tcp")
    event = emit_committed(django_capture_on_commit_callbacks, **LOCKOUT)
    results = default_task_backend.results  # type: ignore[attr-defined]  # the DummyBackend
    delays = []
    for attempt in range(1, siem.MAX_ATTEMPTS + 1):
        current = results[-1]
        assert list(current.args) == ([[event.pk], attempt] if attempt > 1 else [[event.pk]])
        before = datetime.now(UTC)
        cache.delete(siem.BREAKER_KEY)  # a retry comes after the breaker's window
        outcome = current.task.call(*current.args)
        if attempt < siem.MAX_ATTEMPTS:
            assert (outcome["retry"], outcome["tried"]) == (attempt + 1, True)
            assert outcome["error"].startswith("ConnectionRefusedError")
            delays.append(round((results[-1].task.run_after - before).total_seconds()))
    assert delays == [30, 120, 600, 1800]
    assert outcome == {"sent": 0, "error": "ConnectionRefusedError: Connection refused",
                       "tried": True}
    failed = SecurityEvent.objects.get(kind="monitoring.siem.failed")
    assert failed.severity == "high"
    assert failed.message == (
        f"1 security event(s) not delivered to the SIEM tcp://127.0.0.1:{port} after 5 "
        "attempt(s): ConnectionRefusedError: Connection refused")
    assert failed.data == {"target": f"tcp://127.0.0.1:{port}", "events": [event.pk],
                           "kinds": ["auth.lockout"], "attempts": 5,
                           "error": "ConnectionRefusedError: Connection refused"}
    # the failure event is not queued for the SIEM: 1 first attempt + 4 retries, no more
    assert len(results) == siem.MAX_ATTEMPTS
    logged = [r.getMessage() for r in caplog.records if r.name == "cyberqms.security.transport.siem"]
    assert logged[-1] == (f"SIEM tcp://127.0.0.1:{port}: 1 event(s) not delivered after 5 "
                          "attempts: ConnectionRefusedError: Connection refused")
    assert len(logged) == 5
    assert all("treyes" not in line for line in logged)  # no event content in the logs


@pytest.mark.django_db
def test_a_siem_with_a_certificate_we_do_not_trust_is_refused_and_not_dialled_again_at_once(
    receiver: Any, siem_to: Any, pki: dict[str, Path], django_capture_on_commit_callbacks: Any,
) -> None:
    """Inline tasks retry at once, within the breaker's window: the SIEM is dialled once,
    then events count their attempts without holding the worker."""
    siem_box = receiver("tls", server_context(pki))
    siem_to(siem_box.address, "tls", ca_file=str(pki["other_ca"]))
    first = emit_committed(django_capture_on_commit_callbacks, **LOCKOUT)
    second = emit_committed(django_capture_on_commit_callbacks, **LOCKOUT)
    failures = SecurityEvent.objects.filter(kind="monitoring.siem.failed").order_by("id")
    assert [(f.data["events"], f.data["attempts"], f.data["error"]) for f in failures] == [
        ([event.pk], siem.MAX_ATTEMPTS,
         "certificate refused: unable to get local issuer certificate")
        for event in (first, second)]
    siem_box.wait(lambda r: len(r.handshake_errors) == 1)
    # Every attempt ended before emit_committed returned (the failures above are stored).
    assert (siem_box.connections, siem_box.frames) == (1, [])


@pytest.mark.django_db
def test_forwarding_is_off_without_an_address_and_skips_its_own_events(
    receiver: Any, siem_to: Any, django_capture_on_commit_callbacks: Any,
) -> None:
    siem_box = receiver("tcp")
    siem_to("", "tcp")
    emit_committed(django_capture_on_commit_callbacks, **LOCKOUT)
    siem_to(siem_box.address, "tcp")
    emit_committed(django_capture_on_commit_callbacks, kind="monitoring.siem.failed",
                   severity=Severity.HIGH, message="x")
    emit_committed(django_capture_on_commit_callbacks, kind="monitoring.quarantine",
                   severity=Severity.LOW, message="2 of 3 events quarantined")
    (only,) = siem_box.messages(1)
    assert only.signature_id == "monitoring.quarantine"


@pytest.mark.django_db
def test_a_misconfigured_address_is_recorded_not_raised(
    siem_to: Any, django_capture_on_commit_callbacks: Any,
) -> None:
    siem_to("siem.example", "tcp")
    event = emit_committed(django_capture_on_commit_callbacks, **LOCKOUT)
    failed = SecurityEvent.objects.get(kind="monitoring.siem.failed")
    assert failed.data == {
        "target": "siem.example", "events": [event.pk], "kinds": ["auth.lockout"],
        "attempts": 1, "error": "CYBERQMS_SIEM_ADDRESS 'siem.example': expected host:port"}


@pytest.mark.django_db(transaction=True)
def test_cyberqms_reads_its_own_siem_output(
    personas: dict[str, Any], siem_to: Any, django_capture_on_commit_callbacks: Any,
) -> None:
    """The syslog listener, as a SIEM would: the CEF inside RFC 5424 is accepted and
    normalized (actor and source address searchable)."""
    from django.utils.timezone import now

    from cyberqms.security.transport.tests.test_transport import RunningListener

    services.reload_rules()
    source = services.source_create(
        actor=personas["it_security"], name="QMS relay", kind="siem", system="cyberqms",
        format="syslog", addresses=["127.0.0.1"])
    # The event is stamped with the wall clock when emitted: so is its receipt.
    with RunningListener(udp_port=None, clock=now) as run:
        siem_to(f"127.0.0.1:{run.listener.tcp_port}", "tcp")
        emit_committed(django_capture_on_commit_callbacks, **LOCKOUT)
        run.wait_for(lambda: run.listener.stats.accepted == 1)
    row = RawEvent.objects.get(source=source)
    assert (row.status, row.actor, row.src_ip) == ("accepted", "treyes", "192.0.2.44")


# --- cyberqms siem test / status ------------------------------------------------------------


@pytest.mark.django_db
def test_siem_test_command_sends_one_event(receiver: Any, siem_to: Any, capsys: Any) -> None:
    siem_box = receiver("tcp")
    siem_to(siem_box.address, "tcp", hostname="qms01.example")
    call_command("siem", "test")
    event = SecurityEvent.objects.get(kind="monitoring.siem.test")
    assert capsys.readouterr().out == (
        f"SIEM test event {event.pk} sent to tcp://{siem_box.address} as qms01.example\n")
    (received,) = siem_box.messages(1)
    assert (received.signature_id, received.name, received.extension["externalId"],
            received.extension["msg"], received.labels["Channel"]) == (
        "monitoring.siem.test", "SIEM forwarding test", str(event.pk),
        "SIEM forwarding test from cyberqms on qms01.example", "cli")


@pytest.mark.django_db
def test_siem_test_command_fails_with_the_reason(siem_to: Any, capsys: Any) -> None:
    port = closed_port()
    siem_to(f"127.0.0.1:{port}", "tcp")
    with pytest.raises(CommandError) as failed:
        call_command("siem", "test", "--timeout", "2")
    assert str(failed.value) == (f"SIEM test to tcp://127.0.0.1:{port} failed: "
                                 "ConnectionRefusedError: Connection refused.")
    assert failed.value.returncode == 1
    siem_to("", "tcp")
    with pytest.raises(CommandError, match="SIEM forwarding is off: set CYBERQMS_SIEM_ADDRESS"):
        call_command("siem", "test")
    siem_to(f"127.0.0.1:{port}", "udp")
    call_command("siem", "test")  # UDP cannot tell; nothing listens, nothing fails
    assert capsys.readouterr().out.endswith("(UDP: no delivery confirmation)\n")


@pytest.mark.django_db
def test_siem_status_shows_the_target_and_latest_failures(
    settings: Any, siem_to: Any, capsys: Any, django_capture_on_commit_callbacks: Any,
) -> None:
    port = closed_port()
    siem_to(f"127.0.0.1:{port}", "tcp")
    emit_committed(django_capture_on_commit_callbacks, **LOCKOUT)
    call_command("siem", "status")
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"SIEM forwarding to tcp://127.0.0.1:{port}"
    assert len(out) == 2
    assert out[1].endswith(f"1 security event(s) not delivered to the SIEM "
                           f"tcp://127.0.0.1:{port} after 5 attempt(s): "
                           "ConnectionRefusedError: Connection refused")
    siem_to("", "tcp")
    SecurityEvent.objects.filter(kind="monitoring.siem.failed").delete()
    call_command("siem", "status")
    assert capsys.readouterr().out.splitlines() == [
        "SIEM forwarding is off (CYBERQMS_SIEM_ADDRESS is empty)",
        "  no delivery failures recorded"]
