"""cyberqms's own security events flow into the monitoring pipeline (issue 5, item 3):
committed events are ingested by the worker as JSON lines from the `cyberqms` source,
so ten failed sign-ins to the QMS itself raise a brute-force alert (CYB-03)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from cyberqms.platform.core.events import emit_security_event
from cyberqms.platform.core.models import Severity
from cyberqms.security.monitoring import services
from cyberqms.security.monitoring.models import Alert, EventSource, RawEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def feed_on(settings: Any) -> None:
    settings.CYBERQMS_MONITOR_OWN_EVENTS = True
    services.reload_rules()


def fail(username: str, ip: str) -> None:
    emit_security_event("auth.login.failure", severity=Severity.LOW,
                        message=f"Failed sign-in for {username}", username=username,
                        source_ip=ip)


def test_failed_sign_ins_to_the_qms_raise_a_brute_force_alert(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for _ in range(10):
            fail("treyes", "192.0.2.44")
    source = EventSource.objects.get(name="cyberqms")
    assert (source.format, source.system) == ("jsonl", "cyberqms eQMS")
    rows = RawEvent.objects.filter(source=source)
    assert (rows.count(), set(rows.values_list("status", "class_uid", "actor", "src_ip"))) == (
        10, {("accepted", 3002, "treyes", "192.0.2.44")})
    assert list(Alert.objects.values_list("title", "group_key")) == [
        ("Brute force against one account",
         "actor.user.name=treyes|src_endpoint.ip=192.0.2.44"),
    ]


def test_nothing_is_forwarded_when_turned_off_or_rolled_back(
    settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    def failed_then_rolled_back() -> None:
        with transaction.atomic():
            fail("treyes", "192.0.2.44")
            raise RuntimeError("the change is rolled back")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        failed_then_rolled_back()
    settings.CYBERQMS_MONITOR_OWN_EVENTS = False
    with django_capture_on_commit_callbacks(execute=True):
        fail("treyes", "192.0.2.44")
    assert RawEvent.objects.count() == 0


def test_the_pipeline_does_not_echo_its_own_events(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        emit_security_event("monitoring.quarantine", severity=Severity.LOW, message="x")
    assert RawEvent.objects.count() == 0


def test_an_alert_on_a_qms_account_belongs_to_that_accounts_site(
    django_capture_on_commit_callbacks: Any, make_user: Any,
) -> None:
    """Incidents need a site: the cyberqms source serves every site, so an alert about an
    account is the account's site's (and unknown accounts leave it to the source)."""
    from cyberqms.platform.accounts.models import Site, User

    dub = Site.objects.create(code="DUB", name="Dublin", time_zone="Europe/Dublin")
    make_user("ciaran")
    User.objects.filter(username="ciaran").update(site=dub)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for _ in range(10):
            fail("Ciaran", "192.0.2.45")  # sign-in names are case-insensitive
            fail("nobody", "192.0.2.46")
    sites = dict(Alert.objects.values_list("group_key", "site__code"))
    assert sites == {"actor.user.name=Ciaran|src_endpoint.ip=192.0.2.45": "DUB",
                     "actor.user.name=nobody|src_endpoint.ip=192.0.2.46": None}


def test_a_gate_refusal_is_a_security_event_in_the_pipeline(
    django_capture_on_commit_callbacks: Any, personas: dict[str, Any],
    login: Callable[[Any], Client],
) -> None:
    """Access-gate denials flow into monitoring with sign-ins and failures (issue 5, 3)."""
    from cyberqms.platform.core.models import SecurityEvent

    client = login(personas["author"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("monitoring:sources"))
    assert response.status_code == 403
    event = SecurityEvent.objects.get(kind="access.denied")
    assert (event.username, event.data["action"], event.data["reason"]) == (
        "author", "monitoring.event.view", "no role grants this action")
    row = RawEvent.objects.get(source__name="cyberqms", actor="author")
    assert (row.status, row.class_uid) == ("accepted", 6003)
