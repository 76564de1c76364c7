"""Every write of the audit-trail app: verification runs, checkpoints, reviews, flags, keys.

`actor=None` means the system itself (the scheduler, a CLI command run by the operator on
the server); a person acting through pages or the API is always authorized first.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from cyberqms.platform.core.access import require
from cyberqms.platform.core.context import current_context
from cyberqms.platform.core.events import emit_security_event
from cyberqms.platform.core.models import Severity
from cyberqms.platform.trail import actions, keys, mac
from cyberqms.platform.trail.integrity import Problem, Report, Witnessed, check_trail
from cyberqms.platform.trail.log import SealResult, trail_seal
from cyberqms.platform.trail.models import (
    AuditEntry,
    IntegrityFlag,
    ReviewOutcome,
    ReviewScope,
    TrailReview,
    Verification,
    VerificationResult,
)
from cyberqms.platform.trail.record import audit_record, snapshot
from cyberqms.platform.trail.registry import by_type

logger = logging.getLogger("cyberqms.platform.trail")


class TrailError(ValidationError):
    """A refused trail operation, naming the field (surfaced as 4xx, never 500)."""

    def __init__(self, message: str, *, field: str = "__all__") -> None:
        super().__init__({field: [message]})
        self.field = field
        self.text = message


def _authorize(actor: Any | None, action: str, resource: object = None) -> None:
    if actor is not None:
        require(actor, action, resource)
    elif current_context().channel in ("web", "api"):
        raise TrailError("An authenticated user is required.")


# --- checkpoints and verification ------------------------------------------------------------


def trail_checkpoint(*, actor: Any | None = None) -> SealResult:
    """Seal a checkpoint now over every entry not yet covered (no-op when none).

    Side effects: a signed checkpoint; on an altered unsealed entry, nothing is signed and a
    critical security event `trail.seal.refused` is raised.
    """
    _authorize(actor, actions.VERIFY)
    return trail_seal()


def _flag(problem: Problem, verification: Verification, now: datetime) -> IntegrityFlag | None:
    if IntegrityFlag.objects.filter(problem_key=problem.key[:200]).exists():
        return None
    object_type, object_id = problem.object_type, problem.object_id
    if problem.kind == "entry" and problem.seq is not None:
        # The record the altered entry describes is what users see: flag it too.
        entry = AuditEntry.objects.filter(seq=problem.seq).only("object_type", "object_id").first()
        if entry is not None:
            object_type, object_id = entry.object_type, entry.object_id
    flag = IntegrityFlag.objects.create(
        problem_key=problem.key[:200],
        kind=problem.kind,
        object_type=object_type,
        object_id=object_id,
        seq=problem.seq,
        fields=list(problem.fields),
        message=problem.message[:500],
        verification=verification,
        raised_at=now,
    )
    audit_record("trail.flag.raise", flag, created=True)
    return flag


def trail_verify(
    *, actor: Any | None = None, since_checkpoint: bool = False, reconcile: bool = True,
    against: Witnessed | None = None,
) -> tuple[Verification, Report]:
    """Verify the trail and reconcile records; record, audit and alert on the outcome.

    Side effects: a `Verification` row and audit entry `trail.verification.run`; on
    failure an `IntegrityFlag` per new problem (audited) and one critical security event
    `trail.integrity.failure` naming the first problem.
    """
    _authorize(actor, actions.VERIFY)
    report = check_trail(since_checkpoint=since_checkpoint, reconcile=reconcile,
                         against=against)
    finished = report.finished_at or timezone.now()
    new_flags: list[IntegrityFlag] = []
    with transaction.atomic():
        verification = Verification.objects.create(
            started_at=report.started_at,
            finished_at=finished,
            mode=report.mode,
            result=VerificationResult.PASSED if report.ok else VerificationResult.FAILED,
            from_seq=report.from_seq,
            to_seq=report.to_seq,
            entries_checked=report.entries,
            checkpoints_checked=report.checkpoints,
            records_checked=report.records,
            checkpoint_size=report.checkpoint_size,
            checkpoint_nodes=report.checkpoint_nodes,
            first_problem=report.first.message[:500] if report.first else "",
            problems=[p.as_dict() for p in report.problems],
            triggered_by=actor.get_username() if actor is not None else "",
            channel=current_context().channel,
            witness_size=report.witness_size,
            witness_source=report.witness_source[:300],
        )
        for problem in report.problems:
            flag = _flag(problem, verification, finished)
            if flag is not None:
                new_flags.append(flag)
        audit_record(
            "trail.verification.run",
            actor=actor,
            object_type="trail.verification",
            object_id=verification.pk,
            label=f"{report.mode} verification",
            changes={
                "result": [None, verification.result],
                "entries_checked": [None, report.entries],
                "records_checked": [None, report.records],
                "problems": [None, len(report.problems)],
                "witnessed_size": [None, report.witness_size],
            },
        )
    if not report.ok:
        first = report.first
        assert first is not None
        # New findings are critical; findings already flagged and not yet resolved are
        # reported again at a lower severity so hourly runs do not flood the alert queue.
        emit_security_event(
            "trail.integrity.failure" if new_flags else "trail.integrity.failure.persisting",
            severity=Severity.CRITICAL if new_flags else Severity.MEDIUM,
            message=f"Audit-trail verification failed: {first.message}"[:500],
            actor_id=getattr(actor, "pk", None),
            data={
                "verification": verification.pk,
                "problems": len(report.problems),
                "new_flags": len(new_flags),
                "first": first.as_dict(),
            },
        )
    return verification, report


# --- integrity flags -----------------------------------------------------------------------


def open_flags(object_type: str, object_id: str | int) -> list[IntegrityFlag]:
    return list(
        IntegrityFlag.objects.filter(
            object_type=object_type, object_id=str(object_id), resolved_at__isnull=True
        )
    )


def flagged_ids(object_type: str) -> set[str]:
    return set(
        IntegrityFlag.objects.filter(object_type=object_type, resolved_at__isnull=True)
        .values_list("object_id", flat=True)
    )


def flag_resolve(flag: IntegrityFlag, *, actor: Any, reason: str) -> IntegrityFlag:
    """Close an integrity flag after investigation; the finding itself stays recorded.

    Side effects: audit entry `trail.flag.resolve` with the reason.
    """
    require(actor, actions.FLAG_RESOLVE, flag)
    reason = (reason or "").strip()
    if not reason:
        raise TrailError("A reason is required.", field="reason")
    with transaction.atomic():
        flag = IntegrityFlag.objects.select_for_update().get(pk=flag.pk)
        if flag.resolved_at is not None:
            raise TrailError("This flag is already resolved.")
        before = snapshot(flag)
        flag.resolved_at = timezone.now()
        flag.resolved_by = actor
        flag.resolution = reason[:1000]
        flag.save(update_fields=["resolved_at", "resolved_by", "resolution"])
        audit_record("trail.flag.resolve", flag, actor=actor, before=before, reason=reason)
    return flag


# --- reviews ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewScopeSpec:
    scope: str
    object_type: str = ""
    object_id: str = ""
    date_from: date | None = None
    date_to: date | None = None


def review_entries(spec: ReviewScopeSpec) -> Any:
    """The entries a review of `spec` covers (a queryset, in sequence order)."""
    qs = AuditEntry.objects.all()
    if spec.scope == ReviewScope.RECORD:
        return qs.filter(object_type=spec.object_type, object_id=spec.object_id).order_by("seq")
    if spec.date_from is None or spec.date_to is None:
        raise TrailError("A date range needs both dates.", field="date_from")
    if spec.date_to < spec.date_from:
        raise TrailError("The range ends before it starts.", field="date_to")
    if spec.date_from.year < 2000 or spec.date_to.year > 9998:
        raise TrailError("Choose dates between 2000 and 9998.", field="date_to")
    start = datetime.combine(spec.date_from, time.min, tzinfo=timezone.get_current_timezone())
    end = datetime.combine(spec.date_to + timedelta(days=1), time.min,
                           tzinfo=timezone.get_current_timezone())
    return qs.filter(at__gte=start, at__lt=end).order_by("seq")


def review_create(
    spec: ReviewScopeSpec, *, actor: Any, outcome: str, comment: str = ""
) -> TrailReview:
    """Record an independent review of audit-trail entries (A11-16, A11D-02, DI-03).

    Refused when the reviewer made any of the covered entries (independence), when there
    is nothing to review, or when discrepancies are reported without a description.
    Side effects: audit entry `trail.review.create`.
    """
    require(actor, actions.REVIEW)
    if outcome not in ReviewOutcome.values:
        raise TrailError("Choose an outcome.", field="outcome")
    comment = (comment or "").strip()
    if outcome == ReviewOutcome.DISCREPANCIES and not comment:
        raise TrailError("Describe the discrepancies found.", field="comment")
    label = ""
    if spec.scope == ReviewScope.RECORD:
        try:
            audited_type = by_type(spec.object_type)
        except LookupError:
            raise TrailError("Unknown record type.", field="object_type") from None
        try:
            obj = audited_type.model._default_manager.filter(pk=spec.object_id).first()
        except (ValueError, TypeError, ValidationError):
            obj = None
        if obj is None:
            raise TrailError("No such record.", field="object_id")
        require(actor, audited_type.view_action, obj)
        label = audited_type.label(obj)
    elif spec.scope != ReviewScope.RANGE:
        raise TrailError("Choose a scope.", field="scope")
    with transaction.atomic():
        entries = review_entries(spec)
        bounds = list(entries.values_list("seq", "actor_id"))
        if not bounds:
            raise TrailError("There are no entries to review in this scope.", field="scope")
        own = sum(1 for _seq, actor_id in bounds if actor_id == actor.pk)
        if own:
            raise TrailError(
                f"You made {own} of these {len(bounds)} entries; an independent reviewer "
                "must review them.",
                field="scope",
            )
        review = TrailReview.objects.create(
            scope=spec.scope,
            object_type=spec.object_type,
            object_id=spec.object_id,
            object_label=label[:200],
            date_from=spec.date_from,
            date_to=spec.date_to,
            seq_from=bounds[0][0],
            seq_to=bounds[-1][0],
            entries=len(bounds),
            outcome=outcome,
            comment=comment,
            reviewer=actor,
            reviewed_at=timezone.now(),
        )
        audit_record("trail.review.create", review, actor=actor, created=True)
    if outcome == ReviewOutcome.DISCREPANCIES:
        emit_security_event(
            "trail.review.discrepancy", severity=Severity.MEDIUM,
            message=f"Audit-trail review {review.pk} found discrepancies",
            actor_id=actor.pk, username=actor.get_username(),
            data={"review": review.pk, "seq_from": review.seq_from, "seq_to": review.seq_to},
        )
    return review


def reviewed_through(object_type: str, object_id: str) -> TrailReview | None:
    return (
        TrailReview.objects.filter(
            scope=ReviewScope.RECORD, object_type=object_type, object_id=object_id
        )
        .order_by("-seq_to")
        .first()
    )


# --- keys ---------------------------------------------------------------------------------


def key_rotate(*, actor: Any | None = None, reason: str) -> tuple[str, str]:
    """Replace the signing key and the entry authenticator key; old checkpoints and entries
    stay verifiable with the old keys, which are kept.

    Side effects: audit entry `trail.key.rotate` naming both pairs of keys (public key,
    authenticator key id), then a checkpoint signed by the old and the new key, so the
    hand-over itself is provable.
    """
    _authorize(actor, actions.VERIFY)
    reason = (reason or "").strip()
    if not reason:
        raise TrailError("A reason is required.", field="reason")
    old_mac = mac.mac_keys().current
    old, new = keys.rotate()
    new_mac = mac.rotate().current
    with transaction.atomic():
        audit_record(
            "trail.key.rotate", actor=actor, reason=reason,
            object_type="trail.key", object_id=new.key_id.hex(), label="checkpoint signing key",
            changes={
                "verifier_key": [old.verifier().encode(), new.verifier().encode()],
                "authenticator_key_id": [old_mac.hex(), new_mac.hex()],
            },
        )
    trail_seal(extra_signers=[old])
    emit_security_event(
        "trail.key.rotated", severity=Severity.MEDIUM,
        message="Audit-trail signing key rotated",
        actor_id=getattr(actor, "pk", None),
        data={"old": old.key_id.hex(), "new": new.key_id.hex()},
    )
    return old.verifier().encode(), new.verifier().encode()


def trail_export_record(
    *, actor: Any | None, fmt: str, filters: dict[str, Any], entries: int,
    seq_range: tuple[int, int] | None = None,
) -> None:
    """Audit that someone took a copy of the trail (AL-09): who, what filter, how many.

    Side effects: audit entry `trail.export.create`.
    """
    described = {k: str(v) for k, v in sorted(filters.items()) if v not in (None, "")}
    changes: dict[str, list[Any]] = {
        "format": [None, fmt], "filters": [None, described], "entries": [None, entries],
    }
    if seq_range is not None:
        changes["seq_range"] = [None, list(seq_range)]
    with transaction.atomic():
        audit_record(
            "trail.export.create", actor=actor, object_type="trail.export",
            object_id=current_context().correlation_id, label=f"{fmt} export",
            changes=changes,
        )


def list_export_record(
    *, actor: Any, name: str, label: str, filters: dict[str, str], rows: int,
    export_format: str = "csv",
) -> None:
    """Audit that someone took a copy of a list as CSV or PDF (AL-09), as the trail's own
    exports are: which list (`name`, `label` in words), what filter, how many rows.

    Side effects: audit entry `list.export.create`.
    """
    # A list has a handful of filters: anything past that is not one, and kept short.
    described = {k[:50]: str(v)[:200] for k, v in sorted(filters.items())[:20]
                 if v not in (None, "")}
    with transaction.atomic():
        audit_record(
            "list.export.create", actor=actor, object_type="list.export",
            object_id=current_context().correlation_id,
            label=f"{export_format.upper()} export of {label}",
            changes={"list": [None, name], "format": [None, export_format],
                     "filters": [None, described], "rows": [None, rows]},
        )


def entry_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM trail_auditentry")
        return int(cursor.fetchone()[0])
