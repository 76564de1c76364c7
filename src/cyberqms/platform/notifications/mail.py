"""E-mail copies of notifications, sent by the `db_worker` process (Django's tasks API).

The request that caused a notification never waits on the mail server: the service
enqueues `email_notifications` after commit. A message that cannot be sent is logged and
keeps `emailed_at` empty; the in-app copy is there either way.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from cyberqms.platform.core.outbox import queue_with_change

from .models import Notification

logger = logging.getLogger("cyberqms.platform.notifications")


def absolute(path: str) -> str:
    """`path` on the installation's public address (CYBERQMS_BASE_URL), when it is set."""
    if not path:
        return ""
    return f"{settings.CYBERQMS_BASE_URL.rstrip('/')}{path}"


def email_subject(notification: Notification) -> str:
    # Headers are one line: a subject never carries a line break into the message.
    subject = " ".join(notification.subject.split())
    return f"[{settings.CYBERQMS_ORGANIZATION}] {subject}"


def email_text(notification: Notification) -> str:
    return render_to_string("notifications/email.txt", {
        "notification": notification,
        "link": absolute(notification.url),
        "inbox": absolute(reverse("notifications:inbox")),
        "organization": settings.CYBERQMS_ORGANIZATION,
    })


@task
def email_notifications(notification_ids: list[int]) -> dict[str, int]:
    """Send the e-mail copy of each notification not sent yet whose work is not done yet
    (a notice resolved before its copy leaves is not mailed); returns counts."""
    sent = failed = skipped = 0
    pending = Notification.objects.filter(
        pk__in=notification_ids, emailed_at__isnull=True, resolved_at__isnull=True,
    ).select_related("recipient").order_by("pk")
    for notification in pending:
        recipient = notification.recipient
        if not recipient.email or not recipient.is_active:
            skipped += 1
            continue
        try:
            send_mail(
                email_subject(notification), email_text(notification),
                settings.DEFAULT_FROM_EMAIL, [recipient.email],
            )
        except Exception:  # the mail server's failure is logged, never the caller's problem
            logger.exception(
                "notification %s: e-mail to user %s failed", notification.pk, recipient.pk
            )
            failed += 1
            continue
        Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(
            emailed_at=timezone.now()
        )
        sent += 1
    return {"sent": sent, "failed": failed, "skipped": skipped}


def queue_email(notification_ids: list[int]) -> None:
    """Queue the e-mail copies (if e-mail is on) with the caller's change (core/outbox.py):
    in its transaction, or once it commits, where a failure to queue is logged."""
    if not notification_ids or not settings.CYBERQMS_NOTIFY_EMAIL:
        return
    queue_with_change(email_notifications, notification_ids)
