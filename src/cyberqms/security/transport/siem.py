"""Forwarding cyberqms's own security events to an external SIEM (issue 5, deliverable 3).

Each committed `SecurityEvent` becomes one syslog message (RFC 5424) whose MSG is a CEF
line, sent over UDP (RFC 5426), TCP with octet counting (RFC 6587) or TLS (RFC 5425, also
octet-counted). Example (wrapped here)::

    <92>1 2026-11-20T09:00:00.123456Z qms01 cyberqms 4242 auth.login.failure
    [cyberqms@32473 id="17" kind="auth.login.failure" severity="low" channel="web"]
    [origin software="cyberqms" swVersion="0.1.0"]
    CEF:0|cyberqms|cyberqms|0.1.0|auth.login.failure|Failed sign-in|3|rt=1795165200123
    cat=auth act=auth.login.failure outcome=failure suser=treyes src=192.0.2.44
    externalId=17 cs3Label=Channel cs3=web msg=Failed sign-in for treyes

Delivery never blocks the request that raised the event: the event sink (`forward`)
queues a task for the worker when the transaction commits. The task sends and, when the
SIEM cannot be reached, tries again later (`RETRY_DELAYS_S`); after `MAX_ATTEMPTS` it logs
the failure and records a `monitoring.siem.failed` security event, which is itself never
forwarded (no loops).

The SD-ID `cyberqms@32473` uses 32473, the private enterprise number RFC 5612 reserves
for documentation: a placeholder until cyberqms registers its own number with IANA.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import socket
import ssl
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.tasks import task
from django.utils import timezone

from cyberqms import __version__
from cyberqms.platform.core.events import emit_security_event
from cyberqms.platform.core.models import SecurityEvent, Severity
from cyberqms.platform.core.outbox import queue_with_change

logger = logging.getLogger("cyberqms.security.transport.siem")

ENTERPRISE_NUMBER: Final = 32473  # RFC 5612 documentation PEN: a placeholder, see above
SD_ID: Final = f"cyberqms@{ENTERPRISE_NUMBER}"
APP_NAME: Final = "cyberqms"
VENDOR: Final = "cyberqms"
PRODUCT: Final = "cyberqms"
FACILITY: Final = 10  # authpriv: security and authorization messages
PROTOCOLS: Final = ("udp", "tcp", "tls")
# Events about the forwarding itself stay here: forwarding them could loop.
NOT_FORWARDED: Final = ("monitoring.siem.",)
MAX_ATTEMPTS: Final = 5
RETRY_DELAYS_S: Final = (30, 120, 600, 1800)  # before attempts 2, 3, 4 and 5
TIMEOUT_S: Final = 10.0  # connect and send
# After a failed delivery the worker does not dial the SIEM again for this long: events
# raised meanwhile count the attempt and wait for their retry, so a SIEM that swallows
# connections cannot hold the shared worker for TIMEOUT_S per event. Shorter than the
# first retry delay, so retries do dial.
BREAKER_S: Final = 20
BREAKER_KEY: Final = "cyberqms:siem:failing"
LINGER_S: Final = 2.0  # after sending, wait this long for the receiver to close its side

Protocol = Literal["udp", "tcp", "tls"]

# --- formatting ---------------------------------------------------------------------------

# RFC 5424 severity (PRI) and CEF severity (0-10) of cyberqms's five levels.
SYSLOG_SEVERITY: Final = {"critical": 2, "high": 3, "medium": 4, "low": 5, "info": 6}
CEF_SEVERITY: Final = {"critical": 10, "high": 8, "medium": 5, "low": 3, "info": 1}

# CEF Name of the kinds cyberqms raises; any other kind is its own name.
NAMES: Final[dict[str, str]] = {
    "auth.login.success": "Sign-in",
    "auth.login.failure": "Failed sign-in",
    "auth.logout": "Sign-out",
    "auth.lockout": "Account locked out",
    "auth.unlock": "Account unlocked",
    "auth.mfa.failure": "Failed second-factor check",
    "auth.token.rejected": "API token rejected",
    "auth.session.idle_timeout": "Session ended after inactivity",
    "account.created": "Account created",
    "account.deactivated": "Account deactivated",
    "account.reactivated": "Account reactivated",
    "account.password_changed": "Password changed",
    "account.password_reset": "Password reset",
    "account.role_granted": "Role granted",
    "access.finding.raised": "Access finding raised",
    "backup.restore_test.failed": "Restore test failed",
    "backup.restored": "Database restored from a backup",
    "account.role_revoked": "Role revoked",
    "account.mfa.added": "Second factor added",
    "account.mfa.removed": "Second factor removed",
    "account.token_created": "API token created",
    "account.token_revoked": "API token revoked",
    "access.denied": "Access denied",
    "esig.failure": "Failed electronic signature",
    "trail.integrity.failure": "Audit-trail verification failed",
    "trail.integrity.failure.persisting": "Audit-trail verification still failing",
    "trail.seal.refused": "Audit trail not sealed",
    "trail.seq.voided": "Audit-trail numbers voided",
    "trail.review.discrepancy": "Audit-trail review discrepancy",
    "trail.key.rotated": "Audit-trail signing key rotated",
    "trail.export.create": "Audit-trail export",
    "monitoring.quarantine": "Events quarantined",
    "monitoring.overflow": "Syslog events not kept (queue full)",
    "monitoring.source.unknown": "Events from an unknown source",
    "monitoring.frame.rejected": "Syslog frames refused",
    "monitoring.ingest.failed": "Events could not be written",
    "monitoring.siem.test": "SIEM forwarding test",
}
_FAILURE_WORDS: Final = frozenset({
    "failure", "failed", "rejected", "denied", "refused", "discrepancy", "lockout",
    "unknown", "overflow",
})
# CEF field lengths (ArcSight CEF specification), in characters.
_MAX: Final = {"act": 63, "cat": 1023, "msg": 1023, "suser": 1023, "duser": 1023,
               "externalId": 40, "cs": 4000, "header": 512}


def _printable(value: str) -> str:
    """Control characters other than tab, CR and LF become U+FFFD: receivers treat NUL as
    the end of a frame, and the rest has no place in a log line."""
    if value.isprintable():
        return value
    return "".join("\ufffd" if _is_control(c) and c not in "\t\r\n" else c for c in value)


def _is_control(c: str) -> bool:
    code = ord(c)
    return code < 0x20 or 0x7F <= code < 0xA0


def cef_header(value: str) -> str:
    """A CEF header field: pipes and backslashes escaped; CR and LF (not allowed in the
    header) become spaces."""
    value = _printable(value)[: _MAX["header"]].replace("\r", " ").replace("\n", " ")
    return value.replace("\\", "\\\\").replace("|", "\\|")


def cef_value(value: str, limit: int) -> str:
    """A CEF extension value: backslash, equals sign, CR and LF escaped. CEF has no escape
    for a trailing space (parsers strip it), so trailing spaces are dropped."""
    value = _printable(value)[:limit].rstrip(" ")
    return (value.replace("\\", "\\\\").replace("=", "\\=")
            .replace("\r", "\\r").replace("\n", "\\n"))


def _ascii_token(value: str, limit: int) -> str:
    """An RFC 5424 header field (PRINTUSASCII, no space), or the NILVALUE."""
    token = "".join(c if "!" <= c <= "~" else "_" for c in value)[:limit]
    return token or "-"


def _sd_value(value: str) -> str:
    """An RFC 5424 PARAM-VALUE: '"', '\\' and ']' escaped; CR and LF become spaces."""
    value = _printable(value).replace("\r", " ").replace("\n", " ")
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def outcome(kind: str) -> str:
    return "failure" if _FAILURE_WORDS.intersection(kind.split(".")) else "success"


def _text(data: Mapping[str, Any], *keys: str) -> str:
    for key in keys:
        value = data.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
            return str(value)
    return ""


def record_of(data: Mapping[str, Any]) -> str:
    """The record an event is about, when its data names one."""
    if found := _text(data, "record"):
        return found
    for type_key, id_key in (("record_type", "record_id"), ("resource_type", "resource_id"),
                             ("object_type", "object_id")):
        kind, ident = _text(data, type_key), _text(data, id_key)
        if kind or ident:
            return f"{kind} {ident}".strip()
    return ""


def _epoch_ms(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def format_cef(event: SecurityEvent) -> str:
    """The CEF:0 line for ``event``.

    Extension: rt (milliseconds since the epoch), cat (first part of the kind), act (the
    kind), outcome (success or failure), suser, suid, duser (the account acted on),
    src, externalId (the event's id), cs1 Site, cs2 Record, cs3 Channel, cs4 Details
    (the event's data as JSON), msg."""
    kind = event.kind or ""
    severity = str(event.severity or "")
    data: Mapping[str, Any] = event.data if isinstance(event.data, Mapping) else {}
    header = "|".join([
        "CEF:0", cef_header(VENDOR), cef_header(PRODUCT), cef_header(__version__),
        cef_header(kind), cef_header(NAMES.get(kind, kind)),
        str(CEF_SEVERITY.get(severity, 5)),
    ])
    ext: list[tuple[str, str]] = []
    if event.created_at is not None:
        ext.append(("rt", str(_epoch_ms(event.created_at))))
    ext += [("cat", cef_value(kind.split(".", 1)[0], _MAX["cat"])),
            ("act", cef_value(kind, _MAX["act"])), ("outcome", outcome(kind))]
    if event.username:
        ext.append(("suser", cef_value(event.username, _MAX["suser"])))
    if event.actor_id is not None:
        ext.append(("suid", str(event.actor_id)))
    if subject := _text(data, "subject"):
        ext.append(("duser", cef_value(subject, _MAX["duser"])))
    if event.source_ip:
        ext.append(("src", cef_value(str(event.source_ip), 45)))
    if event.pk is not None:
        ext.append(("externalId", str(event.pk)))
    custom = [("Site", _text(data, "site")), ("Record", record_of(data)),
              ("Channel", event.channel or "")]
    if data:
        custom.append(("Details", json.dumps(data, sort_keys=True, ensure_ascii=False,
                                             separators=(",", ":"), default=str)))
    for number, (label, value) in enumerate(custom, 1):
        if value:
            ext += [(f"cs{number}Label", label), (f"cs{number}", cef_value(value, _MAX["cs"]))]
    ext.append(("msg", cef_value(event.message or "", _MAX["msg"])))
    return header + "|" + " ".join(f"{key}={value}" for key, value in ext if value)


def format_syslog(event: SecurityEvent, *, hostname: str, procid: str | None = None) -> bytes:
    """``event`` as one RFC 5424 message (UTF-8, without BOM) whose MSG is its CEF line."""
    severity = str(event.severity or "")
    pri = FACILITY * 8 + SYSLOG_SEVERITY.get(severity, 5)
    created = event.created_at or timezone.now()
    timestamp = created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    params = [("kind", event.kind or ""), ("severity", severity),
              ("channel", event.channel or "")]
    if event.pk is not None:
        params.insert(0, ("id", str(event.pk)))
    sd_params = "".join(f' {name}="{_sd_value(value)}"' for name, value in params)
    sd = (f"[{SD_ID}{sd_params}]"
          f'[origin software="{APP_NAME}" swVersion="{_sd_value(__version__)}"]')
    line = " ".join([
        f"<{pri}>1", timestamp, _ascii_token(hostname, 255), APP_NAME,
        _ascii_token(procid if procid is not None else str(os.getpid()), 128),
        _ascii_token(event.kind or "", 32), sd, format_cef(event),
    ])
    return line.encode("utf-8", "replace")


# --- where to send ------------------------------------------------------------------------


@dataclass(frozen=True)
class SiemTarget:
    host: str
    port: int
    protocol: Protocol
    ca_file: str = ""
    hostname: str = ""  # HOSTNAME of the messages; empty: this machine's name

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.protocol}://{host}:{self.port}"

    def message_hostname(self) -> str:
        return self.hostname or socket.gethostname()


def parse_address(value: str) -> tuple[str, int]:
    """``host:port`` or ``[IPv6]:port``."""
    value = value.strip()
    if value.startswith("["):
        host, sep, rest = value[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise ValueError("write an IPv6 address as [address]:port")
        port_text = rest[1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"{host!r} is not an IPv6 address") from None
    else:
        host, sep, port_text = value.rpartition(":")
        if not sep or not host or ":" in host:
            raise ValueError("expected host:port")
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"port {port_text!r} is not between 1 and 65535")
    return host, int(port_text)


def configured_target() -> SiemTarget | None:
    """The SIEM from the settings; None when forwarding is off (no address).

    :raises ImproperlyConfigured: the address or protocol cannot be used."""
    address = (settings.CYBERQMS_SIEM_ADDRESS or "").strip()
    if not address:
        return None
    protocol = (settings.CYBERQMS_SIEM_PROTOCOL or "").strip().lower()
    if protocol not in PROTOCOLS:
        raise ImproperlyConfigured(
            f"CYBERQMS_SIEM_PROTOCOL must be one of {', '.join(PROTOCOLS)}, not {protocol!r}")
    try:
        host, port = parse_address(address)
    except ValueError as exc:
        raise ImproperlyConfigured(f"CYBERQMS_SIEM_ADDRESS {address!r}: {exc}") from None
    # `protocol in PROTOCOLS` (checked above) does not narrow the str to the Protocol literal.
    return SiemTarget(host=host, port=port,
                      protocol=protocol,  # type: ignore[arg-type]  # see above
                      ca_file=settings.CYBERQMS_SIEM_CA_FILE or "",
                      hostname=settings.CYBERQMS_SIEM_HOSTNAME or "")


# --- sending ------------------------------------------------------------------------------


def octet_counted(message: bytes) -> bytes:
    """RFC 6587 §3.4.1 framing (also RFC 5425 for TLS): ``MSG-LEN SP SYSLOG-MSG``."""
    return b"%d %b" % (len(message), message)


def tls_context(ca_file: str) -> ssl.SSLContext:
    """Server certificate and host name checked against ``ca_file`` (else the system's
    trust store); TLS 1.2 at least."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def send(target: SiemTarget, messages: Iterable[bytes], *, timeout: float = TIMEOUT_S) -> int:
    """Send ``messages`` to ``target`` over one connection; the number sent.

    UDP is one datagram per message and cannot tell whether anything arrived. TCP and TLS
    write octet-counted frames, then close their side and wait up to `LINGER_S` for the
    receiver to close: closing with unread data (a TLS 1.3 session ticket) would reset the
    connection and could lose what the receiver had not read yet.

    :raises OSError: the SIEM could not be reached or the connection broke
        (`ssl.SSLError` for a refused certificate).
    """
    batch = list(messages)
    if target.protocol == "udp":
        family, kind, proto, _, address = socket.getaddrinfo(
            target.host, target.port, type=socket.SOCK_DGRAM)[0]
        with socket.socket(family, kind, proto) as sock:
            sock.settimeout(timeout)
            sock.connect(address)
            for message in batch:
                sock.send(message)
        return len(batch)
    payload = b"".join(octet_counted(message) for message in batch)
    with socket.create_connection((target.host, target.port), timeout=timeout) as raw:
        if target.protocol == "tls":
            with tls_context(target.ca_file).wrap_socket(
                raw, server_hostname=target.host
            ) as secure:
                secure.sendall(payload)
                _linger(secure)
        else:
            raw.sendall(payload)
            _linger(raw)
    return len(batch)


def _linger(sock: socket.socket) -> None:
    """Close our side and read (discarding) until the receiver closes or `LINGER_S`
    passes. Everything was written before; errors here change nothing."""
    deadline = time.monotonic() + LINGER_S
    try:
        sock.settimeout(LINGER_S)
        if isinstance(sock, ssl.SSLSocket):
            sock = sock.unwrap()  # close_notify; reads the peer's post-handshake messages
        sock.shutdown(socket.SHUT_WR)
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            if not sock.recv(4096):
                break
    except (OSError, ValueError):
        pass


def describe(exc: BaseException) -> str:
    """A short reason for logs and events (no secrets: the address is configuration)."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate refused: {exc.verify_message}"
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:200]


