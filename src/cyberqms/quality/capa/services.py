"""Every write of the CAPA family (issue 4).

`capa_create` is also what other families call to spawn a CAPA (a deviation, an
incident): it links the source record to the new CAPA with the relation "spawned" when
`source_reference` is the number of a quality record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cyberqms.platform.core.access import Actor, can, capable, require
from cyberqms.platform.kit.record_services import record_create, record_update
from cyberqms.platform.kit.records import check_due_date, kind_by_slug
from cyberqms.platform.kit.signatures import (
    SignatureRequest,
    mark_signing_session,
    record_signature,
    verify_signer,
)
from cyberqms.platform.kit.workflow import GuardFailed, SegregationOfDuties, TransitionNotAllowed
from cyberqms.platform.notifications.services import notifications_resolve
from cyberqms.platform.trail.record import audit_record, snapshot

from . import notices
from .enums import ActionKind, ActionState, CapaState, EffectivenessResult
from .family import EDITABLE
from .models import Capa, CapaAction
from .workflow import CAPA_WORKFLOW

S = CapaState
TYPE = "capa.capa"
ACTION_TYPE = "capa.action"

PLANNING_STATES = (S.DRAFT, S.OPEN, S.IMPLEMENTATION)


def _check_owner(owner: Any, capa: Capa, field: str = "owner") -> None:
    if owner is None or not getattr(owner, "is_active", False):
        raise ValidationError({field: ["Choose an active person."]})
    if not capable(owner, "capa.work", capa):
        raise ValidationError({field: [
            f"{owner} cannot work on CAPAs at {capa.site}: choose someone who can."
        ]})


# --- the CAPA ---------------------------------------------------------------------------------


def capa_create(*, actor: Actor, site: Any, **values: Any) -> Capa:
    """Open a CAPA in draft (the kit's `record_create` with the CAPA's fields), numbered
    CAPA-<year>-<n>, with the actor as originator.

    `source` is a `CapaSource` value; `source_reference` names what it answers: a
    quality-record number (DEV-2026-0007: linked "spawned" from that record to the CAPA)
    or an outside identifier (an incident ticket). `event_at` is when the problem was
    found; more than the late-entry threshold ago it needs `late_entry_reason` (AL-03).
    :raises ValidationError: naming the field. :raises AccessDenied: not at this site.
    Side effects: audit entry `capa.capa.create`; with a source record, a link
    (`core.link.add`, relation "spawned") in both records' histories.
    """
    capa = record_create(kind_by_slug("capa"), actor=actor, site=site, values=values)
    assert isinstance(capa, Capa)
    return capa


def editable_fields(capa: Capa, actor: Actor | None = None) -> tuple[str, ...]:
    """The fields the state lets change (sorted), for the API and the pages."""
    if capa.is_deleted:
        return ()
    return tuple(sorted(EDITABLE.get(capa.state, ())))


def capa_update(capa: Capa, *, actor: Actor, changes: dict[str, Any], reason: str = "") -> Capa:
    """Change the fields editable in the current state (the kit's `record_update`): no
    reason in draft (audit `capa.capa.edit`), one afterwards (`capa.capa.update`)."""
    return record_update(capa, actor=actor, changes=changes, reason=reason)


def capa_effectiveness_plan(
    capa: Capa, *, actor: Actor, criteria: str, due: dt.date | None, reason: str = ""
) -> Capa:
    """Set what the effectiveness check verifies and when (part of the plan QA approves).

    Side effects: as `capa_update`.
    """
    return capa_update(capa, actor=actor, reason=reason,
                       changes={"effectiveness_criteria": criteria, "effectiveness_due": due})


def _refresh(target: Capa, source: Capa) -> None:
    for f in source._meta.concrete_fields:
        setattr(target, f.attname, getattr(source, f.attname))


# --- effectiveness check ----------------------------------------------------------------------


def effectiveness_refusal(capa: Capa, actor: Actor) -> str | None:
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
    capa: Capa, *, actor: Actor, result: str, evidence: str, signature: SignatureRequest | None,
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
        locked.effectiveness_checked_by_id = actor.pk
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


def _check_verify(capa: Capa, actor: Actor) -> None:
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


DOCUMENT_TYPE = "documents.document"  # read through the kit's registry, not imported


def _document_versions() -> Any:
    """The controlled documents' versions (None when document control is not installed)."""
    from cyberqms.platform.kit.records import kind_by_type

    try:
        return kind_by_type(DOCUMENT_TYPE).model._default_manager.filter(is_deleted=False)
    except LookupError:
        return None


def _document_to_revise(number: str, actor: Actor) -> str:
    """`number` as a controlled document in force (SOP-QA-0007) that `actor` may see, ""
    for none given (one they may not see is answered as one that does not exist)."""
    number = (number or "").strip().upper()
    if not number:
        return ""
    versions = _document_versions()
    in_force = None if versions is None else versions.filter(
        document__number=number, state="effective").select_related("site").first()
    if in_force is None or not can(actor, "documents.view", in_force):
        raise ValidationError({"document_number": [
            f"No controlled document {number[:24]} is in force to be revised."]})
    return number


def revisions_in_force(actions: Iterable[CapaAction]) -> dict[int, Any]:
    """For each action that revises a document: the latest version of it that took effect
    after the action was added (the revision it asked for), by action id; one query."""
    wanted = [a for a in actions if a.document_number]
    versions = _document_versions()
    if not wanted or versions is None:
        return {}
    found: dict[int, Any] = {}
    rows = versions.filter(document__number__in={a.document_number for a in wanted},
                           effective_at__isnull=False).select_related(
        "site", "document").order_by("major", "minor")
    for version in rows:
        for action in wanted:
            if (version.document.number == action.document_number
                    and version.effective_at >= action.created_at):
                found[action.pk] = version  # ordered: the latest stays
    return found


def revision_in_force(action: CapaAction) -> Any:
    """The version of the action's document that took effect after the action was added
    (the revision it asked for), or None."""
    return revisions_in_force([action]).get(action.pk)


def capa_action_add(
    capa: Capa, *, actor: Actor, kind: str, description: str, owner: Any, due_date: dt.date | None,
    document_number: str = "",
) -> CapaAction:
    """Add a corrective or preventive action (draft, plan review or implementation); one
    that revises a controlled document names it (`document_number`) and is done only once
    a new version of it is in force.

    Side effects: audit `capa.action.add` (in the CAPA's history); the action owner gets
    an "assignment" notification on commit.
    :raises ValidationError: kind, description, owner, due_date or document_number (named).
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
    document_number = _document_to_revise(document_number, actor)
    with transaction.atomic():
        locked = _lock_for_actions(capa, "added")
        action = CapaAction.objects.create(
            capa=locked, kind=kind, description=description, owner=owner, due_date=due_date,
            created_by_id=actor.pk, created_at=timezone.now(),
            document_number=document_number,
        )
        audit_record(f"{ACTION_TYPE}.add", action, actor=actor, created=True)
        notices.action_assigned(action, actor)
    return action


ACTION_EDITABLE = ("kind", "description", "owner", "due_date", "document_number")


def capa_action_update(
    action: CapaAction, *, actor: Actor, changes: dict[str, Any], reason: str = ""
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
        if "document_number" in changes:
            locked.document_number = _document_to_revise(
                str(changes["document_number"] or ""), actor)
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


def may_complete(action: CapaAction, actor: Actor) -> bool:
    capa = action.capa
    return (
        action.state == ActionState.OPEN and capa.state == S.IMPLEMENTATION
        and not capa.is_deleted and actor.pk in (action.owner_id, capa.owner_id)
        and can(actor, "capa.work", capa)
    )


def capa_action_complete(
    action: CapaAction, *, actor: Actor, evidence: str, note: str = ""
) -> CapaAction:
    """Mark an action done, with its evidence, during implementation. Only the action's
    owner or the CAPA's owner completes it; an action that revises a controlled document
    only once a new version of it has taken effect.

    Side effects: audit `capa.action.complete`; the action's assignment notice resolved.
    :raises ValidationError: evidence missing (named `evidence`).
    :raises GuardFailed: the document's revision is not in force yet.
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
        if locked.document_number and revision_in_force(locked) is None:
            raise GuardFailed(
                f"This action revises {locked.document_number}: it is done when a new "
                "version of it is in force, and none has taken effect since the action was "
                "added.")
        before = snapshot(locked)
        locked.state = ActionState.DONE
        locked.evidence = evidence
        locked.completion_note = (note or "").strip()[:5000]
        locked.completed_at = timezone.now()
        locked.completed_by_id = actor.pk
        locked.save()
        audit_record(f"{ACTION_TYPE}.complete", locked, actor=actor, before=before)
        notifications_resolve(f"capa.action:{locked.pk}")
    return locked


def capa_action_cancel(action: CapaAction, *, actor: Actor, reason: str) -> CapaAction:
    """Cancel an open action, with a reason (it stays on the CAPA, struck through).

    Side effects: audit `capa.action.cancel` with the reason; the action's assignment
    notice resolved.
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
        notifications_resolve(f"capa.action:{locked.pk}")
    return locked
