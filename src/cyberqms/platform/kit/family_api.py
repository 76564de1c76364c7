"""The REST operations the kit serves for a declared record family, under /api/v1/<slug>:
list (the family's FilterSet, paginated), create, detail and update.

Schemas are made from the model's fields, so the API takes and gives what the model holds:
people by username, sites and other coded things by code, choices by value, dates in ISO
8601 (date-times with their zone). Transitions, attachments, comments, links, extensions,
deletion and the PDF/JSON copies are the shared record API (`/api/v1/records/<slug>/…`).

No postponed annotations here: ninja reads the operations' annotations at run time.
"""

import datetime as dt
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404, HttpRequest
from django.utils.dateparse import parse_date, parse_datetime, parse_duration
from django.utils.text import capfirst
from ninja import Query, Router, Schema, Status
from pydantic import AwareDatetime, ConfigDict, Field, create_model

from cyberqms.platform.core.api_gate import api_actor, gate
from cyberqms.platform.core.paging import CURSOR_HELP, api_page
from cyberqms.platform.kit.api_gate import api_record

from .family_pages import visible_records
from .record_pages import record_json
from .record_rows import Rows, row_add, row_json, row_remove, rows_of, rows_of_record
from .record_services import editable_fields, record_create, record_update
from .records import QualityRecord, RecordKind, model_field, site_model

PAGE_SIZE_MAX = 200
_HIDDEN = frozenset({"id", "is_deleted", "deleted_by", "deleted_at", "deleted_reason",
                     "updated_at"})
_SUMMARY = ("number", "title", "state", "site", "owner", "originator", "due_date",
            "created_at")


def _noun(kind: RecordKind) -> str:
    return kind.type_name.rsplit(".", 1)[-1]


def _out_type(f: models.Field[Any, Any]) -> Any:
    if isinstance(f, models.JSONField):
        return dict[str, Any] | list[Any] | None  # kept as the record holds it
    if isinstance(f, models.BooleanField):
        return bool
    if isinstance(f, models.DateTimeField):
        return dt.datetime | None
    if isinstance(f, models.DateField):
        return dt.date | None
    if isinstance(f, models.DurationField):
        return dt.timedelta | None  # ISO 8601 (P0DT02H30M00S)
    if isinstance(f, models.IntegerField):
        return int | None
    if isinstance(f, models.ForeignKey) or f.null:
        return str | None
    return str


def _in_type(f: models.Field[Any, Any]) -> tuple[Any, Any]:
    """The input annotation and default of a creation field. Every field parses when
    absent, so the gate decides before validation does (a caller without the right learns
    nothing from a 422); a missing required value is then refused by the model, naming it."""
    text = _describe(f) + (". Required" if not f.blank else "")
    if isinstance(f, models.BooleanField):
        return bool, Field(False, description=text)
    if isinstance(f, models.DateTimeField):
        return AwareDatetime | None, Field(None, description=text)
    if isinstance(f, models.DateField):
        return dt.date | None, Field(None, description=text)
    if isinstance(f, models.DurationField):
        return str | None, Field(None, description=text + ". ISO 8601 (PT2H30M) or 02:30:00")
    if isinstance(f, models.ForeignKey):
        return str | None, Field(None, description=text)
    if isinstance(f, models.IntegerField):
        return int | None, Field(None, description=text)
    return str, Field("", description=text)


def _describe(f: models.Field[Any, Any]) -> str:
    text = str(capfirst(str(f.verbose_name)))
    if f.choices:
        text += ". One of: " + ", ".join(str(value) for value, _label in f.flatchoices)
    if isinstance(f, models.ForeignKey):
        text += ". " + ("Username" if f.related_model is get_user_model() else "Code")
    if f.help_text:
        text += f". {f.help_text}"
    return text


def _fields(kind: RecordKind) -> list[models.Field[Any, Any]]:
    return [f for f in kind.model._meta.concrete_fields if f.name not in _HIDDEN]


def _value_out(record: QualityRecord, f: models.Field[Any, Any]) -> Any:
    if isinstance(f, models.ForeignKey):
        related = getattr(record, f.name)
        if related is None:
            return None
        return getattr(related, "username", None) or getattr(related, "code", None) or str(related)
    return getattr(record, f.attname)


def record_out(kind: RecordKind, record: QualityRecord, names: tuple[str, ...]) -> dict[str, Any]:
    data = {"id": record.pk, "url": kind.detail_url(record), "overdue": record.is_overdue(),
            "state_label": record.get_state_display()}
    for name in names:
        data[name] = _value_out(record, model_field(type(record), name))
    return data


def value_in(kind: RecordKind, name: str, raw: Any, site: Any) -> Any:
    """An API value for field `name` as the model holds it; ValidationError naming it."""
    return field_value_in(kind.model, name, raw, site)


