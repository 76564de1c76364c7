"""The pages the kit serves for a declared record family: list (filter, sort, paginate,
CSV export of the filtered rows, recorded), create, detail (on the shared record frame) and edit.

Each view is made for one family by `family_urlpatterns(kind)`, gated by that family's
actions; the family writes only its detail blocks (`RecordKind.sections` or its own
template) and the pages that are truly its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import QuerySet
from django.forms.models import fields_for_model
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.views.decorators.http import require_POST

from cyberqms.platform.core.access import can, people_able, sites_for
from cyberqms.platform.core.csv_export import CsvColumn, csv_response, list_filters, wants_csv
from cyberqms.platform.core.keyset import TAB_CAP, CappedCount, capped_counts, request_page
from cyberqms.platform.core.moments import duration_text, moment
from cyberqms.platform.core.pages import gated, page_actor
from cyberqms.platform.trail.services import list_export_record

from .record_pages import record_context
from .record_parts import RecordNotFound, get_record
from .record_rows import (
    RecordRow,
    Rows,
    may_change_rows,
    row_add,
    row_remove,
    rows_of,
    rows_of_kind,
    rows_of_record,
)
from .record_services import RecordChanged, editable_fields, record_create, record_update
from .records import FormGroup, QualityRecord, RecordKind, kind_of, model_field, site_model

PAGE_SIZE = 25


# --- reads ---------------------------------------------------------------------------------


def visible_records(kind: RecordKind, actor: Any) -> QuerySet[Any]:
    """The family's records `actor` may see (their sites), not deleted."""
    # Every foreign key a column or the API list shows, joined: one query for the page.
    joined = {"site", "owner", "originator"} | {
        name for name in (*(c.name for c in kind.columns), *kind.api_list_fields)
        if isinstance(_field_or_none(kind, name), models.ForeignKey)}
    rows = kind.model._default_manager.filter(is_deleted=False).select_related(*sorted(joined))
    if kind.list_rows is not None:
        rows = kind.list_rows(rows)
    sites = sites_for(actor, kind.view_action)
    return rows if sites is None else rows.filter(site_id__in=sites)


def _field_or_none(kind: RecordKind, name: str) -> Any:
    try:
        return model_field(kind.model, name)
    except LookupError:
        return None


def state_counts(kind: RecordKind, rows: QuerySet[Any], listed: QuerySet[Any]
                 ) -> tuple[list[dict[str, Any]], CappedCount]:
    """Counts by state of `rows`, every state in workflow order (zeros included), and the
    count of `listed`, capped (`keyset.TAB_CAP`, `keyset.COUNT_CAP`), in one query."""
    states = kind.workflow.states()
    found = capped_counts({"": listed, **{s: rows.filter(state=s) for s in states}},
                          caps=dict.fromkeys(states, TAB_CAP))
    labels = dict(kind.model.STATES.choices) if kind.model.STATES is not None else {}
    return [{"state": s, "label": labels.get(s, s), "count": found[s]}
            for s in states], found[""]


