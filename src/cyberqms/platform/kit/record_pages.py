"""What a record's page, API response and exports show of its shared parts.

`record_context` builds the context the `core/record_detail.html` frame needs (the header,
the action bar with its signing forms, and the Signatures, Attachments, Comments, Links
and History tabs); a family's detail view adds its own keys. `record_json` is the same
information for the API (embedded as ``"common"``) and the JSON export.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models
from django.urls import NoReverseMatch, reverse

from cyberqms.platform.core.compiled import Compiled, Param
from cyberqms.platform.core.models import (
    Attachment,
    Comment,
    DueDateExtension,
    ExtensionState,
    Signature,
)

from .record_parts import LINK_RELATIONS, LinkReads, lineage, links_of
from .records import QualityRecord, RecordKind, kind_of
from .signatures import manifestation, signing_state

# Extra links in a record page's header, from apps that know more about a record than core
# does (the security-incident chain): each provider, registered in an AppConfig.ready(),
# returns [{"label", "url", "testid", "title"}] for the record as the viewer may see it.
PageLinks = Callable[[QualityRecord, Any], list[dict[str, str]]]
_PAGE_LINKS: list[PageLinks] = []


def register_page_links(provider: PageLinks) -> None:
    if provider not in _PAGE_LINKS:
        _PAGE_LINKS.append(provider)


# The parts every record page and API answer reads, by (record type, id): compiled once
# (core.compiled).
def _of_record() -> dict[str, Param]:
    return {"record_type": Param("type", models.CharField()),
            "record_id": Param("id", models.CharField())}


_SIGNATURES: Compiled[Signature] = Compiled(lambda: Signature.objects.filter(**_of_record()))
_ATTACHMENTS: Compiled[Attachment] = Compiled(
    lambda: Attachment.objects.filter(**_of_record())
    .select_related("uploaded_by", "removed_by").defer("ciphertext"))
_COMMENTS: Compiled[Comment] = Compiled(
    lambda: Comment.objects.filter(**_of_record()).select_related("author"))
_EXTENSIONS: Compiled[DueDateExtension] = Compiled(
    lambda: DueDateExtension.objects.filter(**_of_record())
    .select_related("requested_by", "decided_by"))


def page_links(record: QualityRecord, actor: Any) -> list[dict[str, str]]:
    return [link for provider in _PAGE_LINKS for link in provider(record, actor)]


def signatures_of(record: QualityRecord) -> list[dict[str, Any]]:
    """Manifestations of every signature on the record, superseded ones marked (P11-20)."""
    kind = kind_of(record)
    rows = _SIGNATURES.all(type=kind.type_name, id=str(record.pk))
    current: dict[str, str] = {}
    for s in rows:
        if s.action not in current:
            current[s.action] = kind.workflow.hash_for(record, s.action)
    return [manifestation(s, current_hash=current[s.action]) for s in rows]


def available_actions(
    record: QualityRecord, actor: Any, *, covered_only: bool = False
) -> list[dict[str, Any]]:
    """The actions from the record's state, each with why it is refused to this user now
    (no right, segregation of duties, an unmet condition) or "". Pages pass
    `covered_only`: actions outside the user's roles are not their business there."""
    kind = kind_of(record)
    if record.is_deleted:
        return []
    from cyberqms.platform.core.access import can

    out = []
    for t, refusal in kind.workflow.available(record, actor):
        if covered_only and not can(actor, t.permission, record):
            continue
        out.append({
            "action": t.action,
            "title": t.title,
            "target": t.target,
            "sign": t.sign or "",
            "reason_required": t.reason,
            # A step that needs a reason and no signature sends the record back or cancels
            # it: shown beside the way forward, not as it.
            "secondary": t.reason and not t.sign,
            "refusal": refusal or "",
            "url": reverse("records:transition", args=[kind.slug, record.pk, t.action]),
        })
    return out


