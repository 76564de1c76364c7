"""The ingestion pipeline: keep every payload (A11-10), quarantine what does not parse,
normalize, detect, raise and group alerts whose lifecycle is audited (A11D-04, CYB-03)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cyberqms.platform.accounts.models import User
from cyberqms.platform.core.models import SecurityEvent
from cyberqms.platform.kit.workflow import TransitionNotAllowed
from cyberqms.platform.trail.models import AuditEntry
from cyberqms.security.monitoring import services
from cyberqms.security.monitoring.models import Alert, EventSource, RawEvent

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fresh_engine() -> None:
    """Correlation windows live in the process's engine: each test starts with empty ones."""
    services.reload_rules()


@pytest.fixture
def lims(personas: dict[str, Any]) -> EventSource:
    return services.source_create(
        actor=personas["it_security"], name="LIMS BSL", kind="lims", system="LabWare LIMS",
        format="syslog",
    )


def failed_logins(n: int, *, user: str = "qc_analyst", ip: str = "10.20.0.7",
                  start: datetime = T0) -> list[str]:
    return [
        f"<38>1 {(start + timedelta(seconds=10 * i)).strftime('%Y-%m-%dT%H:%M:%S')}Z lims01 "
        f"sshd 4242 - - Failed password for {user} from {ip} port 22 ssh2"
        for i in range(n)
    ]


def test_every_payload_is_kept_with_its_hash_and_bad_ones_quarantined_a11_10(
    lims: EventSource,
) -> None:
    good = failed_logins(1)[0]
    bad = b"\xff\xfe not syslog at all"
    result = services.ingest(lims, [good, bad], channel="file", received_at=T0)
    assert (result.received, result.accepted, result.quarantined) == (2, 1, 1)
    rows = list(RawEvent.objects.order_by("id"))
    assert [(r.status, r.sha256) for r in rows] == [
        ("accepted", hashlib.sha256(good.encode()).hexdigest()),
        ("quarantined", hashlib.sha256(bad).hexdigest()),
    ]
    assert bytes(rows[1].payload) == bad
    assert rows[1].reason == "invalid_utf8"
    assert (rows[0].class_uid, rows[0].actor, rows[0].src_ip) == (3002, "qc_analyst", "10.20.0.7")
    event = SecurityEvent.objects.get(kind="monitoring.quarantine")
    assert event.data == {"source": "LIMS BSL", "reasons": {"invalid_utf8": 1}}


def test_brute_force_raises_one_alert_that_grows_cyb_03(lims: EventSource) -> None:
    first = services.ingest(lims, failed_logins(9), channel="syslog-tcp", received_at=T0)
    assert first.alerts == []
    second = services.ingest(lims, failed_logins(1, start=T0 + timedelta(seconds=95)),
                             channel="syslog-tcp", received_at=T0)
    assert len(second.alerts) == 1
    alert = second.alerts[0]
    assert (alert.number, alert.state, alert.level) == ("ALERT-2026-0001", "new", "high")
    assert "T1110" in " ".join(alert.techniques)
    # The events behind it are the whole window, nine of them from the earlier batch.
    first_batch = set(RawEvent.objects.order_by("pk").values_list("pk", flat=True)[:9])
    assert alert.events.count() == 10
    assert first_batch <= set(alert.events.values_list("pk", flat=True))
    assert all(e.event["metadata"]["uid"] == str(e.pk) for e in alert.events.all())
    # ten more failures extend the open alert instead of raising another
    services.ingest(lims, failed_logins(10, start=T0 + timedelta(minutes=2)),
                    channel="syslog-tcp", received_at=T0)
    assert Alert.objects.count() == 1
    assert Alert.objects.get().count == 20  # failures behind the alert: two windows of ten
    assert Alert.objects.get().events.count() == 20
    assert AuditEntry.objects.filter(action="monitoring.alert.create").count() == 1


