"""Access governance over the API, under /api/v1/access/: the figures, a drift scan, a
person's use of their rights, the segregation-of-duties matrix, and a reviewer's items of
a campaign with their decisions and the signed attestation. Findings and campaigns
themselves are the record kit's (/api/v1/access-findings, /api/v1/access-reviews)."""
# No "from __future__ import annotations": ninja reads the operation's annotations at run time.

import datetime as dt
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from cyberqms.platform.accounts.models import RoleAssignment, User
from cyberqms.platform.core.access import can
from cyberqms.platform.core.api_gate import api_actor, gate
from cyberqms.platform.core.client_address import request_client_address
from cyberqms.platform.kit.signatures import (
    SignatureRequest,
    SigningError,
    commitment_accept,
    has_commitment,
)
from cyberqms.security.access.rights import action_label, criticality, role_rights
from cyberqms.security.access.sod import SOD_MATRIX
from cyberqms.security.access.usage import usage_for

from . import actions
from .campaigns import item_decide, review_attest
from .metrics import governance_figures
from .models import AccessReview, ReviewItem

router = Router(tags=["Access governance"])
_NOT_FOUND = {404: {"description": "No such record, or not one you may see."}}


class FiguresOut(Schema):
    period_days: int
    open_findings: dict[str, int]
    open_sod_conflicts: int
    dormant_accounts: int
    review_decisions: int
    review_on_time: int
    review_on_time_pct: float | None
    campaigns_closed: int
    rights_revoked: int
    revoked_per_campaign: float | None
    leavers: int
    median_leaver_to_disable_s: float | None


class ScanOut(Schema):
    raised: list[str]
    resolved: list[str]
    still_open: int


class RightUseOut(Schema):
    action: str
    label: str
    criticality: str
    last_used: dt.datetime | None
    uses: int = Field(description="Uses in the months of the review window.")


class RoleUseOut(Schema):
    role: str
    site: str | None
    since: dt.datetime
    approval_ref: str
    rights: list[RightUseOut]


class PersonUsageOut(Schema):
    username: str
    window_days: int
    roles: list[RoleUseOut]


class SodRuleOut(Schema):
    code: str
    roles: list[str]
    with_roles: list[str]
    same_site: bool
    why: str


class ItemOut(Schema):
    id: int
    person: str | None = Field(description="Username; null for a system's account that no "
                                           "person answers for.")
    role: str = Field(description="The role reviewed; empty for a system's account.")
    system: str | None = Field(None, description="A system's review: the system's number.")
    account: str | None = Field(None, description="A system's review: the account's name "
                                                  "in the system.")
    privilege: str | None = Field(None, description="The account's privilege in the system.")
    site: str | None
    reviewer: str
    suggestion: str
    suggestion_reason: str
    evidence: dict[str, Any]
    decision: str
    new_role: str
    reason: str
    signed: bool
    applied: bool


class DecideIn(Schema):
    model_config = ConfigDict(extra="forbid")

    decision: str = Field(max_length=10, description="keep, revoke or change")
    reason: str = Field(max_length=500)
    new_role: str = Field("", max_length=20, description="For change: the role it becomes.")


class AttestIn(Schema):
    model_config = ConfigDict(extra="forbid")

    password: str = Field("", max_length=1024)
    otp: str = Field("", max_length=12, description="TOTP code: first signature of a session.")
    accept_statement: bool = Field(
        False, description="Acknowledge the accountability statement (first signature only).")


class AttestedOut(Schema):
    decisions: int
    revoked: int
    signed_at: dt.datetime
    signature: str


@router.get("/access/overview", response=FiguresOut, operation_id="access_overview")
@gate(actions.GOVERNANCE_VIEW)
def access_overview(request: HttpRequest) -> dict[str, Any]:
    """Access-governance figures over the last year: open findings by severity, open
    segregation-of-duties conflicts, dormant accounts, reviews signed on time, rights
    revoked per campaign, and the median time from a leaver date to the disabled account."""
    f = governance_figures()
    return {**f.__dict__, "review_on_time_pct": f.review_on_time_pct,
            "revoked_per_campaign": f.revoked_per_campaign}


@router.post("/access/scan", response=ScanOut, operation_id="access_scan")
@gate(actions.SCAN)
def access_scan(request: HttpRequest) -> dict[str, Any]:
    """Run a drift scan now (it also runs every hour): the numbers of the findings raised
    and resolved."""
    from cyberqms.security.findings.scan import drift_scan

    result = drift_scan()
    return {"raised": [f.number for f in result.raised],
            "resolved": [f.number for f in result.cleared], "still_open": result.still_open}


