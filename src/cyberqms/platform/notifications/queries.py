"""Reads of the inbox. Every query is narrowed to one recipient: there is no way to ask
for someone else's notifications."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import Http404

from .models import Notification


def inbox(
    recipient: Any, *, unread_only: bool = False, kind: str = "", resolved: bool = False
) -> QuerySet[Notification]:
    """The recipient's notifications: the unresolved ones (unread first, then latest
    first), or with `resolved` those whose work is done (latest resolved first)."""
    rows = Notification.objects.filter(recipient=recipient, resolved_at__isnull=not resolved)
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    if kind:
        rows = rows.filter(kind=kind)
    if resolved:
        return rows.order_by("-resolved_at", "-pk")
    return rows.annotate(
        read_rank=Case(When(read_at__isnull=True, then=Value(0)), default=Value(1),
                       output_field=IntegerField())
    ).order_by("read_rank", "-latest_at", "-pk")


def unread_count(recipient: Any) -> int:
    """Unread notifications whose work is not done yet (the badge, "Mark all read")."""
    return Notification.objects.filter(
        recipient=recipient, read_at__isnull=True, resolved_at__isnull=True
    ).count()


def access_notification(actor: Any, notification_id: int) -> Notification:
    """The actor's own notification; someone else's answers like a missing one."""
    found = Notification.objects.filter(pk=notification_id, recipient_id=actor.pk).first()
    if found is None:
        raise Http404("No such notification.")
    return found
