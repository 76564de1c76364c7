"""API shapes of the inbox."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field

from .models import Notification


class NotificationOut(Schema):
    id: int
    kind: str
    subject: str
    body: str
    url: str = Field(description="The record's page (a path on this server), or empty")
    record_type: str
    record_id: str
    record_number: str
    created_at: datetime = Field(description="When it was first said")
    latest_at: datetime = Field(description="When it was last said (a repeat updates it)")
    occurrences: int = Field(description="How often it was said: repeats with the same "
                                         "subject are one notification")
    awaits: list[str] = Field(
        description="The record's states in which the work asked for is still to do; "
                    "empty when it asks nothing",
    )
    resolved: bool = Field(description="The work it asked for is done")
    resolved_at: datetime | None
    read_at: datetime | None
    emailed_at: datetime | None

    @staticmethod
    def resolve_awaits(obj: Notification) -> list[str]:
        return obj.awaited_states

    @staticmethod
    def resolve_resolved(obj: Notification) -> bool:
        return obj.is_resolved


class NotificationPage(Schema):
    count: int = Field(description="Notifications matching the filter (by `cursor`: up to "
                                   "10,000, see `count_exact`)")
    count_exact: bool = Field(description="Whether `count` is exact")
    unread: int = Field(description="Unread, unresolved notifications of the caller, "
                                    "whatever the filter")
    items: list[NotificationOut]
    next: str | None = Field(description="The cursor of the next page (None on the last)")
    previous: str | None = Field(description="The cursor of the page before (None on the "
                                             "first)")


class MarkedOut(Schema):
    marked: int = Field(description="Notifications that were unread and are now read")
