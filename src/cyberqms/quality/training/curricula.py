"""The writes on a curriculum's items (`services.curriculum_save` keeps the curriculum
itself): an item added or changed, an item removed, and the open assignments nobody's
curricula ask for any more cancelled.

An item removed is deleted when nothing refers to it; one that people were assigned (a
session, on-the-job training, a quiz) stays in the database marked removed, so the
training records that name it keep their meaning, and the curricula no longer hold it
(`CurriculumItem.objects` leaves it out).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.deletion import ProtectedError, RestrictedError
from django.utils import timezone

from cyberqms.platform.accounts.models import RoleAssignment
from cyberqms.platform.core.access import Actor, require
from cyberqms.platform.trail.record import audit_record, snapshot
from cyberqms.quality.documents.models import ControlledDocument

from . import actions
from .enums import AssignmentState, ItemKind
from .models import Curriculum, CurriculumItem, TrainingAssignment, TrainingRequirement
from .services import _cancel, assignments_sync, curriculum_items, items_by_roles, roles_held

A = AssignmentState
DUE_DAYS = (1, 365)  # days to complete: at least a day, at most a year
RETRAIN_MONTHS = (1, 120)  # retraining: monthly to every ten years


def curriculum_item_save(curriculum: Curriculum, *, actor: Actor, kind: str,
                         document_number: str = "", title: str = "", due_days: int = 14,
                         retrain_months: int | None = None, reason: str,
                         item: CurriculumItem | None = None) -> CurriculumItem:
    """Add an item to `curriculum` (or change `item`, one of its items): a reading of the
    controlled document numbered `document_number`, or a session, on-the-job training or
    quiz covering `title`; its days to complete, its retraining interval. Whoever follows
    the curriculum is assigned what is new; a reading moved to another document cancels the
    open readings of the old one that nothing else asks for. An item's kind stays what it
    was (remove it and add another).

    Side effects: audit entry `training.item.create|update` with the reason; assignments
    (`training.assignment.create`, `.cancel`), notices on commit.
    :raises ValidationError: naming the field.
    """
    require(actor, actions.MANAGE)
    errors: dict[str, list[str]] = {}
    if kind not in ItemKind.values:
        errors["kind"] = ["Choose what kind of training the item is."]
    elif item is not None and kind != item.kind:
        errors["kind"] = ["An item keeps its kind: remove it and add another."]
    document = None
    if kind == ItemKind.READING:
        number = document_number.strip().upper()
        document = ControlledDocument.objects.filter(number=number).first() if number else None
        if not number:
            errors["document"] = ["Choose the document to read."]
        elif document is None:
            errors["document"] = [f"No controlled document numbered {document_number!r}."]
        if retrain_months is not None:
            errors["retrain_months"] = ["A reading is repeated when a new version takes "
                                        "effect, not at an interval: leave it empty."]
        title = ""
    elif kind in ItemKind.values and not title.strip():
        errors["title"] = ["Say what the training covers."]
    if not DUE_DAYS[0] <= due_days <= DUE_DAYS[1]:
        errors["due_days"] = [f"Between {DUE_DAYS[0]} and {DUE_DAYS[1]} days."]
    if retrain_months is not None and not RETRAIN_MONTHS[0] <= retrain_months <= RETRAIN_MONTHS[1]:
        errors["retrain_months"] = [f"Between {RETRAIN_MONTHS[0]} and {RETRAIN_MONTHS[1]} "
                                    "months, or empty: once."]
    if not reason.strip():
        errors["reason"] = ["Say why the curriculum changes."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if item is None:
            locked, before = CurriculumItem(curriculum=curriculum, kind=kind), None
        else:
            found = CurriculumItem.objects.select_for_update(of=("self",)).select_related(
                "curriculum").filter(pk=item.pk, curriculum=curriculum).first()
            if found is None:
                raise ValidationError({"__all__": ["This item was removed meanwhile."]})
            locked, before = found, snapshot(found)
        old_document = locked.document_id
        locked.document, locked.title = document, title.strip()
        locked.due_days, locked.retrain_months = due_days, retrain_months
        if document is not None and CurriculumItem.objects.filter(
                curriculum=curriculum, document=document).exclude(pk=locked.pk).exists():
            raise ValidationError({"document": [
                f"{document.number} is already in this curriculum."]})
        locked.full_clean(validate_unique=False, validate_constraints=False)
        try:
            with transaction.atomic():
                locked.save()
        except IntegrityError:  # the same document, kept removed with its history
            raise ValidationError({"document": [
                f"{document} was in this curriculum before: its item is kept with its "
                "history and cannot be added again."]}) from None
        audit_record(f"training.item.{'create' if before is None else 'update'}", locked,
                     actor=actor, before=before, created=before is None,
                     reason=reason.strip())
        if old_document is not None and old_document != locked.document_id:
            assignments_prune(documents=[old_document],
                              reason=f"No longer in the curriculum “{curriculum.name}”")
        if curriculum.is_active:
            assignments_sync(people=followers(curriculum),
                             reason=f"Curriculum “{curriculum.name}”")
    return locked


def curriculum_item_remove(item: CurriculumItem, *, actor: Actor, reason: str) -> int:
    """Take `item` out of its curriculum: the open assignments that only it caused are no
    longer needed (cancelled with the reason). Returns how many were cancelled.

    Side effects: audit entry `training.item.remove` with the reason; audit entries
    `training.assignment.cancel`.
    :raises ValidationError: no reason.
    """
    require(actor, actions.MANAGE)
    if not reason.strip():
        raise ValidationError({"reason": ["Say why the item is removed."]})
    with transaction.atomic():
        locked = CurriculumItem.objects.select_for_update(of=("self",)).select_related(
            "curriculum").filter(pk=item.pk).first()
        if locked is None:  # removed a moment ago
            return 0
        before = snapshot(locked)
        pk, document_id = locked.pk, locked.document_id
        kept = TrainingAssignment.objects.filter(item_id=pk).exists()
        if not kept:
            try:
                with transaction.atomic():
                    locked.delete()
            except (ProtectedError, RestrictedError):  # another row needs it (a quiz's)
                kept = True
        if kept:
            locked.removed_at = timezone.now()
            locked.save(update_fields=["removed_at"])
        audit_record("training.item.remove", locked, actor=actor, before=before,
                     deleted=not kept, reason=reason.strip())
        return assignments_prune(
            items=[pk], documents=[document_id] if document_id else [],
            reason=f"No longer in the curriculum “{locked.curriculum.name}”")


def assignments_prune(*, items: Iterable[int] = (), documents: Iterable[int] = (),
                      reason: str) -> int:
    """Cancel the open assignments of the curriculum items `items` and the open readings of
    `documents` that no curriculum the person follows asks for now. A reading of a
    document a workflow step needs (a training requirement) is kept: the step asks for it.
    Returns how many were cancelled; runs in the caller's transaction.

    Side effects: audit entries `training.assignment.cancel`.
    """
    items, documents = set(items), set(documents)
    wanted = Q(pk__in=[])
    if items:
        wanted |= Q(item_id__in=items)
    if documents:
        wanted |= Q(version__isnull=False, document_id__in=documents)
    rows = list(TrainingAssignment.objects.filter(wanted, state=A.OPEN).values_list(
        "pk", "person_id", "item_id", "document_id"))
    if not rows:
        return 0
    held = roles_held({person for _pk, person, _item, _doc in rows})
    items_of = items_by_roles(curriculum_items())
    needed_by_steps = set(TrainingRequirement.objects.filter(
        removed_at__isnull=True, document_id__in=documents).values_list(
        "document_id", flat=True))
    cancelled = 0
    for pk, person, item_id, document_id in rows:
        followed = items_of(held.get(person, set()))
        if item_id is not None:
            keep = any(i.pk == item_id for i in followed)
        else:
            keep = document_id in needed_by_steps or any(
                i.document_id == document_id for i in followed)
        if not keep:
            _cancel(pk, reason)
            cancelled += 1
    return cancelled


def followers(curriculum: Curriculum) -> list[int] | None:
    """Who follows `curriculum` now (None: every GxP user)."""
    if curriculum.for_everyone:
        return None
    return sorted(set(RoleAssignment.objects.held_on(timezone.now()).filter(
        role__in=curriculum.roles).values_list("user_id", flat=True)))
