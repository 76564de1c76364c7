"""Every write of the inbox: sending (and grouping repeats), resolving, marking read, the
overdue scan, each person's e-mail choices.

Senders call `notify` inside their own transaction; the rows and e-mail follow on
commit, so a change that rolls back tells nobody anything. A notice that asks someone to
act on a record names the record's states in which that work waits (`awaits`): the
workflow engine's `state_changed` resolves it in the transaction of the step that leaves
them, and a notice delivered after such a step is resolved from the start.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from cyberqms.platform.core.access import Actor, require
from cyberqms.platform.trail.record import audit_record, snapshot
from cyberqms.platform.trail.registry import by_type

from . import actions
from .enums import DEFAULT_EMAIL_KINDS, NotificationKind
from .mail import queue_email
from .models import EmailSettings, Notification

logger = logging.getLogger("cyberqms.platform.notifications")

SUBJECT_MAX = 200
KEY_MAX = 200
AWAITS_MAX = 300
# Kinds whose notice asks for the step the record waits on now (its current state); an
# assignment or an overdue reminder holds while the record is open.
STEP_KINDS = frozenset({NotificationKind.APPROVAL_DUE, NotificationKind.EXTENSION})
OPEN_RECORD_KINDS = frozenset({NotificationKind.ASSIGNMENT, NotificationKind.OVERDUE})


@dataclass(frozen=True, slots=True)
class Message:
    kind: str
    subject: str
    body: str = ""
    url: str = ""
    record_type: str = ""
    record_id: str = ""
    record_number: str = ""
    awaits: str = ""  # ",state,state,"
    subject_key: str = ""

    def content(self) -> dict[str, str]:
        """The fields a repeat writes over the earlier notice."""
        return {
            "kind": self.kind, "subject": self.subject, "body": self.body, "url": self.url,
            "record_type": self.record_type, "record_id": self.record_id,
            "record_number": self.record_number, "awaits": self.awaits,
        }


def _user_id(user: Any) -> int | None:
    if user is None:
        return None
    if isinstance(user, int):
        return user
    pk = getattr(user, "pk", None)
    return pk if isinstance(pk, int) else None


def _awaits(states: Iterable[str]) -> str:
    names = list(dict.fromkeys(str(s) for s in states))
    if any(not name or "," in name for name in names):
        raise ValueError(f"awaited states are state names, not {names!r}")
    return f",{','.join(names)}," if names else ""


def _check(message: Message) -> None:
    if message.kind not in NotificationKind.values:
        raise ValueError(f"unknown notification kind {message.kind!r}")
    if not message.subject.strip():
        raise ValueError("a notification needs a subject")
    # Links are our own pages: a path, never another site (the inbox redirects to it).
    if message.url and (not message.url.startswith("/") or message.url.startswith("//")):
        raise ValueError(f"notification links are local paths, not {message.url!r}")
    if message.awaits and not (message.record_type and message.record_id):
        raise ValueError("a notification that awaits states names its record")
    if len(message.awaits) > AWAITS_MAX:
        raise ValueError(f"awaited states are at most {AWAITS_MAX} characters")
    if len(message.subject_key) > KEY_MAX:
        raise ValueError(f"a subject key is at most {KEY_MAX} characters")


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
    awaits: Iterable[str] = (),
    subject_key: str = "",
) -> None:
    """Tell `recipients` (users or user ids; None is skipped) about something, on commit.

    Call it inside the transaction of the change it announces: each distinct active
    recipient, leaving out `exclude` (pass the actor: nobody is told about their own
    action), gets the notice, and an e-mail copy is queued for those with an e-mail
    address who get this kind by e-mail (their choice, else `DEFAULT_EMAIL_KINDS`;
    CYBERQMS_NOTIFY_EMAIL), all in that transaction (core/outbox.py): if it rolls back,
    nothing happens; the e-mail leaves from the worker after the commit.

    `awaits`: the states of the record (`record_type`, `record_id`) in which the work the
    notice asks for is still to do; the record moving to another state resolves it. A
    record that left them before delivery gets the notice resolved (and no e-mail).
    `subject_key`: a person's unresolved notice with the same key is said again instead
    of adding one: the latest subject, body and link, one more occurrence, the latest
    time, unread again and e-mailed again.

    Side effects (in the caller's transaction): Notification rows added or updated; task
    `email_notifications` queued.
    """
    subject = " ".join(subject.split())
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1] + "…"
    message = Message(
        kind=str(kind), subject=subject, body=body, url=url, record_type=record_type,
        record_id=str(record_id), record_number=record_number, awaits=_awaits(awaits),
        subject_key=subject_key,
    )
    _check(message)
    skip = _user_id(exclude)
    ids = sorted({pk for pk in map(_user_id, recipients) if pk is not None and pk != skip})
    if not ids:
        return
    # Written in the change's transaction: the notice exists if and only if the change
    # committed, and costs no commit of its own (its e-mail copy is queued the same way).
    _deliver(message, ids)


def _deliver(message: Message, user_ids: list[int]) -> list[int]:
    """Write the notices; returns their ids (added or said again), by recipient."""
    active = list(
        get_user_model()._default_manager.filter(pk__in=user_ids, is_active=True)
        .order_by("pk").values_list("pk", "email")
    )
    if not active:
        return []
    now = timezone.now()
    resolved_at = now if _work_done(message) else None
    recipients = [pk for pk, _email in active]
    written = _write_retrying(message, recipients, now, resolved_at)
    if resolved_at is None:
        mailed = _email_wanted(message.kind, {pk for pk, email in active if email})
        queue_email([pk for recipient, pk in written if recipient in mailed])
    return [pk for _recipient, pk in written]


def _write_retrying(
    message: Message, recipients: list[int], now: dt.datetime, resolved_at: dt.datetime | None
) -> list[tuple[int, int]]:
    try:
        with transaction.atomic():
            return _write(message, recipients, now, resolved_at)
    except IntegrityError:
        # A concurrent repeat added someone's notice first: this time it is found.
        with transaction.atomic():
            return _write(message, recipients, now, resolved_at)


def _write(
    message: Message, recipients: list[int], now: dt.datetime, resolved_at: dt.datetime | None
) -> list[tuple[int, int]]:
    """(recipient, notification id) for each recipient: said again or added."""
    again: dict[int, int] = {}
    if message.subject_key and resolved_at is None:
        again = dict(
            Notification.objects.select_for_update()
            .filter(recipient_id__in=recipients, subject_key=message.subject_key,
                    resolved_at__isnull=True)
            .values_list("recipient_id", "pk")
        )
        if again:
            Notification.objects.filter(pk__in=again.values()).update(
                **message.content(), latest_at=now, occurrences=F("occurrences") + 1,
                read_at=None, emailed_at=None,
            )
    added = Notification.objects.bulk_create([
        Notification(recipient_id=pk, **message.content(), subject_key=message.subject_key,
                     created_at=now, latest_at=now, resolved_at=resolved_at)
        for pk in recipients if pk not in again
    ])
    written = [*again.items(), *((n.recipient_id, n.pk) for n in added)]
    return sorted(written)


def _work_done(message: Message) -> bool:
    """Whether the record already left the states the notice awaits (a later step
    committed before the notice was delivered)."""
    if not message.awaits:
        return False
    try:
        model = by_type(message.record_type).model
    except LookupError:
        return False
    if not any(f.name == "state" for f in model._meta.concrete_fields):
        return False
    try:
        state = (model._default_manager.filter(pk=message.record_id)
                 .values_list("state", flat=True).first())
    except (ValueError, ValidationError):  # an id that is no key of this model
        return False
    return state is not None and f",{state}," not in message.awaits


def _email_wanted(kind: str, user_ids: set[int]) -> set[int]:
    """Of `user_ids`, those who get `kind` by e-mail: their choice, or the defaults."""
    if not user_ids:
        return set()
    chosen = dict(EmailSettings.objects.filter(person_id__in=user_ids)
                  .values_list("person_id", "kinds"))
    return {pk for pk in user_ids if kind in chosen.get(pk, DEFAULT_EMAIL_KINDS)}


# --- resolving ------------------------------------------------------------------------------


def notifications_resolve_left(record_type: str, record_id: Any, state: str) -> int:
    """Resolve the unresolved notices about a record that await it in states other than
    `state` (the record is in `state` now); returns how many. Runs in the caller's
    transaction."""
    return (
        Notification.objects.filter(record_type=record_type, record_id=str(record_id),
                                    resolved_at__isnull=True)
        .exclude(awaits="").exclude(awaits__contains=f",{state},")
        .update(resolved_at=timezone.now())
    )


def notifications_resolve(subject_key: str, *, keep: Any = None) -> int:
    """Resolve the unresolved notices with `subject_key` (a task that is done), except
    the one of `keep` (a person, who still has it); returns how many."""
    rows = Notification.objects.filter(subject_key=subject_key, resolved_at__isnull=True)
    kept = _user_id(keep)
    if kept is not None:
        rows = rows.exclude(recipient_id=kept)
    return rows.update(resolved_at=timezone.now())


def record_moved(sender: Any, *, record: Any, type_name: str, target: str,
                 **kwargs: Any) -> None:
    """The workflow engine's `state_changed`: the notices that awaited states the record
    has left are resolved, in the transaction of the step."""
    notifications_resolve_left(type_name, record.pk, target)


# --- reading --------------------------------------------------------------------------------


def notification_mark_read(notification: Notification) -> Notification:
    """Mark one notification read (the caller has checked it is the actor's own).

    Side effects: `read_at` set once; reading again keeps the first time.
    """
    if notification.read_at is None:
        now = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=now
        )
        # A notice that asks for no work (information) is done once read.
        Notification.objects.filter(pk=notification.pk, awaits="",
                                    resolved_at__isnull=True).update(resolved_at=now)
        notification.refresh_from_db(fields=["read_at", "resolved_at"])
    return notification


def notifications_mark_all_read(recipient: Any) -> int:
    """Mark every unread, unresolved notification of `recipient` read; returns how many.
    Those that ask for no work (information) are done once read: they are resolved."""
    now = timezone.now()
    unread = Notification.objects.filter(
        recipient=recipient, read_at__isnull=True, resolved_at__isnull=True)
    informed = unread.filter(awaits="").update(read_at=now, resolved_at=now)
    return informed + unread.update(read_at=now)


# --- quality records --------------------------------------------------------------------------


def open_states(record: Any) -> tuple[str, ...]:
    """The states in which a quality record is still worked on: all of its kind's but the
    closed ones (closed, cancelled)."""
    from cyberqms.platform.kit.records import kind_of

    kind = kind_of(record)
    states = [str(s) for s in kind.model.STATES.values] if kind.model.STATES else []
    states = states or kind.workflow.states() or [str(record.state)]
    return tuple(s for s in states if s not in kind.closed_states)


def owner_key(record_type: str, record_id: Any) -> str:
    """The subject key of "you own this record" (one per owner, resolved on a handover)."""
    return f"{record_type}:{record_id}:owner"


def overdue_key(record_type: str, record_id: Any) -> str:
    """The subject key of the overdue reminders of a record (one per owner)."""
    return f"{record_type}:{record_id}:overdue"


def notify_record(
    recipients: Iterable[Any], record: Any, *, kind: str, subject: str, exclude: Any = None,
    awaits: Iterable[str] | None = None, subject_key: str | None = None,
) -> None:
    """Tell `recipients` about a quality record (in-app, e-mail copy on commit), the record
    named by its number and title, linked to its page.

    Unless told otherwise, a notice that asks for a step (approval due, an extension to
    decide) awaits the record's current state, an assignment awaits its open states (done
    when it is closed or cancelled), information awaits nothing; and the same notice about
    the record (kind and subject) said again is one notice per person.
    """
    from cyberqms.platform.kit.records import kind_of

    record_kind = kind_of(record)
    if awaits is None:
        awaits = ((str(record.state),) if kind in STEP_KINDS
                  else open_states(record) if kind in OPEN_RECORD_KINDS else ())
    subject = f"{record.number}: {subject}"
    if subject_key is None:
        digest = hashlib.sha256(" ".join(subject.split()).encode()).hexdigest()[:16]
        subject_key = f"{record_kind.type_name}:{record.pk}:{kind}:{digest}"
    notify(recipients, kind=kind, subject=subject,
           url=record_kind.detail_url(record), record_type=record_kind.type_name,
           record_id=record.pk, record_number=record.number, exclude=exclude,
           body=record.title, awaits=awaits, subject_key=subject_key)


def owner_told(sender: Any, *, record: Any, actor: Any, created: bool, **kwargs: Any) -> None:
    """The record kit's `owner_assigned` (in the write's transaction): the new owner hears
    of it (not from themselves); a former owner's ownership and overdue notices are
    resolved, the work being someone else's now."""
    from cyberqms.platform.kit.records import kind_of

    record_kind = kind_of(record)
    type_name, noun = record_kind.type_name, record_kind.noun
    if not created:
        for key in (owner_key(type_name, record.pk), overdue_key(type_name, record.pk)):
            notifications_resolve(key, keep=record.owner_id)
    subject = f"you own this new {noun}" if created else f"you are now the owner of this {noun}"
    notify_record([record.owner], record, kind="assignment", subject=subject, exclude=actor,
                  subject_key=owner_key(type_name, record.pk))


