"""The change's own pages: its implementation tasks (list, create, detail and edit are the
record kit's; `family.page_context` adds the change's blocks to its page). Task rows answer
htmx requests with the updated tasks panel."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from cyberqms.platform.core.access import AccessDenied
from cyberqms.platform.core.pages import gated, page_actor
from cyberqms.platform.kit.family_pages import detail_page, form_errors, load_record
from cyberqms.platform.kit.records import kind_of

from . import services
from .forms import TaskForm
from .models import Change, ChangeTask


def _change(request: HttpRequest, pk: int) -> Change:
    change: Change = load_record(kind_of(Change), request, pk)
    return change


def _tasks_response(request: HttpRequest, change: Change, *, form: TaskForm | None = None,
                    status: int = 200, error: str = "") -> HttpResponse:
    if request.headers.get("HX-Request") == "true":
        extra: dict[str, Any] = {"task_error": error}
        if form is not None:
            extra["task_form"] = form
        return detail_page(request, kind_of(Change), change, status=status,
                           template="changes/change_detail.html#tasks", **extra)
    if error:
        messages.error(request, error)
    return redirect("changes:detail", change.pk)


@gated("changes.edit")
@require_POST
def task_add(request: HttpRequest, pk: int) -> HttpResponse:
    change = _change(request, pk)
    form = TaskForm(request.POST, change=change)
    if form.is_valid():
        try:
            services.change_task_add(change, actor=page_actor(request), **form.cleaned_data)
        except AccessDenied:
            raise PermissionDenied from None
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            change.refresh_from_db()
            return _tasks_response(request, change)
    return _tasks_response(request, change, form=form, status=422,
                           error=" ".join(str(e) for errs in form.errors.values() for e in errs))


def _task(change: Change, task_id: int) -> ChangeTask:
    task = change.tasks.filter(pk=task_id).first()
    if task is None:
        raise Http404
    return task


@gated("changes.work")
@require_POST
def task_complete(request: HttpRequest, pk: int, task_id: int) -> HttpResponse:
    change = _change(request, pk)
    task = _task(change, task_id)
    try:
        services.change_task_complete(task, actor=page_actor(request),
                                      note=request.POST.get("note", ""))
    except AccessDenied:
        raise PermissionDenied from None
    except ValidationError as exc:
        return _tasks_response(request, change, status=422, error=" ".join(exc.messages))
    return _tasks_response(request, change)


@gated("changes.edit")
@require_POST
def task_cancel(request: HttpRequest, pk: int, task_id: int) -> HttpResponse:
    change = _change(request, pk)
    task = _task(change, task_id)
    try:
        services.change_task_cancel(task, actor=page_actor(request),
                                    reason=request.POST.get("reason", ""))
    except AccessDenied:
        raise PermissionDenied from None
    except ValidationError as exc:
        return _tasks_response(request, change, status=422, error=" ".join(exc.messages))
    return _tasks_response(request, change)