@router.get("/access/people/{username}/usage", response=PersonUsageOut,
            operation_id="access_person_usage", openapi_extra={"responses": _NOT_FOUND})
@gate(actions.USAGE_VIEW)
def access_person_usage(request: HttpRequest, username: str) -> dict[str, Any]:
    """A person's roles in force and, for each right they give, when it was last used and
    how often in the review window (counted from the access-decision log)."""
    subject = User.objects.filter(username=username[:150]).first()
    if subject is None:
        raise Http404
    days = settings.CYBERQMS_ACCESS_UNUSED_HIGH_DAYS
    since = timezone.now() - dt.timedelta(days=days)
    usage = usage_for([subject.pk], since=since.date())
    roles = []
    for a in RoleAssignment.objects.held_on(timezone.now()).filter(user=subject).select_related(
            "site").order_by("role", "pk"):
        rights = []
        for r in role_rights(a.role):
            if criticality(r) == "low":
                continue
            use = usage.of(subject.pk, r, a.site_id)
            rights.append({"action": r, "label": action_label(r), "criticality": criticality(r),
                           "last_used": use.last_used_at, "uses": use.uses})
        roles.append({"role": a.role, "site": a.site.code if a.site else None,
                      "since": a.valid_from, "approval_ref": a.approval_ref, "rights": rights})
    return {"username": subject.username, "window_days": days, "roles": roles}


class SuggestionOut(Schema):
    role: str
    site: str
    action: str
    holders: int
    unused: int
    days: int
    text: str


@router.get("/access/suggestions", response=list[SuggestionOut],
            operation_id="access_suggestions")
@gate(actions.GOVERNANCE_VIEW)
def access_suggestions(request: HttpRequest) -> list[dict[str, Any]]:
    """Least privilege from use: per role and site (held by at least three people), the
    deciding rights that at most a tenth of the holders used in the window."""
    from cyberqms.security.access.least_privilege import suggestions

    return [{**s.__dict__, "text": s.text} for s in suggestions()]


@router.get("/access/sod", response=list[SodRuleOut], operation_id="access_sod_matrix")
@gate(actions.GOVERNANCE_VIEW)
def access_sod_matrix(request: HttpRequest) -> list[dict[str, Any]]:
    """The segregation-of-duties matrix: roles one person must not hold together."""
    return [{"code": r.code, "roles": sorted(r.first), "with_roles": sorted(r.second),
             "same_site": r.same_site, "why": r.why} for r in SOD_MATRIX]


def _review(request: HttpRequest, review_id: int) -> tuple[Any, AccessReview, bool]:
    actor = api_actor(request)
    review = AccessReview.objects.filter(pk=review_id, is_deleted=False).first()
    if review is None:
        raise Http404
    sees_all = can(actor, "access_reviews.view", review)
    if not sees_all and not ReviewItem.objects.filter(review=review,
                                                      reviewer_id=actor.pk).exists():
        raise Http404
    return actor, review, sees_all


def _item_out(i: ReviewItem) -> dict[str, Any]:
    account = i.account if i.account_id else None
    return {"id": i.pk, "person": i.person.username if i.person is not None else None,
            "role": i.role,
            "system": account.system.number if account else None,
            "account": account.account if account else None,
            "privilege": account.privilege if account else None,
            "site": i.site.code if i.site else None, "reviewer": i.reviewer.username,
            "suggestion": i.suggestion, "suggestion_reason": i.suggestion_reason,
            "evidence": i.evidence, "decision": i.decision, "new_role": i.new_role,
            "reason": i.reason, "signed": i.attestation_id is not None,
            "applied": i.applied_at is not None}


@router.get("/access/reviews/{review_id}/items", response=list[ItemOut],
            operation_id="access_review_items", openapi_extra={"responses": _NOT_FOUND})
@gate(actions.DECIDE)
def access_review_items(request: HttpRequest, review_id: int) -> list[dict[str, Any]]:
    """A campaign's items: yours to decide, or all of them for those who may see
    campaigns."""
    actor, review, sees_all = _review(request, review_id)
    items = ReviewItem.objects.filter(review=review).select_related(
        "person", "site", "reviewer", "account__system")
    if not sees_all:
        items = items.filter(reviewer_id=actor.pk)
    return [_item_out(i) for i in items]


@router.post("/access/reviews/{review_id}/items/{item_id}/decide", response=ItemOut,
             operation_id="access_review_decide", openapi_extra={"responses": _NOT_FOUND})
