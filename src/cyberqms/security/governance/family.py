"""Access-review campaigns, declared for the record kit (A11D-01): their own parts are the
kind of campaign, the one person of a mover's review, the items and the attestations."""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from cyberqms.platform.kit.record_filters import RecordFilterSet
from cyberqms.platform.kit.records import Column, FormGroup, RecordKind

from .enums import ReviewKind, ReviewState
from .models import AccessReview
from .workflow import REVIEW_WORKFLOW

S = ReviewState
_RUNNERS = ("it_security", "qa_manager")
GRANTS: dict[str, tuple[str, ...]] = {
    "view": (*_RUNNERS, "qa_reviewer", "auditor", "administrator"),
    "comment": _RUNNERS, "create": _RUNNERS, "edit": _RUNNERS, "submit": _RUNNERS,
    "work": _RUNNERS,
    "delete": _RUNNERS, "close": _RUNNERS, "cancel": _RUNNERS,
    "extension.approve": ("qa_manager",),
}


class ReviewFilter(RecordFilterSet):
    search_fields = ()
    review_kind = django_filters.ChoiceFilter(choices=ReviewKind.choices, empty_label="Any",
                                              label="Campaign")

    class Meta:
        model = AccessReview
        fields: list[str] = []


def person_at_site(review: AccessReview, actor: Any, changed: tuple[str, ...]) -> None:
    """One person or one system, not both; an active person; a system of the campaign's
    site that is in use (its accounts are what the campaign reviews)."""
    person = review.person if review.person_id else None
    if "person" in changed and person is not None and not person.is_active:
        raise ValidationError({"person": [f"{person.username} is deactivated."]})
    system = review.system if review.system_id else None
    if system is None:
        return
    if person is not None:
        raise ValidationError({"system": ["Review one person or one system, not both."]})
    if "system" in changed or "site" in changed:
        if system.is_deleted or system.state == "retired":
            raise ValidationError({"system": [f"{system.number} is retired."]})
        if system.site_id != review.site_id:
            raise ValidationError({"system": [
                f"{system.number} is at {system.site.code}: choose that site."]})


def page_context(request: HttpRequest, review: AccessReview) -> dict[str, Any]:
    from .pages import campaign_context

    return campaign_context(request, review)


def campaign_sections(review: AccessReview) -> list[Any]:
    from .pages import document_sections

    return document_sections(review)


REVIEWS = RecordKind(
    slug="access-reviews", model=AccessReview, workflow=REVIEW_WORKFLOW, prefix="AR",
    label="Access review", action_prefix="access_reviews",
    closed_states=(S.CLOSED, S.CANCELLED),
    summary="Campaigns in which managers review the roles their people hold, and system "
            "owners the accounts of their systems, with the evidence of how each is used, "
            "and sign their decisions; revocations apply at once (A11D-01).",
    nav_section="Security", nav_icon="check", nav_order=35,
    filterset=ReviewFilter, checks=(person_at_site,),
    columns=(Column("number", "Number", "number"), Column("title", "Title", "title"),
             Column("review_kind", "Campaign"), Column("state", "State", "state"),
             Column("site", "Site"), Column("owner", "Owner"),
             Column("due_date", "Due", "due"), Column("launched_at", "Launched")),
    create_fields=("title", "description", "review_kind", "person", "system", "owner",
                   "due_date"),
    editable={S.DRAFT: frozenset({"title", "description", "review_kind", "person", "system",
                                  "owner", "due_date"})},
    labels={"review_kind": "Campaign", "person": "Only this person",
            "system": "Computerized system"},
    sections=(("Campaign", ("review_kind", "person", "system", "launched_at")),),
    form_groups=(FormGroup("Scope", ("review_kind", "person", "system"),
                           "Everyone holding a role at the site, one person, or the "
                           "accounts of one computerized system (its owner reviews "
                           "them)."),),
    detail_template="governance/review_detail.html", detail_context=page_context,
    api_list_fields=("review_kind", "launched_at", "closed_at"),
    grants="", own_grants=GRANTS, own_api="cyberqms.security.governance.api",
)
