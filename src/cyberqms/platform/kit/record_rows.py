"""A record's own tables: a system's interfaces, a supplier's assessments, a risk
assessment's failure modes. A family declares each (`RecordKind.rows`, `Rows`) and the kit
serves the rest: the panel on the record's page with its form, the API operations, the audit
entries (in the record's history), and the table in the PDF and JSON copies.

Rows are added and withdrawn with a reason, never edited or deleted (ALCOA+: a correction
is a new row, and the row it replaces stays readable, struck through, with who withdrew it,
when and why). Withdrawn rows stay in the copies and in the API.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from cyberqms.platform.core.access import require
from cyberqms.platform.core.models import KeptForever
from cyberqms.platform.trail.record import audit_record, snapshot

from .record_parts import RecordClosed, _lock, _reason
from .records import QualityRecord, RecordKind, kind_of, model_field

# (row, actor) → None; raises ValidationError naming the field.
RowCheck = Callable[[Any, Any], None]


class RecordRow(KeptForever):
    """The common columns of every row table. A subclass names its record `record`
    (a foreign key to the family's model, `related_name` its rows' name)."""

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    removed_at = models.DateTimeField(null=True, blank=True, editable=False)
    removed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+", editable=False)
    removed_reason = models.CharField(max_length=500, blank=True, editable=False)

    record: Any  # the subclass's foreign key

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"

    @property
    def label(self) -> str:
        number = getattr(self.record, "number", "")
        return f"{str(self._meta.verbose_name).capitalize()} {self.pk} of {number}"[:200]

    @property
    def removed(self) -> bool:
        return self.removed_at is not None


@dataclass(frozen=True, kw_only=True)
class Rows:
    """The declaration of one row table of a family."""

    name: str  # URL segment and API path: "interfaces"
    model: type[RecordRow]
    heading: str  # the panel's title: "Interfaces"
    fields: tuple[str, ...]  # entered, in the form's order
    shown: tuple[str, ...] = ()  # the table's columns (default: `fields`)
    note: str = ""  # a sentence under the heading: what a row means
    # The record states in which rows are added or withdrawn; empty: any open state.
    states: tuple[str, ...] = ()
    right: str = "edit"  # the family action (suffix) that adds or withdraws a row
    labels: Mapping[str, str] = field(default_factory=dict)
    # Checks beyond the model's (the row, the actor): raise ValidationError naming a field.
    checks: tuple[RowCheck, ...] = ()
    # Reactions inside the add's transaction (a derived field of the record, say).
    after: tuple[RowCheck, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.shown or self.fields

    @property
    def type_name(self) -> str:
        """The rows' name in the audit trail: "<app>.<model>" ("systems.interface")."""
        meta = self.model._meta
        return f"{meta.app_label}.{meta.model_name}"

    @property
    def noun(self) -> str:
        return str(self.model._meta.verbose_name)

    def label_of(self, name: str) -> str:
        if name in self.labels:
            return self.labels[name]
        return str(model_field(self.model, name).verbose_name).capitalize()


class RowTableClosed(ValidationError):
    """The record's state takes no more changes to this table (answered 422)."""


def rows_of_kind(kind: RecordKind, name: str) -> Rows:
    """The row table `name` of `kind`; LookupError when it declares none by that name."""
    for rows in kind.rows:
        if rows.name == name:
            return rows
    raise LookupError(f"{kind.slug} has no rows {name!r}")


def rows_writable(kind: RecordKind, rows: Rows, record: QualityRecord) -> None:
    if record.is_deleted or record.state in kind.closed_states:
        raise RecordClosed(record, f"given new {rows.heading.lower()}")
    if rows.states and record.state not in rows.states:
        raise RowTableClosed({"__all__": [
            f"{rows.heading} change only while the {kind.noun} is "
            + " or ".join(_state_words(kind, s) for s in rows.states) + "."]})


def _state_words(kind: RecordKind, state: str) -> str:
    states = kind.model.STATES
    if states is not None and state in states.values:
        return str(states(state).label).lower()
    return state.replace("_", " ")


def may_change_rows(actor: Any, kind: RecordKind, rows: Rows, record: QualityRecord) -> bool:
    from cyberqms.platform.core.access import can

    try:
        rows_writable(kind, rows, record)
    except ValidationError:
        return False
    return can(actor, kind.action(rows.right), record)


def row_add(record: QualityRecord, rows: Rows, *, actor: Any,
            values: Mapping[str, Any]) -> RecordRow:
    """Add a row to `record`'s table `rows`, with the values of its declared fields.

    :raises ValidationError: a value the model or the family's checks refuse (naming the
        field), a field the table does not take, or a record that takes no more rows.
    Side effects: audit entry `<rows.type_name>.add` (in the record's history).
    """
    kind = kind_of(record)
    require(actor, kind.action(rows.right), record)
    unknown = sorted(set(values) - set(rows.fields))
    if unknown:
        raise ValidationError({name: ["Not a field of this table."] for name in unknown})
    with transaction.atomic():
        locked = _lock(record)
        rows_writable(kind, rows, locked)
        row = rows.model(created_by=actor, created_at=timezone.now(), **values)
        row.record = locked
        try:
            row.full_clean(exclude=["record", "created_by", "removed_by"])
        except ValidationError as exc:
            raise ValidationError(exc.message_dict) from None
        for check in rows.checks:
            check(row, actor)
        row.save()
        audit_record(f"{rows.type_name}.add", row, actor=actor, created=True)
        for hook in rows.after:
            hook(row, actor)
    return row