# --- overdue quality records ----------------------------------------------------------------


def _overdue_day_key(type_name: str, record_id: Any, owner_id: int, today: dt.date) -> str:
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
    """Remind the owner of every overdue quality record, once per record, owner and day.

    Overdue: a due date before `today`, not deleted, not in one of its kind's closed
    states. The reminder is one notice per record and owner, said again each day (one
    more occurrence, unread again) until the record is closed or handed over. Safe to run
    concurrently and as often as wanted: a unique key per record, owner and day keeps a
    second run from repeating the first. Returns how many reminders were given.

    Side effects: Notification rows (kind `overdue`) added or updated; task
    `email_notifications`.
    """
    from cyberqms.platform.kit.records import all_kinds

    today = today or timezone.localdate()
    told: list[Notification] = []
    with_email: set[int] = set()
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
        keys = [_overdue_day_key(kind.type_name, r.pk, r.owner.pk, today) for r in records]
        sent = _already_sent(keys)
        for record, key in zip(records, keys, strict=True):
            if key in sent:
                continue
            now = timezone.now()
            notification = _remind(Notification(
                recipient_id=record.owner.pk, kind=NotificationKind.OVERDUE,
                subject=f"{kind.label} {record.number} is overdue",
                body=f"{record.title}\nDue {record.due_date}; "
                     f"state: {record.get_state_display()}.",
                url=kind.detail_url(record), record_type=kind.type_name,
                record_id=str(record.pk), record_number=record.number, dedupe_key=key,
                subject_key=overdue_key(kind.type_name, record.pk),
                awaits=_awaits(open_states(record)), created_at=now, latest_at=now,
            ))
            if notification is not None:
                told.append(notification)
                if record.owner.email:
                    with_email.add(record.owner.pk)
    wanted = _email_wanted(NotificationKind.OVERDUE, with_email)
    emails = sorted(n.pk for n in told if n.recipient_id in wanted)
    queue_email(emails)
    return len(told)