# --- delivery from the worker -------------------------------------------------------------


def forward(event: SecurityEvent) -> None:
    """The event sink: queue the event for delivery (when an address is set), with the
    transaction that writes it (core/outbox.py). Queued after the commit instead (a queue
    outside the database), a failure to queue is recorded as a delivery failure."""
    if not settings.CYBERQMS_SIEM_ADDRESS or event.kind.startswith(NOT_FORWARDED):
        return

    def not_queued(exc: Exception) -> None:
        _record_failure([event.pk], target=settings.CYBERQMS_SIEM_ADDRESS, attempts=0,
                        error=f"not queued: {describe(exc)}")

    queue_with_change(deliver_to_siem, [event.pk], on_error=not_queued)


@task
def deliver_to_siem(ids: list[int], attempt: int = 1) -> dict[str, Any]:
    """Send the security events ``ids`` to the SIEM; on failure queue attempt+1 after a
    delay, and after `MAX_ATTEMPTS` record `monitoring.siem.failed`."""
    try:
        target = configured_target()
    except ImproperlyConfigured as exc:
        logger.error("SIEM forwarding is misconfigured: %s", exc)
        _record_failure(ids, target=settings.CYBERQMS_SIEM_ADDRESS, attempts=attempt,
                        error=str(exc))
        return {"sent": 0, "error": str(exc)}
    if target is None:
        return {"sent": 0, "off": True}
    events = list(SecurityEvent.objects.filter(pk__in=ids).order_by("pk"))
    hostname = target.message_hostname()
    failing = cache.get(BREAKER_KEY)
    if failing is not None:
        error, tried = str(failing), False
    else:
        try:
            sent = send(target, [format_syslog(event, hostname=hostname) for event in events])
        except OSError as exc:
            error, tried = describe(exc), True
            cache.set(BREAKER_KEY, error, BREAKER_S)
        else:
            return {"sent": sent}
    how = "failed" if tried else f"not tried, the SIEM failed less than {BREAKER_S} s ago"
    if attempt < MAX_ATTEMPTS:
        logger.warning("SIEM %s: delivery of %d event(s) %s (attempt %d of %d): %s",
                       target, len(ids), how, attempt, MAX_ATTEMPTS, error)
        _retry(ids, attempt + 1)
        return {"sent": 0, "error": error, "tried": tried, "retry": attempt + 1}
    logger.error("SIEM %s: %d event(s) not delivered after %d attempts: %s",
                 target, len(ids), attempt, error)
    _record_failure(ids, target=str(target), attempts=attempt, error=error)
    return {"sent": 0, "error": error, "tried": tried}