def field_value_in(model: type[models.Model], name: str, raw: Any, site: Any) -> Any:
    """An API value for field `name` of `model` as it holds it; ValidationError naming it."""
    try:
        f = model_field(model, name)
    except LookupError:
        raise ValidationError({name: ["No such field."]}) from None
    if raw is None:
        return None
    if isinstance(f, models.BooleanField):
        if not isinstance(raw, bool):
            raise ValidationError({name: ["true or false."]})
        return raw
    if isinstance(f, models.DateTimeField):
        if isinstance(raw, dt.datetime) and raw.tzinfo is not None:
            return raw  # parsed by the operation's schema
        try:
            parsed = parse_datetime(raw) if isinstance(raw, str) else None
        except ValueError:  # well-formed but impossible (30 February)
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            raise ValidationError({name: [
                "A date and time with its zone (e.g. 2026-03-01T10:00:00Z)."]})
        return parsed
    if isinstance(f, models.DateField):
        if isinstance(raw, dt.date) and not isinstance(raw, dt.datetime):
            return raw  # parsed by the operation's schema
        try:
            parsed_date = parse_date(raw) if isinstance(raw, str) else None
        except ValueError:
            parsed_date = None
        if parsed_date is None:
            raise ValidationError({name: ["A date (YYYY-MM-DD)."]})
        return parsed_date
    if isinstance(f, models.DurationField):
        if isinstance(raw, dt.timedelta):
            return raw
        try:
            parsed_duration = parse_duration(raw) if isinstance(raw, str) else None
        except (ValueError, OverflowError):  # well-formed but past what a duration holds
            parsed_duration = None
        if parsed_duration is None:
            raise ValidationError({name: ["A duration (PT2H30M, or 02:30:00)."]})
        return parsed_duration
    if isinstance(f, models.ForeignKey):
        return _related(f, name, raw, site)
    if isinstance(f, models.IntegerField | models.DecimalField | models.FloatField):
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise ValidationError({name: ["A number expected."]})
        return raw  # full_clean converts and checks it
    if not isinstance(raw, str):
        raise ValidationError({name: ["Text expected."]})
    return raw


def _related(f: models.ForeignKey[Any, Any], name: str, raw: Any, site: Any) -> Any:
    model: Any = f.related_model
    text = str(raw).strip()
    if model is get_user_model():
        found = model._default_manager.filter(username=text).first()
        missing = f"No user {text!r}."  # an inactive one is refused as owner by the kit
    elif issubclass(model, QualityRecord):
        found = model._default_manager.filter(number__iexact=text, is_deleted=False).first()
        missing = f"No {f.verbose_name} numbered {text!r}."
    elif not any(g.name == "code" for g in model._meta.fields):
        found = model._default_manager.filter(pk=int(text)).first() if text.isdigit() else None
        missing = f"No {f.verbose_name} {text!r}."
    else:
        rows = model._default_manager.filter(code=text)
        if any(g.name == "is_active" for g in model._meta.fields):
            rows = rows.filter(is_active=True)
        if site is not None and any(g.name == "site" for g in model._meta.fields):
            rows = rows.filter(site=site)
        found = rows.first()
        missing = f"No {f.verbose_name} {text!r}" + (f" at {site.code}." if site else ".")
    if found is None:
        raise ValidationError({name: [missing]})
    return found


def _site(code: str) -> Any:
    site = site_model()._default_manager.filter(code=(code or "").strip(),
                                                is_active=True).first()
    if site is None:
        raise ValidationError({"site": [f"No site {code!r}."]})
    return site


class StrictIn(Schema):
    """An input that refuses unknown keys (a misspelt field is a 422 naming it, never
    silently dropped)."""

    model_config = ConfigDict(extra="forbid")


class UpdateIn(StrictIn):
    changes: dict[str, Any] = Field(
        description="Field values to set; only fields editable in the current state "
        "(`editable_fields` of the detail). People by username, coded things by code."
    )
    reason: str = Field("", max_length=1000,
                        description="Required once the record has left its first state.")
    expected_hash: str = Field(
        "", max_length=64,
        description="content_hash of the version you edited; 409 if it changed meanwhile.")


# The detail schema of each family, made once by its router; the family's own operations
# that answer with the record use it too (`detail_schema`, `detail_out`).
_DETAIL_SCHEMAS: dict[str, Any] = {}


def detail_schema(kind: RecordKind) -> Any:
    return _DETAIL_SCHEMAS[kind.slug]


