"""References by number from a quality record to records of other apps: a deviation's
security alert or incident.

A referring family names the audited types it may refer to (`"monitoring.alert"`,
`"incidents.incident"`) with the words people read for them; the audit trail's registry
knows each type's model, the gate action that lets someone see it and its page, so the kit
imports no app. The reference is stored on the record as the number people read and is
mirrored by one current link (`RecordLink`, with the family's note), so both pages show it:
a changed reference removes the old link, with the reason, and adds the new one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from cyberqms.platform.core.access import can
from cyberqms.platform.core.models import RecordLink
from cyberqms.platform.trail.record import audit_record, snapshot
from cyberqms.platform.trail.registry import AuditedModel, by_type

from .records import QualityRecord, kind_by_type, kind_of

# Words for the types a family may refer to: type name → what people call it.
Types = Mapping[str, str]


@dataclass(frozen=True)
class Referenced:
    """A record a reference names, as people read it."""

    type_name: str
    noun: str  # "Security incident"
    record: Any
    number: str
    title: str
    url: str

    @property
    def label(self) -> str:
        return f"{self.number} {self.title}"[:200]


def _audited(type_name: str) -> AuditedModel | None:
    try:
        return by_type(type_name)
    except LookupError:  # the app that holds the type is not installed
        return None


def _has(model: type[models.Model], name: str) -> bool:
    return any(f.name == name for f in model._meta.concrete_fields)


def _rows(entry: AuditedModel, site_id: Any) -> models.QuerySet[Any]:
    rows = entry.model._default_manager.filter(site_id=site_id)
    if _has(entry.model, "is_deleted"):
        rows = rows.filter(is_deleted=False)
    return rows


def _referenced(type_name: str, noun: str, entry: AuditedModel, found: Any) -> Referenced:
    return Referenced(type_name=type_name, noun=noun, record=found, number=found.number,
                      title=getattr(found, "title", ""),
                      url=entry.detail_url(found) if entry.detail_url else "")


def reference_options(
    types: Types, actor: Any, record: QualityRecord, *, query: str = "", limit: int = 20
) -> list[Referenced]:
    """The records of `types` at `record`'s site that `actor` may see (the gate's view
    action of each type at that site), matching `query` in number or title, newest first:
    what a picker offers. `record` may be unsaved: it only places the question at a site."""
    query = query.strip()[:100]
    out: list[Referenced] = []
    for type_name, noun in types.items():
        entry = _audited(type_name)
        if entry is None or not can(actor, entry.view_action, record):
            continue
        rows = _rows(entry, record.site_id)
        if query:
            rows = rows.filter(models.Q(number__icontains=query) | models.Q(title__icontains=query))
        out += [_referenced(type_name, noun, entry, found)
                for found in rows.order_by("-pk")[:limit]]
    return out


def reference_find(
    types: Types, number: str, record: QualityRecord, actor: Any = None
) -> Referenced | None:
    """The record of `types` numbered `number` at `record`'s site; with `actor`, only
    when the actor may see it (None for unknown and hidden alike)."""
    number = (number or "").strip().upper()
    if not number:
        return None
    for type_name, noun in types.items():
        entry = _audited(type_name)
        if entry is None:
            continue
        found = _rows(entry, record.site_id).filter(number=number).first()
        if found is None:
            continue
        if actor is not None and not can(actor, entry.view_action, found):
            return None
        return _referenced(type_name, noun, entry, found)
    return None


def _current_links(record: QualityRecord, types: Types, note: str) -> models.QuerySet[RecordLink]:
    return RecordLink.objects.filter(
        removed_at__isnull=True, from_type=kind_of(record).type_name, from_id=str(record.pk),
        to_type__in=list(types), note=note,
    )


def reference_link(
    record: QualityRecord, target: Referenced | None, *, actor: Any, types: Types, note: str
) -> None:
    """Make `target` the one record that `record`'s reference (the links with `note`) points
    at: links to another record are removed with the reason, a missing link is added,
    unless the two are already linked another way (an incident that spawned its deviation).
    Runs inside the caller's write (the kit's `after_write`).

    Side effects: audit entries `core.link.delete` (with the reason) and `core.link.add`.
    """
    source_type, source_id = kind_of(record).type_name, str(record.pk)
    with transaction.atomic():
        for link in _current_links(record, types, note).select_for_update():
            if target is not None and (link.to_type, link.to_id) == (
                    target.type_name, str(target.record.pk)):
                continue
            before = snapshot(link)
            link.removed_at = timezone.now()
            link.removed_reason = (f"The reference now names {target.number}." if target
                                   else "The reference was cleared.")
            link.save(update_fields=["removed_at", "removed_reason"])
            audit_record("core.link.delete", link, actor=actor, before=before,
                         reason=link.removed_reason)
        if target is None:
            return
        target_id = str(target.record.pk)
        linked = RecordLink.objects.filter(removed_at__isnull=True).filter(
            models.Q(from_type=source_type, from_id=source_id, to_type=target.type_name,
                     to_id=target_id)
            | models.Q(from_type=target.type_name, from_id=target_id, to_type=source_type,
                       to_id=source_id)
        ).exists()
        if linked:
            return
        link = RecordLink.objects.create(
            from_type=source_type, from_id=source_id, from_label=record.label,
            to_type=target.type_name, to_id=target_id, to_label=target.label,
            relation="related", note=note, created_by=actor, created_at=timezone.now(),
        )
        audit_record("core.link.add", link, actor=actor, created=True)


def referring_records(type_name: str, pk: Any, actor: Any) -> list[dict[str, Any]]:
    """The quality records linked to the record `type_name`/`pk` (either direction) that
    `actor` may see, as people read them: for the page of a record outside the kit (a
    security alert) that lists what refers to it."""
    rows = RecordLink.objects.filter(removed_at__isnull=True).filter(
        models.Q(to_type=type_name, to_id=str(pk)) | models.Q(from_type=type_name,
                                                            from_id=str(pk))
    ).order_by("created_at", "pk")
    out: list[dict[str, Any]] = []
    for link in rows:
        incoming = (link.to_type, link.to_id) == (type_name, str(pk))
        other_type, other_id = ((link.from_type, link.from_id) if incoming
                                else (link.to_type, link.to_id))
        try:
            kind = kind_by_type(other_type)
        except LookupError:
            continue
        other = kind.model._default_manager.filter(pk=other_id).select_related("site").first()
        if other is None or not can(actor, kind.view_action, other):
            continue
        out.append({"noun": kind.label, "number": other.number, "title": other.title,
                    "state_label": other.get_state_display(), "url": kind.detail_url(other),
                    "note": link.note})
    return out
