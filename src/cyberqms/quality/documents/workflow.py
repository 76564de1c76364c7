"""The lifecycle of a document version, one declared table (docs/workflows/ shows it).

draft → in review (each named reviewer signs "Reviewed"; a cyber-relevant document is also
approved by IT security) → approved (QA signs "Approved") → effective on its effective
date (cyberqms takes that step by itself, `make_due_effective`), which supersedes the
version in force → superseded by the next, or obsolete (retired, with a reason). A reviewer
may return a version to draft; the periodic review of an effective version either
confirms it (signed) or leads to a revision or to retirement.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone

from cyberqms.platform.accounts.queries import holders_of
from cyberqms.platform.core.access import can
from cyberqms.platform.core.models import RecordLink
from cyberqms.platform.kit.records import kind_by_type
from cyberqms.platform.kit.words import listing
from cyberqms.platform.kit.workflow import Transition, Workflow
from cyberqms.platform.notifications.services import notify_record

from .enums import DocumentState
from .models import DocumentVersion

S = DocumentState
TYPE_NAME = "documents.document"
CHANGE_TYPE = "changes.change"
# The states of a change control that has been approved and not cancelled.
CHANGE_APPROVED = ("approved", "implementation", "review", "closed")
# An effective version's periodic review may be confirmed this long before it is due.
REVIEW_WINDOW = dt.timedelta(days=90)
# A periodic review QA calls early (after an incident, a new regulation) is due this soon.
CALLED_REVIEW = dt.timedelta(days=30)


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` plus `months` calendar months (the 31st becomes the month's last day)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)  # unreachable: every month has a 28th


# --- what the steps read beyond the version's own fields ----------------------------------


def _approved_changes() -> QuerySet[Any]:
    change = kind_by_type(CHANGE_TYPE).model
    return change._default_manager.filter(
        state__in=CHANGE_APPROVED, is_deleted=False,
    ).annotate(key=Cast("pk", output_field=CharField())).values("key")


def _change_links(version_id: Any) -> QuerySet[RecordLink]:
    return RecordLink.objects.filter(
        removed_at__isnull=True, from_type=TYPE_NAME, from_id=version_id,
        to_type=CHANGE_TYPE, to_id__in=_approved_changes())


def with_change_link(rows: QuerySet[Any]) -> QuerySet[Any]:
    """`rows` carrying `has_approved_change` (a link to an approved change control): what
    the submission of a revision reads, for many versions in the one query."""
    try:
        links = _change_links(Cast(OuterRef("pk"), output_field=CharField()))
    except LookupError:  # no change-control family installed: nothing is ever linked
        return rows
    return rows.annotate(has_approved_change=Exists(links))


def has_approved_change(version: DocumentVersion) -> bool:
    found = getattr(version, "has_approved_change", None)
    if found is not None:
        return bool(found)
    try:
        return _change_links(str(version.pk)).exists()
    except LookupError:
        return False


# --- guards: the sentence a person reads ----------------------------------------------------


def ready_for_review(v: DocumentVersion, actor: Any) -> str | None:
    absent = [what for what, value in (
        ("a reviewer", v.reviewer_id), ("the effective date", v.effective_date),
        ("what changed", v.change_summary.strip() if (v.major, v.minor) != (1, 0) else "-"),
    ) if not value]
    if absent:
        return f"Name {listing(absent)} first."
    if not v.body.strip() and v.source_id is None:
        return "Write the content or upload the content file first."
    if v.needs_change_control() and not has_approved_change(v):
        return ("A revision of this type implements an approved change control: link the "
                "change (relation “Implements”) first.")
    return None


def your_review(v: DocumentVersion, actor: Any) -> str | None:
    if actor.pk not in v.reviewers():
        return "You are not a named reviewer of this version."
    if actor.pk not in v.awaiting_review():
        return "You have reviewed this version."
    return None


def reviewer_or_approver(v: DocumentVersion, actor: Any) -> str | None:
    if actor.pk in v.reviewers() or can(actor, "documents.approve", v):
        return None
    return "Only a named reviewer or QA returns a version to its author."


def security_review(v: DocumentVersion, actor: Any) -> str | None:
    if not v.cyber_relevant:
        return "This document is not cyber-relevant: IT security does not approve it."
    if v.security_approved_at is not None:
        return "IT security has approved this version."
    return None


def approvable(v: DocumentVersion, actor: Any) -> str | None:
    waiting = len(v.awaiting_review())
    if waiting:
        return f"Wait for {'both reviews' if waiting == 2 else 'the review'} first."
    if v.cyber_relevant and v.security_approved_at is None:
        return "This document is cyber-relevant: IT security approves it first."
    if v.effective_date is None:
        return "Set the effective date first."
    if v.effective_date < timezone.localdate():
        return "The effective date has passed: return the version to set a new one."
    return None


def retraining_waivable(v: DocumentVersion, actor: Any) -> str | None:
    if v.minor == 0:
        return ("A major version is always read again: only a minor one can be released "
                "without retraining.")
    if not v.retraining_needed:
        return "Retraining is already waived for this version."
    return None


def date_reached(v: DocumentVersion, actor: Any) -> str | None:
    if v.effective_date is None or v.effective_date > timezone.localdate():
        return f"Effective on {v.effective_date}."
    return None


def nothing_under_way(v: DocumentVersion, actor: Any) -> str | None:
    later = DocumentVersion.objects.filter(
        document_id=v.document_id, state__in=(S.DRAFT, S.IN_REVIEW, S.APPROVED),
        is_deleted=False).first()
    if later is not None:
        return f"{later.number} is under way: cancel it before retiring the document."
    return None


def review_window(v: DocumentVersion, actor: Any) -> str | None:
    """The owner confirms a version in force within 90 days of its periodic review."""
    if actor.pk != v.owner_id:
        return "The document's owner does its periodic review."
    if v.due_date is not None and v.due_date - timezone.localdate() > REVIEW_WINDOW:
        return f"The periodic review is due on {v.due_date}."
    return None


def not_due_soon(v: DocumentVersion, actor: Any) -> str | None:
    if v.due_date is not None and v.due_date - timezone.localdate() <= CALLED_REVIEW:
        return f"The periodic review is already due on {v.due_date}."
    return None


# --- what each step sets --------------------------------------------------------------------


def reviewed(v: DocumentVersion, actor: Any) -> dict[str, Any]:
    now = timezone.now()
    if v.reviewer_id == actor.pk and v.reviewed_at is None:
        return {"reviewed_at": now}
    return {"second_reviewed_at": now}


def security_approved(v: DocumentVersion, actor: Any) -> dict[str, Any]:
    return {"security_approved_at": timezone.now()}


def returned(v: DocumentVersion, actor: Any) -> dict[str, Any]:
    # Reviews, approvals and QA's "no retraining needed" vouched for the content returned;
    # they are done again on what comes back.
    return {"reviewed_at": None, "second_reviewed_at": None, "security_approved_at": None,
            "retraining_needed": True}


def in_force(v: DocumentVersion, actor: Any) -> dict[str, Any]:
    """Effective now; the periodic review falls due one interval after the effective date."""
    start = v.effective_date or timezone.localdate()
    return {"effective_at": timezone.now(), "due_date": add_months(start, v.review_months())}


def review_confirmed(v: DocumentVersion, actor: Any) -> dict[str, Any]:
    return {"due_date": add_months(timezone.localdate(), v.review_months())}


def review_called(v: DocumentVersion, actor: Any) -> dict[str, Any]:
    return {"due_date": timezone.localdate() + CALLED_REVIEW}


def retraining_waived(v: DocumentVersion, actor: Any) -> dict[str, Any]:
    return {"retraining_needed": False}


def closing(v: DocumentVersion, actor: Any) -> dict[str, Any]:
    return {"closed_at": timezone.now()}


# --- what follows a step ---------------------------------------------------------------------


def reviewers_asked(v: DocumentVersion, actor: Any) -> None:
    notify_record(v.reviewers(), v, kind="approval_due", subject="review requested",
                  exclude=actor)


def review_done(v: DocumentVersion, actor: Any) -> None:
    """When the last review is in, IT security (cyber-relevant) or QA is asked."""
    if v.awaiting_review():
        return
    if v.cyber_relevant and v.security_approved_at is None:
        notify_record(holders_of("documents.security_approve", v.site_id), v,
                      kind="approval_due", subject="needs IT security approval",
                      exclude=v.owner_id)
    else:
        qa_asked(v, actor)


def qa_asked(v: DocumentVersion, actor: Any) -> None:
    if approvable(v, actor) is None:
        notify_record(holders_of("documents.approve", v.site_id), v, kind="approval_due",
                      subject="awaits QA approval", exclude=v.owner_id)


def effective_if_due(v: DocumentVersion, actor: Any) -> None:
    """Approved on or after its effective date: it comes into force as soon as the approval
    has committed (the scheduler's job retries it if that fails)."""
    if date_reached(v, None) is None:
        # Robust: the approval has committed; a failure here is logged and the scheduler's
        # job takes the step instead.
        transaction.on_commit(partial(take_effect, v.pk), robust=True)


def take_effect(pk: int) -> bool:
    """Make the approved version `pk` effective when its date has come (cyberqms takes the
    step, with no person); False when it is not approved or not due (any more)."""
    version = DocumentVersion.objects.filter(pk=pk, state=S.APPROVED, is_deleted=False).first()
    if version is None or date_reached(version, None) is not None:
        return False
    DOCUMENT_WORKFLOW.run(version, "make_effective", actor=None)
    return True


def supersede_previous(v: DocumentVersion, actor: Any) -> None:
    """The version in force until now is superseded, in the same transaction; the
    document's row is locked first, so two versions of one document never change places
    at once (and the database refuses two effective versions anyway)."""
    type(v.document)._default_manager.select_for_update().get(pk=v.document_id)
    previous = DocumentVersion.objects.filter(
        document_id=v.document_id, state=S.EFFECTIVE).exclude(pk=v.pk)
    for old in previous:
        DOCUMENT_WORKFLOW.run(old, "supersede", actor=None)


def owner_review_due(v: DocumentVersion, actor: Any) -> None:
    notify_record([v.owner_id], v, kind="assignment",
                  subject=f"periodic review due by {v.due_date}", exclude=actor)


def owner_told_effective(v: DocumentVersion, actor: Any) -> None:
    notify_record([v.owner_id], v, kind="info", subject=f"effective since {v.effective_date}")


DOCUMENT_WORKFLOW = Workflow(DocumentVersion, TYPE_NAME, [
    Transition("submit", S.DRAFT, S.IN_REVIEW, "documents.submit",
               guards=(ready_for_review,), effects=(reviewers_asked,),
               label="Send for review"),
    Transition("review", S.IN_REVIEW, S.IN_REVIEW, "documents.work", sign="Reviewed",
               only=your_review, not_by=("owner", "originator"), updates=reviewed,
               effects=(review_done,), label="Review"),
    Transition("security_approve", S.IN_REVIEW, S.IN_REVIEW, "documents.security_approve",
               sign="Approved (IT security)", only=security_review,
               not_by=("owner", "originator"),
               updates=security_approved, effects=(qa_asked,),
               label="IT security approve"),
    Transition("approve", S.IN_REVIEW, S.APPROVED, "documents.approve", sign="Approved",
               not_by=("owner", "originator", "reviewer", "second_reviewer"),
               guards=(approvable,),
               effects=(effective_if_due,), label="Approve"),
    # QA decides, signed with a reason, that a minor revision changes nothing its readers
    # must learn: whoever read the version before needs not read this one (training).
    *(Transition("waive_retraining", state, state, "documents.approve",
                 sign="No retraining needed", reason=True, only=retraining_waivable,
                 not_by=("owner", "originator"), updates=retraining_waived,
                 label="No retraining needed")
      for state in (S.IN_REVIEW, S.APPROVED)),
    Transition("make_effective", S.APPROVED, S.EFFECTIVE, "documents.approve",
               system=True, guards=(date_reached,), updates=in_force,
               before=(supersede_previous,), effects=(owner_told_effective,),
               label="Make effective"),
    Transition("supersede", S.EFFECTIVE, S.SUPERSEDED, "documents.approve", system=True,
               updates=closing, label="Supersede"),
    Transition("confirm_review", S.EFFECTIVE, S.EFFECTIVE, "documents.work",
               sign="Periodic review: remains current", only=review_window,
               updates=review_confirmed, label="Confirm periodic review"),
    Transition("call_review", S.EFFECTIVE, S.EFFECTIVE, "documents.review", reason=True,
               only=not_due_soon, updates=review_called, effects=(owner_review_due,),
               label="Call an early periodic review"),
    Transition("retire", S.EFFECTIVE, S.OBSOLETE, "documents.approve", sign="Retired",
               reason=True, guards=(nothing_under_way,), updates=closing,
               label="Retire (obsolete)"),
    Transition("return", S.IN_REVIEW, S.DRAFT, "documents.work", reason=True,
               only=reviewer_or_approver, updates=returned, label="Return to the author"),
    Transition("cancel", (S.DRAFT, S.IN_REVIEW, S.APPROVED), S.CANCELLED,
               "documents.cancel", reason=True, updates=closing),
],
    # The steps' own timestamps and the periodic review date are not what a signature
    # vouches for: a reviewer's signature stays valid when the next reviewer signs.
    # Nor is who owns it now (an effective document changes hands, its content does not),
    # nor QA's decision that readers need not read a minor revision again (signed itself).
    unsigned_fields=("state", "updated_at", "closed_at", "due_date", "owner_id",
                     "reviewed_at", "second_reviewed_at", "security_approved_at",
                     "effective_at", "retraining_needed"),
    guard_data=with_change_link,
)
