"""The writes of training: assignments made from the curricula, a reading signed "Read and
understood", a session or on-the-job training signed off by its trainer, curricula, and
the requirements that gate workflow steps (P11-13)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from cyberqms.platform.accounts.models import RoleAssignment
from cyberqms.platform.core.access import Actor, can, require
from cyberqms.platform.core.models import Signature
from cyberqms.platform.kit.records import find_by_number, kind_by_type
from cyberqms.platform.kit.signatures import (
    SignatureRequest,
    mark_signing_session,
    record_signature,
    verify_signer,
)
from cyberqms.platform.trail.record import audit_record, snapshot
from cyberqms.quality.documents.models import ControlledDocument, DocumentVersion

from . import actions
from .enums import AssignmentState, ItemKind
from .models import (
    WAIVE_ACTION,
    Curriculum,
    CurriculumItem,
    TrainingAssignment,
    TrainingRequirement,
)

A = AssignmentState
# Roles whose holders work under GxP and are trained (never the administrator).
TRAINED_ROLES = ("qa_manager", "qa_reviewer", "process_owner", "author", "it_security",
                 "system_owner")
READ_ACTION = "training.reading.acknowledge"
WAIVE = WAIVE_ACTION
# The change-control states in which a requirement may be added or removed under it.
CHANGE_APPROVED = ("approved", "implementation", "review", "closed")


# --- who follows what -----------------------------------------------------------------------


def roles_held(people: Iterable[int] | None = None) -> dict[int, set[str]]:
    """The trained roles each active person holds now, by person id."""
    rows = RoleAssignment.objects.held_on(timezone.now()).filter(
        role__in=TRAINED_ROLES, user__is_active=True, user__kind="person")
    if people is not None:
        rows = rows.filter(user_id__in=list(people))
    held: dict[int, set[str]] = defaultdict(set)
    for user_id, role in rows.values_list("user_id", "role"):
        held[user_id].add(role)
    return held


def subject_sites(person_id: int) -> set[int | None]:
    """The sites where the person holds a trained role now (None: every site)."""
    return set(RoleAssignment.objects.held_on(timezone.now()).filter(
        user_id=person_id, role__in=TRAINED_ROLES).values_list("site_id", flat=True))


def covers(actor: Any, action: str, person_id: int) -> bool:
    """Whether `actor` holds `action` at a site where the person works (their training is
    seen and signed off by those who work with them)."""
    from cyberqms.platform.core.access import sites_for

    sites = sites_for(actor, action)
    if sites is None:
        return can(actor, action)
    held = subject_sites(person_id)
    return bool(sites) and (None in held or bool(held & sites))


def curriculum_items() -> list[tuple[Curriculum, list[CurriculumItem]]]:
    curricula = list(Curriculum.objects.filter(is_active=True).prefetch_related("items"))
    return [(c, list(c.items.all())) for c in curricula]


def items_for(roles: set[str], curricula: list[tuple[Curriculum, list[CurriculumItem]]]
              ) -> list[CurriculumItem]:
    out: dict[int, CurriculumItem] = {}
    for curriculum, items in curricula:
        if curriculum.for_everyone or roles & set(curriculum.roles):
            for item in items:
                out.setdefault(item.pk, item)
    return list(out.values())


def items_by_roles(curricula: list[tuple[Curriculum, list[CurriculumItem]]]
                   ) -> Callable[[set[str]], list[CurriculumItem]]:
    """`items_for` over `curricula`, worked out once per combination of roles (a site has
    thousands of people and a handful of combinations)."""
    known: dict[frozenset[str], list[CurriculumItem]] = {}

    def of(roles: set[str]) -> list[CurriculumItem]:
        key = frozenset(roles)
        if key not in known:
            known[key] = items_for(roles, curricula)
        return known[key]

    return of


# --- making the assignments -------------------------------------------------------------------


def assignments_sync(*, people: Iterable[int] | None = None,
                     documents: Iterable[int] | None = None, reason: str = "") -> int:
    """See `_sync`: in the caller's transaction, or one of its own."""
    with transaction.atomic():
        return _sync(people=people, documents=documents, reason=reason)


