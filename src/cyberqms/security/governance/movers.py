"""Movers: a role granted to, or revoked from, someone who keeps other roles starts a
review of the access they keep (A11D-01). cyberqms opens the campaign for that one person
once the change has committed, at their home site, owned by someone there who runs
campaigns, and launches it; their manager (or the owner) decides."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from cyberqms.platform.accounts.models import RoleAssignment, Site, User
from cyberqms.platform.core.access import people_able

from .enums import ReviewKind, ReviewState
from .models import AccessReview

logger = logging.getLogger(__name__)
TYPE = "governance.accessreview"


def on_role_change(sender: Any, *, user: Any, assignment: Any, **kwargs: Any) -> None:
    """A role changed (inside its transaction): a mover when other roles stay in force."""
    if not RoleAssignment.objects.held_on(timezone.now()).filter(user=user).exclude(
            pk=assignment.pk).exists():
        return  # a joiner's first role, or a leaver's last
    pk, role = user.pk, assignment.get_role_display()

    def review() -> None:
        try:
            mover_review(pk, role)
        except Exception:  # the role change stands; the scheduled review covers the person
            logger.exception("mover review of user %s not started", pk)

    transaction.on_commit(review)


def mover_review(person_id: int, role: str) -> AccessReview | None:
    """Open and launch a review of one person's access, unless a campaign open now
    already reviews them (a mover's, or one whose decision made this change)."""
    from .campaigns import review_opened
    from .models import ReviewItem

    person = User.objects.filter(pk=person_id, is_active=True).select_related("site").first()
    if person is None or AccessReview.objects.filter(
            person=person, review_kind=ReviewKind.MOVER, is_deleted=False,
            state__in=(ReviewState.DRAFT, ReviewState.OPEN)).exists() or \
            ReviewItem.objects.filter(person=person, review__state=ReviewState.OPEN).exists():
        return None
    site = person.site or Site.objects.filter(is_active=True).order_by("code").first()
    if site is None:
        return None
    owner = people_able("access_reviews.submit", [site.pk]).exclude(pk=person.pk).first()
    if owner is None:
        return None
    review, launched = review_opened(
        site=site, owner=owner, kind=ReviewKind.MOVER, person=person,
        title=f"Access of {person.printed_name} after a role change",
        description=f"{role}: the roles {person.printed_name} keeps are reviewed.",
        created_why="A role change of a mover", started_why="A role change of a mover")
    if not launched:
        logger.info("mover review %s stays a draft: nobody can review", review.number)
    return review
