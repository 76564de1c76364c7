"""Bad input at the doors (issue 5): the HTTP batch endpoint and the live syslog listener
are fuzzed with hypothesis; no input crashes them, every line is accepted or quarantined
with a reason (A11-10), and oversized messages, invalid UTF-8, unknown sources and
refused tokens are turned away with a reason and recorded as security events (P11-12)."""

from __future__ import annotations

import json
import socket
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from cyberqms.platform.accounts import services as accounts
from cyberqms.platform.accounts.models import ApiToken
from cyberqms.platform.core.models import AccessDecision, SecurityEvent
from cyberqms.security.detect.parsers import FrameDecoder, ParseError
from cyberqms.security.monitoring import services
from cyberqms.security.monitoring.models import EventSource, RawEvent
from cyberqms.security.transport.tests.test_transport import RunningListener, benign, octet, post

MAX_PAYLOAD = services.MAX_PAYLOAD_BYTES

GOOD = {
    "syslog": benign(1)[0].encode(),
    "cef": b"CEF:0|Acme|Firewall|1.0|100|Login failed|5|suser=qc_analyst src=10.20.0.7",
    "leef": b"LEEF:1.0|Acme|Firewall|1.0|Login|usrName=qc_analyst\tsrc=10.20.0.7",
    "jsonl": json.dumps({"class_uid": 3002, "time": 1795165200000, "message": "sign-in",
                         "actor": {"user": {"name": "qc_analyst"}}}).encode(),
}
NASTY = [b"\xff\xfe", b"\x00", b"<999>1 - - - - - -", b"<13>", b"CEF:0|a", b"LEEF:", b"{",
         b'{"time": 1e400}', b"<34>1 2026-02-30T25:61:61Z h a p m - x", b"\xed\xa0\x80",
         "é日\U0001f512".encode(), b"[" * 50, b"{" * 5000, b"\\" * 100]


@pytest.fixture(autouse=True)
def fresh_engine() -> None:
    services.reload_rules()


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
    return {"source": source, "integration": integration, "secret": issued.secret,
            "token": ApiToken.objects.get(prefix=issued.token.prefix)}


def lines_of(body: bytes) -> list[bytes]:
    """What the endpoint promises to keep: one event per LF-terminated line, a trailing CR
    dropped, blank lines skipped."""
    return [line.removesuffix(b"\r") for line in body.split(b"\n") if line.strip(b"\r")]


def send(secret: str, body: bytes, content_type: str) -> Any:
    """POST the bytes as they are, whatever the content type claims (the test client's
    `post` would re-encode bodies by the charset in it)."""
    return Client().generic("POST", "/api/v1/monitoring/events", data=body,
                            content_type=content_type,
                            headers={"Authorization": f"Bearer {secret}"})


def problem(response: Any) -> dict[str, Any]:
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


# --- HTTP endpoint fuzzing ---------------------------------------------------------------------

line_pieces = st.one_of(
    st.sampled_from(sorted(GOOD.values())), st.sampled_from(NASTY), st.binary(max_size=300),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.integers(MAX_PAYLOAD - 2, MAX_PAYLOAD + 2).map(lambda n: b"x" * n),  # around the limit
)
bodies = st.one_of(
    st.binary(max_size=3000),
    st.tuples(st.lists(line_pieces, max_size=20), st.sampled_from([b"\n", b"\r\n", b"\r"]))
    .map(lambda parts: parts[1].join(parts[0])),
)
content_types = st.one_of(
    st.sampled_from(["text/plain", "application/x-ndjson", "application/jsonl",
                     "text/plain; charset=utf-8", "TEXT/PLAIN", "application/json", "",
                     "multipart/form-data; boundary=x", "application/x-www-form-urlencoded",
                     "text/plain; charset=\x01", ";;;", "text/plain;=", "*/*"]),
    # No NUL: HTTP servers refuse it in header values (Django itself would raise on
    # "charset=\x00" while building the request, before any of our code runs).
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=40),
)