def _sync(*, people: Iterable[int] | None, documents: Iterable[int] | None,
          reason: str) -> int:
    """Make the assignments the curricula ask for and nobody has yet: the version in force
    of each document to read (an open reading of an older version is no longer needed),
    each session or on-the-job training not done (or due again). Only `people` and only
    `documents` when named. Returns how many were made; runs in the caller's transaction.

    Side effects: audit entries `training.assignment.create` (and `.cancel`); a notice to
    each person with new training (on commit).
    """
    held = roles_held(people)
    items_of = items_by_roles(curriculum_items())
    wanted_docs = None if documents is None else set(documents)
    plan: dict[int, list[CurriculumItem]] = {}
    for person_id, roles in held.items():
        items = [i for i in items_of(roles)
                 if wanted_docs is None or i.document_id in wanted_docs]
        if items:
            plan[person_id] = items
    if not plan:
        return 0
    doc_ids = {i.document_id for items in plan.values() for i in items if i.document_id}
    in_force = {v.document_id: v for v in DocumentVersion.objects.filter(
        document_id__in=doc_ids, state="effective", is_deleted=False)}
    existing = TrainingAssignment.objects.filter(person_id__in=list(plan)).exclude(
        state=A.CANCELLED)
    if wanted_docs is not None:  # only these documents' readings can be concerned
        existing = existing.filter(document_id__in=doc_ids)
    have_version: set[tuple[int, int]] = set()
    open_older: dict[tuple[int, int], list[int]] = defaultdict(list)  # (person, doc) → pks
    read_up_to: dict[tuple[int, int], tuple[int, int]] = {}  # (person, doc) → version read
    last_item: dict[tuple[int, int], tuple[str, Any]] = {}
    for (person_id, version_id, item_id, state, done_at, pk, doc_id, major,
         minor) in existing.values_list(
            "person_id", "version_id", "item_id", "state", "completed_at", "pk",
            "document_id", "version__major", "version__minor"):
        if version_id is not None:
            have_version.add((person_id, version_id))
            if state == A.OPEN:
                open_older[(person_id, doc_id)].append(pk)
            elif state == A.DONE:
                key = (person_id, doc_id)
                read_up_to[key] = max(read_up_to.get(key, (0, 0)), (major, minor))
        elif item_id is not None:
            key = (person_id, item_id)
            if key not in last_item or state == A.OPEN or (
                    last_item[key][0] != A.OPEN and done_at and (
                        last_item[key][1] is None or done_at > last_item[key][1])):
                last_item[key] = (state, done_at)
    waived = _waivers([v for v in in_force.values() if not v.retraining_needed])
    now = timezone.now()
    today = timezone.localdate()
    made = 0
    told: dict[int, list[str]] = defaultdict(list)
    for person_id, items in plan.items():
        for item in items:
            if item.kind == ItemKind.READING:
                version = in_force.get(item.document_id or 0)
                if version is None or (person_id, version.pk) in have_version:
                    continue
                have_version.add((person_id, version.pk))
                for pk in open_older.pop((person_id, version.document_id), ()):
                    _cancel(pk, f"{version.number} is now in force")
                assignment = _reading(person_id, version, reason or f"{version.number} in force",
                                      item.due_days, now)
                waiver = waived.get(version.pk)
                if waiver is not None and read_up_to.get(
                        (person_id, version.document_id), (0, 0)) >= waiver[0]:
                    _carried(assignment, version, waiver[1], now)
                    audit_record("training.assignment.create", assignment, actor=None,
                                 created=True)
                    made += 1  # done already: nothing to tell the person
                    continue
            else:
                state, done_at = last_item.get((person_id, item.pk), ("", None))
                if state == A.OPEN or (state == A.DONE and not _due_again(item, done_at)):
                    continue
                last_item[(person_id, item.pk)] = (A.OPEN, None)
                assignment = TrainingAssignment(
                    person_id=person_id, kind=item.kind, item=item, title=item.title[:240],
                    reason=(reason or ("Retraining due" if state == A.DONE
                                       else f"Curriculum “{item.curriculum.name}”"))[:240],
                    due_date=today + dt.timedelta(days=item.due_days), assigned_at=now)
            assignment.save()
            audit_record("training.assignment.create", assignment, actor=None, created=True)
            told[person_id].append(assignment.title)
            made += 1
    if told:
        _tell(told)
    return made


