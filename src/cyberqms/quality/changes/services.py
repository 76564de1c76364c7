"""Every write on change control: create and edit (the record kit's, with the change's
fields), implementation tasks. Transitions go through `CHANGE_WORKFLOW.run` only (P11-10).

Each function authorizes through the access gate, runs in one transaction and writes its
audit entry there (P11-06).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cyberqms.platform.core.access import Actor, capable, require
from cyberqms.platform.kit.record_parts import RecordClosed
from cyberqms.platform.kit.record_services import record_create, record_update
from cyberqms.platform.kit.records import check_due_date, kind_of
from cyberqms.platform.notifications.services import notifications_resolve
from cyberqms.platform.trail.record import audit_record, snapshot

from . import notices
from .enums import ChangeState, TaskState
from .family import TASK_STATES
from .models import Change, ChangeTask

S = ChangeState


def change_create(*, actor: Actor, site: Any, **values: Any) -> Change:
    """Raise a change request in draft, numbered CC-<year>-<n> (the kit's `record_create`
    with the change's fields: title, change_type, justification, owner, the impact
    assessment, ratings, dates). Side effects: audit entry `changes.change.create`."""
    change = record_create(kind_of(Change), actor=actor, site=site, values=values)
    assert isinstance(change, Change)
    return change


def change_update(change: Change, *, actor: Actor, changes: dict[str, Any],
                  reason: str = "") -> Change:
    """Edit the fields open in the current state (the kit's `record_update`): in draft
    without a reason (`changes.change.edit`), later with one (`changes.change.update`)."""
    return record_update(change, actor=actor, changes=changes, reason=reason)


# --- implementation tasks ------------------------------------------------------------------


def change_task_add(
    change: Change, *, actor: Actor, description: str, owner: Any,
    due_date: dt.date | None = None,
) -> ChangeTask:
    """Plan an implementation task (until implementation is complete).

    Side effects: audit `changes.task.add`; the task owner is told (assignment).
    """
    require(actor, "changes.edit", change)
    description = (description or "").strip()
    errors: dict[str, list[str]] = {}
    if not description:
        errors["description"] = ["Describe the task."]
    elif len(description) > 2000:
        errors["description"] = ["At most 2000 characters."]
    if owner is None or not capable(owner, "changes.work", change):
        errors["owner"] = ["The owner must be someone who works on changes at this site."]
    try:
        check_due_date(due_date)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = Change.objects.select_for_update().get(pk=change.pk)
        _tasks_open(locked)
        task = ChangeTask.objects.create(
            change=locked, description=description, owner=owner, due_date=due_date,
            created_by_id=actor.pk, created_at=timezone.now(),
        )
        audit_record("changes.task.add", task, actor=actor, created=True)
        notices.task_assigned(task, actor)
    return task


def change_task_complete(task: ChangeTask, *, actor: Actor, note: str = "") -> ChangeTask:
    """Mark an open task done, during implementation. Side effects: `changes.task.complete`;
    the task's assignment notice resolved."""
    return _task_finish(task, actor=actor, state=TaskState.DONE, note=note)


def change_task_cancel(task: ChangeTask, *, actor: Actor, reason: str) -> ChangeTask:
    """Cancel an open task that is no longer needed (reason required)."""
    if not (reason or "").strip():
        raise ValidationError({"reason": ["Say why the task is cancelled."]})
    return _task_finish(task, actor=actor, state=TaskState.CANCELLED, note=reason)


def _task_finish(task: ChangeTask, *, actor: Actor, state: str, note: str) -> ChangeTask:
    change = task.change
    done = state == TaskState.DONE
    require(actor, "changes.work" if done else "changes.edit", change)
    note = (note or "").strip()
    if len(note) > 2000:
        raise ValidationError({"note": ["At most 2000 characters."]})
    with transaction.atomic():
        locked_change = Change.objects.select_for_update().get(pk=change.pk)
        if done and locked_change.state != S.IMPLEMENTATION:
            raise ValidationError({"__all__": [
                "Tasks are completed during implementation; this change is "
                f"{S(locked_change.state).label.lower()}."
            ]})
        _tasks_open(locked_change)
        locked = ChangeTask.objects.select_for_update().get(pk=task.pk)
        if locked.state != TaskState.OPEN:
            raise ValidationError({"__all__": [f"This task is already {locked.state}."]})
        before = snapshot(locked)
        locked.state = state
        locked.completed_at = timezone.now()
        locked.note = note
        locked.save(update_fields=["state", "completed_at", "note"])
        audit_record(
            "changes.task.complete" if done else "changes.task.cancel", locked, actor=actor,
            before=before, reason=None if done else note,
        )
        notifications_resolve(notices.task_key(locked))
    for name in ("state", "completed_at", "note"):
        setattr(task, name, getattr(locked, name))
    return locked


def _tasks_open(change: Change) -> None:
    if change.is_deleted or change.state not in TASK_STATES:
        raise RecordClosed(change)
