"""Services for the parts every quality record shares.

Attachments, comments, links, due-date extensions and logical deletion work the same on
every record family, so they are written once here against `RecordKind`. Each service
authorizes against the parent record (so site scoping applies), runs in one transaction
and writes its audit entry there; children are audited models of their own and appear in
the parent's history tab.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone

from cyberqms.platform.core.access import AccessDenied, require
from cyberqms.platform.core.compiled import Compiled, Param
from cyberqms.platform.core.models import (
    Attachment,
    Comment,
    DueDateExtension,
    ExtensionState,
    RecordLink,
)
from cyberqms.platform.trail.record import audit_record, snapshot

from . import attachments as crypto
from .records import QualityRecord, RecordKind, check_due_date, find_by_number, kind_by_type
from .records import kind_of as kind_of


class RecordNotFound(Exception):
    """Missing or not visible: the same answer for both (404)."""


class RecordClosed(ValidationError):
    """The record is closed or deleted; its content can no longer change (422)."""

    def __init__(self, record: QualityRecord, what: str = "changed") -> None:
        status = "deleted" if record.is_deleted else record.get_state_display().lower()
        super().__init__({"__all__": [f"{record.number} is {status}: it cannot be {what}."]})


_BY_PK: dict[type[models.Model], Compiled[Any]] = {}


def _by_pk(model: type[models.Model]) -> Compiled[Any]:
    """The record with its site and people by primary key: the read of every record page
    and API call, compiled once per family (core.compiled)."""
    compiled = _BY_PK.get(model)
    if compiled is None:
        compiled = _BY_PK[model] = Compiled(
            lambda: model._default_manager.select_related("site", "owner", "originator")
            .filter(pk=Param("pk", models.BigIntegerField())).order_by()
        )
    return compiled


def _stored_id_record(model: type[models.Model], pk: str) -> Any:
    """The record whose id, as a link stores it (digits, no leading zero), is `pk`; None
    for none, or for an id that is not one."""
    if not (pk.isascii() and pk.isdigit()) or str(int(pk)) != pk:
        return None
    try:
        return _by_pk(model).first(pk=int(pk))
    except ValueError:  # beyond the key's range
        return None


def get_record(actor: Any, kind: RecordKind, pk: Any, *, for_: str = "view") -> Any:
    """The record of `kind` with `pk` if `actor` may `for_` it; else RecordNotFound."""
    try:
        record = _by_pk(kind.model).first(pk=int(pk))
    except (ValueError, TypeError, OverflowError):
        raise RecordNotFound from None
    if record is None:
        raise RecordNotFound
    try:
        require(actor, kind.view_action, record)
    except AccessDenied:
        raise RecordNotFound from None
    if for_ != "view":
        require(actor, kind.action(for_), record)
    return record


def record_of(record_type: str, record_id: str) -> QualityRecord:
    kind = kind_by_type(record_type)
    record: QualityRecord = kind.model._default_manager.get(pk=record_id)
    return record


def _writable(record: QualityRecord, what: str = "changed") -> None:
    kind = kind_of(record)
    if record.is_deleted or record.state in kind.closed_states:
        raise RecordClosed(record, what)


def _files_writable(record: QualityRecord, what: str) -> None:
    _writable(record, what)
    kind = kind_of(record)
    if kind.attachment_states and record.state not in kind.attachment_states:
        raise RecordClosed(record, what)


def _lock(record: QualityRecord) -> QualityRecord:
    locked: QualityRecord = type(record)._default_manager.select_for_update().get(pk=record.pk)
    return locked


# --- attachments ----------------------------------------------------------------------------


def attachment_add(
    record: QualityRecord, *, actor: Any, filename: str, data: bytes, description: str = ""
) -> Attachment:
    """Attach a file: validated, hashed (SHA-256) and encrypted before it is stored.

    Side effects: audit entry `core.attachment.add` (in the record's history).
    """
    kind = kind_of(record)
    require(actor, kind.edit_action, record)
    _files_writable(record, "given new attachments")
    sealed = crypto.seal(kind.type_name, str(record.pk), filename, data)
    with transaction.atomic():
        _files_writable(_lock(record), "given new attachments")
        attachment = Attachment.objects.create(
            record_type=kind.type_name, record_id=str(record.pk), filename=sealed.filename,
            content_type=sealed.content_type, size=sealed.size, sha256=sealed.sha256,
            key_id=sealed.key_id, nonce=sealed.nonce, ciphertext=sealed.ciphertext,
            description=description.strip()[:200], uploaded_by=actor,
            uploaded_at=timezone.now(),
        )
        audit_record("core.attachment.add", attachment, actor=actor, created=True)
    return attachment


def attachment_get(actor: Any, record: QualityRecord, attachment_id: Any) -> Attachment:
    try:
        return Attachment.objects.get(
            pk=int(attachment_id), record_type=kind_of(record).type_name,
            record_id=str(record.pk),
        )
    except (Attachment.DoesNotExist, ValueError, TypeError, OverflowError):
        raise RecordNotFound from None


def attachment_read(attachment: Attachment) -> bytes:
    """The decrypted content, authenticated and checked against its SHA-256.

    :raises AttachmentIntegrityError: the stored file was altered.
    """
    return crypto.unseal(
        attachment.record_type, attachment.record_id, attachment.sha256,
        attachment.nonce, attachment.ciphertext,
    )


def attachment_remove(attachment: Attachment, *, actor: Any, reason: str) -> Attachment:
    """Withdraw an attachment (logical: it stays stored and in the trail, AL-06).

    Side effects: audit entry `core.attachment.delete` with the reason.
    """
    record = record_of(attachment.record_type, attachment.record_id)
    require(actor, kind_of(record).edit_action, record)
    _files_writable(record, "changed")
    for f in record._meta.concrete_fields:
        if f.related_model is Attachment and getattr(record, f.attname) == attachment.pk:
            # The record's own content (a document's file): replaced, never withdrawn.
            raise ValidationError({"__all__": [
                f"{attachment.filename} is the {f.verbose_name} of {record.number}: upload "
                "another file to replace it."]})
    reason = _reason(reason)
    if attachment.removed_at is not None:
        raise ValidationError({"__all__": ["This attachment was already removed."]})
    with transaction.atomic():
        before = snapshot(attachment)
        attachment.removed_at = timezone.now()
        attachment.removed_by = actor
        attachment.removed_reason = reason
        attachment.save(update_fields=["removed_at", "removed_by", "removed_reason"])
        audit_record("core.attachment.delete", attachment, actor=actor, before=before,
                     reason=reason)
    return attachment


# --- comments -----------------------------------------------------------------------------


def comment_add(record: QualityRecord, *, actor: Any, body: str) -> Comment:
    """Side effects: audit entry `core.comment.add`."""
    require(actor, kind_of(record).action("comment"), record)
    _writable(record, "commented on")
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": ["Write something first."]})
    if len(body) > 5000:
        raise ValidationError({"body": ["A comment is at most 5000 characters."]})
    with transaction.atomic():
        comment = Comment.objects.create(
            record_type=kind_of(record).type_name, record_id=str(record.pk), author=actor,
            body=body, created_at=timezone.now(),
        )
        audit_record("core.comment.add", comment, actor=actor, created=True)
    return comment


# --- links --------------------------------------------------------------------------------

LINK_RELATIONS = {
    "related": "Related to",
    "caused_by": "Caused by",
    "spawned": "Spawned",
    "implements": "Implements",
    "evidence": "Evidence for",
    # A record that names the controlled document it follows or breaks (a deviation from
    # SOP-QA-0002 v1.1), and a document that governs a record, a change or a system.
    "cites": "Cites",
    "governs": "Governs",
    # A change control, deviation or incident and the system or risk assessment it
    # touches: a change that affects a validated system puts it under change.
    "affects": "Affects",
}


def linked_ids(record_type: str, record_id: Any, other_type: str, relation: str) -> list[int]:
    """Ids of the records of `other_type` linked to a record by `relation`, whichever end
    the link was made from (a change that "Affects" a system, or the system's page linking
    the change)."""
    links = RecordLink.objects.filter(removed_at__isnull=True, relation=relation).filter(
        models.Q(from_type=record_type, from_id=str(record_id), to_type=other_type)
        | models.Q(to_type=record_type, to_id=str(record_id), from_type=other_type))
    ids = (link.to_id if link.from_type == record_type else link.from_id for link in links)
    return [int(i) for i in ids if i.isdigit()]


def link_add(
    record: QualityRecord, *, actor: Any, target_number: str, relation: str = "related",
    note: str = "",
) -> RecordLink:
    """Link `record` to the record numbered `target_number`; both show the link (AL-10).

    Side effects: audit entry `core.link.add`.
    """
    kind = kind_of(record)
    require(actor, kind.edit_action, record)
    if relation not in LINK_RELATIONS:
        raise ValidationError({"relation": [f"Choose one of {', '.join(LINK_RELATIONS)}."]})
    target = find_by_number(target_number or "")
    visible = target is not None and _may_view(actor, target)
    if target is None or not visible:
        raise ValidationError({"target": [f"No record {target_number!r} that you can see."]})
    assert target is not None
    if target == record:
        raise ValidationError({"target": ["A record cannot be linked to itself."]})
    return link_create(record, target, actor=actor, relation=relation, note=note)


def link_create(
    source: QualityRecord, target: QualityRecord, *, actor: Any, relation: str = "related",
    note: str = "",
) -> RecordLink:
    """Write a link (inside or outside a transaction); services that spawn records use it."""
    s_type, t_type = kind_of(source).type_name, kind_of(target).type_name
    with transaction.atomic():
        exists = RecordLink.objects.filter(removed_at__isnull=True).filter(
            models.Q(from_type=s_type, from_id=str(source.pk), to_type=t_type,
                     to_id=str(target.pk))
            | models.Q(from_type=t_type, from_id=str(target.pk), to_type=s_type,
                       to_id=str(source.pk))
        ).exists()
        if exists:
            raise ValidationError({"target": [f"{target.number} is already linked."]})
        link = RecordLink.objects.create(
            from_type=s_type, from_id=str(source.pk), from_label=source.label,
            to_type=t_type, to_id=str(target.pk), to_label=target.label,
            relation=relation, note=(note or "").strip()[:300], created_by=actor,
            created_at=timezone.now(),
        )
        audit_record("core.link.add", link, actor=actor, created=True)
    return link


def link_remove(
    link: RecordLink, *, actor: Any, reason: str, record: QualityRecord | None = None
) -> RecordLink:
    """Remove a link from either end: `record` is the end the actor works on (default:
    where the link starts); the actor needs the right to edit that record.

    Side effects: audit entry `core.link.delete` with the reason."""
    ends = {(link.from_type, link.from_id), (link.to_type, link.to_id)}
    if record is None:
        record = record_of(link.from_type, link.from_id)
    elif (kind_of(record).type_name, str(record.pk)) not in ends:
        raise ValidationError({"link": ["This link does not belong to the record."]})
    require(actor, kind_of(record).edit_action, record)
    reason = _reason(reason)
    if link.removed_at is not None:
        raise ValidationError({"__all__": ["This link was already removed."]})
    with transaction.atomic():
        before = snapshot(link)
        link.removed_at = timezone.now()
        link.removed_reason = reason
        link.save(update_fields=["removed_at", "removed_reason"])
        audit_record("core.link.delete", link, actor=actor, before=before, reason=reason)
    return link


def _links_of_one() -> models.QuerySet[RecordLink]:
    type_name, pk = Param("type", models.CharField()), Param("id", models.CharField())
    return RecordLink.objects.filter(removed_at__isnull=True).filter(
        models.Q(from_type=type_name, from_id=pk) | models.Q(to_type=type_name, to_id=pk))


_LINKS_OF_ONE: Compiled[RecordLink] = Compiled(_links_of_one)


class LinkReads:
    """Records' current links and the records at their other ends, each read once: a
    record's page shows both its links and its lineage, whose first level is the same
    links; the lineage reads a level's links in one query, and the records at the other
    ends are read one query per family, not one per link."""

    def __init__(self) -> None:
        self._links: dict[tuple[str, str], list[RecordLink]] = {}
        self._others: dict[tuple[str, str], tuple[RecordKind | None, Any]] = {}

    def links(self, type_name: str, pk: str) -> list[RecordLink]:
        """The current links from or to the record `type_name` `pk`, both directions."""
        self.read([(type_name, pk)])
        return self._links[(type_name, pk)]

    def read(self, records: list[tuple[str, str]]) -> None:
        """Read the links of `records` (type name, id) in one query, and the records at
        their other ends, unless read already."""
        wanted = [r for r in dict.fromkeys(records) if r not in self._links]
        if not wanted:
            return
        if len(wanted) == 1:  # a record's page or API answer: the compiled query
            rows = _LINKS_OF_ONE.all(type=wanted[0][0], id=wanted[0][1])
        else:
            match = models.Q()
            for type_name, pk in wanted:
                match |= (models.Q(from_type=type_name, from_id=pk)
                          | models.Q(to_type=type_name, to_id=pk))
            rows = list(RecordLink.objects.filter(removed_at__isnull=True).filter(match))
        ends = []
        for record in wanted:
            self._links[record] = [link for link in rows if record in (
                (link.from_type, link.from_id), (link.to_type, link.to_id))]
            ends += [(link.to_type, link.to_id) if (link.from_type, link.from_id) == record
                     else (link.from_type, link.from_id) for link in self._links[record]]
        self._read_others(ends)

    def other(self, type_name: str, pk: str) -> tuple[RecordKind | None, Any]:
        """The kind and record at a link's other end; (None, None) for an unknown type,
        (kind, None) for a record that is gone."""
        if (type_name, pk) not in self._others:
            self._read_others([(type_name, pk)])
        return self._others[(type_name, pk)]

    def _read_others(self, ends: list[tuple[str, str]]) -> None:
        wanted: dict[str, set[str]] = {}
        for type_name, pk in ends:
            if (type_name, pk) not in self._others:
                wanted.setdefault(type_name, set()).add(pk)
        for type_name, pks in wanted.items():
            try:
                kind: RecordKind | None = kind_by_type(type_name)
            except LookupError:
                kind = None
            if kind is None:
                found = {}
            elif len(pks) == 1:  # the usual case: one record of the family, compiled query
                (pk,) = pks
                one = _stored_id_record(kind.model, pk)
                found = {pk: one} if one is not None else {}
            else:
                found = {str(r.pk): r
                         for r in kind.model._default_manager.filter(pk__in=sorted(pks))}
            for pk in pks:
                self._others[(type_name, pk)] = (kind, found.get(pk))


def links_of(
    record: QualityRecord, actor: Any = None, *, reads: LinkReads | None = None
) -> list[dict[str, Any]]:
    """Current links seen from `record`, both directions, with the other end's details.

    With `actor`, links to records that the actor may not see are left out (another
    site's record is not revealed through a link). `reads` shares what is read with
    `lineage` on the same page."""
    type_name, pk = kind_of(record).type_name, str(record.pk)
    reads = reads or LinkReads()
    out = []
    for link in reads.links(type_name, pk):
        outgoing = link.from_type == type_name and link.from_id == pk
        other_type = link.to_type if outgoing else link.from_type
        other_id = link.to_id if outgoing else link.from_id
        other_kind, other = reads.other(other_type, other_id)
        if actor is not None and (other is None or not _may_view(actor, other)):
            continue
        out.append({
            "link": link,
            "id": link.pk,
            "direction": "outgoing" if outgoing else "incoming",
            "relation": link.relation,
            "relation_label": LINK_RELATIONS.get(link.relation, link.relation)
            if outgoing else f"{LINK_RELATIONS.get(link.relation, link.relation)} (from)",
            "other_type": other_type,
            "other_id": other_id,
            "other_label": link.to_label if outgoing else link.from_label,
            "other_number": getattr(other, "number", ""),
            "other_state": getattr(other, "state", ""),
            "other_state_label": _state_label(other),
            "other_url": other_kind.detail_url(other) if other_kind and other else "",
            "note": link.note,
        })
    return out


# --- due-date extensions ----------------------------------------------------------------------


def extension_request(
    record: QualityRecord, *, actor: Any, requested_due: dt.date, justification: str
) -> DueDateExtension:
    """Ask to move the due date; someone other than the requester approves it.

    Side effects: audit entry `core.extension.request`.
    """
    kind = kind_of(record)
    require(actor, kind.edit_action, record)
    _writable(record)
    justification = (justification or "").strip()
    if not justification:
        raise ValidationError({"justification": ["Say why more time is needed."]})
    if record.due_date is not None and requested_due <= record.due_date:
        raise ValidationError({"requested_due": [
            f"The new due date must be after the current one ({record.due_date.isoformat()})."
        ]})
    check_due_date(requested_due, field="requested_due")
    with transaction.atomic():
        pending = DueDateExtension.objects.select_for_update().filter(
            record_type=kind.type_name, record_id=str(record.pk), state=ExtensionState.PENDING
        )
        if pending.exists():
            raise ValidationError({"__all__": ["An extension request is already pending."]})
        ext = DueDateExtension.objects.create(
            record_type=kind.type_name, record_id=str(record.pk), record_label=record.label,
            current_due=record.due_date, requested_due=requested_due,
            justification=justification[:2000], requested_by=actor,
            requested_at=timezone.now(),
        )
        audit_record("core.extension.request", ext, actor=actor, created=True)
    return ext


def extension_decide(
    ext: DueDateExtension, *, actor: Any, approve: bool, note: str = ""
) -> DueDateExtension:
    """Approve or reject a pending extension; approval moves the record's due date.

    Side effects: audit entries `core.extension.approve|reject` and, when approved,
    `<type>.due_date.extend` on the record with the justification as reason.
    """
    record = record_of(ext.record_type, ext.record_id)
    kind = kind_of(record)
    require(actor, kind.action("extension.approve"), record)
    if ext.requested_by_id == actor.pk:
        raise PermissionDenied("You asked for this extension; someone else must decide it.")
    note = (note or "").strip()
    if not approve and not note:
        raise ValidationError({"note": ["Say why the extension is rejected."]})
    with transaction.atomic():
        ext = DueDateExtension.objects.select_for_update().get(pk=ext.pk)
        if ext.state != ExtensionState.PENDING:
            raise ValidationError({"__all__": [f"This request was already {ext.state}."]})
        locked = _lock(record)
        _writable(locked)
        if approve:
            check_due_date(ext.requested_due, field="requested_due")
        before = snapshot(ext)
        ext.state = ExtensionState.APPROVED if approve else ExtensionState.REJECTED
        ext.decided_by = actor
        ext.decided_at = timezone.now()
        ext.decision_note = note[:1000]
        ext.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
        audit_record(
            f"core.extension.{'approve' if approve else 'reject'}", ext, actor=actor,
            before=before, reason=note or None,
        )
        if approve:
            record_before = snapshot(locked)
            locked.due_date = ext.requested_due
            locked.save(update_fields=["due_date", "updated_at"])
            audit_record(
                f"{kind.type_name}.due_date.extend", locked, actor=actor, before=record_before,
                reason=f"Extension approved: {ext.justification}"[:1000],
            )
            record.due_date = locked.due_date
    return ext


def pending_extension(record: QualityRecord) -> DueDateExtension | None:
    return DueDateExtension.objects.filter(
        record_type=kind_of(record).type_name, record_id=str(record.pk),
        state=ExtensionState.PENDING,
    ).first()


# --- logical deletion ---------------------------------------------------------------------


def record_delete(record: QualityRecord, *, actor: Any, reason: str) -> QualityRecord:
    """Withdraw a record entered in error: it stays stored, hidden from lists (AL-06).

    Only while the record is still in a deletable state (draft by default).
    Side effects: audit entry `<type>.delete` with the reason.
    """
    kind = kind_of(record)
    require(actor, kind.action("delete"), record)
    reason = _reason(reason)
    with transaction.atomic():
        locked = _lock(record)
        if locked.is_deleted:
            raise ValidationError({"__all__": [f"{locked.number} is already deleted."]})
        if locked.state not in kind.deletable_states:
            raise ValidationError({"__all__": [
                f"{locked.number} is {locked.state}; only records in "
                f"{', '.join(kind.deletable_states)} can be deleted."
            ]})
        before = snapshot(locked)
        locked.is_deleted = True
        locked.deleted_at = timezone.now()
        locked.deleted_by = actor
        locked.deleted_reason = reason
        locked.save(update_fields=["is_deleted", "deleted_at", "deleted_by", "deleted_reason",
                                   "updated_at"])
        audit_record(f"{kind.type_name}.delete", locked, actor=actor, before=before,
                     reason=reason)
    return locked


# --- helpers ------------------------------------------------------------------------------


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["A reason is required."]})
    return reason[:1000]


def _may_view(actor: Any, record: QualityRecord) -> bool:
    from cyberqms.platform.core.access import can

    return can(actor, kind_of(record).view_action, record)


def children_of(record_type: str, record_id: str) -> list[tuple[str, str]]:
    """The audited children of a record, for its history tab."""
    out: list[tuple[str, str]] = []
    for model, type_name in (
        (Attachment, "core.attachment"), (Comment, "core.comment"),
        (DueDateExtension, "core.extension"),
    ):
        ids = model._default_manager.filter(
            record_type=record_type, record_id=record_id
        ).values_list("pk", flat=True)
        out.extend((type_name, str(pk)) for pk in ids)
    links = RecordLink.objects.filter(
        models.Q(from_type=record_type, from_id=record_id)
        | models.Q(to_type=record_type, to_id=record_id)
    ).values_list("pk", flat=True)
    out.extend(("core.link", str(pk)) for pk in links)
    return out


def lineage(
    record: QualityRecord, actor: Any = None, *, depth: int = 4, limit: int = 60,
    reads: LinkReads | None = None,
) -> list[dict[str, Any]]:
    """Every record reachable through links from `record` (AL-10), breadth first, with
    the chain that leads to it: complaint → deviation → CAPA → change …"""
    start = (kind_of(record).type_name, str(record.pk))
    reads = reads or LinkReads()
    seen = {start}
    frontier = [(start, [record.number])]
    out: list[dict[str, Any]] = []
    for level in range(1, depth + 1):
        following = []
        reads.read([record for record, _chain in frontier])  # a level: one query
        for (type_name, pk), chain in frontier:
            for link in reads.links(type_name, pk):
                outgoing = (link.from_type, link.from_id) == (type_name, pk)
                other = (link.to_type, link.to_id) if outgoing else (link.from_type, link.from_id)
                if other in seen:
                    continue
                seen.add(other)
                other_kind, found = reads.other(*other)
                if actor is not None and (found is None or not _may_view(actor, found)):
                    continue
                label = link.to_label if outgoing else link.from_label
                number = getattr(found, "number", label)
                out.append({
                    "level": level, "number": number, "label": label,
                    "state": getattr(found, "state", ""),
                    "state_label": _state_label(found),
                    "url": other_kind.detail_url(found) if other_kind and found else "",
                    "relation": LINK_RELATIONS.get(link.relation, link.relation),
                    "chain": " → ".join([*chain, number]),
                })
                following.append((other, [*chain, number]))
                if len(out) >= limit:
                    return out
        frontier = following
        if not frontier:
            break
    return out


def _state_label(record: Any) -> str:
    """A linked record's state in words ("QA review"), "" when it has none."""
    shown = getattr(record, "get_state_display", None)
    return str(shown()) if callable(shown) else str(getattr(record, "state", "") or "")
