"""Notices name things in words (AL-02): rule titles, record numbers, people's printed
names, what an alert is about; never a rule's UUID, a primary key or an event field path.
`ids_in` is the scan the demo's inbox test applies too."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from cyberqms.platform.notifications.models import Notification

from .producers import RULE_UUID, an_alert

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]

IDS = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"  # a UUID
    r"|\b(?:pk|id)=|#\d+\b"  # a primary key
    r"|\b(?:actor|src_endpoint|dst_endpoint|device|gxp|metadata)\.[a-z_.]+="  # event fields
    r"|\b(?:P11|A11D?|CYB|AL|DI)-\d\d\b",  # requirement ids
    re.IGNORECASE,
)


def ids_in(notices: Any) -> list[tuple[str, str]]:
    """(subject, what looks like an id) for every notice whose subject or body holds one."""
    return [(n.subject, found) for n in notices
            for found in IDS.findall(f"{n.subject}\n{n.body}")]


def test_an_alert_notice_names_the_rule_and_what_it_is_about_in_words(
    personas: dict[str, Any], django_capture_on_commit_callbacks: Capture
) -> None:
    from cyberqms.security.monitoring.notices import alert_raised

    alert = an_alert()
    with django_capture_on_commit_callbacks(execute=True):
        alert_raised(alert)
    note = Notification.objects.filter(recipient=personas["qa_manager"]).get()
    assert (note.kind, note.subject, note.body) == (
        "alert", "ALERT-2026-0042 high security alert: Brute force against one account",
        "Failed password for qc_analyst from 10.20.0.7\n"
        "Account qc_analyst, source address 10.20.0.7.\n10 events so far.")
    assert RULE_UUID not in note.body


def _alert(personas: dict[str, Any]) -> None:
    from cyberqms.security.monitoring.notices import alert_raised

    alert_raised(an_alert())


def _escalation(personas: dict[str, Any]) -> None:
    from django.test import override_settings

    from cyberqms.security.incidents.services import incident_auto_escalate

    with override_settings(CYBERQMS_AUTO_ESCALATE_LEVEL="high"):
        incident_auto_escalate(an_alert())


def _capa_plan_and_action(personas: dict[str, Any]) -> None:
    from cyberqms.quality.capa.tests.factories import capa_in_state

    capa_in_state("open", personas, owner=personas["process_owner"])


def _deviation_steps(personas: dict[str, Any]) -> None:
    from cyberqms.quality.deviations.tests.factories import deviation_in_state

    deviation_in_state(personas, "qa_review", owner=personas["process_owner"])


def _overdue(personas: dict[str, Any]) -> None:
    import datetime as dt

    from cyberqms.platform.notifications.services import notifications_overdue_scan
    from cyberqms.quality.deviations.tests.factories import deviation_in_state

    late = deviation_in_state(personas, "investigation")
    type(late)._default_manager.filter(pk=late.pk).update(due_date=dt.date(2026, 3, 1))
    notifications_overdue_scan(today=dt.date(2026, 3, 10))


@pytest.mark.parametrize("produce", [_alert, _escalation, _capa_plan_and_action,
                                     _deviation_steps, _overdue])
def test_notices_of_each_producer_hold_no_ids(
    produce: Callable[[dict[str, Any]], None], personas: dict[str, Any],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        produce(personas)
    notices = list(Notification.objects.all())
    assert (len(notices) > 0, ids_in(notices)) == (True, [])