@pytest.mark.django_db
def test_the_http_endpoint_keeps_or_refuses_every_line_whatever_it_gets_a11_10(
    sender: dict[str, Any], settings: Any,
) -> None:
    """Any body, content type and source format: never a server error; a 202 accounts for
    every line (accepted or quarantined with a reason); anything else is a 4xx
    problem+json and stores nothing."""
    secret, source = sender["secret"], sender["source"]
    settings.CYBERQMS_MAX_BODY_BYTES = limit = 3 * MAX_PAYLOAD  # a few huge lines pass it
    seen: Counter[int] = Counter()

    @hypothesis_settings(max_examples=120, deadline=None,
                         suppress_health_check=[HealthCheck.too_slow,
                                                HealthCheck.data_too_large])
    @given(body=bodies, content_type=content_types,
           fmt=st.sampled_from(["syslog", "cef", "leef", "jsonl"]))
    @example(body=GOOD["syslog"] + b"\nnot syslog", content_type="text/plain", fmt="syslog")
    @example(body=b"{}", content_type="application/json", fmt="jsonl")
    @example(body=b"x" * (3 * MAX_PAYLOAD + 1), content_type="text/plain", fmt="syslog")
    def check(body: bytes, content_type: str, fmt: str) -> None:
        EventSource.objects.filter(pk=source.pk).update(format=fmt)
        before = RawEvent.objects.count()
        response = send(secret, body, content_type)
        seen[response.status_code] += 1
        stored = list(RawEvent.objects.order_by("id")[before:].values_list(
            "status", "reason", "size"))
        if response.status_code != 202:
            assert response.status_code in {413, 415, 422}, response.content[:300]
            assert problem(response)["status"] == response.status_code
            assert stored == []
            if response.status_code == 413:
                assert len(body) > limit
            return
        answer = response.json()
        lines = lines_of(body)
        assert answer["received"] == len(lines) == len(stored)
        assert answer["accepted"] + answer["quarantined"] == len(lines)
        assert sum(answer["reasons"].values()) == answer["quarantined"]
        assert sorted(size for _, _, size in stored) == sorted(len(line) for line in lines)
        assert Counter(reason for status, reason, _ in stored if status == "quarantined") == (
            Counter(answer["reasons"]))
        assert all(reason for status, reason, _ in stored if status == "quarantined")
        assert all(status == "quarantined" for status, _, size in stored if size > MAX_PAYLOAD)

    check()
    assert (seen[202] > 0, seen[413] > 0, seen[415] > 0) == (True, True, True)  # examples


# --- live listener fuzzing ----------------------------------------------------------------------

MAX_FRAME = 4096
stream_pieces = st.one_of(
    st.sampled_from(benign(5)).map(octet),  # well-formed, octet-counted
    st.tuples(st.sampled_from(benign(5)), st.integers(-30, 30)).map(  # wrong counts
        lambda p: str(max(len(p[0]) + p[1], 1)).encode() + b" " + p[0].encode()),
    st.sampled_from(benign(5)).map(lambda line: line.encode() + b"\n"),  # newline framing
    st.from_regex(rb"\A[0-9]{1,12} ?\Z"),  # counts and digits alone
    st.sampled_from([b"99999999 ", b"4097 ", b"0 ", b"00012 ", b"\n", b"\r\n", b"\x00", b" "]),
    st.sampled_from(NASTY),
    st.binary(max_size=300),
    st.integers(MAX_FRAME - 2, MAX_FRAME + 2).map(lambda n: b"y" * n + b"\n"),
)
streams = st.lists(stream_pieces, max_size=12).map(b"".join)


def framing_of(stream: bytes) -> tuple[int, int]:
    """(frames, frames refused by the framing) that the stream holds, read by the
    listener's decoder in one piece (its output does not depend on the chunking)."""
    decoder = FrameDecoder(max_frame=MAX_FRAME)
    out = decoder.feed(stream) + decoder.close()
    refused = sum(isinstance(frame, ParseError) for frame in out)
    return len(out) - refused, refused