def _remind(fresh: Notification) -> Notification | None:
    """Add the reminder, or say it again on the owner's unresolved one; None when another
    scan gave today's reminder first."""
    try:
        with transaction.atomic():
            earlier = (Notification.objects.select_for_update()
                       .filter(recipient_id=fresh.recipient_id, subject_key=fresh.subject_key,
                               resolved_at__isnull=True).first())
            if earlier is None:
                fresh.save(force_insert=True)
                return fresh
            # Compare and set on the earlier day's key: of two scans, one says it again.
            said = Notification.objects.filter(
                pk=earlier.pk, dedupe_key=earlier.dedupe_key
            ).update(
                subject=fresh.subject, body=fresh.body, url=fresh.url,
                record_number=fresh.record_number, awaits=fresh.awaits,
                dedupe_key=fresh.dedupe_key, latest_at=fresh.latest_at,
                occurrences=F("occurrences") + 1, read_at=None, emailed_at=None,
            )
            if not said:
                return None
            earlier.refresh_from_db()
            return earlier
    except IntegrityError:
        return None


# --- e-mail choices ---------------------------------------------------------------------------


def email_kinds_of(person: Any) -> list[str]:
    """The kinds of notification `person` gets by e-mail (their choice, or the defaults)."""
    row = EmailSettings.objects.filter(person_id=person.pk).first()
    return list(row.kinds) if row is not None else EmailSettings.default_kinds()


