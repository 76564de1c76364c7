"""Repeated notices with the same subject key are one notice per person: said again (the
latest words, one more occurrence, the latest time, unread and e-mailed again) while its
work is not done; security alerts have one per alert, their escalation says it again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.core import mail

from cyberqms.platform.notifications.models import Notification
from cyberqms.platform.notifications.services import notifications_resolve, notify, notify_record

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]
T0 = dt.datetime(2031, 3, 10, 9, 0, tzinfo=dt.UTC)  # after the personas' roles were granted
T1 = T0 + dt.timedelta(hours=2)


@pytest.fixture
def say(django_capture_on_commit_callbacks: Capture) -> Callable[..., None]:
    """`notify` with subject key "calibration", committed at `at`."""

    def say_at(at: dt.datetime, recipients: list[Any], subject: str) -> None:
        with time_machine.travel(at, tick=False), \
                django_capture_on_commit_callbacks(execute=True):
            notify(recipients, kind="assignment", subject=subject, subject_key="calibration")

    return say_at


def _rows() -> list[tuple[str, str, int, dt.datetime, dt.datetime]]:
    return [(n.recipient.username, n.subject, n.occurrences, n.created_at, n.latest_at)
            for n in Notification.objects.order_by("recipient__username")]


def test_a_repeat_updates_the_persons_notice(people: dict[str, Any], say: Any) -> None:
    say(T0, [people["author"]], "Calibrate balance B-12")
    say(T1, [people["author"]], "Calibrate balance B-12 today")
    assert _rows() == [("author", "Calibrate balance B-12 today", 2, T0, T1)]


def test_a_repeat_is_unread_and_emailed_again(people: dict[str, Any], say: Any) -> None:
    say(T0, [people["author"]], "Calibrate balance B-12")
    Notification.objects.update(read_at=T0)
    say(T1, [people["author"]], "Calibrate balance B-12")
    note = Notification.objects.get()
    assert (note.read_at, note.emailed_at) == (None, T1)
    assert [m.to for m in mail.outbox] == [["author@x.test"], ["author@x.test"]]


def test_each_person_has_their_own_notice(people: dict[str, Any], say: Any) -> None:
    say(T0, [people["author"], people["qa_approver"]], "Calibrate balance B-12")
    say(T1, [people["author"], people["process_owner"]], "Calibrate balance B-12")
    assert _rows() == [
        ("author", "Calibrate balance B-12", 2, T0, T1),
        ("process_owner", "Calibrate balance B-12", 1, T1, T1),
        ("qa_approver", "Calibrate balance B-12", 1, T0, T0),
    ]


def test_after_the_work_is_done_a_repeat_is_a_new_notice(
    people: dict[str, Any], say: Any
) -> None:
    say(T0, [people["author"]], "Calibrate balance B-12")
    notifications_resolve("calibration")
    say(T1, [people["author"]], "Calibrate balance B-12")
    assert [(n.occurrences, n.created_at, n.resolved_at is None)
            for n in Notification.objects.order_by("pk")] == [(1, T0, False), (1, T1, True)]


def test_the_same_notice_about_a_record_is_grouped_by_default(
    personas: dict[str, Any], django_capture_on_commit_callbacks: Capture
) -> None:
    from cyberqms.quality.deviations.tests.factories import deviation_in_state

    d = deviation_in_state(personas, "investigation")
    earlier = Notification.objects.order_by("pk").last()  # the steps' own notices
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            notify_record([personas["author"]], d, kind="info",
                          subject="returned to investigation by QA")
        notify_record([personas["author"]], d, kind="info", subject="approved by QA")
    assert [(n.subject, n.occurrences) for n in Notification.objects.filter(
        pk__gt=earlier.pk if earlier else 0).order_by("pk")] == [
        (f"{d.number}: returned to investigation by QA", 2),
        (f"{d.number}: approved by QA", 1),
    ]


def test_an_alert_is_one_notice_per_person(
    personas: dict[str, Any], django_capture_on_commit_callbacks: Capture
) -> None:
    from cyberqms.security.monitoring.notices import alert_raised

    from .producers import an_alert

    alert = an_alert()
    other = an_alert(number="ALERT-2026-0043", site=alert.site)
    with django_capture_on_commit_callbacks(execute=True):
        alert_raised(alert)
        alert_raised(alert)
        alert_raised(other)
    assert sorted((n.recipient.username, n.record_number, n.occurrences)
                  for n in Notification.objects.all()) == [
        ("it_security", "ALERT-2026-0042", 2), ("it_security", "ALERT-2026-0043", 1),
        ("qa_manager", "ALERT-2026-0042", 2), ("qa_manager", "ALERT-2026-0043", 1),
    ]


def test_escalation_says_the_alert_notice_again_unread(
    personas: dict[str, Any], settings: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    """QA's notice of the alert becomes the notice of its incident (CYB-05)."""
    from cyberqms.security.incidents.services import incident_auto_escalate
    from cyberqms.security.monitoring.notices import alert_raised

    from .producers import an_alert

    alert = an_alert()
    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=True):
        alert_raised(alert)
    Notification.objects.update(read_at=T0)
    settings.CYBERQMS_AUTO_ESCALATE_LEVEL = "high"
    with time_machine.travel(T1, tick=False), django_capture_on_commit_callbacks(execute=True):
        incident = incident_auto_escalate(alert)
    assert incident is not None
    qa = Notification.objects.get(recipient=personas["qa_manager"])
    assert (qa.kind, qa.subject, qa.record_number, qa.occurrences, qa.latest_at, qa.read_at) == (
        "info", f"{incident.number} opened automatically from {alert.number} (high)",
        incident.number, 2, T1, None)
