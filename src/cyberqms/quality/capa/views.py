"""The CAPA's own pages: its actions and the effectiveness check (list, create, detail and
edit are the record kit's; `detail_context` adds the CAPA's blocks to its page).

Every write is one service call; errors come back as field errors on the form or as
messages on the detail page. Action rows answer htmx requests with the updated row.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from cyberqms.platform.core.access import AccessDenied, can
from cyberqms.platform.core.client_address import request_client_address
from cyberqms.platform.core.pages import gated, page_actor
from cyberqms.platform.kit.family_pages import detail_page
from cyberqms.platform.kit.record_parts import RecordNotFound, get_record
from cyberqms.platform.kit.records import kind_by_slug, kind_of
from cyberqms.platform.kit.signatures import (
    SignatureRequest,
    SigningError,
    commitment_accept,
    has_commitment,
)
from cyberqms.platform.kit.words import problem_text
from cyberqms.platform.kit.workflow import GuardFailed, SegregationOfDuties, TransitionNotAllowed

from . import services
from .enums import ActionState, CapaState
from .forms import (
    ActionCompleteForm,
    ActionForm,
    EffectivenessForm,
    ReasonForm,
)
from .models import Capa, CapaAction
from .queries import actions_of, capa_is_overdue

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


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- detail -------------------------------------------------------------------------------


def _action_row(request: HttpRequest, action: CapaAction, error: str = "",
                revisions: dict[int, Any] | None = None) -> dict[str, Any]:
    user = page_actor(request)
    capa = action.capa
    if revisions is None:
        revisions = services.revisions_in_force([action])
    revision = revisions.get(action.pk)
    if revision is not None and not can(user, "documents.view", revision):
        revision = None  # the action says a revision is in force; the viewer cannot open it
    return {
        "action": action,
        "overdue": action.is_overdue(),
        "can_complete": services.may_complete(action, user),
        "revision": revision,
        "revision_url": kind_of(revision).detail_url(revision) if revision else "",
        "can_cancel": (action.state == ActionState.OPEN
                       and capa.state in services.PLANNING_STATES and not capa.is_deleted
                       and can(user, "capa.edit", capa)),
        "error": error,
    }


def detail_context(request: HttpRequest, capa: Capa, **forms: Any) -> dict[str, Any]:
    """The CAPA page's own blocks (the kit's detail page adds them to the record frame):
    the actions with their forms, the effectiveness check."""
    can_edit = can(request.user, "capa.edit", capa) and not capa.is_deleted and \
        capa.state not in (CapaState.CLOSED, CapaState.CANCELLED)
    can_plan = can_edit and capa.state in services.PLANNING_STATES
    if can_plan and "action_form" not in forms:
        forms["action_form"] = ActionForm(capa=capa)
    refusal = services.effectiveness_refusal(capa, page_actor(request))
    if "effectiveness_form" not in forms:
        forms["effectiveness_form"] = EffectivenessForm()
    actions = list(actions_of(capa))
    revisions = services.revisions_in_force(actions)
    rows = [_action_row(request, a, revisions=revisions) for a in actions]
    return {
        **forms,
        "capa": capa,
        "action_rows": rows,
        "overdue_actions": sum(1 for r in rows if r["overdue"]),
        "can_plan": can_plan,
        "effectiveness_refusal": refusal,
        "show_effectiveness_form": (refusal is None),
        "edit_needs_reason": capa.state != CapaState.DRAFT,
        "overdue": capa_is_overdue(capa),
        "complete_form": ActionCompleteForm(),
        "cancel_form": ReasonForm(),
    }


def _again(request: HttpRequest, capa: Capa, **forms: Any) -> HttpResponse:
    """The CAPA page again, with the form that was refused (422)."""
    return detail_page(request, _kind(), capa, status=422,
                       **detail_context(request, capa, **forms))


@gated("capa.edit")
@require_POST
def action_add(request: HttpRequest, pk: int) -> HttpResponse:
    capa = _capa(request, pk, for_="edit")
    form = ActionForm(request.POST, capa=capa)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.capa_action_add(
                capa, actor=page_actor(request), kind=data["kind"], description=data["description"],
                owner=data["owner"], due_date=data["due_date"],
                document_number=data["document_number"],
            )
        except ValidationError as exc:
            _errors_to_form(form, exc)
        except REFUSED as exc:
            form.add_error(None, problem_text(exc, Capa))
        else:
            messages.success(request, "Action added; its owner was told.")
            return redirect("capa:detail", pk=capa.pk)
    return _again(request, capa, action_form=form)


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
        services.capa_action_complete(action, actor=page_actor(request),
                                      evidence=request.POST.get("evidence", ""),
                                      note=request.POST.get("note", ""))
    except AccessDenied:
        error = "You do not have the right to do this on this CAPA."
    except REFUSED as exc:
        error = problem_text(exc, Capa)
    return _action_answer(request, action, error, "Action done.")


@gated("capa.edit")
@require_POST
def action_cancel(request: HttpRequest, pk: int, action_id: int) -> HttpResponse:
    action = _action(request, pk, action_id)
    error = ""
    try:
        services.capa_action_cancel(action, actor=page_actor(request),
                                    reason=request.POST.get("reason", ""))
    except AccessDenied:
        error = "You do not have the right to do this on this CAPA."
    except REFUSED as exc:
        error = problem_text(exc, Capa)
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
                commitment_accept(request.user,
                                  source_ip=request_client_address(request) or None)
            services.capa_effectiveness_record(
                capa, actor=page_actor(request), result=data["result"], evidence=data["evidence"],
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
            form.add_error(None, problem_text(exc, Capa))
        else:
            messages.success(request, "Effectiveness check recorded and signed (Verified).")
            return redirect("capa:detail", pk=capa.pk)
    capa.refresh_from_db()
    return _again(request, capa, effectiveness_form=form)