def detail_out(kind: RecordKind, record: QualityRecord, actor: Any) -> dict[str, Any]:
    """The record as the detail operation gives it: every field, `editable_fields`,
    `common` (signatures, links, available actions …) and the family's extras."""
    names = tuple(f.name for f in _fields(kind))
    return {**record_out(kind, record, names),
            "editable_fields": sorted(editable_fields(record, actor)),
            "common": record_json(record, actor),
            **{name: get(record, actor) for name, _type, get in kind.api_extra}}


def _schema(name: str, definitions: dict[str, Any], base: type[Schema] = Schema) -> Any:
    """A ninja Schema made at run time from the model's fields."""
    return create_model(name, __base__=base, **definitions)


def family_router(kind: RecordKind) -> Router:
    """The list, create, detail and update operations of `kind`."""
    assert kind.filterset is not None
    filterset = kind.filterset
    noun = _noun(kind)
    title = noun.title().replace("_", "")
    fields = {f.name: f for f in _fields(kind)}
    list_names = tuple(dict.fromkeys(
        [*_SUMMARY, *(c.name for c in kind.columns if c.name in fields),
         *kind.api_list_fields]))
    detail_names = tuple(fields)  # the same as detail_out's
    common_out: dict[str, Any] = {"id": (int, ...), "url": (str, ...),
                                  "overdue": (bool, ...), "state_label": (str, ...)}
    out_schema = _schema(f"{title}Out", {
        **common_out, **{n: (_out_type(fields[n]), ...) for n in list_names}})
    detail_schema = _schema(f"{title}DetailOut", {
        **common_out, **{n: (_out_type(fields[n]), ...) for n in detail_names},
        "editable_fields": (list[str], ...), "common": (dict[str, Any], ...),
        **{name: (kind_type, ...) for name, kind_type, _get in kind.api_extra}})
    _DETAIL_SCHEMAS[kind.slug] = detail_schema
    page_schema = _schema(f"{title}Page", {
        "count": (int, ...), "count_exact": (bool, ...), "page": (int | None, ...),
        "pages": (int | None, ...), "results": (list.__class_getitem__(out_schema), ...),
        "next": (str | None, ...), "previous": (str | None, ...)})
    create_schema = _schema(f"{title}In", {
        "site": (str, Field(..., description="Site code")),
        **{n: _in_type(fields[n]) for n in kind.create_fields}}, base=StrictIn)
    filter_schema = _schema(f"{title}Filters", {
        **{name: (str | None, Field(None, description=str(flt.label or name)))
           for name, flt in filterset.base_filters.items()},
        "sort": (str | None, Field(None, description="A column key, - for descending.")),
        "page": (int, 1), "page_size": (int, 50),
        "cursor": (str | None, Field(None, max_length=2000, description=CURSOR_HELP))})

    def detail(record: QualityRecord, actor: Any) -> dict[str, Any]:
        return detail_out(kind, record, actor)

    router = Router(tags=[kind.plural_label])

    def record_list(request: HttpRequest, filters: Any) -> dict[str, Any]:
        if not 1 <= filters.page_size <= PAGE_SIZE_MAX:
            raise ValidationError({"page_size": [f"Between 1 and {PAGE_SIZE_MAX}."]})
        # The site codes are the site filter's choices: only a site asked for needs them
        # (the API renders no form), so a list without one reads no sites.
        found = filterset(request.GET, visible_records(kind, api_actor(request)),
                          request=request, site_codes=None if request.GET.get("site") else [])
        if found.errors:
            raise ValidationError(found.errors_by_field())
        return api_page(found.qs, filters.page, filters.page_size,
                        lambda r: record_out(kind, r, list_names), cursor=filters.cursor)

    record_list.__doc__ = (f"{kind.plural_label} visible to the caller, filtered and "
                           "paginated: by `page`, or by `cursor` (follow `next`), whose "
                           "pages cost the same however deep.")
    record_list.__annotations__["filters"] = cast(Any, Query)[filter_schema]  # run-time schema
    router.get(f"/{kind.slug}", response=page_schema, operation_id=f"{noun}_list",
               url_name=f"{noun}_list")(gate(kind.view_action)(record_list))

    def record_new(request: HttpRequest, payload: Any) -> Status:
        actor = api_actor(request)
        data = payload.dict()
        site = _site(data.pop("site"))
        values = {name: value_in(kind, name, value, site) if isinstance(
            model_field(kind.model, name), models.ForeignKey | models.DurationField)
            else value for name, value in data.items()}
        if values.get("owner") is None:
            values.pop("owner", None)
        record = record_create(kind, actor=actor, site=site, values=values)
        return Status(201, detail(record, actor))

    record_new.__doc__ = f"Record a {kind.noun} (first state). Field errors answer 422."
    record_new.__annotations__["payload"] = create_schema  # made at run time
    router.post(f"/{kind.slug}", response={201: detail_schema}, operation_id=f"{noun}_create",
                url_name=f"{noun}_create")(gate(kind.action("create"))(record_new))

    @router.get(f"/{kind.slug}/{{record_id}}", response=detail_schema,
                operation_id=f"{noun}_detail", url_name=f"{noun}_detail")
    @gate(kind.view_action)
    def record_detail(request: HttpRequest, record_id: int) -> dict[str, Any]:
        actor = api_actor(request)
        return detail(api_record(request, kind.slug, record_id), actor)

    record_detail.__doc__ = (f"One {kind.noun} with its shared parts (`common`: "
                             "signatures, links, available actions …).")

    @router.post(f"/{kind.slug}/{{record_id}}/update", response=detail_schema,
                 operation_id=f"{noun}_update", url_name=f"{noun}_update")
    @gate(kind.edit_action)
    def record_change(request: HttpRequest, record_id: int, payload: UpdateIn) -> dict[str, Any]:
        actor = api_actor(request)
        record = api_record(request, kind.slug, record_id, for_="edit")
        changes = {name: value_in(kind, name, value, record.site)
                   for name, value in payload.changes.items()}
        updated = record_update(record, actor=actor, changes=changes, reason=payload.reason,
                                expected_hash=payload.expected_hash)
        return detail(updated, actor)

    record_change.__doc__ = ("Change the fields editable in the current state (a reason "
                             "once out of the first state); 409 if the state changed.")
    for rows in kind.rows:
        _row_operations(router, kind, rows, noun)
    return router


