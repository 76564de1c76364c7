"""Every write of the inbox: sending, marking read, the overdue scan.

Senders call `notify` inside their own transaction; the rows and e-mail follow on
commit, so a change that rolls back tells nobody anything.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from .enums import NotificationKind
from .mail import queue_email
from .models import Notification

logger = logging.getLogger("cyberqms.platform.notifications")

SUBJECT_MAX = 200


@dataclass(frozen=True, slots=True)
class Message:
    kind: str
    subject: str
    body: str = ""
    url: str = ""
    record_type: str = ""
    record_id: str = ""
    record_number: str = ""


def _user_id(user: Any) -> int | None:
    if user is None:
        return None
    if isinstance(user, int):
        return user
    pk = getattr(user, "pk", None)
    return pk if isinstance(pk, int) else None


def _check(message: Message) -> None:
    if message.kind not in NotificationKind.values:
        raise ValueError(f"unknown notification kind {message.kind!r}")
    if not message.subject.strip():
        raise ValueError("a notification needs a subject")
    # Links are our own pages: a path, never another site (the inbox redirects to it).
    if message.url and (not message.url.startswith("/") or message.url.startswith("//")):
        raise ValueError(f"notification links are local paths, not {message.url!r}")


def notify(
    recipients: Iterable[Any],
    *,
    kind: str,
    subject: str,
    body: str = "",
    url: str = "",
    record_type: str = "",
    record_id: str | int = "",
    record_number: str = "",
    exclude: Any = None,
) -> None:
    """Tell `recipients` (users or user ids; None is skipped) about something, on commit.

    Call it inside the transaction of the change it announces. After that transaction
    commits, one notification is created per distinct active recipient, leaving out
    `exclude` (pass the actor: nobody is told about their own action), and an e-mail copy
    is queued for those with an e-mail address (CYBERQMS_NOTIFY_EMAIL). If the
    transaction rolls back, nothing happens.

    Side effects (on commit): Notification rows; task `email_notifications`.
    """
    subject = " ".join(subject.split())
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1] + "…"
    message = Message(
        kind=str(kind), subject=subject, body=body, url=url, record_type=record_type,
        record_id=str(record_id), record_number=record_number,
    )
    _check(message)
    skip = _user_id(exclude)
    ids = sorted({pk for pk in map(_user_id, recipients) if pk is not None and pk != skip})
    if not ids:
        return
    # robust: a failure after commit is logged; the caller's change is already saved.
    transaction.on_commit(partial(_deliver, message, ids), robust=True)


def _deliver(message: Message, user_ids: list[int]) -> list[Notification]:
    active = list(
        get_user_model()._default_manager.filter(pk__in=user_ids, is_active=True)
        .order_by("pk").values_list("pk", "email")
    )
    now = timezone.now()
    rows = [
        Notification(
            recipient_id=pk, kind=message.kind, subject=message.subject, body=message.body,
            url=message.url, record_type=message.record_type, record_id=message.record_id,
            record_number=message.record_number, created_at=now,
        )
        for pk, _email in active
    ]
    emails = {pk for pk, email in active if email}
    created = Notification.objects.bulk_create(rows)
    queue_email([n.pk for n in created if n.recipient_id in emails])
    return created


def notification_mark_read(notification: Notification) -> Notification:
    """Mark one notification read (the caller has checked it is the actor's own).

    Side effects: `read_at` set once; reading again keeps the first time.
    """
    if notification.read_at is None:
        now = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=now
        )
        notification.refresh_from_db(fields=["read_at"])
    return notification


def notifications_mark_all_read(recipient: Any) -> int:
    """Mark every unread notification of `recipient` read; returns how many."""
    return Notification.objects.filter(recipient=recipient, read_at__isnull=True).update(
        read_at=timezone.now()
    )


# --- overdue quality records ----------------------------------------------------------------


def _overdue_key(type_name: str, record_id: Any, owner_id: int, today: dt.date) -> str:
    return f"overdue:{type_name}:{record_id}:{owner_id}:{today.isoformat()}"


def _already_sent(keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        found.update(
            Notification.objects.filter(dedupe_key__in=keys[start : start + 500])
            .values_list("dedupe_key", flat=True)
        )
    return found


def notifications_overdue_scan(*, today: dt.date | None = None) -> int:
    """Notify the owner of every overdue quality record, once per record, owner and day.

    Overdue: a due date before `today`, not deleted, not in one of its kind's closed
    states. Safe to run concurrently and as often as wanted: a unique key per record,
    owner and day keeps a second run from repeating the first. Returns how many
    notifications were created.

    Side effects: Notification rows (kind `overdue`); task `email_notifications`.
    """
    from cyberqms.platform.kit.records import all_kinds

    today = today or timezone.localdate()
    created: list[Notification] = []
    emails: set[int] = set()
    for kind in all_kinds():
        overdue = (
            kind.model._default_manager.filter(
                due_date__lt=today, is_deleted=False, owner__is_active=True
            )
            .exclude(state__in=kind.closed_states)
            .select_related("owner")
            .order_by("pk")
        )
        records = list(overdue)
        keys = [_overdue_key(kind.type_name, r.pk, r.owner.pk, today) for r in records]
        sent = _already_sent(keys)
        for record, key in zip(records, keys, strict=True):
            if key in sent:
                continue
            notification = _create_once(Notification(
                recipient_id=record.owner.pk, kind=NotificationKind.OVERDUE,
                subject=f"{kind.label} {record.number} is overdue",
                body=f"{record.title}\nDue {record.due_date}; state {record.state}.",
                url=kind.detail_url(record), record_type=kind.type_name,
                record_id=str(record.pk), record_number=record.number, dedupe_key=key,
            ))
            if notification is not None:
                created.append(notification)
                if record.owner.email:
                    emails.add(notification.pk)
    transaction.on_commit(partial(queue_email, sorted(emails)), robust=True)
    return len(created)


def _create_once(notification: Notification) -> Notification | None:
    """Insert, or None when another scan created the same key first."""
    try:
        with transaction.atomic():
            notification.save(force_insert=True)
    except IntegrityError:
        return None
    return notification


def notify_record(
    recipients: Iterable[Any], record: Any, *, kind: str, subject: str, exclude: Any = None,
) -> None:
    """Tell `recipients` about a quality record (in-app, e-mail copy on commit), the record
    named by its number and title, linked to its page."""
    from cyberqms.platform.kit.records import kind_of

    record_kind = kind_of(record)
    notify(recipients, kind=kind, subject=f"{record.number}: {subject}",
           url=record_kind.detail_url(record), record_type=record_kind.type_name,
           record_id=record.pk, record_number=record.number, exclude=exclude,
           body=record.title)


def owner_told(sender: Any, *, record: Any, actor: Any, created: bool, **kwargs: Any) -> None:
    """The record kit's `owner_assigned`: the new owner hears of it (not from themselves)."""
    from cyberqms.platform.kit.records import kind_of

    noun = kind_of(record).noun
    subject = f"you own this new {noun}" if created else f"you are now the owner of this {noun}"
    notify_record([record.owner], record, kind="assignment", subject=subject, exclude=actor)