def test_alert_lifecycle_is_declared_and_audited_a11d_04(
    lims: EventSource, personas: dict[str, Any]
) -> None:
    services.ingest(lims, failed_logins(10), channel="syslog-udp", received_at=T0)
    alert = Alert.objects.get()
    analyst = personas["it_security"]
    services.alert_transition(alert, "acknowledge", actor=analyst)
    with pytest.raises(ValidationError):
        services.alert_transition(alert, "resolve", actor=analyst)  # a reason is required
    services.alert_transition(alert, "resolve", actor=analyst,
                              reason="Password reset after a forgotten caps lock; user confirmed.")
    with pytest.raises(TransitionNotAllowed) as refused:
        services.alert_transition(alert, "acknowledge", actor=analyst)
    assert refused.value.allowed == ["reopen"]
    actions = [(e.action, e.data.get("reason"))
               for e in AuditEntry.objects.filter(object_type="monitoring.alert").order_by("seq")]
    assert actions == [
        ("monitoring.alert.create", None),
        ("monitoring.alert.acknowledge", None),
        ("monitoring.alert.resolve",
         "Password reset after a forgotten caps lock; user confirmed."),
    ]
    # a closed alert is not extended: new failures open a new one
    services.ingest(lims, failed_logins(10, start=T0 + timedelta(hours=1)),
                    channel="syslog-udp", received_at=T0)
    assert list(Alert.objects.order_by("id").values_list("number", "state")) == [
        ("ALERT-2026-0001", "resolved"), ("ALERT-2026-0002", "new"),
    ]


def test_an_author_cannot_triage_alerts(lims: EventSource, personas: dict[str, Any]) -> None:
    from cyberqms.platform.core.access import AccessDenied

    services.ingest(lims, failed_logins(10), channel="syslog-udp", received_at=T0)
    with pytest.raises(AccessDenied):
        services.alert_transition(Alert.objects.get(), "acknowledge", actor=personas["author"])


def test_inactive_sources_are_refused(lims: EventSource) -> None:
    EventSource.objects.filter(pk=lims.pk).update(is_active=False)
    lims.refresh_from_db()
    with pytest.raises(services.SourceRefused):
        services.ingest(lims, failed_logins(1), channel="http")
    assert RawEvent.objects.count() == 0


def test_source_names_are_unique(lims: EventSource, personas: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as refused:
        services.source_create(actor=personas["it_security"], name="LIMS BSL", kind="lims",
                               system="x", format="syslog")
    assert refused.value.message_dict == {"name": ["A source named 'LIMS BSL' exists."]}


def test_banner_polls_do_not_fill_the_access_log_but_other_pages_do_cyb_01(
    personas: dict[str, Any], login: Any
) -> None:
    from cyberqms.platform.core.models import AccessDecision

    client = login(personas["it_security"])
    before = AccessDecision.objects.count()
    client.get("/monitoring/banner/", headers={"X-Cyberqms-Poll": "1"})
    assert AccessDecision.objects.count() == before
    client.get("/monitoring/banner/")  # without the header: an ordinary request
    client.get("/monitoring/alerts/", headers={"X-Cyberqms-Poll": "1"})  # not a polled view
    assert AccessDecision.objects.count() == before + 2
    refused = login(personas["author"])
    refused.get("/monitoring/banner/", headers={"X-Cyberqms-Poll": "1"})
    assert AccessDecision.objects.filter(allowed=False).count() >= 1


def test_night_work_alerts_for_day_staff_not_for_shift_workers_cyb_04(
    lims: EventSource, make_user: Any
) -> None:
    """The off-hours rule reads each account's work pattern (enrichment from accounts)."""
    make_user("ana")  # day work, the default
    make_user("olaf")
    User.objects.filter(username="olaf").update(work_pattern="shift")
    night = datetime(2026, 3, 3, 1, 30, tzinfo=UTC)  # 02:30 in Basel

    def edit(user: str) -> str:
        return (f'<134>1 {night:%Y-%m-%dT%H:%M:%S}Z lims01 lims 1 RECORD_UPDATE '
                f'[gxp@32473 user="{user}" action="batch_record.update" outcome="success" '
                f'src_ip="10.20.0.7" record_type="batch_record"] Record updated')

    result = services.ingest(lims, [edit("olaf"), edit("ana")], channel="syslog-tcp",
                             received_at=night)
    assert [(a.title, a.group_key) for a in result.alerts] == [
        ("GxP record modified off-hours or from an unusual host", "actor.user.name=ana")]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ms=st.integers(10**11, 10**14 - 1))  # epoch milliseconds as JSON lines send them
def test_event_times_are_stored_to_the_millisecond(lims: EventSource, ms: int) -> None:
    when = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
    line = json.dumps({"time": ms, "message": "ping", "user": "ana"})
    jsonl = EventSource.objects.get_or_create(
        name="json feed", defaults={"kind": "other", "system": "x", "format": "jsonl",
                                    "created_at": T0})[0]
    services.ingest(jsonl, [line], channel="http", received_at=T0)
    stored = RawEvent.objects.filter(source=jsonl).latest("pk")
    assert stored.event_time == when
    assert RawEvent.objects.filter(source=jsonl, event_time__gte=when).latest("pk") == stored