@pytest.mark.django_db(transaction=True)
def test_the_listener_survives_any_bytes_over_tcp_and_udp_a11_10(
    personas: dict[str, Any],
) -> None:
    source = services.source_create(
        actor=personas["it_security"], name="LIMS BSL", kind="lims", system="LabWare LIMS",
        format="syslog", addresses=["127.0.0.0/8"],
    )
    with RunningListener(max_frame=MAX_FRAME, batch_ms=5, udp_port=0, tcp_port=0) as run:
        stats = run.listener.stats
        expected = {"received": 0, "rejected": 0}

        @hypothesis_settings(max_examples=50, deadline=None,
                             suppress_health_check=[HealthCheck.too_slow,
                                                    HealthCheck.data_too_large])
        @given(stream=streams, datagrams=st.lists(
            st.one_of(st.binary(max_size=2000), st.sampled_from(NASTY)), max_size=5))
        def check(stream: bytes, datagrams: list[bytes]) -> None:
            frames, refused = framing_of(stream)
            expected["received"] += frames + refused + sum(
                1 for d in datagrams if d.rstrip(b"\r\n\x00"))  # empty datagrams hold nothing
            expected["rejected"] += refused
            with run.tcp() as sock:
                sock.sendall(stream)
            run.udp(datagrams)
            run.wait_for(lambda: (stats.received, stats.rejected) == (
                expected["received"], expected["rejected"]) and (
                stats.accepted + stats.quarantined == stats.received))
            assert (stats.failed, stats.overflow, stats.unknown) == (0, 0, 0)

        check()
        # still serving, both ways
        with run.tcp() as sock:
            sock.sendall(octet(benign(1, start=900)[0]))
        run.udp([benign(1, start=901)[0].encode()])
        run.wait_for(lambda: stats.received == expected["received"] + 2
                     and stats.accepted + stats.quarantined == stats.received)
    rows = RawEvent.objects.filter(source=source)
    assert rows.count() == stats.accepted + stats.quarantined
    assert rows.filter(status="quarantined").count() == stats.quarantined
    assert not rows.filter(status="quarantined", reason="").exists()
    assert set(rows.order_by("-id").values_list("status", flat=True)[:2]) == {"accepted"}
    reported = SecurityEvent.objects.filter(kind="monitoring.frame.rejected")
    assert sum(e.data["count"] for e in reported) == stats.rejected
    quarantine_events = SecurityEvent.objects.filter(kind="monitoring.quarantine")
    assert sum(sum(e.data["reasons"].values()) for e in quarantine_events) == stats.quarantined


# --- each kind of bad input: refused with a reason and recorded ----------------------------------


@pytest.mark.django_db
def test_an_oversized_line_is_quarantined_and_an_oversized_body_refused_413(
    sender: dict[str, Any], settings: Any,
) -> None:
    big = GOOD["syslog"] + b" " + b"x" * MAX_PAYLOAD
    response = post(sender["secret"], GOOD["syslog"] + b"\n" + big)
    assert (response.status_code, response.json()["reasons"]) == (202, {"oversized": 1})
    row = RawEvent.objects.get(status="quarantined")
    assert (row.reason, row.detail, row.size, len(bytes(row.payload))) == (
        "oversized", f"oversized: {len(big)} bytes", len(big), MAX_PAYLOAD)
    event = SecurityEvent.objects.get(kind="monitoring.quarantine")
    assert event.message == "1 of 2 events from LIMS HTTP quarantined: oversized ×1"
    settings.CYBERQMS_MAX_BODY_BYTES = 4096
    response = post(sender["secret"], big)
    assert (response.status_code, problem(response)["detail"]) == (
        413, f"The request body of {len(big)} bytes exceeds the limit of 4096 bytes.")
    assert RawEvent.objects.count() == 2
    refused = SecurityEvent.objects.get(kind="request.oversized")
    assert refused.data == {"path": "/api/v1/monitoring/events", "length": len(big),
                            "limit": 4096}


@pytest.mark.django_db
@pytest.mark.parametrize(("fmt", "line", "outcome"), [
    pytest.param("syslog", b"<14>1 2026-11-20\x00T09:00:00Z lims01 app - - - x",
                 ("quarantined", "bad_timestamp"), id="nul-in-detail"),
    pytest.param("syslog", b"<14>1 2026-11-20T09:00:00Z lims01 app - - - CEF:0|Acme|FW|1|100|"
                 b"Login|5|suser=qc\x00analyst src=10.20.0.7", ("accepted", ""),
                 id="nul-in-actor"),
    pytest.param("jsonl", b'{"class_uid": 3002, "message": "sign-in", '
                 b'"actor": {"user": {"name": "qc\\u0000analyst"}}}', ("accepted", ""),
                 id="nul-in-json"),
    pytest.param("jsonl", b'{"class_uid": 3002, "message": "sign-in", '
                 b'"actor": {"user": {"name": "qc\\udc00analyst"}}}', ("quarantined", "bad_json"),
                 id="lone-surrogate-in-json"),
])
def test_nul_and_lone_surrogates_in_fields_never_fail_the_batch(
    sender: dict[str, Any], fmt: str, line: bytes, outcome: tuple[str, str],
) -> None:
    """Text a database cannot store inside a parsed field must not fail the batch: it
    would lose every other line of it and answer 500."""
    EventSource.objects.filter(pk=sender["source"].pk).update(format=fmt)
    response = post(sender["secret"], GOOD[fmt] + b"\n" + line, "application/x-ndjson"
                    if fmt == "jsonl" else "text/plain")
    assert response.status_code == 202
    assert list(RawEvent.objects.order_by("id").values_list("status", "reason")) == [
        ("accepted", ""), outcome]
    stored = RawEvent.objects.order_by("id").last()
    assert stored is not None
    assert bytes(stored.payload) == line  # kept as received
    assert "\x00" not in stored.actor + stored.detail  # NUL stored as U+FFFD


