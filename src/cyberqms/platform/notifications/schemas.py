"""API shapes of the inbox."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field


class NotificationOut(Schema):
    id: int
    kind: str
    subject: str
    body: str
    url: str = Field(description="The record's page (a path on this server), or empty")
    record_type: str
    record_id: str
    record_number: str
    created_at: datetime
    read_at: datetime | None
    emailed_at: datetime | None


class NotificationPage(Schema):
    count: int = Field(description="Notifications matching the filter")
    unread: int = Field(description="Unread notifications of the caller, whatever the filter")
    items: list[NotificationOut]


class MarkedOut(Schema):
    marked: int = Field(description="Notifications that were unread and are now read")
