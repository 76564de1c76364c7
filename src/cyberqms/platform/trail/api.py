"""Audit-trail API: entries, history, checkpoints, proofs, verification, flags, reviews."""
# No "from __future__ import annotations": django-ninja resolves operation annotations
# through the gate wrapper, whose globals are not this module's.

from datetime import UTC, datetime
from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, StreamingHttpResponse
from django.utils.http import content_disposition_header
from ninja import Query, Router, Status

from cyberqms.platform.core.access import AccessDenied, require
from cyberqms.platform.core.api_gate import api_actor, gate
from cyberqms.platform.core.paging import CURSOR_HELP, window
from cyberqms.platform.trail import actions, keys, queries
from cyberqms.platform.trail.display import unverified_seqs
from cyberqms.platform.trail.export import ExportError, prepare_export
from cyberqms.platform.trail.log import (
    latest_checkpoint,
    max_seq,
    prove_consistency,
    prove_inclusion,
)
from cyberqms.platform.trail.merkle import leaf_hash
from cyberqms.platform.trail.models import (
    AuditEntry,
    Checkpoint,
    IntegrityFlag,
    TrailReview,
    Verification,
)
from cyberqms.platform.trail.registry import by_type
from cyberqms.platform.trail.schemas import (
    CheckpointOut,
    ConsistencyProofOut,
    EntryOut,
    EntryPage,
    FlagOut,
    InclusionProofOut,
    KeyOut,
    ResolveIn,
    ReviewIn,
    ReviewOut,
    StatusOut,
    VerificationOut,
    VerifyIn,
)
from cyberqms.platform.trail.services import (
    ReviewScopeSpec,
    TrailError,
    flag_resolve,
    review_create,
    trail_checkpoint,
    trail_export_record,
    trail_verify,
)

router = Router(tags=["audit trail"])

Limit = Query(50, ge=1, le=500, description="Page size, 1 to 500")
Offset = Query(0, ge=0, le=10**9, description="Rows to skip")


def _entries_out(entries: list[AuditEntry]) -> list[dict[str, Any]]:
    flagged = queries.flagged_seqs([e.seq for e in entries])
    hidden = unverified_seqs(entries)
    return [
        {
            "seq": e.seq,
            "leaf_hash": bytes(e.leaf_hash).hex(),
            "entry": None if e.seq in hidden else e.data,
            "verified": e.seq not in hidden,
            "integrity_failure": e.seq in flagged,
        }
        for e in entries
    ]


def _checkpoint_out(cp: Checkpoint) -> dict[str, Any]:
    return {
        "size": cp.size,
        "root_hash": bytes(cp.root).hex(),
        "signed_at": cp.signed_at,
        "key_ids": [k for k in cp.key_ids.split(",") if k],
        "note": cp.note,
    }


