"""Reads of the inbox. Every query is narrowed to one recipient: there is no way to ask
for someone else's notifications."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import Http404

from .models import Notification


def inbox(recipient: Any, *, unread_only: bool = False, kind: str = "") -> QuerySet[Notification]:
    """The recipient's notifications, unread first, then newest first."""
    rows = Notification.objects.filter(recipient=recipient)
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    if kind:
        rows = rows.filter(kind=kind)
    return rows.annotate(
        read_rank=Case(When(read_at__isnull=True, then=Value(0)), default=Value(1),
                       output_field=IntegerField())
    ).order_by("read_rank", "-created_at", "-pk")


def unread_count(recipient: Any) -> int:
    return Notification.objects.filter(recipient=recipient, read_at__isnull=True).count()


def access_notification(actor: Any, notification_id: int) -> Notification:
    """The actor's own notification; someone else's answers like a missing one."""
    found = Notification.objects.filter(pk=notification_id, recipient_id=actor.pk).first()
    if found is None:
        raise Http404("No such notification.")
    return found
