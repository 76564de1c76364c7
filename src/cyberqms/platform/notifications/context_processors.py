"""The unread count for the top bar's inbox badge."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.http import HttpRequest

from cyberqms.platform.core.access import can

from . import actions, queries


def inbox(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not can(user, actions.INBOX_VIEW):
        return {}

    # Counted only if a template shows it (htmx partials do not), and only once.
    @cache
    def unread_notifications() -> int:
        return queries.unread_count(user)

    return {"unread_notifications": unread_notifications}
