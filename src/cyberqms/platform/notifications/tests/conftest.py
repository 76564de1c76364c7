"""People to notify, made through the accounts services like every persona."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def people(make_user: Callable[..., Any]) -> dict[str, Any]:
    return {name: make_user(name, role) for name, role in (
        ("admin", "administrator"), ("author", "author"), ("qa_approver", "qa_reviewer"),
        ("process_owner", "process_owner"),
    )}


@pytest.fixture
def send(django_capture_on_commit_callbacks: Callable[..., Any]) -> Callable[..., list[Any]]:
    """Send through `notify` and commit; returns the new notifications, oldest first."""
    from cyberqms.platform.notifications.models import Notification
    from cyberqms.platform.notifications.services import notify

    def send_to(recipient: Any, count: int = 1, *, kind: str = "assignment",
                subject: str = "Record {i} assigned to you") -> list[Any]:
        before = set(Notification.objects.values_list("pk", flat=True))
        with django_capture_on_commit_callbacks(execute=True):
            for i in range(count):
                notify([recipient], kind=kind, subject=subject.format(i=i),
                       url=f"/records/{i}/", record_number=f"REC-{i}")
        return list(Notification.objects.exclude(pk__in=before).order_by("pk"))

    return send_to
