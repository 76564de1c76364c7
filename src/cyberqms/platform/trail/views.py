"""Pages of the audit trail: a record's history, the auditor's viewer and exports, the
status panel (checkpoints, verifications, integrity flags) and independent reviews.

Views parse input, call one service or query and render; rules live in the services and
the gate. What a page shows of an entry comes from its hashed body (`trail.display`).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from cyberqms.platform.core.access import AccessDenied, can, require
from cyberqms.platform.core.csv_export import CsvColumn, csv_response, list_filters, wants_csv
from cyberqms.platform.core.keyset import request_page
from cyberqms.platform.core.pages import gated
from cyberqms.platform.trail import actions, queries, services
from cyberqms.platform.trail.display import EntryRow, Voucher, entry_rows, viewer_zone
from cyberqms.platform.trail.export import FLAT_COLUMNS, flat_row, json_chunks
from cyberqms.platform.trail.forms import EntryFilterForm, ResolveForm, ReviewForm
from cyberqms.platform.trail.keys import KeyFileError
from cyberqms.platform.trail.log import SealRefusedError
from cyberqms.platform.trail.models import IntegrityFlag, ReviewScope
from cyberqms.platform.trail.registry import AuditedModel, all_audited, by_type, is_audited
from cyberqms.platform.trail.services import ReviewScopeSpec, TrailError

ENTRIES_PER_PAGE = 50
HISTORY_PER_PAGE = 50


def paginate(request: HttpRequest, rows: QuerySet[Any], per_page: int) -> Page[Any]:
    return Paginator(rows, per_page).get_page(request.GET.get("page"))


def history_url(object_type: str, object_id: str) -> str:
    return reverse("trail:history", args=[object_type, object_id])


def visible_record(actor: Any, object_type: str, object_id: str) -> tuple[AuditedModel, Model]:
    """The audited record, if it exists and `actor` may see it; else 404 either way."""
    try:
        spec = by_type(object_type)
    except LookupError:
        raise Http404 from None
    try:
        obj = spec.model._default_manager.filter(pk=object_id).first()
    except (ValueError, TypeError, ValidationError):
        obj = None
    if obj is None:
        raise Http404
    try:
        require(actor, spec.view_action, obj)
    except AccessDenied:
        # The same answer as for a missing record: refusal reveals nothing.
        raise Http404 from None
    return spec, obj


# --- a record's history ---------------------------------------------------------------------


@gated(actions.HISTORY_VIEW)
def history(request: HttpRequest, object_type: str, object_id: str) -> HttpResponse:
    spec, obj = visible_record(request.user, object_type, object_id)
    # As a tab (htmx), the host page shows the integrity banner above all its tabs.
    partial = request.headers.get("HX-Request") == "true"
    entries = queries.record_history(spec.type_name, str(obj.pk))
    page = paginate(request, entries, HISTORY_PER_PAGE)
    seqs = [e.seq for e in page]
    review = services.reviewed_through(spec.type_name, str(obj.pk))
    context = {
        "spec": spec,
        "record": obj,
        "record_label": spec.label(obj),
        "record_url": spec.detail_url(obj) if spec.detail_url is not None else "",
        "object_id": str(obj.pk),
        "page": page,
        "rows": entry_rows(page, viewer_zone(request.user), queries.flagged_seqs(seqs)),
        "flags": [] if partial else services.open_flags(spec.type_name, obj.pk),
        "review": review,
        "since_review": entries.filter(seq__gt=review.seq_to).count() if review else None,
        "can_review": can(request.user, actions.REVIEW),
        "can_search": can(request.user, actions.ENTRY_VIEW),
        "self_url": history_url(spec.type_name, str(obj.pk)),
    }
    template = "trail/history.html#history" if partial else "trail/history.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- the auditor's viewer and exports -------------------------------------------------------


def _filter_errors(request: HttpRequest, form: EntryFilterForm) -> HttpResponse:
    return render(request, "trail/entry_list.html", {
        "form": form, "page": None, "rows": [], "types": _type_names(),
        "can_export": can(request.user, actions.EXPORT),
    }, status=400)


def _type_names() -> list[str]:
    return [a.type_name for a in all_audited()]


@gated(actions.ENTRY_VIEW)
def entry_list(request: HttpRequest) -> HttpResponse:
    form = EntryFilterForm(request.GET)
    if not form.is_valid():
        return _filter_errors(request, form)
    filters = form.filters()
    page = request_page(request, queries.entries_filtered(**filters), ENTRIES_PER_PAGE)
    seqs = [e.seq for e in page]
    return render(request, "trail/entry_list.html", {
        "form": form,
        "sort": filters["sort"],
        "page": page,
        "rows": _linked_for(request.user, entry_rows(
            page, viewer_zone(request.user), queries.flagged_seqs(seqs))),
        "types": _type_names(),
        "can_export": can(request.user, actions.EXPORT),
    }, status=400 if page.error else 200)


def _linked_for(actor: Any, rows: list[EntryRow]) -> list[EntryRow]:
    """The rows, with a link to a record's history only where `actor` may see records of
    that kind (a QA reviewer reads the whole trail, but not a security alert's page)."""
    allowed: dict[str, bool] = {}
    for row in rows:
        if row.has_history and row.object_type not in allowed:
            allowed[row.object_type] = can(actor, by_type(row.object_type).view_action)
    return [row if not row.has_history or allowed[row.object_type]
            else dataclasses.replace(row, has_history=False) for row in rows]


def _flat_value(value: Any) -> object:
    """A flat row's value for its cell: the changes (a mapping) as JSON."""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def _flat_column(name: str) -> CsvColumn:
    return CsvColumn(name, lambda row: _flat_value(row[name]))


ENTRY_COLUMNS = tuple(_flat_column(name) for name in FLAT_COLUMNS)


def _export(request: HttpRequest, kind: str) -> HttpResponseBase:
    form = EntryFilterForm(request.GET)
    if not form.is_valid():
        return _filter_errors(request, form)
    # One ordering in every export (AL-07): by sequence number, oldest first.
    filters = {**form.filters(), "sort": "seq"}
    matching = queries.entries_filtered(**filters)
    services.trail_export_record(
        actor=request.user, fmt=kind, filters=filters, entries=matching.count()
    )
    entries = matching.iterator(chunk_size=2000)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    if kind == "csv":
        voucher = Voucher()
        return csv_response(f"audit-trail-{stamp}.csv", ENTRY_COLUMNS,
                            (flat_row(entry, voucher) for entry in entries))
    response = StreamingHttpResponse(
        json_chunks(entries), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = content_disposition_header(
        True, f"audit-trail-{stamp}.{kind}")
    return response


@gated(actions.EXPORT)
def export_csv(request: HttpRequest) -> HttpResponseBase:
    return _export(request, "csv")


@gated(actions.EXPORT)
def export_json(request: HttpRequest) -> HttpResponseBase:
    return _export(request, "json")


# --- status panel ---------------------------------------------------------------------------


def _flag_rows(flags: list[IntegrityFlag]) -> list[dict[str, Any]]:
    return [
        {
            "flag": flag,
            "history_url": history_url(flag.object_type, flag.object_id)
            if flag.object_type and flag.object_id and is_audited(flag.object_type) else "",
        }
        for flag in flags
    ]


@gated(actions.STATUS_VIEW)
def status(request: HttpRequest) -> HttpResponse:
    state = queries.trail_status()
    return render(request, "trail/status.html", {
        "state": state,
        "keys": queries.key_state(),
        "chart": queries.duration_chart(state.verifications),
        "chart_width": queries.CHART_WIDTH,
        "chart_height": queries.CHART_HEIGHT,
        "flags": _flag_rows(state.open_flags),
        "resolved": _flag_rows(queries.recently_resolved_flags()),
        "can_verify": can(request.user, actions.VERIFY),
        "can_resolve": can(request.user, actions.FLAG_RESOLVE),
    })


@require_POST
@gated(actions.VERIFY)
def verify(request: HttpRequest) -> HttpResponse:
    try:
        verification, _report = services.trail_verify(actor=request.user, since_checkpoint=False)
    except (TrailError, KeyFileError) as exc:
        messages.error(request, f"Verification could not run: {_text(exc)}")
        return redirect("trail:status")
    if verification.passed:
        messages.success(
            request,
            f"Verification passed: {verification.entries_checked} entries and "
            f"{verification.records_checked} records checked in {verification.duration_ms} ms.",
        )
    else:
        messages.error(request, f"Verification failed: {verification.first_problem}")
    return redirect("trail:status")


@require_POST
@gated(actions.VERIFY)
def checkpoint(request: HttpRequest) -> HttpResponse:
    try:
        result = services.trail_checkpoint(actor=request.user)
    except (SealRefusedError, TrailError, KeyFileError) as exc:
        messages.error(request, f"Nothing was sealed: {_text(exc)}")
        return redirect("trail:status")
    if result.checkpoint is not None:
        messages.success(
            request,
            f"Checkpoint sealed at tree size {result.checkpoint.size} "
            f"({result.added} new entr{'y' if result.added == 1 else 'ies'}).",
        )
    else:
        messages.info(request, "Nothing to seal: every entry is already in a signed checkpoint.")
    return redirect("trail:status")


@require_POST
@gated(actions.FLAG_RESOLVE)
def flag_resolve(request: HttpRequest, flag_id: int) -> HttpResponse:
    flag = get_object_or_404(IntegrityFlag, pk=flag_id)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the reason for resolving the integrity failure.")
        return redirect("trail:status")
    try:
        services.flag_resolve(flag, actor=request.user, reason=form.cleaned_data["reason"])
    except TrailError as exc:
        messages.error(request, exc.text)
    else:
        messages.success(request, f"Integrity flag {flag.pk} resolved; the resolution is recorded.")
    return redirect("trail:status")


def _text(exc: Exception) -> str:
    if isinstance(exc, TrailError):
        return exc.text
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


# --- reviews --------------------------------------------------------------------------------


REVIEW_COLUMNS = (
    CsvColumn("Reviewed", lambda r: r.reviewed_at),
    CsvColumn("Reviewer", lambda r: r.reviewer.printed_name),
    CsvColumn("Reviewer's user ID", lambda r: r.reviewer.username),
    CsvColumn("Scope", lambda r: r.get_scope_display()),
    CsvColumn("Record", lambda r: r.object_label or r.object_id),
    CsvColumn("Record type", lambda r: r.object_type),
    CsvColumn("From", lambda r: r.date_from),
    CsvColumn("To", lambda r: r.date_to),
    CsvColumn("Entries", lambda r: r.entries),
    CsvColumn("First entry", lambda r: r.seq_from),
    CsvColumn("Last entry", lambda r: r.seq_to),
    CsvColumn("Outcome", lambda r: r.get_outcome_display()),
    CsvColumn("Comment", lambda r: r.comment),
)


@gated(actions.ENTRY_VIEW)
def review_list(request: HttpRequest) -> HttpResponseBase:
    if wants_csv(request):
        require(request.user, actions.EXPORT)
        reviews = queries.reviews_all()
        services.list_export_record(actor=request.user, name="trail.reviews",
                                    label="trail reviews", filters=list_filters(request),
                                    rows=reviews.count())
        return csv_response("trail-reviews.csv", REVIEW_COLUMNS, reviews)
    page = paginate(request, queries.reviews_all(), 25)
    rows = [
        {
            "review": review,
            "history_url": history_url(review.object_type, review.object_id)
            if review.scope == ReviewScope.RECORD and is_audited(review.object_type) else "",
        }
        for review in page
    ]
    return render(request, "trail/review_list.html", {
        "page": page, "rows": rows, "can_review": can(request.user, actions.REVIEW),
        "can_export": can(request.user, actions.EXPORT),
    })


REVIEW_PREFILL = ("scope", "object_type", "object_id", "date_from", "date_to")


def _scope_of(form: ReviewForm) -> ReviewScopeSpec | None:
    """The scope a valid form names, for the preview (None when incomplete)."""
    if not form.is_valid():
        return None
    data = form.cleaned_data
    return ReviewScopeSpec(
        scope=data["scope"],
        object_type=data.get("object_type") or "",
        object_id=(data.get("object_id") or "").strip(),
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
    )


@dataclass(frozen=True)
class ScopeSummary:
    """The side panel of the review form: what the chosen scope covers."""

    preview: queries.ReviewPreview | None = None
    record_label: str = ""
    flags: list[IntegrityFlag] = field(default_factory=list)


def _summary(actor: Any, spec: ReviewScopeSpec | None) -> ScopeSummary:
    """Nothing for an incomplete scope, or a record one may not see."""
    if spec is None:
        return ScopeSummary()
    if spec.scope != ReviewScope.RECORD:
        return ScopeSummary(queries.review_preview(spec, actor.pk))
    if not spec.object_type or not spec.object_id:
        return ScopeSummary()
    try:
        record_spec = by_type(spec.object_type)
        obj = record_spec.model._default_manager.filter(pk=spec.object_id).first()
    except (LookupError, ValueError, TypeError, ValidationError):
        return ScopeSummary()
    if obj is None or not can(actor, record_spec.view_action, obj):
        return ScopeSummary()
    return ScopeSummary(
        queries.review_preview(spec, actor.pk),
        record_spec.label(obj),
        services.open_flags(spec.object_type, spec.object_id),
    )


@gated(actions.REVIEW)
def review_create(request: HttpRequest) -> HttpResponse:
    actor: Any = request.user
    spec: ReviewScopeSpec | None = None
    if request.method == "POST":
        form = ReviewForm(request.POST)
        spec = _scope_of(form)
        if spec is not None:
            try:
                review = services.review_create(
                    spec, actor=actor, outcome=form.cleaned_data["outcome"],
                    comment=form.cleaned_data["comment"],
                )
            except TrailError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.text)
            except AccessDenied:
                form.add_error("object_id", "No such record.")
            else:
                messages.success(
                    request,
                    f"Review recorded: entries {review.seq_from} to {review.seq_to} "
                    f"({review.entries} entr{'y' if review.entries == 1 else 'ies'}), "
                    f"{review.get_outcome_display().lower()}.",
                )
                return redirect("trail:reviews")
    else:
        prefill = {k: request.GET[k] for k in REVIEW_PREFILL if request.GET.get(k)}
        form = ReviewForm(initial=prefill)
        if prefill:
            # The preview needs a complete scope; the outcome is not chosen yet.
            spec = _scope_of(ReviewForm({**prefill, "outcome": "no_findings"}))
    record_url = ""
    if spec is not None and spec.scope == ReviewScope.RECORD and is_audited(spec.object_type):
        record_url = history_url(spec.object_type, spec.object_id) if spec.object_id else ""
    summary = _summary(actor, spec)
    return render(request, "trail/review_form.html", {
        "form": form,
        "preview": summary.preview,
        "record_label": summary.record_label,
        "record_flags": summary.flags,
        "spec": spec,
        "record_url": record_url,
    })
