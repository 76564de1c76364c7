"""Background work of the inbox: the overdue scan (e-mail copies are in `mail`)."""

from __future__ import annotations

from django.conf import settings
from django.tasks import task

from cyberqms.platform.core.context import RequestContext, acting_context

from .services import notifications_overdue_scan


@task
def scan_overdue() -> dict[str, int]:
    """Scheduled: notify owners of overdue records (hourly by default, once a day each)."""
    with acting_context(RequestContext(channel="task")):
        created = notifications_overdue_scan()
    return {"created": created}


def enqueue_overdue_scan() -> None:
    scan_overdue.enqueue()


def overdue_scan_interval() -> float:
    return float(settings.CYBERQMS_OVERDUE_SCAN_INTERVAL)
