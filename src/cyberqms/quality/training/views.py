"""Training pages: my training and the reading I sign, the matrix, a person's training
record, the trainer's sign-off, curricula, and the training workflow steps need."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cyberqms.platform.accounts.enums import Role
from cyberqms.platform.core.access import AccessDenied, can, sites_for
from cyberqms.platform.core.csv_export import CsvColumn, csv_response, list_filters, wants_csv
from cyberqms.platform.core.pages import gated, page_actor
from cyberqms.platform.kit.signatures import (
    SigningError,
    signature_from_post,
    signing_state,
)
from cyberqms.platform.kit.words import problem_text
from cyberqms.platform.trail.services import list_export_record
from cyberqms.quality.documents.enums import Department
from cyberqms.quality.documents.files import content_html, extension
from cyberqms.quality.documents.models import ControlledDocument

from . import actions, queries, services
from .enums import AssignmentState, ItemKind
from .gate import known_steps
from .models import Curriculum, TrainingAssignment, TrainingRequirement


@gated(actions.SELF)
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    rows = list(queries.assignments_of(actor.pk))
    return render(request, "training/mine.html", {
        "open": [r for r in rows if r.state == AssignmentState.OPEN],
        "done": [r for r in rows if r.state == AssignmentState.DONE][:100],
        "today": timezone.localdate(),
    })


@gated(actions.SELF)
@require_http_methods(["GET", "POST"])
def read(request: HttpRequest, pk: int) -> HttpResponse:
    """The version to read, and the signature "Read and understood" under it."""
    actor = page_actor(request)
    assignment = TrainingAssignment.objects.select_related("version", "version__owner").filter(
        pk=pk, person_id=actor.pk, kind=ItemKind.READING).first()
    if assignment is None or assignment.version is None:
        raise Http404
    error: dict[str, str] = {}
    if request.method == "POST":
        try:
            services.reading_acknowledge(assignment, actor=actor,
                                         signature=signature_from_post(request))
        except SigningError as exc:
            error = {"field": exc.field or "", "message": str(exc)}
        except (ValidationError, PermissionDenied) as exc:
            error = {"field": "", "message": problem_text(exc)}
        else:
            messages.success(request, f"{assignment.version.number}: read and understood, "
                                      "signed.")
            return redirect("training:mine")
    return render(request, "training/read.html", {
        "assignment": assignment, "version": assignment.version,
        "body_html": content_html(assignment.version),
        "pdf_pages": extension(getattr(assignment.version.source, "filename", "")) == "pdf",
        "signing": signing_state(request, actor), "error": error,
    }, status=422 if error else 200)


@gated(actions.VIEW)
@require_GET
def matrix(request: HttpRequest) -> HttpResponseBase:
    params = {k: request.GET.get(k, "").strip()[:40] for k in ("site", "role", "department",
                                                              "item")}
    if params["role"] and params["role"] not in services.TRAINED_ROLES:
        params["role"] = ""
    within = sites_for(page_actor(request), actions.VIEW)
    if wants_csv(request):
        found = queries.matrix(site=params["site"], role=params["role"],
                               department=params["department"], item=params["item"],
                               within=within)
        columns = [CsvColumn("Person", lambda r: r.person.printed_name),
                   CsvColumn("Username", lambda r: r.person.username),
                   CsvColumn("Roles", lambda r: ", ".join(r.roles))]
        columns += [CsvColumn(f"{c.label} {c.title}", _cell_value(i))
                    for i, c in enumerate(found.columns)]
        list_export_record(actor=page_actor(request), name="training.matrix",
                           label="Training matrix", filters=list_filters(request),
                           rows=len(found.rows))
        return csv_response("training-matrix.csv", columns, found.rows)
    from django.core.paginator import Paginator

    from cyberqms.platform.accounts.models import Site

    number = _page_number(request.GET.get("page"))
    found = queries.matrix(site=params["site"], role=params["role"],
                           department=params["department"], item=params["item"],
                           within=within, page=number, per_page=MATRIX_PAGE)
    if not found.rows and number > 1 and found.people:  # past the last page: the last one
        number = (found.people - 1) // MATRIX_PAGE + 1
        found = queries.matrix(site=params["site"], role=params["role"],
                               department=params["department"], item=params["item"],
                               within=within, page=number, per_page=MATRIX_PAGE)
    # The pager counts everyone chosen; the page holds its rows only.
    page = Paginator(range(found.people), MATRIX_PAGE).get_page(number)
    return render(request, "training/matrix.html", {
        "matrix": found, "page": page, "params": params, "kpis": queries.kpis(),
        "sites": Site.objects.filter(is_active=True).order_by("code"),
        "roles": [(r, Role(r).label) for r in services.TRAINED_ROLES],
        "departments": Department.choices, "words": queries.STATUS_WORDS,
    })


# People per page of the matrix (each row holds a cell per item: 300 items make a page of
# 30 000 cells); the CSV holds everyone.
MATRIX_PAGE = 100


def _page_number(raw: str | None) -> int:
    try:
        return max(1, min(int(raw or 1), 10**6))
    except ValueError:
        return 1


def _cell_value(i: int) -> Any:
    return lambda row: queries.STATUS_WORDS[row.cells[i]]


@gated(actions.SELF)
@require_GET
def person(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    if pk != actor.pk and not services.covers(actor, actions.VIEW, pk):
        raise Http404
    subject = get_user_model()._default_manager.filter(pk=pk).first()
    if subject is None:
        raise Http404
    rows = list(queries.assignments_of(pk))
    return render(request, "training/person.html", {
        "subject": subject, "rows": rows, "today": timezone.localdate(),
        "can_sign_off": pk != actor.pk and services.covers(actor, actions.DELIVER, pk),
        "signing": signing_state(request, actor),
    })


@gated(actions.DELIVER)
@require_POST
def sign_off(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = TrainingAssignment.objects.filter(pk=pk).first()
    if assignment is None:
        raise Http404
    try:
        services.training_sign_off(assignment, actor=page_actor(request),
                                   signature=signature_from_post(request),
                                   note=request.POST.get("note", ""))
    except AccessDenied:
        raise PermissionDenied from None
    except (SigningError, ValidationError) as exc:
        messages.error(request, problem_text(exc))
    else:
        messages.success(request, f"{assignment.title}: signed off as trained.")
    return redirect("training:person", assignment.person_id)


@gated(actions.VIEW)
@require_GET
def curricula(request: HttpRequest) -> HttpResponse:
    rows = Curriculum.objects.prefetch_related("items__document").order_by("name")
    labels = dict(Role.choices)
    return render(request, "training/curricula.html", {"curricula": [
        (c, "every GxP user" if c.for_everyone
         else ", ".join(str(labels.get(r, r)) for r in c.roles) or "no role yet")
        for c in rows], "can_manage": can(page_actor(request), actions.MANAGE)})


@gated(actions.VIEW)
@require_http_methods(["GET", "POST"])
def requirements(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    error = ""
    if request.method == "POST":
        try:
            services.requirement_add(actor=actor, step=request.POST.get("step", ""),
                                     document_number=request.POST.get("document", ""),
                                     change_number=request.POST.get("change", ""))
        except AccessDenied:
            raise PermissionDenied from None
        except ValidationError as exc:
            error = problem_text(exc)
        else:
            messages.success(request, "The step needs this training from now on.")
            return redirect("training:requirements")
    steps = known_steps()
    rows = TrainingRequirement.objects.filter(removed_at__isnull=True).select_related(
        "document", "created_by")
    return render(request, "training/requirements.html", {
        "rows": [(r, steps.get(r.step, r.step)) for r in rows], "steps": sorted(
            steps.items(), key=lambda s: s[1]),
        "documents": ControlledDocument.objects.order_by("number"),
        "can_manage": can(actor, actions.MANAGE), "error": error, "posted": request.POST,
    }, status=422 if error else 200)


@gated(actions.MANAGE)
@require_POST
def requirement_remove(request: HttpRequest, pk: int) -> HttpResponse:
    row = TrainingRequirement.objects.filter(pk=pk, removed_at__isnull=True).first()
    if row is None:
        raise Http404
    try:
        services.requirement_remove(row, actor=page_actor(request),
                                    change_number=request.POST.get("change", ""))
    except ValidationError as exc:
        messages.error(request, problem_text(exc))
    else:
        messages.success(request, "The step no longer needs this training.")
    return redirect("training:requirements")
