"""Deviation pages: list, create, detail (on the record page kit), edit, spawn a CAPA."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from cyberqms.accounts.models import Site
from cyberqms.core.access import can
from cyberqms.core.pages import gated
from cyberqms.core.record_pages import record_context
from cyberqms.core.record_parts import RecordNotFound, get_record
from cyberqms.core.records import kind_by_slug

from . import services
from .enums import Classification, DeviationState, RootCauseCategory
from .forms import DeviationCreateForm, DeviationEditForm, SpawnCapaForm
from .models import Deviation
from .queries import DEFAULT_SORT, SORTS, deviations_filtered, linked_capas, state_counts

S = DeviationState


def _kind() -> Any:
    return kind_by_slug("deviations")


def _load(request: HttpRequest, pk: int, for_: str = "view") -> Deviation:
    try:
        record: Deviation = get_record(request.user, _kind(), pk, for_=for_)
    except RecordNotFound:
        raise Http404 from None
    return record


def _service_errors(form: Any, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        target = field if field in form.fields else None
        for error in errors:
            form.add_error(target, error)


@gated("deviations.view")
def deviation_list(request: HttpRequest) -> HttpResponse:
    get = request.GET
    filters = {
        "q": get.get("q", "").strip()[:100],
        "state": get.get("state", "") if get.get("state") in S.values else "",
        "classification": get.get("classification", "")
        if get.get("classification") in (*Classification.values, "none") else "",
        "site": get.get("site", "")[:20],
        "cyber": get.get("cyber", "") if get.get("cyber") in ("yes", "no") else "",
        "overdue": get.get("overdue") == "1",
        "mine": get.get("mine") == "1",
        "sort": get.get("sort", DEFAULT_SORT) if get.get("sort") in SORTS else DEFAULT_SORT,
    }
    rows = deviations_filtered(request.user, **filters)  # type: ignore[arg-type]
    counts_filters = {**filters, "state": ""}
    counts = state_counts(deviations_filtered(request.user, **counts_filters))  # type: ignore[arg-type]
    page = Paginator(rows, 25).get_page(get.get("page"))
    return render(request, "deviations/deviation_list.html", {
        "page": page, "filters": filters, "counts": counts, "states": S.choices,
        "classifications": Classification.choices, "sites": Site.objects.all(),
        "can_create": can(request.user, "deviations.create"),
    })


@gated("deviations.create")
def deviation_create(request: HttpRequest) -> HttpResponse:
    initial = {"owner": request.user.pk}
    form = DeviationCreateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["classification"] = data.get("classification") or ""
        try:
            deviation = services.deviation_create(actor=request.user, **data)
        except ValidationError as exc:
            _service_errors(form, exc)
        else:
            messages.success(request, f"{deviation.number} recorded as a draft.")
            return redirect("deviations:detail", pk=deviation.pk)
    return render(request, "deviations/deviation_create.html", {"form": form}, status=(
        422 if request.method == "POST" else 200))


def _detail(request: HttpRequest, deviation: Deviation, *, edit_form: Any = None,
            capa_form: Any = None, status: int = 200) -> HttpResponse:
    actor = request.user
    editable = services.editable_fields(deviation, actor)
    needs_reason = deviation.state != S.DRAFT
    if edit_form is None and editable:
        initial = {name: getattr(deviation, name) for name in editable}
        if "owner" in initial:
            initial["owner"] = deviation.owner_id
        if "department" in initial:
            initial["department"] = deviation.department_id
        edit_form = DeviationEditForm(initial=initial, editable=editable,
                                      needs_reason=needs_reason)
    can_spawn = (deviation.state in services.SPAWN_STATES and not deviation.is_deleted
                 and can(actor, "deviations.edit", deviation)
                 and can(actor, "capa.create", deviation))
    if capa_form is None and can_spawn:
        capa_form = SpawnCapaForm(initial={
            "title": f"CAPA for {deviation.number}: {deviation.title}"[:200],
            "owner": deviation.owner_id,
        })
    context = record_context(request, _kind(), deviation)
    context.update({
        "deviation": deviation,
        "state_label": S(deviation.state).label,
        "list_url": reverse("deviations:list"),
        "edit_form": edit_form,
        "editable": editable,
        "capas": _with_urls(linked_capas(deviation)),
        "capa_form": capa_form if can_spawn else None,
        "root_cause_label": dict(RootCauseCategory.choices).get(
            deviation.root_cause_category, ""),
    })
    return render(request, "deviations/deviation_detail.html", context, status=status)


def _with_urls(capas: list[Any]) -> list[Any]:
    from cyberqms.core.records import kind_of

    for capa in capas:
        try:
            capa.page_url = kind_of(capa).detail_url(capa)
        except NoReverseMatch:
            capa.page_url = ""
    return capas


@gated("deviations.view")
def deviation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _load(request, pk))


@gated("deviations.edit")
@require_POST
def deviation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    deviation = _load(request, pk, for_="edit")
    editable = services.editable_fields(deviation, request.user)
    form = DeviationEditForm(request.POST, editable=editable,
                             needs_reason=deviation.state != S.DRAFT)
    if form.is_valid():
        try:
            services.deviation_update(deviation, actor=request.user,
                                      changes=form.changes(deviation),
                                      reason=form.cleaned_data.get("reason", ""))
        except ValidationError as exc:
            _service_errors(form, exc)
        else:
            messages.success(request, f"{deviation.number} saved.")
            return redirect("deviations:detail", pk=deviation.pk)
    return _detail(request, deviation, edit_form=form, status=422)


@gated("deviations.edit")
@require_POST
def deviation_spawn_capa(request: HttpRequest, pk: int) -> HttpResponse:
    deviation = _load(request, pk, for_="edit")
    form = SpawnCapaForm(request.POST)
    if form.is_valid():
        try:
            capa = services.deviation_spawn_capa(deviation, actor=request.user,
                                                 **form.cleaned_data)
        except ValidationError as exc:
            _service_errors(form, exc)
        else:
            messages.success(request, f"{capa.number} opened from {deviation.number}.")
            return redirect("deviations:detail", pk=deviation.pk)
    return _detail(request, deviation, capa_form=form, status=422)