def _waivers(versions: list[DocumentVersion]
             ) -> dict[int, tuple[tuple[int, int], Signature]]:
    """For each version in force that QA released without retraining: the version its
    readers must have read at least (the last one before it that needed retraining) and
    QA's signature "No retraining needed"."""
    if not versions:
        return {}
    from cyberqms.platform.kit.records import kind_by_type

    workflow = kind_by_type("documents.document").workflow
    by_pk = {v.pk: v for v in versions}
    # Only a decision on the content now in force counts (its hash still matches): one made
    # on a version since returned and changed vouches for nothing.
    signatures = {int(sig.record_id): sig for sig in Signature.objects.filter(
        record_type="documents.document", action=WAIVE,
        record_id__in=[str(v.pk) for v in versions]).order_by("signed_at")
        if sig.record_hash == workflow.hash_for(by_pk[int(sig.record_id)], WAIVE)}
    needed: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for doc_id, major, minor in DocumentVersion.objects.filter(
            document_id__in={v.document_id for v in versions}, retraining_needed=True,
            state__in=("effective", "superseded")).values_list(
                "document_id", "major", "minor"):
        needed[doc_id].append((major, minor))
    out = {}
    for v in versions:
        earlier = [m for m in needed.get(v.document_id, ()) if m < (v.major, v.minor)]
        if earlier and v.pk in signatures:
            out[v.pk] = (max(earlier), signatures[v.pk])
    return out


def _carried(assignment: TrainingAssignment, version: DocumentVersion, waiver: Signature,
             now: dt.datetime) -> None:
    """`assignment` (a reading of `version`) done by QA's decision that the person's
    reading of an earlier version holds: signed by QA, not by the person."""
    assignment.state, assignment.completed_at = A.DONE, now
    assignment.completed_by_id, assignment.signature = waiver.signer_id, waiver
    assignment.reason = f"{version.number} in force: no retraining needed"[:240]
    assignment.note = (f"{waiver.printed_name} signed that no retraining is needed"
                       + (f": {waiver.reason}" if waiver.reason else "."))[:2000]
    assignment.save()


def _reading(person_id: int, version: DocumentVersion, reason: str, due_days: int,
             now: Any) -> TrainingAssignment:
    """The reading of `version` for a person (not saved): due `due_days` after the later of
    today and the version's effective date."""
    today = timezone.localdate()
    start = max(today, version.effective_date or today)
    return TrainingAssignment(
        person_id=person_id, kind=ItemKind.READING, document_id=version.document_id,
        version=version, title=f"Read {version.number}: {version.title}"[:240],
        reason=reason[:240], due_date=start + dt.timedelta(days=due_days), assigned_at=now)


def readings_for_step(step: str, document: ControlledDocument, *, due_days: int = 14) -> int:
    """Everyone who may take `step` reads the version of `document` in force, when they
    have not: a step that needs training never waits for training nobody assigned.
    Returns how many readings were made.

    Side effects: audit entries `training.assignment.create`; notices (on commit).
    """
    from cyberqms.platform.accounts.roles import roles_granting

    from .gate import step_permission

    permission = step_permission(step)
    version = DocumentVersion.objects.filter(document=document, state="effective",
                                             is_deleted=False).first()
    if permission is None or version is None:
        return 0
    holders = set(RoleAssignment.objects.held_on(timezone.now()).filter(
        role__in=set(roles_granting(permission)) & set(TRAINED_ROLES), user__is_active=True,
        user__kind="person").values_list("user_id", flat=True))
    have = set(TrainingAssignment.objects.filter(
        version=version, person_id__in=holders).values_list("person_id", flat=True))
    now = timezone.now()
    told: dict[int, list[str]] = defaultdict(list)
    for person_id in sorted(holders - have):
        assignment = _reading(person_id, version, f"Needed for the step {step}", due_days, now)
        assignment.save()
        audit_record("training.assignment.create", assignment, actor=None, created=True)
        told[person_id].append(assignment.title)
    if told:
        _tell(told)
    return len(told)


def _due_again(item: CurriculumItem, done_at: Any) -> bool:
    if item.retrain_months is None or done_at is None:
        return False
    from cyberqms.quality.documents.workflow import add_months

    return add_months(done_at.date(), item.retrain_months) <= timezone.localdate()


