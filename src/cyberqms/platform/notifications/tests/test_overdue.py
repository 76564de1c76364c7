"""The overdue scan: owners of open quality records past their due date hear about it once
per record and day, however often the scan runs, on one reminder per record that is said
again each day and resolved when the record is closed or handed over; the scheduler runs
it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from itertools import count
from typing import Any

import pytest
from django.core import mail
from django.db import IntegrityError
from django.utils import timezone

from cyberqms.platform.accounts.services import user_deactivate
from cyberqms.platform.accounts.tests.factories import SiteFactory
from cyberqms.platform.core import scheduler
from cyberqms.platform.kit import records
from cyberqms.platform.kit.records import RecordKind, register_kind
from cyberqms.platform.kit.workflow import Workflow
from cyberqms.platform.notifications.models import Notification
from cyberqms.platform.notifications.services import notifications_overdue_scan
from cyberqms.platform.notifications.tests.sample.models import Widget

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]
DAY = dt.date(2026, 3, 10)


class WidgetKind(RecordKind):
    def detail_url(self, record: Any) -> str:
        return f"/widgets/{record.pk}/"


@pytest.fixture
def widgets(monkeypatch: pytest.MonkeyPatch) -> RecordKind:
    """The test-only widget family, registered for this test only."""
    monkeypatch.setattr(records, "_KINDS", dict(records._KINDS))
    return register_kind(WidgetKind(
        slug="widgets", model=Widget, workflow=Workflow(Widget, "widgets.widget", []),
        prefix="WID", label="Widget", action_prefix="widgets", closed_states=("closed",),
        detail_url_name="unused",
    ))


@pytest.fixture
def widget(people: dict[str, Any]) -> Callable[..., Widget]:
    site = SiteFactory.create()
    numbers = count(1)

    def make(due: dt.date | None, *, state: str = "open", owner: Any = None,
             deleted: bool = False) -> Widget:
        owner = owner or people["author"]
        return Widget.objects.create(
            number=f"WID-2026-{next(numbers):04d}", title="Calibrate the balance", site=site,
            owner=owner, originator=people["qa_approver"], state=state, due_date=due,
            is_deleted=deleted,
        )

    return make


def _overdue() -> list[tuple[str, str, str, str, str, str]]:
    return [
        (n.recipient.username, n.kind, n.subject, n.url, n.record_type, n.record_number)
        for n in Notification.objects.order_by("pk")
    ]


def test_owner_hears_once_per_record_and_day(
    people: dict[str, Any], widgets: RecordKind, widget: Callable[..., Widget],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    late = widget(DAY - dt.timedelta(days=2))
    widget(DAY)  # due today: not overdue yet
    widget(DAY + dt.timedelta(days=5))
    widget(None)
    widget(DAY - dt.timedelta(days=9), state="closed")
    widget(DAY - dt.timedelta(days=9), deleted=True)
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_overdue_scan(today=DAY) == 1
    assert _overdue() == [
        ("author", "overdue", "Widget WID-2026-0001 is overdue", f"/widgets/{late.pk}/",
         "widgets.widget", "WID-2026-0001"),
    ]
    assert Notification.objects.get().body == "Calibrate the balance\nDue 2026-03-08; state: Open."
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["author@x.test"], "[cyberqms] Widget WID-2026-0001 is overdue"),
    ]
    # Later runs the same day repeat nothing.
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_overdue_scan(today=DAY) == 0
        assert notifications_overdue_scan(today=DAY) == 0
    assert len(mail.outbox) == 1


def test_the_next_day_reminds_again_on_the_same_notice(
    people: dict[str, Any], widgets: RecordKind, widget: Callable[..., Widget],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    """One reminder per record and owner, said again each day: unread and e-mailed again;
    the record due the day before gets its first."""
    widget(DAY - dt.timedelta(days=2))
    widget(DAY)
    with django_capture_on_commit_callbacks(execute=True):
        notifications_overdue_scan(today=DAY)
    Notification.objects.update(read_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_overdue_scan(today=DAY + dt.timedelta(days=1)) == 2
    assert [(n.record_number, n.occurrences, n.read_at) for n in
            Notification.objects.order_by("pk")] == [
        ("WID-2026-0001", 2, None), ("WID-2026-0002", 1, None)]
    assert len(mail.outbox) == 3


def test_a_new_owner_hears_the_same_day_an_inactive_one_never(
    people: dict[str, Any], widgets: RecordKind, widget: Callable[..., Widget],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    late = widget(DAY - dt.timedelta(days=1))
    gone = widget(DAY - dt.timedelta(days=1), owner=people["process_owner"])
    user_deactivate(people["process_owner"], actor=people["admin"], reason="left")
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_overdue_scan(today=DAY) == 1
    Widget.objects.filter(pk=late.pk).update(owner=people["qa_approver"])
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_overdue_scan(today=DAY) == 1
    assert [r for r, *_ in _overdue()] == ["author", "qa_approver"]
    assert not Notification.objects.filter(record_id=str(gone.pk)).exists()


def test_the_same_key_cannot_be_sent_twice(people: dict[str, Any]) -> None:
    """Concurrent scans race to insert the same row: the database lets one win."""
    key = "overdue:widgets.widget:1:2:2026-03-10"
    Notification.objects.create(recipient=people["author"], kind="overdue", subject="x",
                                dedupe_key=key)
    with pytest.raises(IntegrityError):
        Notification.objects.create(recipient=people["author"], kind="overdue", subject="x",
                                    dedupe_key=key)


def test_scheduler_runs_the_scan(
    people: dict[str, Any], settings: Any, widgets: RecordKind, widget: Callable[..., Widget],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    job = scheduler.JOBS["notifications.overdue"]
    assert job.interval() == 3600.0
    settings.CYBERQMS_OVERDUE_SCAN_INTERVAL = 600
    assert job.interval() == 600.0
    widget(timezone.localdate() - dt.timedelta(days=3))
    with django_capture_on_commit_callbacks(execute=True):
        job.run()
    assert [r for r, *_ in _overdue()] == ["author"]
    assert [m.to for m in mail.outbox] == [["author@x.test"]]


def test_real_record_kinds_are_scanned(
    personas: dict[str, Any], django_capture_on_commit_callbacks: Capture
) -> None:
    """Deviations, as registered by their app: open and overdue is reported; cancelled
    (one of the kind's closed states) is not."""
    from cyberqms.quality.deviations.tests.factories import a_site, deviation_in_state

    site = a_site()
    late = deviation_in_state(personas, "investigation", site=site)
    cancelled = deviation_in_state(personas, "cancelled", site=site)
    type(late)._default_manager.filter(pk__in=[late.pk, cancelled.pk]).update(
        due_date=DAY - dt.timedelta(days=1)
    )
    kind = records.kind_of(late)
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_overdue_scan(today=DAY) == 1
    assert list(Notification.objects.filter(kind="overdue").values_list(
        "recipient__username", "subject", "url", "record_type", "record_id")) == [
        ("author", f"Deviation {late.number} is overdue", f"/deviations/{late.pk}/",
         kind.type_name, str(late.pk)),
    ]


def test_a_handover_resolves_the_former_owners_reminder(
    personas: dict[str, Any], django_capture_on_commit_callbacks: Capture
) -> None:
    from cyberqms.quality.deviations import services as deviations
    from cyberqms.quality.deviations.tests.factories import deviation_in_state

    late = deviation_in_state(personas, "investigation")
    type(late)._default_manager.filter(pk=late.pk).update(due_date=DAY - dt.timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        notifications_overdue_scan(today=DAY)
    deviations.deviation_update(late, actor=personas["qa_manager"],
                                changes={"owner": personas["process_owner"]},
                                reason="Process owner investigates")
    reminder = Notification.objects.get(kind="overdue")
    assert (reminder.recipient.username, reminder.resolved_at is not None) == ("author", True)


def test_closing_the_record_resolves_the_reminder(
    personas: dict[str, Any], django_capture_on_commit_callbacks: Capture
) -> None:
    from cyberqms.quality.deviations.tests.factories import deviation_in_state
    from cyberqms.quality.deviations.workflow import DEVIATION_WORKFLOW

    late = deviation_in_state(personas, "open")
    type(late)._default_manager.filter(pk=late.pk).update(due_date=DAY - dt.timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        notifications_overdue_scan(today=DAY)
    DEVIATION_WORKFLOW.run(late, "cancel", actor=personas["qa_manager"], reason="Duplicate")
    reminder = Notification.objects.get(kind="overdue")
    assert (reminder.awaited_states, reminder.resolved_at is not None) == (
        ["draft", "open", "investigation", "qa_review", "approved"], True)
