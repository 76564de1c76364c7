"""Keeping curricula from pages (holders of `training.manage`): a new curriculum, its name,
description, roles, "every GxP user" and whether it is followed; its items added, changed
and removed. Each page parses its form and calls one service
(`services.curriculum_save`, `curricula.curriculum_item_save|remove`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from cyberqms.platform.accounts.enums import Role
from cyberqms.platform.core.access import AccessDenied
from cyberqms.platform.core.pages import gated, page_actor
from cyberqms.platform.kit.family_pages import form_errors
from cyberqms.platform.kit.words import problem_text
from cyberqms.quality.documents.models import DocumentVersion

from . import actions, services
from .curricula import DUE_DAYS, RETRAIN_MONTHS, curriculum_item_remove, curriculum_item_save
from .enums import ItemKind
from .models import Curriculum, CurriculumItem

REASON_HELP = "Recorded in the audit trail with your name and the time."


class CurriculumForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(max_length=2000, required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    roles = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Whoever holds one of these roles follows the curriculum.")
    for_everyone = forms.BooleanField(
        label="Every GxP user", required=False,
        help_text="Followed by everyone who holds a GxP role, whatever the roles above.")
    is_active = forms.BooleanField(
        label="Followed (active)", required=False, initial=True,
        help_text="Not followed: nobody is assigned its items; open assignments only it "
                  "caused are cancelled.")
    reason = forms.CharField(max_length=500, required=False, help_text=REASON_HELP)

    def __init__(self, *args: Any, editing: bool, held_roles: list[str], **kwargs: Any):
        kwargs.setdefault("label_suffix", "")  # labels as on every form: no colon
        super().__init__(*args, **kwargs)
        labels = dict(Role.choices)
        codes = list(dict.fromkeys([*services.TRAINED_ROLES, *held_roles]))
        self.fields["roles"].choices = [(c, labels.get(c, c)) for c in codes]  # type: ignore[attr-defined]  # a MultipleChoiceField has choices; the stubs type Field
        self.fields["reason"].required = editing
        self.fields["reason"].label = "Reason for the change" if editing else "Reason"


class ItemForm(forms.Form):
    kind = forms.ChoiceField(label="Kind")
    document = forms.ChoiceField(
        label="Document to read", required=False,
        widget=forms.Select(attrs={"data-shown-by": "kind", "data-shown-for": "reading"}),
        help_text="A reading: the version in force is assigned, and each new version when "
                  "it takes effect.")
    title = forms.CharField(
        label="What it covers", max_length=200, required=False,
        widget=forms.TextInput(attrs={"data-shown-by": "kind",
                                      "data-shown-for": "classroom on_the_job quiz"}),
        help_text="A session, on-the-job training or quiz: what it covers.")
    due_days = forms.IntegerField(label="Days to complete", min_value=DUE_DAYS[0],
                                  max_value=DUE_DAYS[1], initial=14,
                                  help_text="From the day it is assigned.")
    retrain_months = forms.IntegerField(
        label="Retrain every (months)", required=False, min_value=RETRAIN_MONTHS[0],
        max_value=RETRAIN_MONTHS[1],
        widget=forms.NumberInput(attrs={"data-shown-by": "kind",
                                        "data-shown-for": "classroom on_the_job quiz"}),
        help_text="Sessions and on-the-job training repeated at this interval; empty: once.")
    reason = forms.CharField(max_length=500, help_text=REASON_HELP)

    def __init__(self, *args: Any, item: CurriculumItem | None, **kwargs: Any):
        kwargs.setdefault("label_suffix", "")  # labels as on every form: no colon
        super().__init__(*args, **kwargs)
        kinds = [(k.value, k.label) for k in ItemKind]
        if item is not None:  # an item keeps its kind
            kinds = [(v, w) for v, w in kinds if v == item.kind]
        self.fields["kind"].choices = kinds  # type: ignore[attr-defined]  # a ChoiceField has choices; the stubs type Field
        self.fields["document"].choices = [("", "Choose a document"), *_documents()]  # type: ignore[attr-defined]  # as above


def _documents() -> list[tuple[str, str]]:
    """Each controlled document by its number and the title of its latest version."""
    titles: dict[str, str] = {}
    for number, title in DocumentVersion.objects.filter(is_deleted=False).order_by(
            "document__number", "major", "minor").values_list("document__number", "title"):
        titles[number] = title
    return [(number, f"{number} — {title}") for number, title in titles.items()]


def _curriculum(pk: int) -> Curriculum:
    curriculum = Curriculum.objects.filter(pk=pk).first()
    if curriculum is None:
        raise Http404
    return curriculum


def _done(request: HttpRequest, text: str, curriculum: Curriculum) -> HttpResponse:
    messages.success(request, text)
    return redirect("training:curriculum_edit", curriculum.pk)


def _saved(request: HttpRequest, form: CurriculumForm,
           curriculum: Curriculum | None) -> Curriculum | None:
    """The curriculum the valid posted `form` saves (a new one when `curriculum` is None);
    None, with the service's refusals on the form, when it is refused."""
    if request.method != "POST" or not form.is_valid():
        return None
    data = form.cleaned_data
    try:
        return services.curriculum_save(
            actor=page_actor(request), curriculum=curriculum, name=data["name"],
            roles=data["roles"], for_everyone=data["for_everyone"], documents=[],
            description=data["description"], is_active=data["is_active"],
            reason=data["reason"])
    except AccessDenied:
        raise PermissionDenied from None
    except ValidationError as exc:
        form_errors(form, exc)
        return None