@gate(actions.DECIDE)
def access_review_decide(request: HttpRequest, review_id: int, item_id: int,
                         payload: DecideIn) -> dict[str, Any]:
    """Decide one item you review: keep, revoke, or change to `new_role`, with a reason
    (applied when you sign your attestation)."""
    actor, review, _ = _review(request, review_id)
    item = ReviewItem.objects.filter(pk=item_id, review=review).select_related(
        "review").first()
    if item is None:
        raise Http404
    decided = item_decide(item, actor=actor, decision=payload.decision, reason=payload.reason,
                          new_role=payload.new_role)
    return _item_out(ReviewItem.objects.select_related(
        "person", "site", "reviewer", "account__system").get(pk=decided.pk))


@router.post("/access/reviews/{review_id}/attest", response=AttestedOut,
             operation_id="access_review_attest", openapi_extra={"responses": _NOT_FOUND})
@gate(actions.DECIDE)
def access_review_attest(request: HttpRequest, review_id: int,
                         payload: AttestIn) -> dict[str, Any]:
    """Sign your decisions in the campaign ("Access reviewed"): the revocations and changes
    among them take effect at once."""
    actor, review, _ = _review(request, review_id)
    if not has_commitment(actor):
        if not payload.accept_statement:
            raise SigningError("Acknowledge the accountability statement "
                               "(accept_statement) before your first signature.",
                               field="accept_statement")
        commitment_accept(actor, source_ip=request_client_address(request) or None)
    attestation = review_attest(review, actor=actor, signature=SignatureRequest(
        password=payload.password, otp=payload.otp, request=request))
    assert attestation.signature is not None  # set in the transaction that made the row
    return {"decisions": attestation.decisions, "revoked": attestation.revoked,
            "signed_at": attestation.signed_at, "signature": attestation.signature.meaning}


class ProposeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    role: str = Field(max_length=20, description="The role, as listed by /access/suggestions.")
    site: str = Field(max_length=20, description="The site's code.")
    action: str = Field(max_length=100, description="The right its holders leave unused.")


class PrivilegeChangeOut(Schema):
    id: int
    change: str = Field(description="The change control's number.")
    role: str
    site: str | None
    action: str
    new_role: str = Field(description="The role the idle holders change to; empty: revoked.")
    people: list[str]
    state: str = Field(description="proposed, applied or cancelled")
    changed: int


def _privilege_out(pc: Any) -> dict[str, Any]:
    return {"id": pc.pk, "change": pc.change_number, "role": pc.role,
            "site": pc.site.code if pc.site else None, "action": pc.action,
            "new_role": pc.new_role, "people": [a["username"] for a in pc.assignments],
            "state": pc.state, "changed": pc.changed}


@router.post("/access/suggestions/propose", response={201: PrivilegeChangeOut},
             operation_id="access_suggestion_propose")
@gate(actions.PROPOSE)
def access_suggestion_propose(request: HttpRequest, payload: ProposeIn) -> Status:
    """Accept a least-privilege suggestion: a change control is raised in draft (yours to
    assess and submit) and the role changes it stands for are kept, to be applied once it
    is approved."""
    from .privilege_changes import suggestion_propose

    pc = suggestion_propose(actor=api_actor(request), role=payload.role, site=payload.site,
                            action=payload.action)
    return Status(201, _privilege_out(pc))


@router.get("/access/privilege-changes", response=list[PrivilegeChangeOut],
            operation_id="access_privilege_changes")
@gate(actions.GOVERNANCE_VIEW)
def access_privilege_changes(request: HttpRequest) -> list[dict[str, Any]]:
    """Role changes raised from least-privilege suggestions, newest first."""
    from .models import PrivilegeChange

    return [_privilege_out(pc) for pc in PrivilegeChange.objects.select_related("site")[:200]]


@router.post("/access/privilege-changes/{change_id}/apply", response=PrivilegeChangeOut,
             operation_id="access_privilege_change_apply",
             openapi_extra={"responses": _NOT_FOUND})
@gate("accounts.role.manage")
def access_privilege_change_apply(request: HttpRequest, change_id: int) -> dict[str, Any]:
    """Apply the role changes of an approved change control (administrators)."""
    from .models import PrivilegeChange
    from .privilege_changes import privilege_change_apply

    pc = PrivilegeChange.objects.filter(pk=change_id).first()
    actor = api_actor(request)
    if pc is None or not isinstance(actor, User):
        raise Http404
    return _privilege_out(privilege_change_apply(pc, actor=actor))
