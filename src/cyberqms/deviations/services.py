"""Every write to a deviation: create, update the fields the current state allows, one
function per workflow transition, and spawning a CAPA.

Side effects common to the writes: one audit entry per change (`deviations.deviation.*`),
notifications on commit (assignment to the owner, QA triage and review due).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from cyberqms.core.access import can, capable, require
from cyberqms.core.models import RecordLink
from cyberqms.core.record_parts import RecordClosed, link_create
from cyberqms.core.records import (
    check_due_date,
    check_event_time,
    find_by_number,
    kind_of,
    next_number,
)
from cyberqms.core.signatures import SignatureRequest
from cyberqms.trail.record import audit_record, snapshot

from .enums import Classification, DeviationState, RootCauseCategory
from .models import Deviation
from .notices import notify_record
from .queries import TYPE_NAME, capa_links
from .workflow import DEVIATION_WORKFLOW

S = DeviationState
PREFIX = "DEV"

_CONTEXT = {"department", "area", "product_reference"}
_IMPACT = {"gxp_impact", "gxp_impact_text", "data_integrity_impact",
           "data_integrity_impact_text", "cyber_related", "security_reference"}
_INVESTIGATION = {"investigation_summary", "root_cause_category", "root_cause",
                  "capa_required"}

# What may change in each state; closed and cancelled deviations change no more.
EDITABLE: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({"title", "description", "owner", "event_at", "late_entry_reason",
                        "due_date", "classification", "immediate_actions",
                        *_CONTEXT, *_IMPACT}),
    S.OPEN: frozenset({"owner", "classification", "immediate_actions", *_CONTEXT, *_IMPACT}),
    S.INVESTIGATION: frozenset({"owner", "classification", "immediate_actions", *_CONTEXT,
                                *_IMPACT, *_INVESTIGATION}),
    S.QA_REVIEW: frozenset({"classification", "capa_required", "qa_comments"}),
    S.APPROVED: frozenset({"capa_required", "qa_comments"}),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}
# QA's own words: only reviewers write them.
QA_FIELDS = frozenset({"qa_comments"})
_TEXT_LIMITS = {
    "title": 200, "area": 200, "product_reference": 200, "security_reference": 100,
    "description": 10000, "gxp_impact_text": 5000, "data_integrity_impact_text": 5000,
    "immediate_actions": 10000, "investigation_summary": 10000, "root_cause": 10000,
    "qa_comments": 10000, "late_entry_reason": 2000,
}
_BOOLS = {"gxp_impact", "data_integrity_impact", "cyber_related", "capa_required"}


def editable_fields(deviation: Deviation, actor: Any) -> frozenset[str]:
    """The fields `actor` may change now (empty when they may change none)."""
    if deviation.is_deleted or not can(actor, "deviations.edit", deviation):
        return frozenset()
    fields = EDITABLE.get(deviation.state, frozenset())
    if not can(actor, "deviations.review", deviation):
        fields = fields - QA_FIELDS
    return fields


def _clean(values: dict[str, Any], site_id: int) -> dict[str, Any]:
    """Normalize and check field values; raises ValidationError naming the field."""
    out: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        if name in _TEXT_LIMITS:
            value = (value or "").strip()
            if len(value) > _TEXT_LIMITS[name]:
                errors[name] = [f"At most {_TEXT_LIMITS[name]} characters."]
        elif name in _BOOLS:
            value = bool(value)
        out[name] = value
    if "title" in out and not out["title"]:
        errors["title"] = ["Give the deviation a title."]
    if out.get("classification") and out["classification"] not in Classification.values:
        errors["classification"] = [f"Choose one of {', '.join(Classification.values)}."]
    if "classification" in out and out["classification"] is None:
        out["classification"] = ""
    category = out.get("root_cause_category")
    if category is None and "root_cause_category" in out:
        out["root_cause_category"] = ""
    elif category and category not in RootCauseCategory.values:
        errors["root_cause_category"] = [
            f"Choose one of {', '.join(RootCauseCategory.values)}."
        ]
    if "security_reference" in out:
        out["security_reference"] = out["security_reference"].upper()
    department = out.get("department")
    if department is not None and department.site_id != site_id:
        errors["department"] = ["The department belongs to another site."]
    if "owner" in out:
        owner = out["owner"]
        if owner is None:
            errors["owner"] = ["Name the owner of the deviation."]
        elif not owner.is_active or getattr(owner, "kind", "person") != "person":
            errors["owner"] = ["The owner must be an active, named person."]
    if errors:
        raise ValidationError(errors)
    return out


def _check_consistency(d: Deviation) -> None:
    if d.security_reference and not d.cyber_related:
        raise ValidationError({"security_reference": [
            "A security alert or incident is named: mark the deviation cyber-related, or "
            "clear the reference."
        ]})


def _check_owner(d: Deviation) -> None:
    if not capable(d.owner, "deviations.work", d):
        raise ValidationError({"owner": [
            f"{d.owner} cannot work on deviations at {d.site.code}."
        ]})


def _link_security_reference(d: Deviation, actor: Any) -> None:
    """When the security reference is a record number we hold, link it (both sides)."""
    if not d.security_reference:
        return
    target = find_by_number(d.security_reference)
    if target is None or target == d:
        return
    exists = RecordLink.objects.filter(
        removed_at__isnull=True, from_type=TYPE_NAME, from_id=str(d.pk),
        to_type=kind_of(target).type_name, to_id=str(target.pk),
    ).exists()
    if not exists:
        link_create(d, target, actor=actor, relation="related", note="Security reference")


def deviation_create(
    *,
    actor: Any,
    site: Any,
    title: str,
    owner: Any,
    description: str = "",
    event_at: dt.datetime | None = None,
    late_entry_reason: str = "",
    due_date: dt.date | None = None,
    classification: str = "",
    department: Any = None,
    area: str = "",
    product_reference: str = "",
    gxp_impact: bool = False,
    gxp_impact_text: str = "",
    data_integrity_impact: bool = False,
    data_integrity_impact_text: str = "",
    cyber_related: bool = False,
    security_reference: str = "",
    immediate_actions: str = "",
) -> Deviation:
    """Record a deviation in draft.

    Side effects: audit entry `deviations.deviation.create`; a link to the security
    record when `security_reference` is a record number; an assignment notification to
    the owner when it is not the actor.
    """
    if site is None:
        raise ValidationError({"site": ["Choose the site."]})
    values = _clean({
        "title": title, "owner": owner, "description": description,
        "late_entry_reason": late_entry_reason, "classification": classification or "",
        "department": department, "area": area, "product_reference": product_reference,
        "gxp_impact": gxp_impact, "gxp_impact_text": gxp_impact_text,
        "data_integrity_impact": data_integrity_impact,
        "data_integrity_impact_text": data_integrity_impact_text,
        "cyber_related": cyber_related, "security_reference": security_reference,
        "immediate_actions": immediate_actions,
    }, site.pk)
    deviation = Deviation(site=site, originator=actor, state=S.DRAFT, due_date=due_date,
                          event_at=event_at, **values)
    require(actor, "deviations.create", deviation)
    late, reason = check_event_time(event_at, values["late_entry_reason"])
    deviation.late_entry, deviation.late_entry_reason = late, reason
    check_due_date(due_date)
    _check_consistency(deviation)
    _check_owner(deviation)
    with transaction.atomic():
        deviation.number = next_number(PREFIX)
        deviation.save()
        audit_record(f"{TYPE_NAME}.create", deviation, actor=actor, created=True)
        _link_security_reference(deviation, actor)
        notify_record([deviation.owner], deviation, kind="assignment",
                subject="you own this new deviation", exclude=actor)
    return deviation


def deviation_update(
    deviation: Deviation, *, actor: Any, changes: dict[str, Any], reason: str = ""
) -> Deviation:
    """Change the fields the current state allows.

    In draft the change is audited as `deviations.deviation.edit` (no reason needed);
    afterwards as `deviations.deviation.update`, which needs a reason. A content change
    after a signature marks that signature superseded (its hash no longer matches).
    Side effects: audit entry; assignment notification to a new owner; a link to the
    security record when the security reference names one.
    """
    require(actor, "deviations.edit", deviation)
    if deviation.is_deleted or deviation.state in (S.CLOSED, S.CANCELLED):
        raise RecordClosed(deviation)
    allowed = editable_fields(deviation, actor)
    refused = sorted(set(changes) - allowed)
    if refused:
        state = S(deviation.state).label.lower()
        raise ValidationError({
            name: [f"This field cannot be changed while the deviation is {state}."]
            for name in refused
        })
    values = _clean(dict(changes), deviation.site_id)
    reason = (reason or "").strip()
    with transaction.atomic():
        locked = Deviation.objects.select_for_update().select_related("site").get(
            pk=deviation.pk
        )
        if locked.state != deviation.state:
            raise ValidationError({"__all__": [
                f"{locked.number} moved to {locked.state} meanwhile; reload it."
            ]})
        before = snapshot(locked)
        old_owner = locked.owner_id
        changed = [n for n, v in values.items()
                   if getattr(locked, n) != v and n != "late_entry_reason"]
        if "late_entry_reason" in values or "event_at" in values:
            event_at = values.get("event_at", locked.event_at)
            late_reason = values.get("late_entry_reason", locked.late_entry_reason)
            late, late_reason = check_event_time(event_at, late_reason)
            if (late, late_reason) != (locked.late_entry, locked.late_entry_reason):
                locked.late_entry, locked.late_entry_reason = late, late_reason
                changed += ["late_entry", "late_entry_reason"]
        if "due_date" in values and values["due_date"] != locked.due_date:
            check_due_date(values["due_date"])
        for name in changed:
            if name in values:
                setattr(locked, name, values[name])
        if not changed:
            return locked
        _check_consistency(locked)
        if "owner" in changed:
            _check_owner(locked)
        action = "edit" if locked.state == S.DRAFT else "update"
        if action == "update" and not reason:
            raise ValidationError({"reason": ["Say why the deviation is changed."]})
        locked.save(update_fields=[*dict.fromkeys(changed), "updated_at"])
        audit_record(f"{TYPE_NAME}.{action}", locked, actor=actor, before=before,
                     reason=reason or None)
        if "security_reference" in changed:
            _link_security_reference(locked, actor)
        if locked.owner_id != old_owner:
            notify_record([locked.owner], locked, kind="assignment",
                    subject="you are now the owner of this deviation", exclude=actor)
    for f in locked._meta.concrete_fields:
        setattr(deviation, f.attname, getattr(locked, f.attname))
    return locked


# --- transitions ------------------------------------------------------------------------


def deviation_submit(deviation: Deviation, *, actor: Any) -> Deviation:
    """Submit a draft for QA triage.

    Side effects: audit entry `deviations.deviation.submit`; QA reviewers and managers of
    the site are told triage is due (on commit).
    """
    return DEVIATION_WORKFLOW.run(deviation, "submit", actor=actor)


def deviation_triage(deviation: Deviation, *, actor: Any, reason: str = "") -> Deviation:
    """QA triage: the deviation is classified and its investigation starts.

    Side effects: audit entry `deviations.deviation.triage`; the owner is told to
    investigate.
    """
    return DEVIATION_WORKFLOW.run(deviation, "triage", actor=actor, reason=reason)


def deviation_complete_investigation(
    deviation: Deviation, *, actor: Any, reason: str = ""
) -> Deviation:
    """The owner hands the investigation (summary, root cause) to QA review.

    Side effects: audit entry `deviations.deviation.complete_investigation`; QA is told
    the review is due.
    """
    return DEVIATION_WORKFLOW.run(deviation, "complete_investigation", actor=actor,
                                  reason=reason)


def deviation_return(deviation: Deviation, *, actor: Any, reason: str) -> Deviation:
    """QA sends the investigation back, saying why.

    Side effects: audit entry `deviations.deviation.return` with the reason; the owner
    is told.
    """
    return DEVIATION_WORKFLOW.run(deviation, "return", actor=actor, reason=reason)


def deviation_approve(
    deviation: Deviation, *, actor: Any, signature: SignatureRequest | None, reason: str = "",
    expected_hash: str = "",
) -> Deviation:
    """QA approval, e-signed "Approved"; never by the originator or the owner (P11-11).

    Side effects: e-signature, audit entry `deviations.deviation.approve`; the owner is
    told.
    """
    return DEVIATION_WORKFLOW.run(deviation, "approve", actor=actor, signature=signature,
                                  reason=reason, expected_hash=expected_hash)


def deviation_close(
    deviation: Deviation, *, actor: Any, signature: SignatureRequest | None, reason: str = "",
    expected_hash: str = "",
) -> Deviation:
    """Close an approved deviation, e-signed "Closed"; sets `closed_at`. When a CAPA is
    required, one must have been spawned first.

    Side effects: e-signature, audit entry `deviations.deviation.close`; the owner is
    told.
    """
    return DEVIATION_WORKFLOW.run(deviation, "close", actor=actor, signature=signature,
                                  reason=reason, expected_hash=expected_hash)


def deviation_cancel(deviation: Deviation, *, actor: Any, reason: str) -> Deviation:
    """Cancel a deviation before its investigation, saying why.

    Side effects: audit entry `deviations.deviation.cancel` with the reason.
    """
    return DEVIATION_WORKFLOW.run(deviation, "cancel", actor=actor, reason=reason)


SPAWN_STATES = (S.INVESTIGATION, S.QA_REVIEW, S.APPROVED)


def deviation_spawn_capa(
    deviation: Deviation,
    *,
    actor: Any,
    title: str,
    owner: Any,
    due_date: dt.date | None,
    description: str = "",
) -> Any:
    """Open a CAPA from this deviation and link the two (relation "spawned", seen on both).

    The CAPA starts in draft with source "deviation", the deviation's number as its
    source reference and its cyber-related flag. Allowed while the deviation is
    investigated, reviewed or approved.
    Side effects: the CAPA's create audit entry (`capa.capa.create`); audit entry
    `core.link.add` for the link, in both records' histories.
    """
    from cyberqms.capa.services import capa_create

    require(actor, "deviations.edit", deviation)
    if deviation.is_deleted or deviation.state not in SPAWN_STATES:
        raise ValidationError({"__all__": [
            "A CAPA is spawned once the deviation is under investigation, in QA review or "
            f"approved; {deviation.number} is {S(deviation.state).label.lower()}."
        ]})
    with transaction.atomic():
        capa = capa_create(
            actor=actor, site=deviation.site, title=title, owner=owner,
            source="deviation", source_reference=deviation.number, due_date=due_date,
            description=description or f"Raised from deviation {deviation.label}.",
            cyber_related=deviation.cyber_related,
            # The CAPA starts from what the deviation established.
            problem_statement=deviation.description,
            root_cause=(
                f"{deviation.get_root_cause_category_display()}: {deviation.root_cause}"
                if deviation.root_cause_category else deviation.root_cause
            ),
        )
        # capa_create links a source record it can resolve; make sure the link exists.
        if not capa_links(deviation).filter(to_id=str(capa.pk)).exists():
            link_create(deviation, capa, actor=actor, relation="spawned",
                        note=f"CAPA from {deviation.number}")
    return capa
