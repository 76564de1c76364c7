"""Every write on change control: create, edit, transitions, implementation tasks.

Each function authorizes through the access gate, runs in one transaction and writes its
audit entry there (P11-06); transitions go through `CHANGE_WORKFLOW.run` only (P11-10).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cyberqms.core.access import capable, require
from cyberqms.core.record_parts import RecordClosed
from cyberqms.core.records import check_due_date, check_event_time, kind_of, next_number
from cyberqms.core.signatures import SignatureRequest
from cyberqms.trail.record import audit_record, snapshot

from . import notices
from .enums import ChangeState, ChangeType, PirOutcome, TaskState
from .models import Change, ChangeTask
from .workflow import CHANGE_WORKFLOW

S = ChangeState

TEXT_FIELDS = {
    "title": 200, "description": 10000, "justification": 5000, "scope": 5000,
    "product_quality_impact": 5000, "validation_impact": 5000, "regulatory_impact": 5000,
    "cyber_assessment": 5000, "post_implementation_review": 5000,
}
BOOL_FIELDS = (
    "revalidation_required", "regulatory_filing_required", "new_interfaces", "new_accounts",
    "network_exposure", "data_flow_change",
)
RATING_FIELDS = ("severity", "probability", "detectability")
DATE_FIELDS = ("due_date", "planned_implementation_date")

ASSESSMENT_FIELDS = (
    "scope", "product_quality_impact", "validation_impact", "revalidation_required",
    "regulatory_impact", "regulatory_filing_required", "new_interfaces", "new_accounts",
    "network_exposure", "data_flow_change", "cyber_assessment", *RATING_FIELDS,
    "planned_implementation_date",
)
DRAFT_FIELDS = (
    "title", "description", "change_type", "justification", "owner", "due_date",
    *ASSESSMENT_FIELDS,
)
REVIEW_FIELDS = ("post_implementation_review", "pir_outcome")

# Which fields may change in which state; everything else is fixed by then (approvals
# vouch for the content they signed).
EDITABLE: dict[str, tuple[str, ...]] = {
    S.DRAFT: DRAFT_FIELDS,
    S.ASSESSMENT: ASSESSMENT_FIELDS,
    S.REVIEW: REVIEW_FIELDS,
}
TASK_STATES = (S.DRAFT, S.ASSESSMENT, S.QA_APPROVED, S.APPROVED, S.IMPLEMENTATION)


def editable_fields(change: Change) -> tuple[str, ...]:
    if change.is_deleted:
        return ()
    return EDITABLE.get(change.state, ())


# --- input ---------------------------------------------------------------------------------


def _clean(change: Change, values: dict[str, Any]) -> None:
    """Check `values` and set them on `change` (unsaved); field errors name the field."""
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        try:
            setattr(change, name, _clean_value(change, name, value))
        except ValidationError as exc:
            errors.setdefault(name, []).extend(exc.messages)
    if not errors:
        if not change.title.strip():
            errors["title"] = ["Give the change a title."]
        if change.change_type not in ChangeType.values:
            errors["change_type"] = ["Choose the type of change."]
        planned, due = change.planned_implementation_date, change.due_date
        if planned and due and due < planned:
            errors["due_date"] = [
                "The due date cannot be before the planned implementation date "
                f"({planned.isoformat()})."
            ]
    if errors:
        raise ValidationError(errors)
    change.derive()


def _clean_value(change: Change, name: str, value: Any) -> Any:
    if name in TEXT_FIELDS:
        text = str(value or "").strip()
        if len(text) > TEXT_FIELDS[name]:
            raise ValidationError(f"At most {TEXT_FIELDS[name]} characters.")
        return text
    if name in BOOL_FIELDS:
        if not isinstance(value, bool):
            raise ValidationError("Answer yes or no.")
        return value
    if name in RATING_FIELDS:
        if value in (None, ""):
            return None
        try:
            rating = int(value)
        except (TypeError, ValueError):
            raise ValidationError("Rate from 1 to 5.") from None
        if isinstance(value, bool) or not 1 <= rating <= 5 or str(rating) != str(value).strip():
            raise ValidationError("Rate from 1 to 5.")
        return rating
    if name in DATE_FIELDS:
        if value in (None, ""):
            return None
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise ValidationError("Enter a date.")
        current = getattr(change, name)
        if value != current:  # an unchanged past date stays acceptable
            try:
                check_due_date(value, field=name)
            except ValidationError as exc:
                raise ValidationError(exc.message_dict[name]) from None
        return value
    if name == "change_type":
        if value not in ChangeType.values:
            raise ValidationError("Choose the type of change.")
        return value
    if name == "pir_outcome":
        if value not in ("", *PirOutcome.values):
            raise ValidationError("Choose effective or not effective.")
        return value
    if name == "owner":
        if value is None or not capable(value, "changes.work", change):
            raise ValidationError("The owner must be someone who works on changes at this site.")
        return value
    raise ValidationError("This field cannot be set.")


# --- create and edit --------------------------------------------------------------------------


def change_create(
    *,
    actor: Any,
    site: Any,
    title: str,
    change_type: str,
    justification: str,
    owner: Any = None,
    event_at: dt.datetime | None = None,
    late_entry_reason: str = "",
    **fields: Any,
) -> Change:
    """Raise a change request in draft, numbered CC-<year>-<n>.

    `fields` are any of the draft fields (description, scope, impact assessment answers,
    ratings, dates). Side effects: audit entry `changes.change.create`.
    """
    change = Change(site=site, originator=actor, owner=owner or actor, state=S.DRAFT)
    require(actor, "changes.create", change)
    unknown = sorted(set(fields) - set(DRAFT_FIELDS))
    if unknown:
        raise ValidationError({name: ["This field cannot be set."] for name in unknown})
    if not (justification or "").strip():
        raise ValidationError({"justification": ["Say why the change is needed."]})
    late, reason = check_event_time(event_at, late_entry_reason)
    values = {"title": title, "change_type": change_type, "justification": justification,
              "owner": owner or actor, **fields}
    _clean(change, values)
    change.event_at, change.late_entry, change.late_entry_reason = event_at, late, reason
    with transaction.atomic():
        change.number = next_number(kind_of(Change).prefix)
        change.save()
        audit_record("changes.change.create", change, actor=actor, created=True)
    return change


def change_update(
    change: Change, *, actor: Any, changes: dict[str, Any], reason: str = ""
) -> Change:
    """Edit the fields open in the current state (see EDITABLE).

    In draft the edit needs no reason (`changes.change.edit`); later ones do
    (`changes.change.update`). Side effects: that audit entry; signatures given on the
    previous content show as superseded.
    """
    require(actor, "changes.edit", change)
    reason = (reason or "").strip()
    with transaction.atomic():
        locked = Change.objects.select_for_update().get(pk=change.pk)
        if locked.is_deleted or locked.state in kind_of(Change).closed_states:
            raise RecordClosed(locked)
        allowed = editable_fields(locked)
        refused = sorted(set(changes) - set(allowed))
        if refused:
            state = S(locked.state).label.lower()
            raise ValidationError({
                name: [f"This cannot be changed while the change is in {state}."]
                for name in refused
            })
        draft = locked.state == S.DRAFT
        if not draft and not reason:
            raise ValidationError({"reason": ["Say why the change record is updated."]})
        before = snapshot(locked)
        _clean(locked, changes)
        if snapshot(locked) == before:
            return locked
        locked.save()
        audit_record(
            "changes.change.edit" if draft else "changes.change.update", locked, actor=actor,
            before=before, reason=reason or None,
        )
    for f in locked._meta.concrete_fields:
        setattr(change, f.attname, getattr(locked, f.attname))
    return locked


# --- transitions -----------------------------------------------------------------------------


def change_submit(change: Change, *, actor: Any) -> Change:
    """Send a draft with a complete impact assessment and risk score to assessment.

    Side effects: audit `changes.change.submit`; QA told an approval is due (on commit).
    """
    return CHANGE_WORKFLOW.run(change, "submit", actor=actor)


def change_qa_approve(
    change: Change, *, actor: Any, signature: SignatureRequest, expected_hash: str = ""
) -> Change:
    """QA approval (e-signature "Approved"; never by the originator).

    Side effects: audit `changes.change.qa_approve`, Signature; IT security told an
    approval is due when the change has cyber impact.
    """
    return CHANGE_WORKFLOW.run(change, "qa_approve", actor=actor, signature=signature,
                               expected_hash=expected_hash)


def change_security_approve(
    change: Change, *, actor: Any, signature: SignatureRequest, expected_hash: str = ""
) -> Change:
    """IT security's approval of a cyber-relevant change (CYB-06), e-signature
    "Approved (IT security)". Side effects: audit entry, Signature, owner told."""
    return CHANGE_WORKFLOW.run(change, "security_approve", actor=actor, signature=signature,
                               expected_hash=expected_hash)


def change_release(change: Change, *, actor: Any) -> Change:
    """QA releases a QA-approved change without cyber impact for implementation."""
    return CHANGE_WORKFLOW.run(change, "release", actor=actor)


def change_start_implementation(change: Change, *, actor: Any) -> Change:
    return CHANGE_WORKFLOW.run(change, "start_implementation", actor=actor)


def change_complete_implementation(change: Change, *, actor: Any) -> Change:
    """Implementation done (every task done or cancelled, at least one done): to review."""
    return CHANGE_WORKFLOW.run(change, "complete_implementation", actor=actor)


def change_close(
    change: Change, *, actor: Any, signature: SignatureRequest, reason: str = "",
    expected_hash: str = "",
) -> Change:
    """Close after an effective post-implementation review (e-signature "Closed")."""
    return CHANGE_WORKFLOW.run(change, "close", actor=actor, signature=signature,
                               reason=reason, expected_hash=expected_hash)


def change_reopen(change: Change, *, actor: Any, reason: str) -> Change:
    """Back to implementation from review; the review outcome is cleared."""
    return CHANGE_WORKFLOW.run(change, "reopen", actor=actor, reason=reason)


def change_return(change: Change, *, actor: Any, reason: str) -> Change:
    return CHANGE_WORKFLOW.run(change, "return", actor=actor, reason=reason)


def change_cancel(change: Change, *, actor: Any, reason: str) -> Change:
    return CHANGE_WORKFLOW.run(change, "cancel", actor=actor, reason=reason)


# --- implementation tasks ------------------------------------------------------------------


def change_task_add(
    change: Change, *, actor: Any, description: str, owner: Any,
    due_date: dt.date | None = None,
) -> ChangeTask:
    """Plan an implementation task (until implementation is complete).

    Side effects: audit `changes.task.add`; the task owner is told (assignment).
    """
    require(actor, "changes.edit", change)
    description = (description or "").strip()
    errors: dict[str, list[str]] = {}
    if not description:
        errors["description"] = ["Describe the task."]
    elif len(description) > 2000:
        errors["description"] = ["At most 2000 characters."]
    if owner is None or not capable(owner, "changes.work", change):
        errors["owner"] = ["The owner must be someone who works on changes at this site."]
    try:
        check_due_date(due_date)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = Change.objects.select_for_update().get(pk=change.pk)
        _tasks_open(locked)
        task = ChangeTask.objects.create(
            change=locked, description=description, owner=owner, due_date=due_date,
            created_by=actor, created_at=timezone.now(),
        )
        audit_record("changes.task.add", task, actor=actor, created=True)
        notices.task_assigned(task, actor)
    return task


def change_task_complete(task: ChangeTask, *, actor: Any, note: str = "") -> ChangeTask:
    """Mark an open task done, during implementation. Side effects: `changes.task.complete`."""
    return _task_finish(task, actor=actor, state=TaskState.DONE, note=note)


def change_task_cancel(task: ChangeTask, *, actor: Any, reason: str) -> ChangeTask:
    """Cancel an open task that is no longer needed (reason required)."""
    if not (reason or "").strip():
        raise ValidationError({"reason": ["Say why the task is cancelled."]})
    return _task_finish(task, actor=actor, state=TaskState.CANCELLED, note=reason)


def _task_finish(task: ChangeTask, *, actor: Any, state: str, note: str) -> ChangeTask:
    change = task.change
    done = state == TaskState.DONE
    require(actor, "changes.work" if done else "changes.edit", change)
    note = (note or "").strip()
    if len(note) > 2000:
        raise ValidationError({"note": ["At most 2000 characters."]})
    with transaction.atomic():
        locked_change = Change.objects.select_for_update().get(pk=change.pk)
        if done and locked_change.state != S.IMPLEMENTATION:
            raise ValidationError({"__all__": [
                "Tasks are completed during implementation; this change is "
                f"{S(locked_change.state).label.lower()}."
            ]})
        _tasks_open(locked_change)
        locked = ChangeTask.objects.select_for_update().get(pk=task.pk)
        if locked.state != TaskState.OPEN:
            raise ValidationError({"__all__": [f"This task is already {locked.state}."]})
        before = snapshot(locked)
        locked.state = state
        locked.completed_at = timezone.now()
        locked.note = note
        locked.save(update_fields=["state", "completed_at", "note"])
        audit_record(
            "changes.task.complete" if done else "changes.task.cancel", locked, actor=actor,
            before=before, reason=None if done else note,
        )
    for name in ("state", "completed_at", "note"):
        setattr(task, name, getattr(locked, name))
    return locked


def _tasks_open(change: Change) -> None:
    if change.is_deleted or change.state not in TASK_STATES:
        raise RecordClosed(change)