def _aware(moment: datetime) -> datetime:
    """Times without an offset are read as UTC, the trail's own clock."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _checkpoint(size: int, field: str) -> Checkpoint:
    found = Checkpoint.objects.filter(size=size).first()
    if found is None:
        raise TrailError(f"There is no checkpoint of tree size {size}.", field=field)
    return found


@router.get("/trail/entries", response=EntryPage, operation_id="trail_entries")
@gate(actions.ENTRY_VIEW)
def trail_entries(
    request: HttpRequest,
    object_type: str = "",
    object_id: str = "",
    actor_id: int | None = None,
    action: str = Query("", description="Action name or prefix (accounts.user.)"),
    since: datetime | None = None,
    until: datetime | None = None,
    after_seq: int = Query(0, ge=0, description="Only entries after this seq"),
    limit: int = Limit,
    offset: int = Offset,
    cursor: str | None = Query(None, max_length=2000, description=CURSOR_HELP),
) -> dict[str, Any]:
    """Search the audit trail (auditor view). Entries are shown as hashed, not as indexed.
    Paginated by `offset`, or by `cursor` (follow `next`), whose pages cost the same
    however deep."""
    qs = queries.entries_filtered(
        object_type=object_type, object_id=object_id, actor_id=actor_id, action=action,
        sort="seq",
    ).filter(seq__gt=after_seq)
    for name, moment in (("since", since), ("until", until)):
        if moment is not None and not 2000 <= moment.year <= 9998:
            raise TrailError("Give a time between the years 2000 and 9998.", field=name)
    if since is not None:
        qs = qs.filter(at__gte=_aware(since))
    if until is not None:
        qs = qs.filter(at__lt=_aware(until))
    found = window(qs, limit=limit, offset=offset, cursor=cursor, count=True)
    assert found.count is not None
    return {"count": found.count.value, "count_exact": not found.count.more,
            "items": _entries_out(found.rows), "next": found.next, "previous": found.previous}


@router.get("/trail/entries/{seq}", response=EntryOut, operation_id="trail_entry")
@gate(actions.ENTRY_VIEW)
def trail_entry(request: HttpRequest, seq: int) -> dict[str, Any]:
    entry = AuditEntry.objects.filter(seq=seq).first()
    if entry is None:
        raise Http404
    return _entries_out([entry])[0]


@router.get(
    "/trail/history/{object_type}/{object_id}", response=list[EntryOut],
    operation_id="trail_history",
)
@gate(actions.HISTORY_VIEW)
def trail_history(request: HttpRequest, object_type: str, object_id: str) -> list[dict[str, Any]]:
    """Every entry about one record, oldest first: who, what, when, why, old -> new."""
    try:
        spec = by_type(object_type)
    except LookupError:
        raise Http404 from None
    numeric = object_id.isascii() and object_id.isdecimal() and len(object_id) < 19
    obj = spec.model._default_manager.filter(pk=object_id).first() if numeric else None
    if obj is None:
        raise Http404
    try:
        require(api_actor(request), spec.view_action, obj)
    except AccessDenied:
        raise Http404 from None  # the same answer as a missing record: no existence oracle
    entries = list(
        AuditEntry.objects.filter(object_type=object_type, object_id=object_id).order_by("seq")
    )
    return _entries_out(entries)


@router.get("/trail/checkpoints", response=list[CheckpointOut], operation_id="trail_checkpoints")
@gate(actions.PROOF_VIEW)
def trail_checkpoints(
    request: HttpRequest, limit: int = Limit, offset: int = Offset
) -> list[dict[str, Any]]:
    """Signed checkpoints, newest first."""
    return [
        _checkpoint_out(cp)
        for cp in Checkpoint.objects.order_by("-size")[offset : offset + limit]
    ]


@router.get(
    "/trail/checkpoints/latest", response=CheckpointOut, operation_id="trail_checkpoint_latest",
    openapi_extra={"responses": {404: {"description": "No checkpoint has been sealed yet."}}},
)
@gate(actions.PROOF_VIEW)
def trail_checkpoint_latest(request: HttpRequest) -> dict[str, Any]:
    latest = latest_checkpoint()
    if latest is None:
        raise Http404
    return _checkpoint_out(latest)


@router.post(
    "/trail/checkpoints", response={200: CheckpointOut, 201: CheckpointOut},
    operation_id="trail_checkpoint_create",
)
@gate(actions.VERIFY)
def trail_checkpoint_create(request: HttpRequest) -> Any:
    """Seal now: 201 with the new checkpoint, or 200 with the latest when nothing is new."""
    result = trail_checkpoint(actor=api_actor(request))
    if result.checkpoint is not None:
        return Status(201, _checkpoint_out(result.checkpoint))
    latest = latest_checkpoint()
    if latest is None:
        raise TrailError("The trail is empty; there is nothing to seal.")
    return _checkpoint_out(latest)


@router.get(
    "/trail/entries/{seq}/proof", response=InclusionProofOut, operation_id="trail_inclusion_proof"
)
@gate(actions.PROOF_VIEW)
def trail_inclusion_proof(
    request: HttpRequest,
    seq: int,
    tree_size: int | None = Query(None, ge=1, description="Default: latest checkpoint"),
) -> dict[str, Any]:
    """RFC 9162 inclusion proof of entry `seq` in the checkpoint of `tree_size`."""
    checkpoint = _checkpoint(tree_size, "tree_size") if tree_size else latest_checkpoint()
    if checkpoint is None:
        raise TrailError("No checkpoint has been signed yet.", field="tree_size")
    if not 1 <= seq <= checkpoint.size:
        raise TrailError(
            f"Entry {seq} is not in the tree of size {checkpoint.size}.", field="seq"
        )
    entry = AuditEntry.objects.get(seq=seq)
    return {
        "seq": seq,
        "leaf_index": seq - 1,
        "tree_size": checkpoint.size,
        "leaf_hash": leaf_hash(entry.body.encode("utf-8")).hex(),
        "root_hash": bytes(checkpoint.root).hex(),
        "inclusion_proof": [h.hex() for h in prove_inclusion(seq, checkpoint.size)],
        "checkpoint": checkpoint.note,
    }


@router.get(
    "/trail/consistency", response=ConsistencyProofOut, operation_id="trail_consistency_proof"
)
@gate(actions.PROOF_VIEW)
def trail_consistency_proof(
    request: HttpRequest,
    old_size: int | None = Query(None, ge=1, description="Required"),
    new_size: int | None = Query(None, ge=1, description="Default: latest checkpoint"),
) -> dict[str, Any]:
    """RFC 9162 consistency proof between two checkpoints."""
    if old_size is None:
        raise TrailError("old_size is required.", field="old_size")
    old = _checkpoint(old_size, "old_size")
    new = _checkpoint(new_size, "new_size") if new_size else latest_checkpoint()
    assert new is not None
    if old.size > new.size:
        raise TrailError("old_size must not exceed new_size.", field="old_size")
    return {
        "old_size": old.size,
        "new_size": new.size,
        "old_root": bytes(old.root).hex(),
        "new_root": bytes(new.root).hex(),
        "consistency_proof": [h.hex() for h in prove_consistency(old.size, new.size)],
        "old_checkpoint": old.note,
        "new_checkpoint": new.note,
    }


@router.get("/trail/keys", response=list[KeyOut], operation_id="trail_keys")
@gate(actions.PROOF_VIEW)
def trail_keys(request: HttpRequest) -> list[dict[str, Any]]:
    """Verifier keys (C2SP note format), current and retired: keep them out of band."""
    return [
        {"verifier_key": k.verifier, "key_id": k.key_id, "current": k.current}
        for k in keys.key_infos()
    ]


@router.get("/trail/export", operation_id="trail_export")
@gate(actions.EXPORT)
def trail_export(
    request: HttpRequest,
    from_seq: int | None = Query(None, ge=1),
    to_seq: int | None = Query(None, ge=1),
) -> StreamingHttpResponse:
    """Verifiable export (JSON lines); check it with `python -m cyberqms.platform.trail.verify`."""
    try:
        prepared = prepare_export(from_seq, to_seq)
    except ExportError as exc:
        raise TrailError(str(exc), field=exc.field) from None
    summary = prepared.summary
    trail_export_record(
        actor=api_actor(request),
        fmt="jsonl", filters={"from_seq": from_seq, "to_seq": to_seq},
        entries=summary.entries, seq_range=(summary.from_seq, summary.to_seq),
    )
    response = StreamingHttpResponse(prepared.lines(), content_type="application/x-ndjson")
    response["Content-Disposition"] = content_disposition_header(
        True, f"trail-{summary.from_seq}-{summary.to_seq}.jsonl")
    return response


@router.get("/trail/status", response=StatusOut, operation_id="trail_status")
@gate(actions.STATUS_VIEW)
def trail_status(request: HttpRequest) -> dict[str, Any]:
    latest = latest_checkpoint()
    last = Verification.objects.order_by("-id").first()
    return {
        "origin": keys.origin(),
        "entries": max_seq(),
        "sealed": latest.size if latest else 0,
        "latest_checkpoint": _checkpoint_out(latest) if latest else None,
        "last_verification": last,
        "open_flags": IntegrityFlag.objects.filter(resolved_at__isnull=True).count(),
    }


@router.get(
    "/trail/verifications", response=list[VerificationOut], operation_id="trail_verifications"
)
@gate(actions.STATUS_VIEW)
def trail_verifications(
    request: HttpRequest, limit: int = Limit, offset: int = Offset
) -> QuerySet[Verification]:
    return Verification.objects.order_by("-id")[offset : offset + limit]


@router.post(
    "/trail/verifications", response={201: VerificationOut}, operation_id="trail_verify"
)
@gate(actions.VERIFY)
def trail_verify_now(request: HttpRequest, payload: VerifyIn) -> Any:
    """Run a verification now; the result (passed or failed) is in the body."""
    verification, _report = trail_verify(
        actor=api_actor(request),
        since_checkpoint=payload.since_checkpoint,
        reconcile=payload.reconcile,
    )
    return Status(201, verification)


def _flag_out(flag: IntegrityFlag) -> dict[str, Any]:
    return {
        "id": flag.pk, "kind": flag.kind, "object_type": flag.object_type,
        "object_id": flag.object_id, "seq": flag.seq, "fields": flag.fields,
        "message": flag.message, "raised_at": flag.raised_at, "resolved_at": flag.resolved_at,
        "resolved_by": flag.resolved_by.username if flag.resolved_by else None,
        "resolution": flag.resolution,
    }


@router.get("/trail/flags", response=list[FlagOut], operation_id="trail_flags")
@gate(actions.STATUS_VIEW)
def trail_flags(
    request: HttpRequest, open_only: bool = True, limit: int = Limit, offset: int = Offset
) -> list[dict[str, Any]]:
    """Integrity failures found by verification (open ones by default)."""
    qs = IntegrityFlag.objects.select_related("resolved_by").order_by("-raised_at", "-id")
    if open_only:
        qs = qs.filter(resolved_at__isnull=True)
    return [_flag_out(f) for f in qs[offset : offset + limit]]


@router.post("/trail/flags/{flag_id}/resolve", response=FlagOut, operation_id="trail_flag_resolve")
@gate(actions.FLAG_RESOLVE)
def trail_flag_resolve(request: HttpRequest, flag_id: int, payload: ResolveIn) -> dict[str, Any]:
    flag = IntegrityFlag.objects.filter(pk=flag_id).first()
    if flag is None:
        raise Http404
    return _flag_out(flag_resolve(flag, actor=api_actor(request), reason=payload.reason))


def _review_out(review: TrailReview) -> dict[str, Any]:
    return {
        "id": review.pk, "scope": review.scope, "object_type": review.object_type,
        "object_id": review.object_id, "object_label": review.object_label,
        "date_from": review.date_from, "date_to": review.date_to, "seq_from": review.seq_from,
        "seq_to": review.seq_to, "entries": review.entries, "outcome": review.outcome,
        "comment": review.comment, "reviewer": review.reviewer.get_username(),
        "reviewed_at": review.reviewed_at,
    }


@router.get("/trail/reviews", response=list[ReviewOut], operation_id="trail_reviews")
@gate(actions.ENTRY_VIEW)
def trail_reviews(
    request: HttpRequest, limit: int = Limit, offset: int = Offset
) -> list[dict[str, Any]]:
    qs = TrailReview.objects.select_related("reviewer").order_by("-reviewed_at", "-id")
    return [_review_out(r) for r in qs[offset : offset + limit]]


@router.post("/trail/reviews", response={201: ReviewOut}, operation_id="trail_review_create")
@gate(actions.REVIEW)
def trail_review_create(request: HttpRequest, payload: ReviewIn) -> Any:
    """Record an independent review of a record's trail or a date range (A11-16)."""
    review = review_create(
        ReviewScopeSpec(
            scope=payload.scope,
            object_type=payload.object_type,
            object_id=payload.object_id,
            date_from=payload.date_from,
            date_to=payload.date_to,
        ),
        actor=api_actor(request),
        outcome=payload.outcome,
        comment=payload.comment,
    )
    return Status(201, _review_out(review))
