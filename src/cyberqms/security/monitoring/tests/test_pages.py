"""Alert pages (A11D-04): the list with its filters and counts, triage through the page with
an audited lifecycle, the events behind an alert, received events and the quarantine
(A11-10), sources, and the live banner polled by every page of those who see alerts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from cyberqms.platform.trail.models import AuditEntry
from cyberqms.security.monitoring import services
from cyberqms.security.monitoring.models import Alert, EventSource

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
# Each includes the banner's count and newest alert (rendered with the page).
QUERIES_PER_ALERT_LIST = 13
QUERIES_PER_EVENT_LIST = 11


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


def brute_force(source: EventSource, *, user: str = "qc_analyst", ip: str = "10.20.0.7",
                start: datetime = T0) -> Alert:
    result = services.ingest(source, failed_logins(10, user=user, ip=ip, start=start),
                             channel="syslog-tcp", received_at=start)
    assert len(result.alerts) == 1
    return result.alerts[0]


def test_it_security_lists_open_alerts_with_counts_by_level_a11d_04(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = brute_force(lims)
    closed = brute_force(lims, user="lab_admin", ip="10.20.0.9")
    services.alert_transition(closed, "false_positive", actor=personas["it_security"],
                              reason="Scheduled password audit by IT.")
    client = login(personas["it_security"])
    response = client.get(reverse("monitoring:alerts"))
    assert response.status_code == 200
    assert [a.number for a in response.context["page"]] == [alert.number]
    assert {c["level"]: str(c["count"]) for c in response.context["counts"]} == {
        "critical": "0", "high": "1", "medium": "0", "low": "0", "informational": "0",
    }
    assert alert.number in response.text
    everything = client.get(reverse("monitoring:alerts"), {"state": ""})
    assert [a.number for a in everything.context["page"]] == [closed.number, alert.number]
    fp = client.get(reverse("monitoring:alerts"), {"state": "false_positive"})
    assert [a.number for a in fp.context["page"]] == [closed.number]
    searched = client.get(reverse("monitoring:alerts"), {"state": "", "q": "lab_admin"})
    assert [a.number for a in searched.context["page"]] == [closed.number]
    by_rule = client.get(reverse("monitoring:alerts"), {"state": "", "rule": "nope"})
    assert list(by_rule.context["page"]) == []
    sorted_ = client.get(reverse("monitoring:alerts"), {"state": "", "sort": "number"})
    assert [a.number for a in sorted_.context["page"]] == [alert.number, closed.number]


def test_alert_list_queries_do_not_grow_with_rows(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
    django_assert_num_queries: Callable[..., Any],
) -> None:
    client = login(personas["it_security"])
    client.get("/")  # the session's first request records the idle clock
    brute_force(lims)
    with django_assert_num_queries(QUERIES_PER_ALERT_LIST):
        assert client.get(reverse("monitoring:alerts")).status_code == 200
    for n in range(4):
        brute_force(lims, user=f"user{n}", ip=f"10.20.1.{n}")
    with django_assert_num_queries(QUERIES_PER_ALERT_LIST):
        response = client.get(reverse("monitoring:alerts"))
    assert len(response.context["page"]) == 5


def test_triage_page_shows_the_alert_and_the_events_behind_it(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = brute_force(lims)
    response = login(personas["it_security"]).get(reverse("monitoring:alert", args=[alert.pk]))
    assert response.status_code == 200
    text = response.text
    assert all(t in text for t in alert.techniques)
    events = response.context["events"]
    # The correlation's whole window: the ten failed sign-ins, not only the tenth.
    assert len(events) == alert.events.count() == 10
    assert events[0]["event"].actor == "qc_analyst"
    assert "Failed password for qc_analyst" in events[0]["payload"]
    assert '"class_uid": 3002' in events[0]["normalized"]
    assert [a["action"] for a in response.context["actions"]] == [
        "acknowledge", "investigate", "resolve", "false_positive",
    ]
    assert reverse("trail:history", args=["monitoring.alert", str(alert.pk)]) in text


def test_lifecycle_through_the_page_needs_a_reason_to_close_a11d_04(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = brute_force(lims)
    client = login(personas["it_security"])
    url = reverse("monitoring:alert_transition", args=[alert.pk])
    acknowledged = client.post(url, {"action": "acknowledge"})
    assert acknowledged.status_code == 302
    assert acknowledged["Location"] == reverse("monitoring:alert", args=[alert.pk])
    refused = client.post(url, {"action": "resolve", "reason": "  "})
    assert refused.status_code == 422
    resolve = next(a for a in refused.context["actions"] if a["action"] == "resolve")
    assert resolve["error"] == "A reason is required."
    assert 'data-testid="reason-error"' in refused.text
    alert.refresh_from_db()
    assert alert.state == "acknowledged"
    done = client.post(url, {"action": "resolve", "reason": "User confirmed a caps-lock typo."})
    assert done.status_code == 302
    alert.refresh_from_db()
    assert alert.state == "resolved"
    assert [(e.action, e.data.get("reason")) for e in AuditEntry.objects.filter(
        object_type="monitoring.alert", object_id=str(alert.pk)).order_by("seq")] == [
        ("monitoring.alert.create", None),
        ("monitoring.alert.acknowledge", None),
        ("monitoring.alert.resolve", "User confirmed a caps-lock typo."),
    ]
    stale = client.post(url, {"action": "acknowledge"}, follow=True)
    assert "that step is not open any more" in stale.text


def test_qa_manager_triages_too(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = brute_force(lims)
    response = login(personas["qa_manager"]).post(
        reverse("monitoring:alert_transition", args=[alert.pk]), {"action": "investigate"})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.state == "investigating"


def test_auditor_reads_but_cannot_triage(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = brute_force(lims)
    client = login(personas["auditor"])
    page = client.get(reverse("monitoring:alert", args=[alert.pk]))
    assert page.status_code == 200
    assert page.context["actions"] == []
    assert "triage is for IT security and QA managers" in page.text
    refused = client.post(reverse("monitoring:alert_transition", args=[alert.pk]),
                          {"action": "acknowledge"})
    assert refused.status_code == 403
    alert.refresh_from_db()
    assert alert.state == "new"


def test_author_gets_403_everywhere(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = brute_force(lims)
    client = login(personas["author"])
    for url in (reverse("monitoring:alerts"), reverse("monitoring:alert", args=[alert.pk]),
                reverse("monitoring:events"), reverse("monitoring:sources"),
                reverse("monitoring:banner")):
        assert client.get(url).status_code == 403, url


def test_banner_counts_new_high_alerts_for_those_who_see_alerts(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    security = login(personas["it_security"])
    empty = security.get(reverse("monitoring:banner"))
    assert (empty.status_code, empty.text.strip()) == (200, "")
    assert "no-store" in empty["Cache-Control"]
    alert = brute_force(lims)
    shown = security.get(reverse("monitoring:banner"))
    assert shown.context["count"] == 1
    assert "1 new high or critical security alert" in shown.text
    assert alert.number in shown.text
    # every page of theirs polls it; an author's pages do not
    home = security.get("/")
    assert f'hx-get="{reverse("monitoring:banner")}"' in home.text
    assert 'hx-trigger="every 3s"' in home.text
    # rendered with the page, not a moment later (no jump under the pointer)
    assert alert.number in home.text
    assert "monitoring:banner" not in login(personas["author"]).get("/").text
    assert 'id="alert-banner"' not in login(personas["author"]).get("/").text
    # acknowledged alerts leave the banner
    services.alert_transition(alert, "acknowledge", actor=personas["it_security"])
    assert security.get(reverse("monitoring:banner")).text.strip() == ""


def test_banner_polls_do_not_keep_a_session_alive_a11_19(
    personas: dict[str, Any], login: Callable[[Any], Client], settings: Any,
) -> None:
    client = login(personas["it_security"])
    assert client.get("/").status_code == 200
    session = client.session
    session["cyberqms_last_seen"] = session["cyberqms_last_seen"] - 30
    session.save()
    before = client.session["cyberqms_last_seen"]
    polled = client.get(reverse("monitoring:banner"), headers={"X-Cyberqms-Poll": "1"})
    assert polled.status_code == 200
    assert client.session["cyberqms_last_seen"] == before
    settings.SESSION_IDLE_SECONDS = 20
    ended = client.get(reverse("monitoring:banner"), headers={"X-Cyberqms-Poll": "1"})
    assert ended.status_code == 302
    assert ended["Location"].startswith("/accounts/login/")


def test_event_list_shows_the_quarantine_with_reasons_a11_10(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
    django_assert_num_queries: Callable[..., Any],
) -> None:
    services.ingest(lims, [*failed_logins(2), b"\xff\xfe not syslog"], channel="file",
                    received_at=T0)
    client = login(personas["auditor"])
    client.get("/")  # the session's first request records the idle clock
    with django_assert_num_queries(QUERIES_PER_EVENT_LIST):
        response = client.get(reverse("monitoring:events"))
    assert response.status_code == 200
    assert [e.status for e in response.context["page"]] == [
        "quarantined", "accepted", "accepted"]
    assert response.context["reasons"] == [("invalid_utf8", 1)]
    quarantined = client.get(reverse("monitoring:events"), {"status": "quarantined"})
    assert [e.reason for e in quarantined.context["page"]] == ["invalid_utf8"]
    assert "invalid_utf8" in quarantined.text
    by_actor = client.get(reverse("monitoring:events"),
                          {"actor": "qc_ana", "ip": "10.20.", "class": "3002"})
    assert len(by_actor.context["page"]) == 2
    later = client.get(reverse("monitoring:events"), {"since": "2026-11-20T09:01"})
    assert list(later.context["page"]) == []
    earlier = client.get(reverse("monitoring:events"), {"until": "2026-11-20T09:01"})
    assert len(earlier.context["page"]) == 3
    bad = client.get(reverse("monitoring:events"), {"since": "yesterday"})
    assert bad.context["bad_time"] is True


def test_sources_list_counts_what_each_sent(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    services.ingest(lims, [*failed_logins(2), b"\xff"], channel="file", received_at=T0)
    response = login(personas["it_security"]).get(reverse("monitoring:sources"))
    assert response.status_code == 200
    [source] = response.context["sources"]
    assert source.tally == {"accepted": 2, "quarantined": 1, "last": T0, "late": 0, "ahead": 0,
                            "expired_before": None, "kept_days": 365}
    assert "LIMS BSL" in response.text


def test_new_high_alerts_reach_the_inboxes_of_it_security_and_qa_managers(
    lims: EventSource, personas: dict[str, Any], django_capture_on_commit_callbacks: Any,
) -> None:
    from cyberqms.platform.notifications.models import Notification
    from cyberqms.security.monitoring.notices import alert_raised

    alert = brute_force(lims)
    with django_capture_on_commit_callbacks(execute=True):
        alert_raised(alert)
    told = Notification.objects.order_by("recipient__username")
    assert [(n.recipient.username, n.subject, n.url) for n in told] == [
        (name, f"{alert.number} high security alert: {alert.title}",
         reverse("monitoring:alert", args=[alert.pk]))
        for name in ("it_security", "qa_manager")
    ]
    alert.level = "medium"
    with django_capture_on_commit_callbacks(execute=True):
        alert_raised(alert)
    assert Notification.objects.count() == 2
