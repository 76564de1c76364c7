"""Who hears about a change, and when (notices are delivered on commit). QA is whoever the
gate lets approve changes at the site; IT security whoever it lets approve their
cybersecurity impact."""

from __future__ import annotations

from typing import Any

from cyberqms.platform.accounts.queries import holders_of
from cyberqms.platform.notifications.services import notify_record

from .models import Change, ChangeTask


def qa_approval_due(change: Change, actor: Any) -> None:
    """On submit: QA of the site is asked to approve."""
    notify_record(holders_of("changes.approve", change.site_id), change, kind="approval_due",
                  subject="awaits QA approval", exclude=change.originator_id)


def security_approval_due(change: Change, actor: Any) -> None:
    """On QA approval of a cyber-relevant change: IT security of the site is asked."""
    if not change.cyber_impact:
        return
    notify_record(holders_of("changes.security_approve", change.site_id), change,
                  kind="approval_due", subject="needs IT security approval",
                  exclude=change.originator_id)


def owner_approved(change: Change, actor: Any) -> None:
    notify_record([change.owner_id], change, kind="info",
                  subject="approved for implementation", exclude=actor)


def task_key(task: ChangeTask) -> str:
    """What a task's assignment notice is about: resolved when the task is finished."""
    return f"changes.task:{task.pk}"


def task_assigned(task: ChangeTask, actor: Any) -> None:
    notify_record([task.owner_id], task.change, kind="assignment",
                  subject=f"task for you: {task.description[:80]}", exclude=actor,
                  subject_key=task_key(task))