@pytest.mark.django_db
def test_invalid_utf8_is_quarantined_with_its_reason_and_recorded(
    sender: dict[str, Any],
) -> None:
    response = post(sender["secret"], b"<34>1 - host app - - - caf\xe9\n" + GOOD["syslog"])
    assert response.status_code == 202
    assert response.json() == {"received": 2, "accepted": 1, "quarantined": 1,
                               "reasons": {"invalid_utf8": 1}, "alerts": [],
                               "detection": "inline"}
    row = RawEvent.objects.get(status="quarantined")
    assert (row.reason, row.detail, bytes(row.payload)) == (
        "invalid_utf8", "invalid_utf8: byte 26", b"<34>1 - host app - - - caf\xe9")
    event = SecurityEvent.objects.get(kind="monitoring.quarantine")
    assert (event.message, event.data) == (
        "1 of 2 events from LIMS HTTP quarantined: invalid_utf8 ×1",
        {"source": "LIMS HTTP", "reasons": {"invalid_utf8": 1}})


@pytest.mark.django_db(transaction=True)
def test_invalid_utf8_and_broken_frames_over_syslog_are_kept_or_reported(
    personas: dict[str, Any],
) -> None:
    services.source_create(
        actor=personas["it_security"], name="LIMS BSL", kind="lims", system="LabWare LIMS",
        format="syslog", addresses=["127.0.0.1"],
    )
    with RunningListener() as run:
        with run.tcp() as sock:
            # invalid UTF-8, a good frame, then a count promising more than ever comes
            sock.sendall(octet(b"<34>1 - h a - - - \xff") + octet(GOOD["syslog"]) + b"500 <34>1")
        run.udp([b"<34>1 - h a - - - \xc3\x28"])
        stats = run.listener.stats
        run.wait_for(lambda: stats.received == 4 and stats.rejected == 1
                     and stats.accepted + stats.quarantined == 4)
    assert sorted(RawEvent.objects.values_list("channel", "status", "reason")) == [
        ("syslog-tcp", "accepted", ""), ("syslog-tcp", "quarantined", "invalid_utf8"),
        ("syslog-tcp", "quarantined", "truncated"),  # what came of the frame is kept
        ("syslog-udp", "quarantined", "invalid_utf8")]
    assert bytes(RawEvent.objects.get(reason="truncated").payload) == b"500 <34>1"
    rejected = SecurityEvent.objects.get(kind="monitoring.frame.rejected")
    assert (rejected.message, rejected.data) == (
        "1 TCP syslog frame(s) from 127.0.0.1 refused by the framing (truncated)",
        {"address": "127.0.0.1", "detail": "truncated", "count": 1})
    assert sum(e.data["reasons"].get("invalid_utf8", 0) for e in SecurityEvent.objects.filter(
        kind="monitoring.quarantine")) == 2


@pytest.mark.django_db(transaction=True)
def test_an_unknown_syslog_sender_is_refused_and_recorded_p11_12(
    personas: dict[str, Any],
) -> None:
    services.source_create(
        actor=personas["it_security"], name="Firewall", kind="siem", system="FW",
        format="syslog", addresses=["10.9.9.9"],
    )
    with RunningListener() as run:
        run.udp([GOOD["syslog"]])
        run.wait_for(lambda: run.listener.stats.unknown == 1)
    assert RawEvent.objects.count() == 0
    event = SecurityEvent.objects.get(kind="monitoring.source.unknown")
    assert (event.severity, event.source_ip, event.message) == (
        "low", "127.0.0.1", "1 syslog message(s) or connection(s) from 127.0.0.1, which no "
        "active event source claims")


