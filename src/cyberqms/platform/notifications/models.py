"""The in-app inbox: one row per recipient and message, and each person's e-mail choices.

Notifications are not GxP records (the record they point at carries its own audit trail),
so they are not audited; but nobody deletes them either: reading sets `read_at`, the work
being done sets `resolved_at`, a repeat updates the row (`occurrences`, `latest_at`).
A person's e-mail choices are a self-service setting, audited like their profile.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .enums import DEFAULT_EMAIL_KINDS, NotificationKind


class UndeletableNotificationError(Exception):
    pass


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notifications"
    )
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True, help_text="The record's page (a path).")
    record_type = models.CharField(max_length=64, blank=True)
    record_id = models.CharField(max_length=64, blank=True)
    record_number = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The last time it was said again (a repeat of the same subject key); the inbox's order.
    latest_at = models.DateTimeField(default=timezone.now)
    occurrences = models.PositiveIntegerField(default=1)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # Set by senders that must not repeat themselves (the overdue scan: one per record,
    # recipient and day); unique when set, so concurrent scans cannot both send.
    dedupe_key = models.CharField(max_length=200, blank=True, editable=False)
    # What the notice is about, for grouping: a repeat with the same key to the same
    # person updates their unresolved notice instead of adding one.
    subject_key = models.CharField(max_length=200, blank=True, editable=False)
    # The states of the record (record_type, record_id) in which the work it asks for is
    # still to do, as ",state,state,"; empty for a notice that asks nothing. The record
    # moving to any other state resolves it (in the same transaction).
    awaits = models.CharField(max_length=300, blank=True, editable=False)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-latest_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "resolved_at", "read_at"],
                         name="notification_inbox"),
            models.Index(fields=["record_type", "record_id"], name="notification_record"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"], condition=~Q(dedupe_key=""), name="notification_once"
            ),
            # One open notice per person and subject: concurrent repeats cannot both add one.
            models.UniqueConstraint(
                fields=["recipient", "subject_key"],
                condition=~Q(subject_key="") & Q(resolved_at__isnull=True),
                name="notification_grouped",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None

    @property
    def awaited_states(self) -> list[str]:
        return [state for state in self.awaits.split(",") if state]

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise UndeletableNotificationError("Notifications are marked read, never deleted.")


class EmailSettings(models.Model):
    """Which kinds of notification a person also gets by e-mail (no row: the defaults)."""

    person = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, primary_key=True,
        related_name="notification_email",
    )
    kinds = models.JSONField(default=list, help_text="Notification kinds sent by e-mail too.")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "notification e-mail settings"
        verbose_name_plural = "notification e-mail settings"

    def __str__(self) -> str:
        return f"E-mail notifications of {self.person}"

    @staticmethod
    def default_kinds() -> list[str]:
        return [kind for kind in NotificationKind.values if kind in DEFAULT_EMAIL_KINDS]