def readings_cancel(version: Any, reason: str) -> int:
    """Open readings of `version` are no longer needed (it was superseded or retired)."""
    pks = list(TrainingAssignment.objects.filter(version=version, state=A.OPEN).values_list(
        "pk", flat=True))
    for pk in pks:
        _cancel(pk, reason)
    return len(pks)


def person_left(sender: Any, *, user: Any, reason: str, **kwargs: Any) -> None:
    """A deactivated account (a leaver, most often) owes no more training: its open
    assignments are cancelled in the deactivation's transaction, so they are not counted
    overdue."""
    for pk in TrainingAssignment.objects.filter(person_id=user.pk, state=A.OPEN).order_by(
            "pk").values_list("pk", flat=True):
        _cancel(pk, f"Account deactivated: {reason}")


def _cancel(pk: int, reason: str) -> None:
    locked = TrainingAssignment.objects.select_for_update().get(pk=pk)
    if locked.state != A.OPEN:
        return
    before = snapshot(locked)
    locked.state, locked.cancelled_reason = A.CANCELLED, reason[:240]
    locked.save(update_fields=["state", "cancelled_reason"])
    audit_record("training.assignment.cancel", locked, actor=None, before=before,
                 reason=reason)


def _tell(told: dict[int, list[str]]) -> None:
    from django.urls import reverse

    from cyberqms.platform.notifications.services import notify

    for person_id, titles in told.items():
        more = f" and {len(titles) - 1} more" if len(titles) > 1 else ""
        notify([person_id], kind="assignment", subject=f"Training for you: {titles[0]}{more}",
               url=reverse("training:mine"), body="Open My training to complete it.",
               subject_key=f"training:{person_id}:{titles[0]}")


def daily() -> int:
    """The scheduler's daily job: make what has fallen due (retraining), and remind each
    person with overdue training, once a day. Returns how many assignments were made."""
    from django.urls import reverse

    from cyberqms.platform.notifications.services import notify

    made = assignments_sync()
    today = timezone.localdate()
    overdue: dict[int, int] = defaultdict(int)
    for person_id in TrainingAssignment.objects.filter(
            state=A.OPEN, due_date__lt=today).values_list("person_id", flat=True):
        overdue[person_id] += 1
    for person_id, count in overdue.items():
        notify([person_id], kind="overdue",
               subject=f"{count} training item{'s' if count > 1 else ''} overdue",
               url=reverse("training:mine"), body="Open My training to complete it.",
               subject_key=f"training-overdue:{person_id}:{today.isoformat()}")
    return made


def daily_interval() -> float:
    from django.conf import settings

    return float(settings.CYBERQMS_OVERDUE_SCAN_INTERVAL)


# --- completing ---------------------------------------------------------------------------------


def reading_acknowledge(assignment: TrainingAssignment, *, actor: Actor,
                        signature: SignatureRequest | None) -> TrainingAssignment:
    """The person signs "Read and understood" for the version their assignment names: the
    signature binds that version's content hash (P11-13, P11-20).

    Side effects: signature row and its audit entry; audit entry `training.assignment.complete`.
    :raises PermissionDenied: not the person's own assignment.
    :raises ValidationError: not an open reading.
    :raises SigningError: the signature was refused (nothing else changes).
    """
    require(actor, actions.SELF, assignment)
    if assignment.person_id != actor.pk:
        raise PermissionDenied("Only the person trained signs their reading.")
    if assignment.kind != ItemKind.READING or assignment.state != A.OPEN:
        raise ValidationError({"__all__": ["This training is not an open reading."]})
    verified = verify_signer(actor, signature)
    documents = kind_by_type("documents.document")
    with transaction.atomic():
        locked = TrainingAssignment.objects.select_for_update(of=("self",)).select_related(
            "version").get(pk=assignment.pk)
        if locked.state != A.OPEN or locked.version is None:
            raise ValidationError({"__all__": ["This training is not open any more."]})
        version = locked.version
        if version.state != "effective":
            raise ValidationError({"__all__": [
                f"{version.number} is no longer in force: read the version that is."]})
        before = snapshot(locked)
        row = record_signature(
            verified, record_type=documents.type_name, record_id=version.pk,
            record_label=version.label,
            record_hash=documents.workflow.hash_for(version, READ_ACTION),
            action=READ_ACTION, meaning="Read and understood")
        locked.state, locked.completed_at = A.DONE, timezone.now()
        locked.completed_by_id, locked.signature = actor.pk, row
        locked.save(update_fields=["state", "completed_at", "completed_by", "signature"])
        audit_record("training.assignment.complete", locked, actor=actor, before=before,
                     signature_id=row.pk)
        if signature is not None:
            transaction.on_commit(lambda: mark_signing_session(signature))
    forget(actor)
    return locked