def _retry(ids: list[int], attempt: int) -> None:
    """Queue the next attempt after its delay; a backend that cannot defer (the inline
    one of development and tests) runs it at once."""
    if deliver_to_siem.get_backend().supports_defer:
        delay = RETRY_DELAYS_S[min(attempt - 2, len(RETRY_DELAYS_S) - 1)]
        later = deliver_to_siem.using(run_after=timezone.now() + timedelta(seconds=delay))
        later.enqueue(ids, attempt)
    else:
        deliver_to_siem.enqueue(ids, attempt)


def _record_failure(ids: list[int], *, target: str, attempts: int, error: str) -> None:
    kinds = sorted(set(SecurityEvent.objects.filter(pk__in=ids).values_list("kind", flat=True)))
    try:
        emit_security_event(
            "monitoring.siem.failed", severity=Severity.HIGH,
            message=f"{len(ids)} security event(s) not delivered to the SIEM {target} "
                    f"after {attempts} attempt(s): {error}",
            data={"target": target, "events": ids, "kinds": kinds, "attempts": attempts,
                  "error": error},
        )
    except Exception:
        logger.exception("could not record the SIEM delivery failure")


def send_test(target: SiemTarget, *, timeout: float = TIMEOUT_S) -> SecurityEvent:
    """Record a `monitoring.siem.test` event and send it to ``target`` at once.

    :raises OSError: it could not be sent (nothing is retried)."""
    event = emit_security_event(
        "monitoring.siem.test", severity=Severity.INFO,
        message=f"SIEM forwarding test from cyberqms on {target.message_hostname()}",
        data={"target": str(target)},
    )
    send(target, [format_syslog(event, hostname=target.message_hostname())], timeout=timeout)
    return event


def delivery_status(limit: int = 5) -> dict[str, Any]:
    """For pages and the CLI: where events go and the latest failures."""
    try:
        target: SiemTarget | None = configured_target()
        problem = ""
    except ImproperlyConfigured as exc:
        target, problem = None, str(exc)
    failures = list(SecurityEvent.objects.filter(kind="monitoring.siem.failed")
                    .order_by("-id")[:limit])
    return {"target": str(target) if target else "", "problem": problem,
            "on": bool(settings.CYBERQMS_SIEM_ADDRESS), "failures": failures}
