"""Background work of the audit trail, run by the `db_worker` process."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.tasks import task

from cyberqms.platform.core.context import RequestContext, acting_context
from cyberqms.platform.trail.log import SealRefusedError
from cyberqms.platform.trail.publish import checkpoint_publish
from cyberqms.platform.trail.services import trail_checkpoint, trail_verify


@task
def verify_trail(since_checkpoint: bool = True) -> dict[str, Any]:
    """Scheduled verification (incremental hourly, full daily by default)."""
    with acting_context(RequestContext(channel="task")):
        verification, report = trail_verify(since_checkpoint=since_checkpoint)
    return {
        "verification": verification.pk,
        "result": verification.result,
        "entries": report.entries,
        "problems": len(report.problems),
    }


@task
def publish_checkpoint() -> dict[str, Any]:
    """Send the newest checkpoint to the witnesses and the SIEM (trail/publish.py)."""
    with acting_context(RequestContext(channel="task")):
        report = checkpoint_publish()
    return {"size": report.size, "written": report.written, "failed": report.failed,
            "ahead": report.ahead}


def enqueue_publish() -> None:
    publish_checkpoint.enqueue()


def witness_interval() -> float:
    return float(settings.CYBERQMS_TRAIL_WITNESS_INTERVAL)


def seal_now() -> None:
    """Inline scheduler job: seal if there are new entries (milliseconds, every second)."""
    try:
        trail_checkpoint()
    except SealRefusedError:
        # trail_checkpoint raised the critical security event; the next verification
        # locates the altered entry and flags it.
        return


def enqueue_incremental_verify() -> None:
    verify_trail.enqueue(since_checkpoint=True)


def enqueue_full_verify() -> None:
    verify_trail.enqueue(since_checkpoint=False)


def seal_interval() -> float:
    return float(settings.CYBERQMS_TRAIL_SEAL_INTERVAL)


def verify_interval() -> float:
    return float(settings.CYBERQMS_TRAIL_VERIFY_INTERVAL)


def full_verify_interval() -> float:
    return float(settings.CYBERQMS_TRAIL_FULL_VERIFY_INTERVAL)