def training_sign_off(assignment: TrainingAssignment, *, actor: Actor,
                      signature: SignatureRequest | None, note: str = "") -> TrainingAssignment:
    """A trainer signs a session's attendance or on-the-job training as done ("Trained").

    Side effects: signature row; audit entry `training.assignment.complete`.
    :raises ValidationError: not an open session or on-the-job training; the trainer
        signing their own training.
    """
    require(actor, actions.DELIVER, assignment)
    if not covers(actor, actions.DELIVER, assignment.person_id):
        raise PermissionDenied("You sign off training only at the sites where you train.")
    # A reading is signed by its reader, a quiz by the person passing it.
    if assignment.kind in (ItemKind.READING, ItemKind.QUIZ) or assignment.state != A.OPEN:
        raise ValidationError({"__all__": ["Only an open session or on-the-job training is "
                                           "signed off by a trainer."]})
    if assignment.person_id == actor.pk:
        raise ValidationError({"__all__": ["A trainer does not sign off their own training."]})
    verified = verify_signer(actor, signature)
    with transaction.atomic():
        locked = TrainingAssignment.objects.select_for_update().get(pk=assignment.pk)
        if locked.state != A.OPEN:
            raise ValidationError({"__all__": ["This training is not open any more."]})
        before = snapshot(locked)
        locked.note = note.strip()  # the trainer's note is part of what they sign
        row = record_signature(
            verified, record_type="training.assignment", record_id=locked.pk,
            record_label=locked.label, record_hash=_hash(locked),
            action="training.assignment.sign_off", meaning="Trained")
        locked.state, locked.completed_at = A.DONE, timezone.now()
        locked.completed_by_id, locked.signature = actor.pk, row
        locked.save(update_fields=["state", "completed_at", "completed_by", "signature",
                                   "note"])
        audit_record("training.assignment.complete", locked, actor=actor, before=before,
                     signature_id=row.pk)
        if signature is not None:
            transaction.on_commit(lambda: mark_signing_session(signature))
    return locked


def _hash(assignment: TrainingAssignment) -> str:
    import hashlib

    from cyberqms.platform.trail.canonical import canonical_json

    content = {k: v for k, v in snapshot(assignment).items()
               if k in ("person_id", "kind", "item_id", "title", "due_date", "note")}
    return hashlib.sha256(canonical_json(content)).hexdigest()


def forget(actor: Any = None) -> None:
    from .gate import forget as gate_forget

    gate_forget(None if actor is None else actor.pk)


# --- curricula and requirements ------------------------------------------------------------------


