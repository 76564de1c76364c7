"""Every write of the CAPA family (issue 4).

`capa_create` is also what other families call to spawn a CAPA (a deviation, an
incident): it links the source record to the new CAPA with the relation "spawned" when
`source_reference` is the number of a quality record.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cyberqms.core.access import can, capable, require
from cyberqms.core.record_parts import RecordClosed, link_create
from cyberqms.core.records import (
    QualityRecord,
    check_due_date,
    check_event_time,
    find_by_number,
    kind_of,
    next_number,
)
from cyberqms.core.signatures import (
    SignatureRequest,
    mark_signing_session,
    record_signature,
    verify_signer,
)
from cyberqms.core.workflow import GuardFailed, SegregationOfDuties, TransitionNotAllowed
from cyberqms.trail.record import audit_record, snapshot

from . import notices
from .enums import ActionKind, ActionState, CapaSource, CapaState, EffectivenessResult
from .models import Capa, CapaAction
from .workflow import CAPA_WORKFLOW

S = CapaState
TYPE = "capa.capa"
ACTION_TYPE = "capa.action"
RECORD_NUMBER = re.compile(r"^[A-Z]{2,10}-\d{4}-\d{4,}$")

# Fields `capa_update` may change, per state. The due date moves by extension (core)
# once the plan left draft; the criteria are part of the approved plan.
EDITABLE: dict[str, tuple[str, ...]] = {
    S.DRAFT: (
        "title", "description", "owner", "source", "source_reference", "problem_statement",
        "root_cause", "cyber_related", "due_date", "effectiveness_criteria",
        "effectiveness_due",
    ),
    S.OPEN: (
        "title", "description", "problem_statement", "root_cause", "cyber_related",
        "effectiveness_criteria", "effectiveness_due",
    ),
    S.IMPLEMENTATION: ("description", "root_cause", "cyber_related", "effectiveness_due"),
}
# States in which actions may be added, edited or cancelled.
PLANNING_STATES = (S.DRAFT, S.OPEN, S.IMPLEMENTATION)
TEXT_LIMITS = {
    "title": 200, "description": 10000, "problem_statement": 10000, "root_cause": 10000,
    "effectiveness_criteria": 5000, "source_reference": 100,
}


# --- validation -----------------------------------------------------------------------------


def _text(values: dict[str, Any], name: str) -> str:
    value = str(values.get(name) or "").strip()
    limit = TEXT_LIMITS.get(name)
    if limit and len(value) > limit:
        raise ValidationError({name: [f"At most {limit} characters."]})
    return value


def _check_owner(owner: Any, capa: Capa, field: str = "owner") -> None:
    if owner is None or not getattr(owner, "is_active", False):
        raise ValidationError({field: ["Choose an active person."]})
    if not capable(owner, "capa.work", capa):
        raise ValidationError({field: [
            f"{owner} cannot work on CAPAs at {capa.site}: choose someone who can."
        ]})


def _check_effectiveness_due(due: dt.date | None, capa_due: dt.date | None) -> None:
    if due is None:
        return
    check_due_date(due, field="effectiveness_due")
    if capa_due is not None and due < capa_due:
        raise ValidationError({"effectiveness_due": [
            f"The effectiveness check cannot be due before the CAPA itself "
            f"({capa_due.isoformat()})."
        ]})


def source_record(actor: Any, reference: str) -> QualityRecord | None:
    """The quality record `reference` names, if it is a record number.

    :raises ValidationError: it looks like a record number but names no record the
        actor can see.
    """
    reference = reference.strip().upper()
    if not RECORD_NUMBER.match(reference):
        return None
    try:
        record = find_by_number(reference)
    except LookupError:
        record = None
    if record is None:
        from cyberqms.core.records import all_kinds

        if reference.split("-", 1)[0] not in {k.prefix for k in all_kinds()}:
            return None  # another system's identifier (an incident ticket, say)
    if record is None or record.is_deleted or not can(actor, kind_of(record).view_action,
                                                      record):
        raise ValidationError({"source_reference": [
            f"No record {reference} that you can see."
        ]})
    return record


# --- the CAPA ---------------------------------------------------------------------------------


def capa_create(
    *,
    actor: Any,
    site: Any,
    title: str,
    owner: Any,
    source: str,
    source_reference: str = "",
    description: str = "",
    problem_statement: str = "",
    due_date: dt.date | None = None,
    cyber_related: bool = False,
    event_at: dt.datetime | None = None,
    late_entry_reason: str = "",
    root_cause: str = "",
) -> Capa:
    """Open a CAPA in draft, numbered CAPA-<year>-<n>, with the actor as originator.

    `source` is a `CapaSource` value; `source_reference` names what it answers: a
    quality-record number (DEV-2026-0007: linked "spawned" from that record to the CAPA)
    or an outside identifier (an incident ticket). `event_at` is when the problem was
    found; more than the late-entry threshold ago it needs `late_entry_reason` (AL-03).

    :raises ValidationError: naming the field (title, owner, source, source_reference,
        due_date, event_at, late_entry_reason).
    :raises AccessDenied: the actor may not create CAPAs at `site`.
    Side effects: audit entry `capa.capa.create`; with a source record, a link
    (`core.link.add`, relation "spawned") in both records' histories.
    """
    values = {"title": title, "description": description, "root_cause": root_cause,
              "problem_statement": problem_statement, "source_reference": source_reference}
    capa = Capa(
        site=site, owner=owner, originator=actor,
        state=S.DRAFT, title=_text(values, "title"), description=_text(values, "description"),
        problem_statement=_text(values, "problem_statement"),
        root_cause=_text(values, "root_cause"),
        source=source, source_reference=_text(values, "source_reference"),
        due_date=due_date, cyber_related=bool(cyber_related), event_at=event_at,
    )
    require(actor, "capa.create", capa)
    if not capa.title:
        raise ValidationError({"title": ["Give the CAPA a title."]})
    if source not in CapaSource.values:
        raise ValidationError({"source": [
            f"Choose one of {', '.join(CapaSource.values)}."
        ]})
    _check_owner(owner, capa)
    check_due_date(due_date)
    capa.late_entry, capa.late_entry_reason = check_event_time(event_at, late_entry_reason)
    origin = source_record(actor, capa.source_reference) if capa.source_reference else None
    if origin is not None:
        capa.source_reference = origin.number
    with transaction.atomic():
        capa.number = next_number("CAPA")
        capa.created_at = timezone.now()
        capa.save()
        audit_record(f"{TYPE}.create", capa, actor=actor, created=True)
        if origin is not None:
            link_create(origin, capa, actor=actor, relation="spawned",
                        note=f"CAPA from {origin.number}")
    return capa


def editable_fields(capa: Capa) -> tuple[str, ...]:
    if capa.is_deleted:
        return ()
    return EDITABLE.get(capa.state, ())


def capa_update(capa: Capa, *, actor: Any, changes: dict[str, Any], reason: str = "") -> Capa:
    """Change the fields editable in the current state (see `EDITABLE`).

    In draft no reason is needed (audit `capa.capa.edit`); later every change needs one
    (audit `capa.capa.update`). Fields that did not change are ignored; nothing changed
    writes nothing.
    :raises ValidationError: a field not editable now, or invalid (named).
    """
    require(actor, "capa.edit", capa)
    if capa.is_deleted or capa.state in (S.CLOSED, S.CANCELLED):
        raise RecordClosed(capa)
    allowed = editable_fields(capa)
    for name in changes:
        if name not in allowed:
            raise ValidationError({name: [
                f"This field cannot be changed in {capa.state_label.lower()}."
            ]})
    reason = (reason or "").strip()
    with transaction.atomic():
        locked = Capa.objects.select_for_update().select_related("site").get(pk=capa.pk)
        if locked.state != capa.state:
            raise TransitionNotAllowed("edit", locked.state, [])
        before = snapshot(locked)
        for name, value in changes.items():
            if name in TEXT_LIMITS:
                value = _text(changes, name)
            if name == "cyber_related":
                value = bool(value)
            if name == "title" and not value:
                raise ValidationError({"title": ["Give the CAPA a title."]})
            if name == "source" and value not in CapaSource.values:
                raise ValidationError({"source": [
                    f"Choose one of {', '.join(CapaSource.values)}."
                ]})
            if name == "owner":
                _check_owner(value, locked)
            setattr(locked, name, value)
        if "due_date" in changes and locked.due_date != capa.due_date:
            check_due_date(locked.due_date)
        if locked.effectiveness_due != capa.effectiveness_due:
            _check_effectiveness_due(locked.effectiveness_due, locked.due_date)
        elif locked.due_date != capa.due_date and locked.effectiveness_due and (
                locked.due_date and locked.effectiveness_due < locked.due_date):
            raise ValidationError({"due_date": [
                "The CAPA cannot be due after its effectiveness check "
                f"({locked.effectiveness_due.isoformat()})."
            ]})
        origin = None
        if "source_reference" in changes and locked.source_reference != capa.source_reference:
            origin = source_record(actor, locked.source_reference)
            if origin is not None:
                locked.source_reference = origin.number
        if snapshot(locked) == before:
            return locked
        draft = locked.state == S.DRAFT
        if not draft and not reason:
            raise ValidationError({"reason": ["Say why this is changed."]})
        locked.save()
        audit_record(f"{TYPE}.{'edit' if draft else 'update'}", locked, actor=actor,
                     before=before, reason=reason or None)
        if origin is not None:
            link_create(origin, locked, actor=actor, relation="spawned",
                        note=f"CAPA from {origin.number}")
    _refresh(capa, locked)
    return locked


def capa_effectiveness_plan(
    capa: Capa, *, actor: Any, criteria: str, due: dt.date | None, reason: str = ""
) -> Capa:
    """Set what the effectiveness check verifies and when (part of the plan QA approves).

    Side effects: as `capa_update`.
    """
    return capa_update(capa, actor=actor, reason=reason,
                       changes={"effectiveness_criteria": criteria, "effectiveness_due": due})


def _refresh(target: Capa, source: Capa) -> None:
    for f in source._meta.concrete_fields:
        setattr(target, f.attname, getattr(source, f.attname))


# --- transitions (one per row of the table) --------------------------------------------------


def capa_submit(capa: Capa, *, actor: Any) -> Capa:
    """Send the plan to QA. Side effects: audit `capa.capa.submit`; QA reviewers of the
    site get an "approval_due" notification on commit."""
    return CAPA_WORKFLOW.run(capa, "submit", actor=actor)


def capa_approve_plan(
    capa: Capa, *, actor: Any, signature: SignatureRequest, reason: str = "",
    expected_hash: str = "",
) -> Capa:
    """QA approves the plan (signed "Approved"; never by the owner or originator).
    Side effects: audit `capa.capa.approve_plan`, e-signature."""
    return CAPA_WORKFLOW.run(capa, "approve_plan", actor=actor, signature=signature,
                             reason=reason, expected_hash=expected_hash)


def capa_return_plan(capa: Capa, *, actor: Any, reason: str) -> Capa:
    """QA sends the plan back to draft. Side effects: audit `capa.capa.return_plan`."""
    return CAPA_WORKFLOW.run(capa, "return_plan", actor=actor, reason=reason)


def capa_complete_implementation(capa: Capa, *, actor: Any) -> Capa:
    """All actions done or cancelled (at least one done): on to the effectiveness check.
    Side effects: audit `capa.capa.complete_implementation`."""
    return CAPA_WORKFLOW.run(capa, "complete_implementation", actor=actor)


def capa_close(
    capa: Capa, *, actor: Any, signature: SignatureRequest, reason: str = "",
    expected_hash: str = "",
) -> Capa:
    """Close a CAPA whose effectiveness check passed (signed "Closed"; not by the owner).
    Side effects: audit `capa.capa.close` with closed_at, e-signature."""
    return CAPA_WORKFLOW.run(capa, "close", actor=actor, signature=signature, reason=reason,
                             expected_hash=expected_hash)


def capa_reopen(capa: Capa, *, actor: Any, reason: str) -> Capa:
    """After a failed effectiveness check, back to implementation for more actions; the
    check starts again (result pending). Side effects: audit `capa.capa.reopen`."""
    return CAPA_WORKFLOW.run(capa, "reopen", actor=actor, reason=reason)


def capa_cancel(capa: Capa, *, actor: Any, reason: str) -> Capa:
    """Cancel a CAPA in draft or plan review. Side effects: audit `capa.capa.cancel`."""
    return CAPA_WORKFLOW.run(capa, "cancel", actor=actor, reason=reason)


# --- effectiveness check ----------------------------------------------------------------------


def effectiveness_refusal(capa: Capa, actor: Any) -> str | None:
    """Why `actor` cannot record the effectiveness result now (None: they can)."""
    if capa.state != S.EFFECTIVENESS_CHECK:
        return "The effectiveness check is recorded once the implementation is complete."
    if not can(actor, "capa.verify", capa):
        return "You do not have the right to do this."
    if capa.owner_id == actor.pk:
        return "You are the owner of this CAPA; someone else must verify its effectiveness."
    if capa.effectiveness_result != EffectivenessResult.PENDING:
        return f"The result was already recorded ({capa.effectiveness_result})."
    return None


def capa_effectiveness_record(
    capa: Capa, *, actor: Any, result: str, evidence: str, signature: SignatureRequest | None,
) -> Capa:
    """Record the effectiveness check: passed or failed, with the evidence, signed
    "Verified" by someone with capa.verify who is not the CAPA owner (P11-11).

    A pass allows closure; a failure allows reopening the implementation.
    :raises TransitionNotAllowed: not in the effectiveness check (409).
    :raises SegregationOfDuties: the actor owns the CAPA (403).
    :raises ValidationError: result or evidence missing, result already recorded (422).
    :raises SigningError: the signature was refused.
    Side effects: audit `capa.capa.verify` (with the signature), e-signature.
    """
    _check_verify(capa, actor)
    if result not in (EffectivenessResult.PASSED, EffectivenessResult.FAILED):
        raise ValidationError({"result": ["Choose passed or failed."]})
    evidence = (evidence or "").strip()
    if not evidence:
        raise ValidationError({"evidence": ["Describe the evidence the result rests on."]})
    if len(evidence) > 10000:
        raise ValidationError({"evidence": ["At most 10000 characters."]})
    verified = verify_signer(actor, signature)
    with transaction.atomic():
        locked = Capa.objects.select_for_update().get(pk=capa.pk)
        _check_verify(locked, actor)
        before = snapshot(locked)
        locked.effectiveness_result = result
        locked.effectiveness_evidence = evidence
        locked.effectiveness_checked_by = actor
        locked.effectiveness_checked_at = timezone.now()
        locked.save()
        row = record_signature(
            verified, record_type=TYPE, record_id=locked.pk, record_label=locked.label,
            record_hash=CAPA_WORKFLOW.hash_for(locked, f"{TYPE}.verify"), action=f"{TYPE}.verify",
            meaning="Verified", reason=f"Effectiveness check {result}",
        )
        audit_record(f"{TYPE}.verify", locked, actor=actor, before=before,
                     signature_id=row.pk, reason=f"Effectiveness check {result}")
        if signature is not None:
            transaction.on_commit(partial(mark_signing_session, signature))
    _refresh(capa, locked)
    return locked


def _check_verify(capa: Capa, actor: Any) -> None:
    if capa.state != S.EFFECTIVENESS_CHECK:
        allowed = [t.action for t in CAPA_WORKFLOW.actions_from(capa.state)]
        raise TransitionNotAllowed("verify", capa.state, allowed)
    require(actor, "capa.verify", capa)
    if capa.owner_id == actor.pk:
        raise SegregationOfDuties(
            "You are the owner of this CAPA; someone else must verify its effectiveness."
        )
    if capa.effectiveness_result != EffectivenessResult.PENDING:
        raise GuardFailed(f"The result was already recorded ({capa.effectiveness_result}).",
                          field="result")


# --- actions ----------------------------------------------------------------------------------


def _lock_for_actions(capa: Capa, what: str) -> Capa:
    locked = Capa.objects.select_for_update().select_related("site").get(pk=capa.pk)
    if locked.is_deleted or locked.state not in PLANNING_STATES:
        raise GuardFailed(
            f"In {locked.state_label.lower()}, actions cannot be {what} ({locked.number})."
        )
    return locked


def capa_action_add(
    capa: Capa, *, actor: Any, kind: str, description: str, owner: Any, due_date: dt.date | None,
) -> CapaAction:
    """Add a corrective or preventive action (draft, plan review or implementation).

    Side effects: audit `capa.action.add` (in the CAPA's history); the action owner gets
    an "assignment" notification on commit.
    :raises ValidationError: kind, description, owner or due_date (named).
    """
    require(actor, "capa.edit", capa)
    if kind not in ActionKind.values:
        raise ValidationError({"kind": ["Choose corrective or preventive."]})
    description = (description or "").strip()
    if not description:
        raise ValidationError({"description": ["Describe the action."]})
    if len(description) > 5000:
        raise ValidationError({"description": ["At most 5000 characters."]})
    _check_owner(owner, capa)
    if due_date is None:
        raise ValidationError({"due_date": ["Give the action a due date."]})
    check_due_date(due_date)
    with transaction.atomic():
        locked = _lock_for_actions(capa, "added")
        action = CapaAction.objects.create(
            capa=locked, kind=kind, description=description, owner=owner, due_date=due_date,
            created_by=actor, created_at=timezone.now(),
        )
        audit_record(f"{ACTION_TYPE}.add", action, actor=actor, created=True)
        notices.action_assigned(action, actor)
    return action


ACTION_EDITABLE = ("kind", "description", "owner", "due_date")


def capa_action_update(
    action: CapaAction, *, actor: Any, changes: dict[str, Any], reason: str = ""
) -> CapaAction:
    """Change an open action (kind, description, owner, due date). In a draft CAPA no
    reason is needed (audit `capa.action.edit`), later one is (`capa.action.update`).
    A new owner gets an "assignment" notification on commit.
    """
    capa = action.capa
    require(actor, "capa.edit", capa)
    for name in changes:
        if name not in ACTION_EDITABLE:
            raise ValidationError({name: ["This field of an action cannot be changed."]})
    reason = (reason or "").strip()
    with transaction.atomic():
        locked_capa = _lock_for_actions(capa, "changed")
        locked = CapaAction.objects.select_for_update().get(pk=action.pk)
        if locked.state != ActionState.OPEN:
            raise GuardFailed(f"This action is {locked.state}; it cannot be changed.")
        before = snapshot(locked)
        old_owner = locked.owner_id
        if "kind" in changes:
            if changes["kind"] not in ActionKind.values:
                raise ValidationError({"kind": ["Choose corrective or preventive."]})
            locked.kind = changes["kind"]
        if "description" in changes:
            text = str(changes["description"] or "").strip()
            if not text:
                raise ValidationError({"description": ["Describe the action."]})
            locked.description = text[:5000]
        if "owner" in changes:
            _check_owner(changes["owner"], locked_capa)
            locked.owner = changes["owner"]
        if "due_date" in changes:
            if changes["due_date"] is None:
                raise ValidationError({"due_date": ["Give the action a due date."]})
            if changes["due_date"] != locked.due_date:
                check_due_date(changes["due_date"])
            locked.due_date = changes["due_date"]
        if snapshot(locked) == before:
            return locked
        draft = locked_capa.state == S.DRAFT
        if not draft and not reason:
            raise ValidationError({"reason": ["Say why the action is changed."]})
        locked.save()
        audit_record(f"{ACTION_TYPE}.{'edit' if draft else 'update'}", locked, actor=actor,
                     before=before, reason=reason or None)
        if locked.owner_id != old_owner:
            notices.action_assigned(locked, actor)
    return locked


def may_complete(action: CapaAction, actor: Any) -> bool:
    capa = action.capa
    return (
        action.state == ActionState.OPEN and capa.state == S.IMPLEMENTATION
        and not capa.is_deleted and actor.pk in (action.owner_id, capa.owner_id)
        and can(actor, "capa.work", capa)
    )


def capa_action_complete(
    action: CapaAction, *, actor: Any, evidence: str, note: str = ""
) -> CapaAction:
    """Mark an action done, with its evidence, during implementation. Only the action's
    owner or the CAPA's owner completes it.

    Side effects: audit `capa.action.complete`.
    :raises ValidationError: evidence missing (named `evidence`).
    """
    capa = action.capa
    require(actor, "capa.work", capa)
    if actor.pk not in (action.owner_id, capa.owner_id):
        raise SegregationOfDuties(
            "Only the owner of this action or of the CAPA can complete it."
        )
    evidence = (evidence or "").strip()
    if not evidence:
        raise ValidationError({"evidence": ["Describe the evidence that the action is done."]})
    if len(evidence) > 10000:
        raise ValidationError({"evidence": ["At most 10000 characters."]})
    with transaction.atomic():
        locked_capa = Capa.objects.select_for_update().get(pk=capa.pk)
        if locked_capa.state != S.IMPLEMENTATION or locked_capa.is_deleted:
            raise GuardFailed("Actions are completed during the implementation.")
        locked = CapaAction.objects.select_for_update().get(pk=action.pk)
        if locked.state != ActionState.OPEN:
            raise GuardFailed(f"This action is already {locked.state}.")
        before = snapshot(locked)
        locked.state = ActionState.DONE
        locked.evidence = evidence
        locked.completion_note = (note or "").strip()[:5000]
        locked.completed_at = timezone.now()
        locked.completed_by = actor
        locked.save()
        audit_record(f"{ACTION_TYPE}.complete", locked, actor=actor, before=before)
    return locked


def capa_action_cancel(action: CapaAction, *, actor: Any, reason: str) -> CapaAction:
    """Cancel an open action, with a reason (it stays on the CAPA, struck through).

    Side effects: audit `capa.action.cancel` with the reason.
    """
    capa = action.capa
    require(actor, "capa.edit", capa)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Say why the action is cancelled."]})
    with transaction.atomic():
        _lock_for_actions(capa, "cancelled")
        locked = CapaAction.objects.select_for_update().get(pk=action.pk)
        if locked.state != ActionState.OPEN:
            raise GuardFailed(f"This action is already {locked.state}.")
        before = snapshot(locked)
        locked.state = ActionState.CANCELLED
        locked.cancel_reason = reason[:2000]
        locked.save()
        audit_record(f"{ACTION_TYPE}.cancel", locked, actor=actor, before=before,
                     reason=reason[:1000])
    return locked