@pytest.mark.django_db
def test_an_http_sender_without_an_active_source_is_refused_and_recorded_p11_12(
    personas: dict[str, Any], sender: dict[str, Any],
) -> None:
    admin = personas["admin"]
    stranger = accounts.integration_create(actor=admin, name="MES", kind="mes", system="MES")
    issued = accounts.token_create(actor=admin, name="ingest", scopes=["monitoring.ingest"],
                                   days=30, integration=stranger)
    response = post(issued.secret, GOOD["syslog"])
    assert (response.status_code, problem(response)["detail"]) == (
        403, "This token's holder is not registered as an event source.")
    EventSource.objects.filter(pk=sender["source"].pk).update(is_active=False)
    response = post(sender["secret"], GOOD["syslog"])
    assert (response.status_code, problem(response)["detail"]) == (
        403, "source LIMS HTTP is not active.")
    events = SecurityEvent.objects.filter(kind="monitoring.source.unknown").order_by("id")
    assert [(e.severity, e.source_ip, e.message, e.data) for e in events] == [
        ("medium", "127.0.0.1", "Events sent over HTTP by MES refused: no event source is "
         "registered for it", {"channel": "http", "holder": "MES", "detail": "unregistered"}),
        ("medium", "127.0.0.1", "Events sent over HTTP by LIMS sender refused: its event "
         "source LIMS HTTP is not active",
         {"channel": "http", "holder": "LIMS sender", "detail": "inactive"}),
    ]
    assert RawEvent.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("state", ["expired", "revoked"])
def test_expired_and_revoked_tokens_are_refused_401_and_recorded_p11_32(
    state: str, personas: dict[str, Any], sender: dict[str, Any],
) -> None:
    token = sender["token"]
    if state == "expired":
        ApiToken.objects.filter(pk=token.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1))
    else:
        accounts.token_revoke(token, actor=personas["admin"], reason="Sender replaced.")
    response = post(sender["secret"], GOOD["syslog"])
    assert (response.status_code, problem(response)["detail"]) == (
        401, "Authentication required: a session or a valid bearer token.")
    event = SecurityEvent.objects.get(kind="auth.token.rejected")
    assert (event.severity, event.source_ip, event.message, event.data) == (
        "medium", "127.0.0.1", f"{state} API token presented", {"prefix": token.prefix})
    assert RawEvent.objects.count() == 0


@pytest.mark.django_db
def test_a_token_without_the_ingest_scope_is_refused_403_and_the_refusal_recorded(
    personas: dict[str, Any], sender: dict[str, Any],
) -> None:
    issued = accounts.token_create(actor=personas["admin"], name="reader",
                                   scopes=["monitoring.event.view"], days=30,
                                   integration=sender["integration"])
    response = post(issued.secret, GOOD["syslog"])
    body = problem(response)
    assert (response.status_code, body["detail"], body["action"]) == (
        403, "Not allowed: outside the token's scopes.", "monitoring.ingest")
    refusal = AccessDecision.objects.get(allowed=False)
    assert (refusal.action, refusal.reason, refusal.channel, refusal.source_ip,
            refusal.token_id) == ("monitoring.ingest", "outside the token's scopes", "api",
                                  "127.0.0.1", issued.token.pk)
    assert RawEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_udp_datagrams_the_kernel_dropped_are_counted_and_reported_never_silent_a11_10(
    personas: dict[str, Any],
) -> None:
    """The listener's loop is held up while a burst fills a tiny receive buffer: what the
    operating system dropped is read from the socket's drop counter, reported as
    `monitoring.overflow`, and received + dropped = sent."""
    services.source_create(
        actor=personas["it_security"], name="LIMS BSL", kind="lims", system="LabWare LIMS",
        format="syslog", addresses=["127.0.0.1"],
    )
    sent = 400
    with RunningListener(tcp_port=None, udp_buffer=1, drops_interval=0.05) as run:
        if run.listener._udp_drops is None:
            pytest.skip("this system does not publish UDP drop counters")
        assert run._loop is not None
        run._loop.call_soon_threadsafe(time.sleep, 1.0)  # the loop reads nothing meanwhile
        lines = benign(sent)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for line in lines:
                sock.sendto(line.encode(), ("127.0.0.1", run.listener.udp_port or 0))
        stats = run.listener.stats
        run.wait_for(lambda: stats.received + stats.dropped == sent)
    assert stats.dropped > 0
    assert RawEvent.objects.count() == stats.received
    reported = SecurityEvent.objects.filter(kind="monitoring.overflow")
    assert sum(e.data["count"] for e in reported) == stats.dropped
    first = reported.first()
    assert first is not None
    assert first.message == (
        f"{first.data['count']} UDP syslog datagram(s) were dropped by the "
        "operating system before the listener could read them (receive buffer full)")
