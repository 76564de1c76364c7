"""The change's own REST operations: its implementation tasks (list, create, detail and
update are the record kit's; transitions, attachments, comments and links the shared
record API `/api/v1/records/changes/{id}/…`).
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from ninja import Router, Status

from cyberqms.platform.core.api_gate import api_actor as _actor
from cyberqms.platform.core.api_gate import gate
from cyberqms.platform.kit.api_gate import api_record

from . import services
from .models import Change, ChangeTask
from .schemas import ReasonIn, TaskCompleteIn, TaskIn, TaskOut

router = Router(tags=["Change control"])


def _load(request: HttpRequest, change_id: int, for_: str = "view") -> Change:
    record: Change = api_record(request, "changes", change_id, for_=for_)
    return record


def _task(request: HttpRequest, change_id: int, task_id: int) -> ChangeTask:
    change = _load(request, change_id)
    task = change.tasks.select_related("owner").filter(pk=task_id).first()
    if task is None:
        raise Http404
    task.change = change
    return task


def _user(username: str | None, field: str) -> Any:
    user = get_user_model()._default_manager.filter(username=(username or "").strip()).first()
    if user is None:
        raise ValidationError({field: [f"No user {username!r}."]})
    return user


def task_out(t: ChangeTask) -> dict[str, Any]:
    return {
        "id": t.pk, "description": t.description, "owner": t.owner.username,
        "due_date": t.due_date, "state": t.state, "completed_at": t.completed_at,
        "note": t.note,
    }


@router.post("/changes/{change_id}/tasks", response={201: TaskOut},
             operation_id="change_task_add")
@gate("changes.edit")
def change_task_add(request: HttpRequest, change_id: int, payload: TaskIn) -> Status:
    change = _load(request, change_id)
    task = services.change_task_add(
        change, actor=_actor(request), description=payload.description,
        owner=_user(payload.owner, "owner"), due_date=payload.due_date,
    )
    return Status(201, task_out(task))


@router.post("/changes/{change_id}/tasks/{task_id}/complete", response=TaskOut,
             operation_id="change_task_complete")
@gate("changes.work")
def change_task_complete(request: HttpRequest, change_id: int, task_id: int,
                         payload: TaskCompleteIn) -> dict[str, Any]:
    task = _task(request, change_id, task_id)
    return task_out(services.change_task_complete(task, actor=_actor(request),
                                                  note=payload.note))


@router.post("/changes/{change_id}/tasks/{task_id}/cancel", response=TaskOut,
             operation_id="change_task_cancel")
@gate("changes.edit")
def change_task_cancel(request: HttpRequest, change_id: int, task_id: int,
                       payload: ReasonIn) -> dict[str, Any]:
    task = _task(request, change_id, task_id)
    return task_out(services.change_task_cancel(task, actor=_actor(request),
                                                reason=payload.reason))