def record_context(request: Any, kind: RecordKind, record: QualityRecord) -> dict[str, Any]:
    from cyberqms.platform.core.access import can

    actor = request.user
    type_name, pk = kind.type_name, str(record.pk)
    closed = record.is_deleted or record.state in kind.closed_states
    actions = available_actions(record, actor, covered_only=True)
    try:
        list_url = reverse(f"{kind.slug}:list")
    except NoReverseMatch:
        list_url = ""
    state_display = getattr(record, "get_state_display", None)
    extensions = _EXTENSIONS.all(type=type_name, id=pk)
    reads = LinkReads()
    return {
        "record": record,
        "kind": kind,
        "list_url": list_url,
        "state_label": state_display() if callable(state_display) else record.state,
        # The family's word for the moment of its event ("Performed at" for a restore test).
        "event_label": (getattr(kind, "labels", None) or {}).get("event_at", "Event"),
        "record_type": type_name,
        "actions": actions,
        "can_act": any(not a["refusal"] for a in actions),
        # Asked by the template only where a signing form shows (a query each): a
        # template calls a callable it finds, and each answers once per page.
        "signing": signing_state(request, actor),
        "content_hash": kind.workflow.content_hash(record),
        "signatures": signatures_of(record),
        "attachments": _ATTACHMENTS.all(type=type_name, id=pk),
        "comments": _COMMENTS.all(type=type_name, id=pk),
        "links": links_of(record, actor, reads=reads),
        "lineage": lineage(record, actor, reads=reads),
        "page_links": page_links(record, actor),
        "link_relations": LINK_RELATIONS,
        # The pending request is among the record's requests (`pending_extension`'s order).
        "extension": next((e for e in extensions if e.state == ExtensionState.PENDING), None),
        "extensions": extensions,
        "overdue": record.is_overdue(),
        "closed": closed,
        "can_edit": not closed and can(actor, kind.edit_action, record),
        "can_comment": can(actor, kind.action("comment"), record),
        "can_delete": (
            not record.is_deleted and record.state in kind.deletable_states
            and can(actor, kind.action("delete"), record)
        ),
        "can_decide_extension": can(actor, kind.action("extension.approve"), record),
        "history_url": reverse("trail:history", args=[type_name, pk]),
        # The copies are shared parts (`records.use`): offered to those who may reach
        # them (an administrator who reads a drill holds no GxP right, DI-01).
        "can_copy": can(actor, "records.use"),
        "pdf_url": reverse("records:pdf", args=[kind.slug, pk]),
        "json_url": reverse("records:json", args=[kind.slug, pk]),
    }


def record_json(
    record: QualityRecord, actor: Any | None = None, *, actions: bool = True
) -> dict[str, Any]:
    """The shared parts of a record for the API and the JSON export."""
    kind = kind_of(record)
    type_name, pk = kind.type_name, str(record.pk)
    data: dict[str, Any] = {
        "type": type_name,
        "kind": kind.slug,
        "id": record.pk,
        "number": record.number,
        "title": record.title,
        "state": record.state,
        "site": record.site.code,
        "owner": record.owner.username,
        "originator": record.originator.username,
        "due_date": record.due_date.isoformat() if record.due_date else None,
        "overdue": record.is_overdue(),
        "late_entry": record.late_entry,
        "deleted": record.is_deleted,
        "content_hash": kind.workflow.content_hash(record),
        "signatures": [
            {k: (v.isoformat() if k == "signed_at" else v) for k, v in sig.items()}
            for sig in signatures_of(record)
        ],
        "links": [
            {"id": link["id"], "direction": link["direction"], "relation": link["relation"],
             "type": link["other_type"], "record_id": link["other_id"],
             "number": link["other_number"], "label": link["other_label"],
             "state": link["other_state"]}
            for link in links_of(record, actor)
        ],
        "attachments": [
            {"id": a.pk, "filename": a.filename, "content_type": a.content_type,
             "size": a.size, "sha256": a.sha256, "uploaded_by": a.uploaded_by.username,
             "uploaded_at": a.uploaded_at.isoformat(),
             "removed": a.removed_at is not None, "removed_reason": a.removed_reason}
            for a in _ATTACHMENTS.all(type=type_name, id=pk)
        ],
        "comments": [
            {"id": c.pk, "author": c.author.username, "created_at": c.created_at.isoformat(),
             "body": c.body}
            for c in _COMMENTS.all(type=type_name, id=pk)
        ],
    }
    if actor is not None and actions:
        data["available_actions"] = [
            {k: a[k] for k in ("action", "title", "target", "sign", "reason_required",
                               "refusal")}
            for a in available_actions(record, actor)
        ]
    return data
