"""Inbox API: one's own notifications, marking them read."""
# No "from __future__ import annotations": django-ninja resolves operation annotations
# through the gate wrapper, whose globals are not this module's.

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from cyberqms.platform.core.api_gate import gate
from cyberqms.platform.core.paging import CURSOR_HELP, window

from . import actions, queries, services
from .enums import NotificationKind
from .models import Notification
from .schemas import MarkedOut, NotificationOut, NotificationPage

router = Router(tags=["notifications"])


def _caller(request: HttpRequest) -> Any:
    return request.auth  # type: ignore[attr-defined]  # set by ninja's authentication


@router.get("/notifications", response=NotificationPage, operation_id="notification_list")
@gate(actions.INBOX_VIEW)
def notification_list(
    request: HttpRequest,
    unread: bool = Query(False, description="Only unread notifications"),
    resolved: bool = Query(False, description="Those whose work is done, instead of the "
                                              "current ones"),
    kind: NotificationKind | None = None,
    limit: int = Query(50, ge=1, le=500, description="Page size, 1 to 500"),
    offset: int = Query(0, ge=0, le=10**9, description="Rows to skip"),
    cursor: str | None = Query(None, max_length=2000, description=CURSOR_HELP),
) -> dict[str, Any]:
    """The caller's current notifications (the work they ask for not done yet), unread
    first, then latest first; or with `resolved` those whose work is done. Paginated by
    `offset`, or by `cursor` (follow `next`), whose pages cost the same however deep."""
    rows = queries.inbox(_caller(request), unread_only=unread, resolved=resolved,
                         kind=kind.value if kind else "")
    found = window(rows, limit=limit, offset=offset, cursor=cursor, count=True)
    assert found.count is not None
    return {
        "count": found.count.value, "count_exact": not found.count.more,
        "unread": queries.unread_count(_caller(request)),
        "items": found.rows, "next": found.next, "previous": found.previous,
    }


@router.post(
    "/notifications/{notification_id}/read", response=NotificationOut,
    operation_id="notification_read",
)
@gate(actions.INBOX_MARK)
def notification_read(request: HttpRequest, notification_id: int) -> Notification:
    """Mark one of the caller's notifications read (again: keeps the first time)."""
    notification = queries.access_notification(_caller(request), notification_id)
    return services.notification_mark_read(notification)


@router.post("/notifications/read-all", response=MarkedOut, operation_id="notification_read_all")
@gate(actions.INBOX_MARK)
def notification_read_all(request: HttpRequest) -> dict[str, int]:
    """Mark every unread, unresolved notification of the caller read."""
    return {"marked": services.notifications_mark_all_read(_caller(request))}