def curriculum_save(*, actor: Actor, name: str, roles: list[str], for_everyone: bool,
                    documents: list[ControlledDocument], description: str = "",
                    sessions: Iterable[tuple[str, str, int | None]] = (),
                    curriculum: Curriculum | None = None, due_days: int = 14,
                    reason: str = "", is_active: bool | None = None) -> Curriculum:
    """Create or change a curriculum: its roles and the documents to read (and sessions:
    (kind, title, retrain months)), whether it is followed (`is_active`, None: as it is);
    the people it concerns are assigned what is new, and a change cancels the open
    assignments only it caused of those it no longer concerns (`curricula.assignments_prune`).

    Side effects: audit entries `training.curriculum.create|update`; assignments.
    """
    require(actor, actions.MANAGE)
    from cyberqms.platform.accounts.enums import Role

    unknown = sorted(set(roles) - set(Role.values))
    if unknown:
        raise ValidationError({"roles": [f"Unknown roles: {', '.join(unknown)}."]})
    if not name.strip():
        raise ValidationError({"name": ["Name the curriculum."]})
    if curriculum is not None and not reason.strip():
        raise ValidationError({"reason": ["Say why the curriculum changes."]})
    with transaction.atomic():
        if curriculum is None:
            curriculum = Curriculum(name=name.strip())
            before = None
        else:
            curriculum = Curriculum.objects.select_for_update().get(pk=curriculum.pk)
            before = snapshot(curriculum)
        curriculum.name, curriculum.description = name.strip(), description.strip()
        curriculum.roles, curriculum.for_everyone = sorted(set(roles)), for_everyone
        if is_active is not None:
            curriculum.is_active = is_active
        curriculum.full_clean(validate_unique=True)
        curriculum.save()
        audit_record(f"training.curriculum.{'create' if before is None else 'update'}",
                     curriculum, actor=actor, before=before, created=before is None,
                     reason=reason.strip() or None)
        have = {i.document_id: i for i in curriculum.items.all() if i.document_id}
        for document in documents:
            if document.pk not in have:
                item = CurriculumItem.objects.create(curriculum=curriculum, document=document,
                                                     due_days=due_days)
                audit_record("training.item.create", item, actor=actor, created=True)
        titles = {i.title for i in curriculum.items.all() if not i.document_id}
        for kind, title, months in sessions:
            if title not in titles:
                item = CurriculumItem(curriculum=curriculum, kind=kind, title=title,
                                      retrain_months=months, due_days=due_days)
                item.full_clean()
                item.save()
                audit_record("training.item.create", item, actor=actor, created=True)
        assignments_sync(reason=f"Curriculum “{curriculum.name}”")
        if before is not None:
            from .curricula import assignments_prune

            held = list(curriculum.items.all())
            assignments_prune(items=[i.pk for i in held],
                              documents=[i.document_id for i in held if i.document_id],
                              reason=f"No longer concerned by the curriculum “{curriculum.name}”")
    return curriculum


def requirement_add(*, actor: Actor, step: str, document_number: str,
                    change_number: str) -> TrainingRequirement:
    """A workflow step needs current training on a document from now on: added under an
    approved change control (named by its number).

    Side effects: audit entry `training.requirement.create` with the change as reason.
    :raises ValidationError: naming the field (unknown step or document, no approved change).
    """
    require(actor, actions.MANAGE)
    from .gate import known_steps

    if step not in known_steps():
        raise ValidationError({"step": ["Choose a step of a workflow."]})
    document = ControlledDocument.objects.filter(number=document_number.strip().upper()).first()
    if document is None:
        raise ValidationError({"document": [f"No document {document_number!r}."]})
    change = _approved_change(change_number, actor)
    with transaction.atomic():
        if TrainingRequirement.objects.filter(step=step, document=document,
                                              removed_at__isnull=True).exists():
            raise ValidationError({"document": ["This step already needs this document."]})
        try:
            with transaction.atomic():
                row = TrainingRequirement.objects.create(
                    step=step, document=document, change_reference=change,
                    created_by_id=actor.pk)
        except IntegrityError:  # added by someone else a moment ago
            raise ValidationError({"document": [
                "This step already needs this document."]}) from None
        readings_for_step(step, document)
        audit_record("training.requirement.create", row, actor=actor, created=True,
                     reason=f"Under change control {change}")
    forget()
    return row


def requirement_remove(requirement: TrainingRequirement, *, actor: Actor,
                       change_number: str) -> TrainingRequirement:
    """The step no longer needs the document (under an approved change control).

    Side effects: audit entry `training.requirement.remove` with the change as reason.
    """
    require(actor, actions.MANAGE)
    change = _approved_change(change_number, actor)
    with transaction.atomic():
        locked = TrainingRequirement.objects.select_for_update().get(pk=requirement.pk)
        if locked.removed_at is not None:
            return locked
        before = snapshot(locked)
        locked.removed_at, locked.removed_reference = timezone.now(), change
        locked.save(update_fields=["removed_at", "removed_reference"])
        audit_record("training.requirement.remove", locked, actor=actor, before=before,
                     reason=f"Under change control {change}")
    forget()
    return locked


def _approved_change(number: str, actor: Any) -> str:
    change = find_by_number(number or "")
    if change is None or type(change)._meta.label_lower != "changes.change" or not can(
            actor, "changes.view", change):
        raise ValidationError({"change": [f"No change control {number!r}."]})
    if change.state not in CHANGE_APPROVED or change.is_deleted:
        raise ValidationError({"change": [
            f"{change.number} is not approved: requirements change only under an approved "
            "change control."]})
    return change.number
