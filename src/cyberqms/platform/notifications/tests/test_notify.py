"""`notify`: rows in the caller's transaction, e-mail only after it commits, one per
distinct active recipient, never to the actor; e-mail failures stay out of the request."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.db import transaction

from cyberqms.platform.accounts.services import user_deactivate
from cyberqms.platform.notifications.mail import email_notifications
from cyberqms.platform.notifications.models import Notification, UndeletableNotificationError
from cyberqms.platform.notifications.services import notify

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]


def _assign(recipients: list[Any], **extra: Any) -> None:
    notify(
        recipients, kind="assignment", subject="DEV-2026-0007 assigned to you",
        body="Investigate the temperature excursion.", url="/deviations/7/",
        record_type="deviations.deviation", record_id=7, record_number="DEV-2026-0007",
        **extra,
    )


def test_the_notice_is_written_in_the_change_and_no_mail_leaves_before_commit(
    people: dict[str, Any], django_capture_on_commit_callbacks: Capture
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _assign([people["author"]])
        assert list(Notification.objects.values_list("recipient__username", flat=True)) == [
            "author"]
        assert mail.outbox == []
    assert len(callbacks) == 1  # the e-mail task, queued once the change commits


def test_rolled_back_change_sends_nothing(
    people: dict[str, Any], django_capture_on_commit_callbacks: Capture
) -> None:
    def failing_change() -> None:
        with transaction.atomic():
            _assign([people["author"]])
            raise RuntimeError("the change failed")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, \
            pytest.raises(RuntimeError):
        failing_change()
    assert callbacks == []
    assert Notification.objects.count() == 0
    assert mail.outbox == []


def test_commit_creates_one_row_and_one_email_per_recipient(
    people: dict[str, Any], django_capture_on_commit_callbacks: Capture
) -> None:
    author, approver = people["author"], people["qa_approver"]
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        _assign([author, approver, author.pk, None])
    rows = list(Notification.objects.order_by("recipient__username"))
    assert [(n.recipient.username, n.kind, n.subject, n.record_number, n.record_id, n.url)
            for n in rows] == [
        ("author", "assignment", "DEV-2026-0007 assigned to you", "DEV-2026-0007", "7",
         "/deviations/7/"),
        ("qa_approver", "assignment", "DEV-2026-0007 assigned to you", "DEV-2026-0007", "7",
         "/deviations/7/"),
    ]
    assert all(n.read_at is None and n.emailed_at is not None for n in rows)
    assert sorted(m.to[0] for m in mail.outbox) == ["author@x.test", "qa_approver@x.test"]
    message = next(m for m in mail.outbox if m.to == ["author@x.test"])
    assert message.subject == "[cyberqms] DEV-2026-0007 assigned to you"
    assert message.from_email == "cyberqms@localhost"
    assert message.body == (
        "DEV-2026-0007 assigned to you\n\nRecord: DEV-2026-0007\n\n"
        "Investigate the temperature excursion.\n\nOpen: /deviations/7/\n\n--\n"
        "You receive this because of your work in cyberqms.\n"
        "Your notifications: /notifications/\n"
    )


def test_links_in_email_use_the_base_url(
    people: dict[str, Any], settings: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    settings.CYBERQMS_BASE_URL = "https://qms.example.test/"
    with django_capture_on_commit_callbacks(execute=True):
        _assign([people["author"]])
    assert "Open: https://qms.example.test/deviations/7/\n" in mail.outbox[0].body
    assert "Your notifications: https://qms.example.test/notifications/\n" in mail.outbox[0].body


def test_actor_inactive_users_are_left_out(
    people: dict[str, Any], django_capture_on_commit_callbacks: Capture
) -> None:
    author, approver, owner = people["author"], people["qa_approver"], people["process_owner"]
    user_deactivate(owner, actor=people["admin"], reason="left the company")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _assign([author, approver, owner], exclude=author)
    assert list(Notification.objects.values_list("recipient__username", flat=True)) == [
        "qa_approver"
    ]
    assert [m.to for m in mail.outbox] == [["qa_approver@x.test"]]


def test_nobody_left_queues_nothing(
    people: dict[str, Any], django_capture_on_commit_callbacks: Capture
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _assign([people["author"], None], exclude=people["author"].pk)
    assert callbacks == []
    assert Notification.objects.count() == 0


def test_users_without_email_get_the_inbox_copy_only(
    people: dict[str, Any], django_capture_on_commit_callbacks: Capture
) -> None:
    author = people["author"]
    author.email = ""
    author.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        _assign([author])
    assert Notification.objects.get().emailed_at is None
    assert mail.outbox == []


def test_email_can_be_switched_off(
    people: dict[str, Any], settings: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    settings.CYBERQMS_NOTIFY_EMAIL = False
    with django_capture_on_commit_callbacks(execute=True):
        _assign([people["author"]])
    assert Notification.objects.get().emailed_at is None
    assert mail.outbox == []


def test_mail_outage_is_logged_and_leaves_emailed_at_empty(
    people: dict[str, Any], settings: Any, caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    settings.MAILERS = {
        "default": {"BACKEND": "cyberqms.platform.notifications.tests.backends.RefusingBackend"}
    }
    with caplog.at_level(logging.ERROR, logger="cyberqms.platform.notifications"), \
            django_capture_on_commit_callbacks(execute=True):
        _assign([people["author"], people["qa_approver"]])
    assert list(Notification.objects.values_list("emailed_at", flat=True)) == [None, None]
    assert [r.getMessage() for r in caplog.records] == [
        f"notification {n.pk}: e-mail to user {n.recipient_id} failed"
        for n in Notification.objects.order_by("pk")
    ]
    # Once the server is back, sending again delivers what is still pending, once.
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    ids = list(Notification.objects.order_by("pk").values_list("pk", flat=True))
    email_notifications.call(ids)
    email_notifications.call(ids)
    assert sorted(m.to[0] for m in mail.outbox) == ["author@x.test", "qa_approver@x.test"]


def test_subject_is_one_line_and_bounded(
    people: dict[str, Any], django_capture_on_commit_callbacks: Capture
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        notify([people["author"]], kind="assignment",
               subject="Line one\nBcc: x@evil.test " + "y" * 300)
    subject = Notification.objects.get().subject
    assert len(subject) == 200
    assert subject.startswith("Line one Bcc: x@evil.test yyy")
    assert subject.endswith("…")
    assert "\n" not in mail.outbox[0].subject


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "gossip", "subject": "x"}, "unknown notification kind 'gossip'"),
        ({"kind": "info", "subject": "  "}, "a notification needs a subject"),
        ({"kind": "info", "subject": "x", "url": "https://evil.test/"},
         "notification links are local paths, not 'https://evil.test/'"),
        ({"kind": "info", "subject": "x", "url": "//evil.test/"},
         "notification links are local paths, not '//evil.test/'"),
    ],
)
def test_bad_messages_are_refused_at_the_call(
    people: dict[str, Any], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=r".*") as excinfo:
        notify([people["author"]], **kwargs)
    assert str(excinfo.value) == message


def test_notifications_are_never_deleted(
    people: dict[str, Any], django_capture_on_commit_callbacks: Capture
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _assign([people["author"]])
    with pytest.raises(UndeletableNotificationError):
        Notification.objects.get().delete()
    assert Notification.objects.count() == 1