class RowRemoveIn(StrictIn):
    reason: str = Field(..., max_length=1000, description="Why the row is withdrawn.")


def _row_operations(router: Router, kind: RecordKind, rows: Rows, noun: str) -> None:
    """List, add and withdraw the rows of one of the family's tables."""
    fields = {name: model_field(rows.model, name) for name in rows.fields}
    row_noun = rows.model._meta.model_name
    title = "".join(part.title() for part in f"{noun}_{row_noun}".split("_"))
    row_schema = _schema(f"{title}RowOut", {
        "id": (int, ...), **{n: (_out_type(f), ...) for n, f in fields.items()},
        "added_by": (str, ...), "added_at": (str, ...), "withdrawn_at": (str | None, ...),
        "withdrawn_by": (str | None, ...), "withdrawn_reason": (str, ...)})
    in_schema = _schema(f"{title}RowIn", {n: _in_type(f) for n, f in fields.items()},
                        base=StrictIn)
    path = f"/{kind.slug}/{{record_id}}/{rows.name}"

    def rows_list(request: HttpRequest, record_id: int) -> list[dict[str, Any]]:
        record = api_record(request, kind.slug, record_id)
        return [row_json(row, rows) for row in rows_of(record, rows)]

    rows_list.__doc__ = (f"{rows.heading} of a {kind.noun}, oldest first; withdrawn rows "
                         "are included, with who withdrew them and why.")
    router.get(path, response=list.__class_getitem__(row_schema),
               operation_id=f"{noun}_{rows.name}_list",
               url_name=f"{noun}_{rows.name}_list")(gate(kind.view_action)(rows_list))

    def rows_add(request: HttpRequest, record_id: int, payload: Any) -> Status:
        record = api_record(request, kind.slug, record_id)
        values = {name: field_value_in(rows.model, name, value, record.site)
                  for name, value in payload.dict().items()}
        row = row_add(record, rows, actor=api_actor(request), values=values)
        return Status(201, row_json(row, rows))

    rows_add.__doc__ = (f"Add a row to the {rows.heading.lower()} of a {kind.noun}. "
                        "Field errors answer 422, naming the field.")
    rows_add.__annotations__["payload"] = in_schema  # made at run time
    router.post(path, response={201: row_schema}, operation_id=f"{noun}_{rows.name}_add",
                url_name=f"{noun}_{rows.name}_add")(
        gate(kind.action(rows.right))(rows_add))

    def rows_remove(request: HttpRequest, record_id: int, row_id: int,
                    payload: RowRemoveIn) -> dict[str, Any]:
        record = api_record(request, kind.slug, record_id)
        row = rows_of_record(rows, record.pk).filter(pk=row_id).first()
        if row is None:
            raise Http404
        row.record = record
        return row_json(row_remove(row, rows, actor=api_actor(request),
                                   reason=payload.reason), rows)

    rows_remove.__doc__ = f"Withdraw a row of the {rows.heading.lower()}, with a reason."
    router.post(f"{path}/{{row_id}}/withdraw", response=row_schema,
                operation_id=f"{noun}_{rows.name}_withdraw",
                url_name=f"{noun}_{rows.name}_withdraw")(
        gate(kind.action(rows.right))(rows_remove))