def notification_email_choose(*, actor: Actor, kinds: Iterable[str]) -> EmailSettings:
    """Choose which kinds of notification also come to one's e-mail address (the inbox
    gets them all either way). Choosing what is already chosen changes nothing.

    Side effects: audit entry `notifications.email.choose` by the person, with the kinds
    before and after.
    :raises ValidationError: an unknown kind (named `kinds`).
    """
    require(actor, actions.EMAIL_CHOOSE)
    wanted = {str(kind) for kind in kinds}
    unknown = sorted(wanted - set(NotificationKind.values))
    if unknown:
        raise ValidationError({"kinds": [f"Unknown kind of notification: {', '.join(unknown)}."]})
    chosen = [kind for kind in NotificationKind.values if kind in wanted]
    try:
        return _choose(actor, chosen)
    except IntegrityError:
        # Two first choices at once: the other one made the row; change it.
        return _choose(actor, chosen)


def _choose(actor: Actor, chosen: list[str]) -> EmailSettings:
    with transaction.atomic():
        row = EmailSettings.objects.select_for_update().filter(person_id=actor.pk).first()
        created = row is None
        if row is None:
            row = EmailSettings(person_id=actor.pk, kinds=EmailSettings.default_kinds())
        elif row.kinds == chosen:
            return row
        before = None if created else snapshot(row)
        row.kinds, row.updated_at = chosen, timezone.now()
        row.save(force_insert=created)
        audit_record("notifications.email.choose", row, actor=actor, before=before,
                     created=created)
    return row
