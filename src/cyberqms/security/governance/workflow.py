"""The access review's table (docs/workflows/): a draft names the site (and, for a mover,
the one person); launching it lists each role in force with its evidence and reviewer
(by a person, or by cyberqms on the schedule); the owner closes it, e-signed "Campaign
closed", once every reviewer has signed their attestation; it may be cancelled with a
reason."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from cyberqms.platform.kit.workflow import Problem, Transition, Workflow
from cyberqms.platform.notifications.services import notify_record

from .enums import ReviewState
from .models import AccessReview, ReviewItem

S = ReviewState
TYPE = "governance.accessreview"


def has_people(review: AccessReview, actor: Any) -> str | None:
    from .campaigns import plan_items

    plan = plan_items(review)
    if plan.unreviewable:
        return (f"Nobody can review {plan.unreviewable[0]}: name their manager first "
                "(nobody reviews their own access).")
    if not plan.items:
        return Problem("Nobody holds a role in the campaign's scope: there is nothing to "
                       "review.", field="person" if review.person_id else "__all__")
    return None


def all_attested(review: AccessReview, actor: Any) -> str | None:
    waiting = (ReviewItem.objects.filter(review_id=review.pk, attestation__isnull=True)
               .values_list("reviewer__username", flat=True).distinct())
    names = sorted(set(waiting))
    if names:
        return f"Waiting for the attestation of {', '.join(names)}."
    return None


def build(review: AccessReview, actor: Any) -> None:
    from .campaigns import create_items

    create_items(review)


def launched(review: AccessReview, actor: Any) -> dict[str, Any]:
    return {"launched_at": timezone.now()}


def closing(review: AccessReview, actor: Any) -> dict[str, Any]:
    return {"closed_at": timezone.now()}


def reviewers_told(review: AccessReview, actor: Any) -> None:
    from cyberqms.platform.accounts.models import User

    reviewers = User.objects.filter(pk__in=ReviewItem.objects.filter(
        review_id=review.pk).values("reviewer_id"))
    notify_record(reviewers, review, kind="approval_due",
                  subject="access to review and attest", exclude=None)


REVIEW_WORKFLOW = Workflow(AccessReview, TYPE, [
    Transition("launch", S.DRAFT, S.OPEN, "access_reviews.submit", guards=(has_people,),
               before=(build,), updates=launched, effects=(reviewers_told,),
               label="Launch the campaign"),
    Transition("start", S.DRAFT, S.OPEN, "access_reviews.submit", system=True,
               guards=(has_people,), before=(build,), updates=launched,
               effects=(reviewers_told,), label="Launched on schedule"),
    Transition("close", S.OPEN, S.CLOSED, "access_reviews.close", sign="Campaign closed",
               guards=(all_attested,), updates=closing, label="Close the campaign"),
    Transition("cancel", (S.DRAFT, S.OPEN), S.CANCELLED, "access_reviews.cancel",
               reason=True, updates=closing, task=False, label="Cancel"),
])