def row_remove(row: RecordRow, rows: Rows, *, actor: Any, reason: str) -> RecordRow:
    """Withdraw a row, with a reason; it stays readable, marked withdrawn.

    Side effects: audit entry `<rows.type_name>.remove` with the reason.
    """
    record = row.record
    kind = kind_of(record)
    require(actor, kind.action(rows.right), record)
    reason = _reason(reason)
    with transaction.atomic():
        rows_writable(kind, rows, _lock(record))
        locked = type(row)._default_manager.select_for_update().get(pk=row.pk)
        if locked.removed_at is not None:
            raise ValidationError({"__all__": ["This row was already withdrawn."]})
        before = snapshot(locked)
        locked.removed_at = timezone.now()
        locked.removed_by = actor
        locked.removed_reason = reason
        locked.save(update_fields=["removed_at", "removed_by", "removed_reason"])
        audit_record(f"{rows.type_name}.remove", locked, actor=actor, before=before,
                     reason=reason)
        for hook in rows.after:
            hook(locked, actor)
    return locked


def related_names(rows: Rows) -> list[str]:
    """The foreign keys the table shows, fetched with its rows."""
    names = ["created_by", "removed_by"]
    for name in rows.columns:
        f = rows.model._meta.get_field(name)
        if isinstance(f, models.ForeignKey):
            names.append(name)
    return names


def rows_of_record(rows: Rows, record_pk: Any) -> models.QuerySet[Any]:
    """The rows of one record (the subclass's `record` foreign key, which the base cannot
    name for the type checker)."""
    return rows.model._default_manager.filter(**{"record_id": record_pk})


def rows_of(record: QualityRecord, rows: Rows) -> list[RecordRow]:
    """Every row of the table, withdrawn ones included (marked), oldest first."""
    return list(rows_of_record(rows, record.pk)
                .select_related(*related_names(rows)).order_by("created_at", "id"))


def current_rows(record: QualityRecord, rows: Rows) -> list[RecordRow]:
    return [row for row in rows_of(record, rows) if row.removed_at is None]


def cell_text(row: RecordRow, name: str) -> str:
    """A cell as a person reads it: choices by label, people by name, dates in ISO 8601,
    records by number."""
    value = getattr(row, name, None)
    getter = getattr(row, f"get_{name}_display", None)
    if callable(getter):
        value = getter()
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, dt.date):
        return value.isoformat()
    for attribute in ("printed_name", "label", "code"):
        found = getattr(value, attribute, None)
        if found:
            return str(found)
    return str(value)


def row_json(row: RecordRow, rows: Rows) -> dict[str, Any]:
    """A row for the API and the JSON copy: values as stored (people by username, records
    by number), with who added and withdrew it."""
    data: dict[str, Any] = {"id": row.pk}
    for name in rows.fields:
        value = getattr(row, name)
        if isinstance(value, models.Model):
            value = (getattr(value, "username", None) or getattr(value, "number", None)
                     or getattr(value, "code", None) or str(value))
        elif isinstance(value, dt.datetime | dt.date):
            value = value.isoformat()
        data[name] = value
    data.update({
        "added_by": row.created_by.username, "added_at": row.created_at.isoformat(),
        "withdrawn_at": row.removed_at.isoformat() if row.removed_at else None,
        "withdrawn_by": row.removed_by.username if row.removed_by else None,
        "withdrawn_reason": row.removed_reason,
    })
    return data


def register_rows(kind: RecordKind) -> None:
    """Register every row table of `kind` with the audit trail (read in the record's
    history) and check the declaration."""
    from cyberqms.platform.trail.queries import add_child_provider
    from cyberqms.platform.trail.registry import register

    for rows in kind.rows:
        f = rows.model._meta.get_field("record")
        if not isinstance(f, models.ForeignKey) or f.related_model is not kind.model:
            raise ValueError(f"{rows.type_name}: `record` is a foreign key to "
                             f"{kind.model.__name__}")
        missing = [n for n in (*rows.fields, *rows.columns)
                   if n not in {g.name for g in rows.model._meta.get_fields()}]
        if missing:
            raise ValueError(f"{rows.type_name}: no fields {missing}")
        register(rows.model, rows.type_name, view_action=kind.view_action,
                 label=_row_label, detail_url=_row_url(kind))
    if kind.rows:
        add_child_provider(_children(kind))


def _row_label(row: RecordRow) -> str:
    return row.label


def _row_url(kind: RecordKind) -> Callable[[RecordRow], str]:
    from django.urls import reverse

    def url(row: RecordRow) -> str:
        return reverse(kind.detail_url_pattern, args=[row.record.pk])

    return url


def _children(kind: RecordKind) -> Callable[[str, str], list[tuple[str, str]]]:
    def row_entries(record_type: str, record_id: str) -> list[tuple[str, str]]:
        if record_type != kind.type_name or not record_id.isdigit():
            return []
        return [(rows.type_name, str(pk)) for rows in kind.rows for pk in
                rows_of_record(rows, int(record_id)).values_list("pk", flat=True)]

    return row_entries