def display(record: QualityRecord, name: str) -> str:
    """A field's value as a person reads it on a page (choices by label, people by name,
    dates; a date and time as a moment in the reader's zone, UTC on hover)."""
    value = getattr(record, name, None)
    getter = getattr(record, f"get_{name}_display", None)
    if callable(getter):
        value = getter()
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dt.datetime):
        return moment(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return duration_text(value)
    printed = getattr(value, "printed_name", None)
    if printed:
        return str(printed)
    return str(getattr(value, "code", None) or value)


# --- forms ---------------------------------------------------------------------------------


class DateInput(forms.DateInput):
    input_type = "date"


class DateTimeLocal(forms.DateTimeInput):
    """A date and time to the second (a security event's window is read in seconds)."""

    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M:%S", attrs={"step": "1"})


def _form_field(f: models.Field[Any, Any], **kwargs: Any) -> forms.Field | None:
    """The form field of a model field, with the product's widgets and choices of people."""
    if isinstance(f, models.DateTimeField):
        kwargs["widget"] = DateTimeLocal()
    elif isinstance(f, models.DateField):
        kwargs["widget"] = DateInput()
    elif isinstance(f, models.TextField):
        kwargs["widget"] = forms.Textarea(attrs={"rows": 3})
    elif isinstance(f, models.DurationField):
        kwargs["help_text"] = (f"{f.help_text} Hours, minutes and seconds: 02:30:00."
                               if f.help_text else "Hours, minutes and seconds: 02:30:00.")
    if isinstance(f, models.IntegerField):
        # The model's range validators as the form's bounds (shown, and checked on input).
        for validator in f.validators:
            if isinstance(validator, MinValueValidator):
                kwargs["min_value"] = validator.limit_value
            elif isinstance(validator, MaxValueValidator):
                kwargs["max_value"] = validator.limit_value
    if isinstance(f, models.ForeignKey) and f.related_model is get_user_model():
        kwargs["queryset"] = get_user_model()._default_manager.filter(
            is_active=True, kind="person").order_by("username")
    elif isinstance(f, models.ForeignKey) and isinstance(f.related_model, type) and issubclass(
            f.related_model, QualityRecord):
        # Another record (a system's supplier): those in use, by number.
        kwargs["queryset"] = f.related_model._default_manager.filter(
            is_deleted=False).order_by("number")
    elif isinstance(f, models.ForeignKey) and hasattr(f.related_model, "is_active"):
        related: Any = f.related_model
        kwargs["queryset"] = related._default_manager.filter(is_active=True)
    field = f.formfield(**kwargs)
    if field is not None and isinstance(f, models.CharField | models.TextField) and f.choices:
        field.required = False
    return field


class FamilyForm(forms.Form):
    """A record form that knows its family's field groups (`RecordKind.form_groups`)."""

    kind_groups: tuple[FormGroup, ...] = ()

    def groups(self) -> list[tuple[str, str, list[forms.BoundField]]]:
        """(heading, note, visible fields) in the declared order; fields no group names
        come first, under no heading; groups with no field in this form are left out."""
        named = {n for g in self.kind_groups for n in g.fields}
        visible = {f.name: f for f in self.visible_fields()}
        out = [("", "", [f for n, f in visible.items() if n not in named])]
        out += [(g.heading, g.note, [visible[n] for n in g.fields if n in visible])
                for g in self.kind_groups]
        return [group for group in out if group[2]]


def family_form(kind: RecordKind, names: tuple[str, ...] | frozenset[str], *,
                sites: Iterable[int] = (), with_site: bool = False,
                needs_reason: bool = False, editing: bool = False,
                data: Any = None, initial: dict[str, Any] | None = None) -> FamilyForm:
    """A form of the model's own fields `names` (limits and choices from the model).

    `sites` are where the record is (its site) or may be created: the site choice offers
    only those, and the owner choice only people who can do the record's work there."""
    order = [n for n in (*kind.create_fields, *_all_fields(kind)) if n in names]
    fields = fields_for_model(kind.model, fields=list(dict.fromkeys(order)),
                              formfield_callback=_form_field)
    form = FamilyForm(data, initial=initial, label_suffix="")
    form.kind_groups = kind.form_groups or tuple(
        FormGroup(heading, names) for heading, names in kind.sections)
    sites = list(sites)
    if with_site:
        form.fields["site"] = forms.ModelChoiceField(
            site_model()._default_manager.filter(is_active=True, pk__in=sites),
            to_field_name="code")
    owner = fields.get("owner")
    if isinstance(owner, forms.ModelChoiceField):
        owner.queryset = people_able(kind.action("work"), sites)
    shared = {f.name for f in QualityRecord._meta.get_fields()}
    for name, field in fields.items():
        if field is not None:
            if name in kind.labels and name in shared:
                field.help_text = ""  # the kit's generic help; the family's label says it
            field.label = kind.labels.get(name, field.label)
            form.fields[name] = field
    if editing:
        # The version the editor saw: a change saved meanwhile is not silently overwritten.
        form.fields["expected_hash"] = forms.CharField(widget=forms.HiddenInput,
                                                       required=False, max_length=64)
    if needs_reason:
        form.fields["reason"] = forms.CharField(
            max_length=1000, widget=forms.Textarea(attrs={"rows": 2}),
            label="Reason for this edit",
            error_messages={"required": f"Say why the {kind.noun} record is updated."},
        )
    return form


def creation_sites(kind: RecordKind, user: Any) -> list[int]:
    """The active sites where `user` may create a record of `kind`."""
    held = sites_for(user, kind.action("create"))
    active = site_model()._default_manager.filter(is_active=True)
    if held is not None:
        active = active.filter(pk__in=held)
    return list(active.values_list("pk", flat=True))


def _all_fields(kind: RecordKind) -> list[str]:
    return [f.name for f in kind.model._meta.concrete_fields]


def form_errors(form: forms.Form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


def _changes(kind: RecordKind, form: forms.Form, record: QualityRecord) -> dict[str, Any]:
    """The submitted values that differ from the record's."""
    out = {}
    for name, value in form.cleaned_data.items():
        if name in ("reason", "expected_hash"):
            continue
        f = model_field(kind.model, name)
        if value is None and isinstance(f, models.CharField | models.TextField) and not f.null:
            value = ""
        current = getattr(record, name)
        if isinstance(f, models.DateTimeField) and value is not None and current is not None \
                and value.replace(microsecond=0) == current.replace(microsecond=0):
            continue  # the form shows seconds: an unchanged time is not an edit
        if value != current:
            out[name] = value
    return out


# --- views ---------------------------------------------------------------------------------


def load_record(kind: RecordKind, request: HttpRequest, pk: int, for_: str = "view") -> Any:
    """The record the signed-in person may `for_`; 404 for missing and hidden alike."""
    try:
        return get_record(request.user, kind, pk, for_=for_)
    except RecordNotFound:
        raise Http404 from None


def list_view(kind: RecordKind) -> Callable[..., HttpResponseBase]:
    @gated(kind.view_action)
    def record_list(request: HttpRequest) -> HttpResponseBase:
        assert kind.filterset is not None
        rows = visible_records(kind, request.user)
        codes = kind.filterset.site_codes()
        filters = kind.filterset(request.GET or None, rows, request=request, site_codes=codes)
        filtered = filters.qs
        if wants_csv(request) and not filters.errors:
            list_export_record(actor=request.user, name=kind.slug, label=kind.plural_label,
                               filters=list_filters(request), rows=filtered.count())
            return csv_response(f"{kind.slug}.csv", csv_columns(kind), filtered)
        if request.GET.get("format") == "pdf" and not filters.errors:
            return list_pdf(request, kind, filtered)
        # The counts by state ignore the state filter; without one, they count `filters`.
        counted = filters if "state" not in request.GET else kind.filterset(
            {k: v for k, v in request.GET.items() if k != "state"} or None, rows,
            request=request, site_codes=codes)
        page = request_page(request, filtered, PAGE_SIZE, count=False)
        counts, page.count = state_counts(kind, counted.qs, filtered)
        classes = {c.name: _cell_class(kind, c.name) for c in kind.columns}
        sort = (request.GET.get("sort") or filters.default_sort)
        return render(request, "core/family_list.html", {
            "kind": kind, "page": page, "filters": filters, "sort": sort,
            "counts": counts,
            "columns": kind.columns,
            "rows": [(record, [(display(record, c.name), classes[c.name])
                               for c in kind.columns],
                      kind.row_badges(record) if kind.row_badges else [])
                     for record in page],
            "can_create": can(request.user, kind.action("create")),
        }, status=422 if filters.errors else 400 if page.error else 200)

    return record_list


# A list printed as PDF holds at most this many rows (a page of the inventory, the open
# CAPAs of a site); past it, it says so and asks for a narrower filter.
LIST_PDF_ROWS = 2000


def list_pdf(request: HttpRequest, kind: RecordKind, filtered: QuerySet[Any]) -> HttpResponse:
    """The filtered list as a landscape PDF (the inventory for an inspector): the list's
    columns in words, who printed it and when (UTC); recorded like a CSV export (AL-09)."""
    from django.conf import settings
    from django.template.loader import render_to_string
    from django.utils import timezone

    from .record_export import html_to_pdf, utc_text

    total = filtered.count()
    columns = csv_columns(kind)
    rows = [[_pdf_cell(column.value(record)) for column in columns]
            for record in filtered[:LIST_PDF_ROWS]]
    chosen = list_filters(request)
    list_export_record(actor=request.user, name=kind.slug, label=kind.plural_label,
                       filters=chosen, rows=len(rows), export_format="pdf")
    html = render_to_string("core/family_list_pdf.html", {
        "kind": kind, "headings": [column.heading for column in columns], "rows": rows,
        "total": total, "more": total > len(rows), "filters": sorted(chosen.items()),
        "organization": settings.CYBERQMS_ORGANIZATION,
        "printed_by": getattr(request.user, "printed_name", str(request.user)),
        "printed_at": utc_text(timezone.now(), seconds=False)})
    response = HttpResponse(html_to_pdf(html, "core/list_pdf.css"),
                            content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{kind.slug}.pdf"'
    return response


def _pdf_cell(value: object) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


def _cell_class(kind: RecordKind, name: str) -> str:
    """Dates and numbers stay on one line; the state reads as a badge."""
    if name == "number":
        return "mono nowrap"
    if name == "state":
        return "state"
    if name == "due_date":
        return "nowrap due"
    try:
        f = model_field(kind.model, name)
    except LookupError:
        return ""
    return "nowrap" if isinstance(f, models.DateField) else ""


def csv_columns(kind: RecordKind) -> list[CsvColumn]:
    """The list's columns, number first, as CSV columns: values in words (choices by
    label, people by name, sites by code), dates and times as they are (the CSV writes
    them in ISO 8601 UTC)."""
    names = ["number", *(c.name for c in kind.columns if c.name != "number")]
    heads = {c.name: c.heading for c in kind.columns}
    return [_csv_column(heads.get(n, n.replace("_", " ").capitalize()), n) for n in names]


def _csv_column(heading: str, name: str) -> CsvColumn:
    def value(record: QualityRecord) -> object:
        getter = getattr(record, f"get_{name}_display", None)
        if callable(getter):
            return getter()
        found = getattr(record, name, None)
        if isinstance(found, models.Model):
            return (getattr(found, "printed_name", None) or getattr(found, "code", None)
                    or str(found))
        return found

    return CsvColumn(heading, value)


def create_view(kind: RecordKind) -> Callable[..., HttpResponse]:
    @gated(kind.action("create"))
    def record_new(request: HttpRequest) -> HttpResponse:
        # A link may prefill creation fields (?source=deviation&source_reference=DEV-…).
        initial = {name: request.GET[name][:200] for name in (*kind.create_fields, "site")
                   if name in request.GET and name != "owner"}
        form = family_form(kind, kind.create_fields, with_site=True,
                           sites=creation_sites(kind, request.user),
                           data=request.POST or None,
                           initial={"owner": request.user.pk, **initial})
        if request.method == "POST" and form.is_valid():
            data = dict(form.cleaned_data)
            site = data.pop("site")
            try:
                record = record_create(kind, actor=page_actor(request), site=site, values=data)
            except ValidationError as exc:
                form_errors(form, exc)
            else:
                messages.success(request, f"{record.number} recorded: "
                                          f"{kind.initial_label.lower()}.")
                return redirect(kind.detail_url(record))
        return render(request, kind.create_template, {"kind": kind, "form": form},
                      status=422 if request.method == "POST" else 200)

    return record_new


def detail_page(request: HttpRequest, kind: RecordKind, record: QualityRecord, *,
                edit_form: forms.Form | None = None, status: int = 200, template: str = "",
                **extra: Any) -> HttpResponse:
    """The record's page: the shared frame, the family's sections or template (with its
    `detail_context`), the edit form; `extra` replaces context keys (a form with errors);
    `template` renders another template or a partial of it (an htmx answer)."""
    editable = editable_fields(record, request.user)
    if edit_form is None and editable:
        initial = {name: getattr(record, model_field(kind.model, name).attname)
                   for name in editable}
        initial["expected_hash"] = kind.workflow.content_hash(record)
        edit_form = family_form(kind, editable, initial=initial, editing=True,
                                sites=[record.site_id],
                                needs_reason=record.state != kind.initial_state)
    context = record_context(request, kind, record)
    context.update({
        "edit_form": edit_form,
        "editable": editable,
        "sections": [(heading, [(kind.labels.get(n, model_field(kind.model, n).verbose_name),
                                 display(record, n)) for n in names])
                     for heading, names in kind.sections],
        "edit_url": f"{kind.detail_url(record)}edit/",
    })
    context["row_panels"] = [
        row_panel(request, kind, record, rows,
                  form=extra.pop(f"rows_form_{rows.name}", None),
                  error=extra.pop(f"rows_error_{rows.name}", ""))
        for rows in kind.rows]
    if kind.detail_context is not None:
        context.update(kind.detail_context(request, record))
    context.update(extra)
    return render(request, template or kind.detail_template, context, status=status)


# --- the record's own tables (kit.record_rows) -------------------------------------------


def row_form(rows: Rows, record: QualityRecord, data: Any = None) -> forms.Form:
    """The form of a table's row: its declared fields, limits and choices from the model;
    people offered are those who may work on the record's family at its site."""
    fields = fields_for_model(rows.model, fields=list(rows.fields),
                              formfield_callback=_form_field)
    form = forms.Form(data, label_suffix="", prefix=rows.name)
    for name in rows.fields:
        field = fields.get(name)
        if field is None:
            continue
        field.label = rows.label_of(name)
        choices = field.queryset if isinstance(field, forms.ModelChoiceField) else None
        if choices is not None and choices.model is get_user_model():
            field.queryset = people_able(kind_of(record).action("work"), [record.site_id])
        elif choices is not None and choices.model is type(record):
            field.queryset = choices.exclude(pk=record.pk)
        form.fields[name] = field
    return form


def row_panel(request: HttpRequest, kind: RecordKind, record: QualityRecord, rows: Rows, *,
              form: forms.Form | None = None, error: str = "") -> dict[str, Any]:
    """What the page shows of one table: its rows (withdrawn ones marked), the add form
    for whoever may change it now, and the last refusal."""
    may_change = may_change_rows(request.user, kind, rows, record)
    items = rows_of(record, rows)
    return {
        "rows": rows, "headings": [rows.label_of(n) for n in rows.columns],
        "items": [(row, [_row_cell(row, n) for n in rows.columns]) for row in items],
        "current": sum(1 for row in items if row.removed_at is None),
        "form": (form or row_form(rows, record)) if may_change else None,
        "may_change": may_change, "error": error,
        "add_url": f"{kind.detail_url(record)}rows/{rows.name}/",
    }


def _row_cell(row: RecordRow, name: str) -> str:
    from .record_rows import cell_text

    value = getattr(row, name, None)
    if isinstance(value, dt.datetime):
        return moment(value)
    return cell_text(row, name)


def row_add_view(kind: RecordKind) -> Callable[..., HttpResponse]:
    @gated(kind.edit_action)
    @require_POST
    def record_row_add(request: HttpRequest, pk: int, rows_name: str) -> HttpResponse:
        record = load_record(kind, request, pk)
        rows = _rows_or_404(kind, rows_name)
        form = row_form(rows, record, data=request.POST)
        if form.is_valid():
            try:
                row_add(record, rows, actor=page_actor(request), values=form.cleaned_data)
            except ValidationError as exc:
                form_errors(form, exc)
            else:
                messages.success(request, f"{rows.noun.capitalize()} added to {record.number}.")
                return redirect(f"{kind.detail_url(record)}#rows-{rows.name}")
        text = " ".join(str(e) for errs in form.errors.values() for e in errs)
        extra: dict[str, Any] = {f"rows_form_{rows.name}": form,
                                 f"rows_error_{rows.name}": text}
        return detail_page(request, kind, record, status=422, **extra)

    return record_row_add


def row_remove_view(kind: RecordKind) -> Callable[..., HttpResponse]:
    @gated(kind.edit_action)
    @require_POST
    def record_row_remove(request: HttpRequest, pk: int, rows_name: str,
                          row_id: int) -> HttpResponse:
        record = load_record(kind, request, pk)
        rows = _rows_or_404(kind, rows_name)
        row = rows_of_record(rows, record.pk).filter(pk=row_id).first()
        if row is None:
            raise Http404
        row.record = record
        try:
            row_remove(row, rows, actor=page_actor(request),
                       reason=request.POST.get("reason", ""))
        except ValidationError as exc:
            refused: dict[str, Any] = {f"rows_error_{rows.name}": " ".join(exc.messages)}
            return detail_page(request, kind, record, status=422, **refused)
        messages.success(request, f"{rows.noun.capitalize()} withdrawn from {record.number}.")
        return redirect(f"{kind.detail_url(record)}#rows-{rows.name}")

    return record_row_remove


def _rows_or_404(kind: RecordKind, name: str) -> Rows:
    try:
        return rows_of_kind(kind, name)
    except LookupError:
        raise Http404 from None


def detail_view(kind: RecordKind) -> Callable[..., HttpResponse]:
    @gated(kind.view_action)
    def record_detail(request: HttpRequest, pk: int) -> HttpResponse:
        return detail_page(request, kind, load_record(kind, request, pk))

    return record_detail


def edit_view(kind: RecordKind) -> Callable[..., HttpResponse]:
    @gated(kind.edit_action)
    @require_POST
    def record_edit(request: HttpRequest, pk: int) -> HttpResponse:
        record = load_record(kind, request, pk, for_="edit")
        editable = editable_fields(record, request.user)
        form = family_form(kind, editable, data=request.POST, editing=True,
                           sites=[record.site_id],
                           needs_reason=record.state != kind.initial_state)
        if form.is_valid():
            try:
                record_update(record, actor=page_actor(request),
                              changes=_changes(kind, form, record),
                              reason=form.cleaned_data.get("reason", ""),
                              expected_hash=form.cleaned_data.get("expected_hash", ""))
            except RecordChanged as exc:
                messages.error(request, str(exc))
                return redirect(kind.detail_url(record))
            except ValidationError as exc:
                form_errors(form, exc)
            else:
                messages.success(request, f"{record.number} saved.")
                return redirect(kind.detail_url(record))
        return detail_page(request, kind, record, edit_form=form, status=422)

    return record_edit


def family_urlpatterns(kind: RecordKind) -> list[URLPattern]:
    """`<slug>:list`, `<slug>:create`, `<slug>:detail`, `<slug>:edit`."""
    return [
        path("", list_view(kind), name="list"),
        path("new/", create_view(kind), name="create"),
        path("<int:pk>/", detail_view(kind), name="detail"),
        path("<int:pk>/edit/", edit_view(kind), name="edit"),
        *([path("<int:pk>/rows/<slug:rows_name>/", row_add_view(kind), name="row_add"),
           path("<int:pk>/rows/<slug:rows_name>/<int:row_id>/remove/", row_remove_view(kind),
                name="row_remove")] if kind.rows else []),
    ]