@gated(actions.MANAGE)
@require_http_methods(["GET", "POST"])
def curriculum_create(request: HttpRequest) -> HttpResponse:
    form = CurriculumForm(request.POST or None, editing=False, held_roles=[],
                          initial={"is_active": True})
    created = _saved(request, form, None)
    if created is not None:
        return _done(request, f"Curriculum “{created.name}” created: add its items.", created)
    return render(request, "training/curriculum_form.html", {"form": form},
                  status=422 if form.errors else 200)


@gated(actions.MANAGE)
@require_http_methods(["GET", "POST"])
def curriculum_edit(request: HttpRequest, pk: int) -> HttpResponse:
    curriculum = _curriculum(pk)
    form = (CurriculumForm(request.POST, editing=True, held_roles=curriculum.roles)
            if request.method == "POST" else _edit_form(curriculum))
    if _saved(request, form, curriculum) is not None:
        return _done(request, "Curriculum saved.", curriculum)
    return _edit_page(request, curriculum, form, status=422 if form.errors else 200)


def _edit_page(request: HttpRequest, curriculum: Curriculum, form: CurriculumForm, *,
               status: int = 200, remove_error: tuple[int, str] | None = None) -> HttpResponse:
    items = CurriculumItem.objects.filter(curriculum=curriculum).select_related("document")
    return render(request, "training/curriculum_form.html", {
        "form": form, "curriculum": curriculum, "items": items,
        "remove_error": remove_error,
    }, status=status)


def _edit_form(curriculum: Curriculum) -> CurriculumForm:
    return CurriculumForm(None, editing=True, held_roles=curriculum.roles, initial={
        "name": curriculum.name, "description": curriculum.description,
        "roles": curriculum.roles, "for_everyone": curriculum.for_everyone,
        "is_active": curriculum.is_active})


@gated(actions.MANAGE)
@require_http_methods(["GET", "POST"])
def curriculum_item_create(request: HttpRequest, pk: int) -> HttpResponse:
    return _item_page(request, _curriculum(pk), None)


@gated(actions.MANAGE)
@require_http_methods(["GET", "POST"])
def curriculum_item_edit(request: HttpRequest, pk: int) -> HttpResponse:
    item = CurriculumItem.objects.select_related("curriculum", "document").filter(
        pk=pk).first()
    if item is None:
        raise Http404
    return _item_page(request, item.curriculum, item)


def _item_page(request: HttpRequest, curriculum: Curriculum,
               item: CurriculumItem | None) -> HttpResponse:
    initial = {} if item is None else {
        "kind": item.kind, "document": item.document.number if item.document else "",
        "title": item.title, "due_days": item.due_days,
        "retrain_months": item.retrain_months}
    form = ItemForm(request.POST or None, item=item, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = curriculum_item_save(
                curriculum, actor=page_actor(request), item=item, kind=data["kind"],
                document_number=data["document"], title=data["title"],
                due_days=data["due_days"], retrain_months=data["retrain_months"],
                reason=data["reason"])
        except AccessDenied:
            raise PermissionDenied from None
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            verb = "added" if item is None else "saved"
            return _done(request, f"{saved.label}: {verb}.", curriculum)
    return render(request, "training/curriculum_item_form.html", {
        "form": form, "curriculum": curriculum, "item": item,
    }, status=422 if form.errors else 200)


@gated(actions.MANAGE)
@require_POST
def curriculum_item_remove_page(request: HttpRequest, pk: int) -> HttpResponse:
    item = CurriculumItem.objects.select_related("curriculum", "document").filter(
        pk=pk).first()
    if item is None:
        raise Http404
    try:
        cancelled = curriculum_item_remove(item, actor=page_actor(request),
                                           reason=request.POST.get("reason", "")[:500])
    except AccessDenied:
        raise PermissionDenied from None
    except ValidationError as exc:
        return _edit_page(request, item.curriculum, _edit_form(item.curriculum), status=422,
                          remove_error=(item.pk, problem_text(exc)))
    more = (f" {cancelled} open assignment{'s' if cancelled != 1 else ''} no longer needed."
            if cancelled else "")
    return _done(request, f"{item.label}: removed.{more}", item.curriculum)
