"""Change-control pages: list, create, detail (on the record page kit), edits, tasks."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from cyberqms.accounts.models import Site
from cyberqms.core.access import AccessDenied, can
from cyberqms.core.pages import gated
from cyberqms.core.record_pages import record_context
from cyberqms.core.record_parts import RecordNotFound, get_record
from cyberqms.core.records import kind_of

from . import services
from .enums import ChangeState, ChangeType, RiskLevel, TaskState
from .forms import ChangeCreateForm, ChangeEditForm, PirForm, TaskForm
from .models import Change, ChangeTask
from .queries import changes_filtered
from .services import RATING_FIELDS, editable_fields


def _service_errors(form: Any, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        target = field if field in form.fields else None
        for error in errors:
            form.add_error(target, error)


def _change(request: HttpRequest, pk: int) -> Change:
    try:
        change: Change = get_record(request.user, kind_of(Change), pk)
    except RecordNotFound:
        raise Http404 from None
    return change


def _sites(actor: Any) -> Any:
    return Site.objects.filter(
        pk__in=[s.pk for s in Site.objects.filter(is_active=True)
                if can(actor, "changes.create", _AtSite(s.pk))]
    ).order_by("code")


class _AtSite:
    """A stand-in resource located at a site, to ask the gate before a record exists."""

    def __init__(self, site_id: int) -> None:
        self.site_id = site_id


@gated("changes.view")
def change_list(request: HttpRequest) -> HttpResponse:
    get = request.GET
    filters: dict[str, Any] = {
        "q": get.get("q", "").strip()[:100],
        "state": get.get("state", "") if get.get("state") in ("open", *ChangeState.values)
        else "",
        "change_type": get.get("type", "") if get.get("type") in ChangeType.values else "",
        "site": get.get("site", "")[:20],
        "cyber": get.get("cyber", "") if get.get("cyber") in ("yes", "no") else "",
        "risk": get.get("risk", "") if get.get("risk") in RiskLevel.values else "",
        "overdue": get.get("overdue") == "1",
        "mine": get.get("owner") == "me",
        "sort": get.get("sort", "-created")[:20],
    }
    rows = changes_filtered(request.user, **filters)
    page = Paginator(rows, 25).get_page(get.get("page"))
    return render(request, "changes/change_list.html", {
        "page": page, "filters": filters, "states": ChangeState.choices,
        "types": ChangeType.choices, "risks": RiskLevel.choices,
        "sites": Site.objects.order_by("code"),
        "can_create": can(request.user, "changes.create"),
    })


@gated("changes.create")
def change_create(request: HttpRequest) -> HttpResponse:
    sites = _sites(request.user)
    form = ChangeCreateForm(request.POST or None, sites=sites)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.changes()
            try:
                change = services.change_create(
                    actor=request.user, site=form.cleaned_data["site"],
                    title=data.pop("title"), change_type=data.pop("change_type"),
                    justification=data.pop("justification"), **data,
                )
            except AccessDenied:
                form.add_error("site", "You may not raise changes at this site.")
            except ValidationError as exc:
                _service_errors(form, exc)
            else:
                messages.success(request, f"{change.number} raised as a draft.")
                return redirect("changes:detail", change.pk)
        status = 422
    return render(request, "changes/change_create.html", {"form": form}, status=status)


def _detail_context(request: HttpRequest, change: Change, **extra: Any) -> dict[str, Any]:
    kind = kind_of(change)
    context = record_context(request, kind, change)
    names = editable_fields(change)
    editing = context["can_edit"] and bool(names)
    review_names = tuple(n for n in names if n in ("post_implementation_review",
                                                      "pir_outcome"))
    other_names = tuple(n for n in names if n not in review_names)
    tasks = list(change.tasks.select_related("owner"))
    context.update({
        "change": change,
        "cyber_answers": change.cyber_answers(),
        "ratings": [(n.capitalize(), getattr(change, n)) for n in RATING_FIELDS],
        "tasks": tasks,
        "task_states": TaskState,
        "can_plan_tasks": context["can_edit"] and change.state in services.TASK_STATES,
        "can_work": can(request.user, "changes.work", change)
        and change.state == ChangeState.IMPLEMENTATION,
        "task_form": TaskForm(initial={"owner": change.owner_id}),
        "edit_form": ChangeEditForm(initial=_initial(change, other_names),
                                    names=other_names) if editing and other_names else None,
        "pir_form": PirForm(initial=_initial(change, review_names))
        if editing and review_names else None,
        "draft": change.state == ChangeState.DRAFT,
    })
    context.update(extra)
    return context


def _initial(change: Change, names: tuple[str, ...]) -> dict[str, Any]:
    return {n: (getattr(change, f"{n}_id") if n == "owner" else getattr(change, n))
            for n in names}


@gated("changes.view")
def change_detail(request: HttpRequest, pk: int) -> HttpResponse:
    change = _change(request, pk)
    return render(request, "changes/change_detail.html", _detail_context(request, change))


@gated("changes.edit")
@require_POST
def change_edit(request: HttpRequest, pk: int) -> HttpResponse:
    change = _change(request, pk)
    names = editable_fields(change)
    pir = request.POST.get("form") == "pir"
    if pir:
        form: ChangeEditForm | PirForm = PirForm(request.POST)
    else:
        names = tuple(n for n in names if n not in ("post_implementation_review",
                                                      "pir_outcome"))
        form = ChangeEditForm(request.POST, names=names)
    if form.is_valid():
        try:
            services.change_update(change, actor=request.user, changes=form.changes(),
                                   reason=form.cleaned_data.get("reason", ""))
        except AccessDenied:
            raise PermissionDenied from None
        except ValidationError as exc:
            _service_errors(form, exc)
        else:
            messages.success(request, "Saved.")
            return redirect("changes:detail", change.pk)
    extra = {"pir_form": form} if pir else {"edit_form": form}
    return render(request, "changes/change_detail.html",
                  _detail_context(request, change, **extra), status=422)


def _tasks_response(request: HttpRequest, change: Change, *, form: TaskForm | None = None,
                    status: int = 200, error: str = "") -> HttpResponse:
    if request.headers.get("HX-Request") == "true":
        context = _detail_context(request, change)
        if form is not None:
            context["task_form"] = form
        context["task_error"] = error
        return render(request, "changes/change_detail.html#tasks", context, status=status)
    if error:
        messages.error(request, error)
    return redirect("changes:detail", change.pk)


@gated("changes.edit")
@require_POST
def task_add(request: HttpRequest, pk: int) -> HttpResponse:
    change = _change(request, pk)
    form = TaskForm(request.POST)
    if form.is_valid():
        try:
            services.change_task_add(change, actor=request.user, **form.cleaned_data)
        except AccessDenied:
            raise PermissionDenied from None
        except ValidationError as exc:
            _service_errors(form, exc)
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
        services.change_task_complete(task, actor=request.user, note=request.POST.get("note", ""))
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
        services.change_task_cancel(task, actor=request.user,
                                    reason=request.POST.get("reason", ""))
    except AccessDenied:
        raise PermissionDenied from None
    except ValidationError as exc:
        return _tasks_response(request, change, status=422, error=" ".join(exc.messages))
    return _tasks_response(request, change)
