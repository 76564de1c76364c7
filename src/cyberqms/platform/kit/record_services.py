"""The writes every record family shares: create, update the fields the state allows, and
who hears about it.

The declaration (`RecordKind`) says which fields are entered at creation and which each
state lets change; the model says what a valid value is (`Model.full_clean()`: field
limits, choices, `clean()` for rules across fields, the `state` constraint), so limits live
in one place. Pages, the API, the CLI and the demo loader call these functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.dispatch import Signal

from cyberqms.platform.core.access import Actor, can, capable, require
from cyberqms.platform.trail.record import audit_record, snapshot

from .record_parts import RecordClosed
from .records import (
    QualityRecord,
    RecordKind,
    check_due_date,
    check_event_time,
    kind_of,
    model_field,
    next_number,
)
from .workflow import TransitionNotAllowed, assignee_refusal


class RecordChanged(TransitionNotAllowed):
    """The record moved to another state while the change was being made (409, with the
    actions now allowed): reload it and decide again."""

    def __init__(self, record: QualityRecord, *, moved: bool = True) -> None:
        kind = kind_of(record)
        super().__init__(
            "edit", record.state, [t.action for t in kind.workflow.actions_from(record.state)]
        )
        self.number, self.moved = record.number, moved

    def __str__(self) -> str:
        what = f"moved to {self.state}" if self.moved else "was changed by someone else"
        return f"{self.number} {what} while you were editing it; reload it and decide again."


def editable_fields(record: QualityRecord, actor: Any) -> frozenset[str]:
    """The fields `actor` may change now (empty when they may change none)."""
    kind = kind_of(record)
    if record.is_deleted or record.state in kind.closed_states:
        return frozenset()
    if not can(actor, kind.edit_action, record):
        return frozenset()
    fields = kind.editable.get(record.state, frozenset())
    return frozenset(
        name for name in fields
        if name not in kind.restricted or can(actor, kind.action(kind.restricted[name]), record)
    )


def _tidy(record: QualityRecord, names: Iterable[str]) -> None:
    """Strip text and turn None into "" where the column holds text."""
    for name in names:
        f = model_field(type(record), name)
        if not isinstance(f, models.CharField | models.TextField):
            continue
        value = getattr(record, f.attname)
        if value is None and not f.null:
            setattr(record, f.attname, "")
        elif isinstance(value, str):
            setattr(record, f.attname, value.strip())


def _loaded_references(record: QualityRecord) -> list[str]:
    """The foreign keys whose object the service holds as read from the database (the
    site, the owner, the actor): Django's validation would ask the database whether each
    exists, a query apiece on every write (issue 14); the database's own foreign key
    refuses a missing one anyway (the people and sites a record names are never deleted).
    Excluding a field from validation also skips the constraints naming it: no family
    declares one on these fields."""
    names = []
    for f in record._meta.concrete_fields:
        if not isinstance(f, models.ForeignKey) or not f.is_cached(record) or (
                f.get_limit_choices_to()):
            continue
        held = f.get_cached_value(record)
        if held is not None and not held._state.adding and held.pk == getattr(
                record, f.attname):
            names.append(f.name)
    return names


def _validate(record: QualityRecord, names: Iterable[str]) -> None:
    """`full_clean()` on the record; a TextField's `max_length` is enforced too (Django
    enforces it on CharField only)."""
    errors: dict[str, list[str]] = {}
    try:
        record.full_clean(exclude=["number", *_loaded_references(record)],
                          validate_unique=False)
    except ValidationError as exc:
        errors = {name: [_worded(record, name, e) for e in found]
                  for name, found in exc.error_dict.items()}
    for name in names:
        f = model_field(type(record), name)
        if not isinstance(f, models.TextField) or not f.max_length:
            continue
        value = getattr(record, f.attname)
        if value and len(value) > f.max_length:
            errors.setdefault(name, []).append(f"At most {f.max_length} characters.")
    if errors:
        raise ValidationError(errors)


def _worded(record: QualityRecord, name: str, error: ValidationError) -> str:
    """Django's message, or a plainer one where Django's names no way out."""
    if error.code == "invalid_choice":
        choices = model_field(type(record), name).flatchoices
        return "Choose one of " + ", ".join(str(value) for value, _label in choices) + "."
    if error.code == "blank" and name == "title":
        return f"Give the {kind_of(record).noun} a title."
    if error.code in ("null", "blank") and name == "owner":
        return f"Name the owner of the {kind_of(record).noun}."
    return " ".join(error.messages)


def _check_owner(kind: RecordKind, record: QualityRecord) -> None:
    owner = record.owner
    if not owner.is_active or getattr(owner, "kind", "person") != "person":
        raise ValidationError({"owner": ["The owner must be an active, named person."]})
    if not capable(owner, kind.action("work"), record):
        raise ValidationError({"owner": [
            f"{owner} cannot work on {kind.noun}s at {record.site.code}."
        ]})


def _check_assignees(kind: RecordKind, record: QualityRecord, names: Iterable[str]) -> None:
    """Everyone named in `names` for a step (`kind.assignees`) may be given it: the
    assignee checks (training) pass for each of their steps."""
    for name in names:
        person = getattr(record, name, None) if name in kind.assignees else None
        if person is None:
            continue
        for action in kind.assignees[name]:
            problem = assignee_refusal(record, person, f"{kind.type_name}.{action}")
            if problem:
                raise ValidationError({name: [problem]})


def record_create(
    kind: RecordKind, *, actor: Actor, site: Any, values: Mapping[str, Any],
    fixed: Mapping[str, Any] | None = None,
) -> QualityRecord:
    """Record a new `kind` in its initial state with the declared creation fields.

    `fixed` are values the family's own service sets, never entered by a person (a new
    version's document and version number).

    Side effects: audit entry `<type>.create`; the family's `after_write` reactions; an
    assignment notice to the owner when it is not the actor (on commit).
    :raises ValidationError: naming the field (unknown field, invalid value, late entry
        without a reason, due date in the past, an owner who cannot do the work).
    """
    if site is None:
        raise ValidationError({"site": ["Choose the site."]})
    unknown = sorted(set(values) - set(kind.create_fields))
    if unknown:
        raise ValidationError({name: ["Not a field entered at creation."] for name in unknown})
    values = dict(values)
    values.setdefault("owner", actor)
    record = kind.model(site=site, originator_id=actor.pk, state=kind.initial_state,
                        **(fixed or {}), **values)
    if isinstance(actor, get_user_model()):
        record.originator = actor  # held: validation need not read the person again
    require(actor, kind.action("create"), record)
    _tidy(record, values)
    late, reason = check_event_time(record.event_at, record.late_entry_reason)
    record.late_entry, record.late_entry_reason = late, reason
    check_due_date(record.due_date)
    _validate(record, values)
    _check_owner(kind, record)
    _check_assignees(kind, record, values)
    for check in kind.checks:
        check(record, actor, tuple(values))
    with transaction.atomic():
        record.number = (kind.numbering(record, actor) if kind.numbering is not None
                         else next_number(kind.prefix))
        record.save()
        audit_record(f"{kind.type_name}.create", record, actor=actor, created=True)
        for react in kind.after_write:
            react(record, actor, tuple(values))
        owner_assigned.send(kind.model, record=record, actor=actor, created=True)
    return record


def record_update[R: QualityRecord](
    record: R, *, actor: Actor, changes: Mapping[str, Any], reason: str = "",
    expected_hash: str = "",
) -> R:
    """Change the fields the current state lets `actor` change.

    In the initial state the change is audited as `<type>.edit` (no reason needed);
    afterwards as `<type>.update`, which needs a reason. A content change after a signature
    marks that signature superseded (its hash no longer matches).
    Side effects: audit entry; the family's `after_write` reactions; an assignment notice
    to a new owner (on commit).
    `expected_hash` is the `content_hash` of the version the editor saw: when another
    change landed since, nothing is written (409) rather than silently overwriting it.
    :raises RecordChanged: the record changed (state, or content against
        `expected_hash`) meanwhile (409).
    :raises ValidationError: naming each field that may not change now or is invalid.
    """
    kind = kind_of(record)
    require(actor, kind.edit_action, record)
    if record.is_deleted or record.state in kind.closed_states:
        raise RecordClosed(record)
    refused = sorted(set(changes) - editable_fields(record, actor))
    if refused:
        state = record.get_state_display().lower()
        raise ValidationError({
            name: [f"This field cannot be changed while the {kind.noun} is {state}."]
            for name in refused
        })
    reason = (reason or "").strip()
    with transaction.atomic():
        locked = cast(R, type(record)._default_manager.select_for_update().select_related(
            "site", "owner").get(pk=record.pk))
        if locked.state != record.state or locked.is_deleted:
            raise RecordChanged(locked)
        if expected_hash and expected_hash != kind.workflow.content_hash(locked):
            raise RecordChanged(locked, moved=False)
        before = snapshot(locked)
        for name, value in changes.items():
            setattr(locked, name, value)
        _tidy(locked, changes)
        if {"event_at", "late_entry_reason"} & set(changes):
            # Lateness is judged when the event time is entered or changed, not on every
            # later edit of a record that was entered in time.
            late, late_reason = check_event_time(locked.event_at, locked.late_entry_reason)
            locked.late_entry, locked.late_entry_reason = late, late_reason
        if snapshot(locked) == before:
            return locked
        if "due_date" in changes and locked.due_date != record.due_date:
            check_due_date(locked.due_date)
        # Validation may normalize (Model.clean()): what changed is read after it.
        _validate(locked, changes)
        after = snapshot(locked)
        changed = tuple(model_field(type(locked), name).name for name in after
                        if after[name] != before.get(name))
        if "owner" in changed:
            _check_owner(kind, locked)
        _check_assignees(kind, locked, changed)
        for check in kind.checks:
            check(locked, actor, changed)
        action = "edit" if locked.state == kind.initial_state else "update"
        if action == "update" and not reason:
            raise ValidationError({"reason": [f"Say why the {kind.noun} record is updated."]})
        locked.save(update_fields=[*changed, "updated_at"])
        audit_record(f"{kind.type_name}.{action}", locked, actor=actor, before=before,
                     reason=reason or None)
        for react in kind.after_write:
            react(locked, actor, changed)
        if "owner" in changed:
            owner_assigned.send(kind.model, record=locked, actor=actor, created=False)
    for f in locked._meta.concrete_fields:
        setattr(record, f.attname, getattr(locked, f.attname))
    return locked


# --- who hears about it --------------------------------------------------------------------

# Sent inside the write's transaction when a record gets an owner (created, or handed over):
# the notifications app tells the owner on commit. Core knows no inbox.
owner_assigned = Signal()  # sender: the model; record, actor, created


__all__ = ["RecordChanged", "editable_fields", "owner_assigned", "record_create",
           "record_update"]
