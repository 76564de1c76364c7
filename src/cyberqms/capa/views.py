"""CAPA pages: list, create, detail (on the record kit), and the CAPA's own forms.

Every write is one service call; errors come back as field errors on the form or as
messages on the detail page. Action rows answer htmx requests with the updated row.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from cyberqms.accounts.models import Site
from cyberqms.core.access import AccessDenied, can
from cyberqms.core.pages import gated
from cyberqms.core.record_pages import record_context
from cyberqms.core.record_parts import RecordNotFound, get_record
from cyberqms.core.records import kind_by_slug
from cyberqms.core.signatures import (
    SignatureRequest,
    SigningError,
    commitment_accept,
    has_commitment,
)
from cyberqms.core.workflow import GuardFailed, SegregationOfDuties, TransitionNotAllowed

from . import services
from .enums import ActionState, CapaSource, CapaState
from .forms import (
    ActionCompleteForm,
    ActionForm,
    CapaCreateForm,
    CapaEditForm,
    EffectivenessForm,
    ReasonForm,
)
from .models import Capa, CapaAction
from .queries import actions_of, capa_is_overdue, capas_filtered

REFUSED = (TransitionNotAllowed, SegregationOfDuties, SigningError, GuardFailed,
           ValidationError, PermissionDenied)


def _kind() -> Any:
    return kind_by_slug("capa")


def _capa(request: HttpRequest, pk: Any, for_: str = "view") -> Capa:
    try:
        capa: Capa = get_record(request.user, _kind(), pk, for_=for_)
    except RecordNotFound:
        raise Http404 from None
    return capa


def _errors_to_form(form: Any, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        target = field if field in form.fields else None
        for error in errors:
            form.add_error(target, error)


def _text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        parts: list[str] = []
        for field, errors in exc.message_dict.items():
            label = "" if field == "__all__" else f"{field.replace('_', ' ').capitalize()}: "
            parts.extend(f"{label}{e}" for e in errors)
        return " ".join(parts)
    return str(getattr(exc, "text", "") or exc)


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- list ---------------------------------------------------------------------------------


@gated("capa.view")
def capa_list(request: HttpRequest) -> HttpResponse:
    get = request.GET
    filters: dict[str, Any] = {
        "q": get.get("q", "").strip()[:100],
        "state": get.get("state", "") if get.get("state") in (*CapaState.values, "active")
        else "",
        "source": get.get("source", "") if get.get("source") in CapaSource.values else "",
        "site": get.get("site", "")[:20],
        "overdue": get.get("overdue") == "1",
        "cyber": get.get("cyber") == "1",
        "mine": get.get("mine") == "1",
        "sort": get.get("sort", "-created")[:20],
    }
    rows = capas_filtered(request.user, **filters)
    page: Page[Any] = Paginator(rows, 25).get_page(get.get("page"))
    today = timezone.localdate()
    for capa in page:
        capa.overdue = capa_is_overdue(capa, today)
    return render(request, "capa/capa_list.html", {
        "page": page, "filters": filters, "states": CapaState.choices,
        "sources": CapaSource.choices, "sites": Site.objects.all(),
        "can_create": can(request.user, "capa.create"),
    })


# --- create -------------------------------------------------------------------------------


@gated("capa.create")
def capa_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = CapaCreateForm(request.POST)
    else:
        initial: dict[str, Any] = {"owner": request.user.pk}
        if request.GET.get("source") in CapaSource.values:
            initial["source"] = request.GET["source"]
        if request.GET.get("from"):
            initial["source_reference"] = request.GET["from"].strip()[:100]
        user_site = getattr(request.user, "site", None)
        if user_site is not None:
            initial["site"] = user_site.code
        form = CapaCreateForm(initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            capa = services.capa_create(
                actor=request.user, site=data["site"], title=data["title"],
                owner=data["owner"], source=data["source"],
                source_reference=data["source_reference"], description=data["description"],
                problem_statement=data["problem_statement"], due_date=data["due_date"],
                cyber_related=data["cyber_related"], event_at=data["event_at"],
                late_entry_reason=data["late_entry_reason"],
            )
        except AccessDenied:
            form.add_error("site", "You cannot create CAPAs at this site.")
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, f"{capa.number} created in draft.")
            return redirect("capa:detail", pk=capa.pk)
    return render(request, "capa/capa_create.html", {"form": form},
                  status=422 if form.errors else 200)


# --- detail -------------------------------------------------------------------------------


def _action_row(request: HttpRequest, action: CapaAction, error: str = "") -> dict[str, Any]:
    user = request.user
    capa = action.capa
    return {
        "action": action,
        "overdue": action.is_overdue(),
        "can_complete": services.may_complete(action, user),
        "can_cancel": (action.state == ActionState.OPEN
                       and capa.state in services.PLANNING_STATES and not capa.is_deleted
                       and can(user, "capa.edit", capa)),
        "error": error,
    }


def _detail_context(request: HttpRequest, capa: Capa, **forms: Any) -> dict[str, Any]:
    kind = _kind()
    ctx = record_context(request, kind, capa)
    editable = services.editable_fields(capa) if ctx["can_edit"] else ()
    needs_reason = capa.state != CapaState.DRAFT
    if editable and "edit_form" not in forms:
        initial = {name: getattr(capa, name) for name in editable}
        if "owner" in initial:
            initial["owner"] = capa.owner_id
        forms["edit_form"] = CapaEditForm(initial=initial, editable=editable,
                                          needs_reason=needs_reason)
    can_plan = (ctx["can_edit"] and capa.state in services.PLANNING_STATES)
    if can_plan and "action_form" not in forms:
        forms["action_form"] = ActionForm()
    refusal = services.effectiveness_refusal(capa, request.user)
    if "effectiveness_form" not in forms:
        forms["effectiveness_form"] = EffectivenessForm()
    ctx.update(forms)
    rows = [_action_row(request, a) for a in actions_of(capa)]
    ctx.update({
        "capa": capa,
        "action_rows": rows,
        "overdue_actions": sum(1 for r in rows if r["overdue"]),
        "can_plan": can_plan,
        "effectiveness_refusal": refusal,
        "show_effectiveness_form": (refusal is None),
        "edit_needs_reason": needs_reason,
        "overdue": capa_is_overdue(capa),
        "complete_form": ActionCompleteForm(),
        "cancel_form": ReasonForm(),
    })
    return ctx


@gated("capa.view")
def capa_detail(request: HttpRequest, pk: int) -> HttpResponse:
    capa = _capa(request, pk)
    return render(request, "capa/capa_detail.html", _detail_context(request, capa))


@gated("capa.edit")
@require_POST
def capa_edit(request: HttpRequest, pk: int) -> HttpResponse:
    capa = _capa(request, pk, for_="edit")
    editable = services.editable_fields(capa)
    form = CapaEditForm(request.POST, editable=editable,
                        needs_reason=capa.state != CapaState.DRAFT)
    if form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("reason", "")
        try:
            services.capa_update(capa, actor=request.user, changes=data, reason=reason)
        except ValidationError as exc:
            _errors_to_form(form, exc)
        except REFUSED as exc:
            form.add_error(None, _text(exc))
        else:
            messages.success(request, "Saved.")
            return redirect("capa:detail", pk=capa.pk)
    return render(request, "capa/capa_detail.html",
                  _detail_context(request, capa, edit_form=form), status=422)


@gated("capa.edit")
@require_POST
def action_add(request: HttpRequest, pk: int) -> HttpResponse:
    capa = _capa(request, pk, for_="edit")
    form = ActionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.capa_action_add(
                capa, actor=request.user, kind=data["kind"], description=data["description"],
                owner=data["owner"], due_date=data["due_date"],
            )
        except ValidationError as exc:
            _errors_to_form(form, exc)
        except REFUSED as exc:
            form.add_error(None, _text(exc))
        else:
            messages.success(request, "Action added; its owner was told.")
            return redirect("capa:detail", pk=capa.pk)
    return render(request, "capa/capa_detail.html",
                  _detail_context(request, capa, action_form=form), status=422)


def _action(request: HttpRequest, pk: int, action_id: int) -> CapaAction:
    capa = _capa(request, pk)
    try:
        action = capa.actions.select_related("owner", "completed_by").get(pk=action_id)
    except CapaAction.DoesNotExist:
        raise Http404 from None
    action.capa = capa
    return action


def _action_answer(
    request: HttpRequest, action: CapaAction, error: str, done: str
) -> HttpResponse:
    if _is_htmx(request):
        action.refresh_from_db()
        action.capa.refresh_from_db()
        ctx = {**_action_row(request, action, error), "complete_form": ActionCompleteForm(),
               "cancel_form": ReasonForm(), "capa": action.capa}
        return render(request, "capa/capa_detail.html#action_row", {"row": ctx, **ctx})
    if error:
        messages.error(request, error)
    else:
        messages.success(request, done)
    return redirect("capa:detail", pk=action.capa_id)


@gated("capa.work")
@require_POST
def action_complete(request: HttpRequest, pk: int, action_id: int) -> HttpResponse:
    action = _action(request, pk, action_id)
    error = ""
    try:
        services.capa_action_complete(action, actor=request.user,
                                      evidence=request.POST.get("evidence", ""),
                                      note=request.POST.get("note", ""))
    except AccessDenied:
        error = "You do not have the right to do this on this CAPA."
    except REFUSED as exc:
        error = _text(exc)
    return _action_answer(request, action, error, "Action done.")


@gated("capa.edit")
@require_POST
def action_cancel(request: HttpRequest, pk: int, action_id: int) -> HttpResponse:
    action = _action(request, pk, action_id)
    error = ""
    try:
        services.capa_action_cancel(action, actor=request.user,
                                    reason=request.POST.get("reason", ""))
    except AccessDenied:
        error = "You do not have the right to do this on this CAPA."
    except REFUSED as exc:
        error = _text(exc)
    return _action_answer(request, action, error, "Action cancelled.")


@gated("capa.verify")
@require_POST
def effectiveness_record(request: HttpRequest, pk: int) -> HttpResponse:
    capa = _capa(request, pk)
    form = EffectivenessForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if not has_commitment(request.user):
                if not data["accept_statement"]:
                    raise SigningError(
                        "Tick the accountability statement to sign for the first time.",
                        field="accept_statement",
                    )
                commitment_accept(request.user, source_ip=request.META.get("REMOTE_ADDR"))
            services.capa_effectiveness_record(
                capa, actor=request.user, result=data["result"], evidence=data["evidence"],
                signature=SignatureRequest(password=data["password"], otp=data["otp"],
                                           request=request),
            )
        except AccessDenied:
            form.add_error(None, "You do not have the right to do this on this CAPA.")
        except ValidationError as exc:
            _errors_to_form(form, exc)
        except SigningError as exc:
            target = exc.field if exc.field in form.fields else None
            form.add_error(target, exc.text)
        except REFUSED as exc:
            form.add_error(None, _text(exc))
        else:
            messages.success(request, "Effectiveness check recorded and signed (Verified).")
            return redirect("capa:detail", pk=capa.pk)
    capa.refresh_from_db()
    return render(request, "capa/capa_detail.html",
                  _detail_context(request, capa, effectiveness_form=form), status=422)
