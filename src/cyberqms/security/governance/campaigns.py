"""Access-review campaigns: who reviews what, with which evidence, and the decisions.

Launching a campaign lists every role in force in its scope (a site, or one person) as an
item, with its reviewer, the use of the role's rights and the findings open about the
person, and a suggestion: keep it, or revoke (or change) it because it goes unused. The
reviewer is the person's manager, or the campaign's owner when they have none, and never
the person.

A reviewer decides each of their items with a reason, then signs one attestation of all
of them (an e-signature, "Access reviewed"). The revocations and changes it holds are
applied in the same transaction, through the account services, so the person's next
request is decided on the roles that remain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cyberqms.platform.accounts.enums import AccountKind, Role
from cyberqms.platform.accounts.models import RoleAssignment, User
from cyberqms.platform.accounts.services import role_grant, role_revoke
from cyberqms.platform.core.access import Actor, require
from cyberqms.platform.kit.signatures import (
    SignatureRequest,
    mark_signing_session,
    record_signature,
    verify_signer,
)
from cyberqms.platform.trail.canonical import canonical_json
from cyberqms.platform.trail.record import audit_record, snapshot
from cyberqms.security.access.models import SystemAccount
from cyberqms.security.access.rights import (
    action_label,
    critical_rights,
    criticality,
    role_label,
    role_rights,
)
from cyberqms.security.access.usage import usage_for
from cyberqms.security.findings.drift import LESSER_ROLE
from cyberqms.security.findings.enums import FindingState
from cyberqms.security.findings.models import AccessFinding

from . import actions
from .enums import Decision, ReviewState
from .models import AccessReview, Attestation, ReviewItem

TYPE = "governance.accessreview"
ATTESTATION_TYPE = "governance.attestation"
ATTEST_ACTION = "governance.attestation.sign"
ATTEST_MEANING = "Access reviewed"


@dataclass
class Planned:
    assignment: RoleAssignment | None
    reviewer: User
    suggestion: str
    suggestion_reason: str
    evidence: dict[str, Any]
    account: SystemAccount | None = None


@dataclass
class Plan:
    items: list[Planned] = field(default_factory=list)
    unreviewable: list[str] = field(default_factory=list)  # usernames without a reviewer


def _in_scope(review: AccessReview) -> list[RoleAssignment]:
    held = (RoleAssignment.objects.held_on(timezone.now())
            .filter(user__is_active=True, user__kind=AccountKind.PERSON)
            .select_related("user", "user__manager", "site"))
    if review.person_id is not None:
        held = held.filter(user_id=review.person_id)
    else:
        held = held.filter(Q(site_id=review.site_id)
                           | Q(site__isnull=True, user__site_id=review.site_id))
    return list(held.order_by("user__username", "role", "pk"))


def reviewer_for(person: User, review: AccessReview) -> User | None:
    manager = person.manager if person.manager_id else None
    if manager is not None and manager.is_active and manager.pk != person.pk:
        return manager
    if review.owner_id != person.pk:
        return review.owner
    return None


def plan_items(review: AccessReview) -> Plan:
    """What launching `review` lists, decided from the roles in force now (a system's
    review: from its accounts in force, `system_review.plan_accounts`)."""
    if review.system_id is not None:
        from .system_review import plan_accounts

        return plan_accounts(review)
    held = _in_scope(review)
    days = settings.CYBERQMS_ACCESS_UNUSED_HIGH_DAYS
    now = timezone.now()
    since = now - dt.timedelta(days=days)
    usage = usage_for({a.user_id for a in held}, since=since.date())
    open_findings: dict[int, list[AccessFinding]] = {}
    for finding in AccessFinding.objects.filter(
            subject_id__in={a.user_id for a in held}, state=FindingState.OPEN,
            is_deleted=False).order_by("pk"):
        open_findings.setdefault(finding.subject_id or 0, []).append(finding)
    plan = Plan()
    by_person: dict[int, list[RoleAssignment]] = {}
    for a in RoleAssignment.objects.held_on(now).filter(
            user_id__in={a.user_id for a in held}):
        by_person.setdefault(a.user_id, []).append(a)
    for a in held:
        reviewer = reviewer_for(a.user, review)
        if reviewer is None:
            plan.unreviewable.append(a.user.username)
            continue
        # What revoking this role would take away: its rights that none of the person's
        # other roles gives at the same place (a right two roles give is used by either).
        kept = {r for other in by_person.get(a.user_id, []) if other.pk != a.pk
                and (other.site_id is None or other.site_id == a.site_id)
                for r in role_rights(other.role)}
        deciding = [r for r in critical_rights(a.role) if r not in kept]
        rights = tuple(deciding) or tuple(
            r for r in role_rights(a.role) if criticality(r) != "low" and r not in kept)
        kind = "deciding rights" if deciding else "rights"
        uses = {r: usage.of(a.user_id, r, a.site_id) for r in rights}
        recent = [u for u in uses.values() if u.last_used_at and u.last_used_at >= since]
        findings = [f for f in open_findings.get(a.user_id, [])
                    if f.assignment_id in (None, a.pk)]
        against = [f for f in findings if f.assignment_id == a.pk]
        if against:
            suggestion, why = Decision.REVOKE, f"{against[0].number}: {against[0].title}"
        elif not rights:
            suggestion = Decision.REVOKE
            why = "Every right of this role comes with another role the person holds"
        elif not recent and a.valid_from <= since:
            lesser = LESSER_ROLE.get(a.role)
            suggestion = Decision.CHANGE if lesser else Decision.REVOKE
            why = (f"None of its {len(rights)} {kind} used in {days} days"
                   + (f": {role_label(lesser)} would do" if lesser else ""))
        else:
            last = max((u.last_used_at for u in uses.values() if u.last_used_at),
                       default=None)
            suggestion = Decision.KEEP
            why = (f"In use: last {timezone.localtime(last):%Y-%m-%d}" if last
                   else "Granted recently")
        evidence = {
            "since": since.date().isoformat(), "days": days,
            "lesser_role": LESSER_ROLE.get(a.role, ""),
            "rights": [{"action": r, "label": action_label(r),
                        "last_used": u.last_used_at.isoformat() if u.last_used_at else "",
                        "uses": u.uses} for r, u in sorted(uses.items())],
            "findings": [{"number": f.number, "title": f.title} for f in findings],
            "granted": a.granted_at.isoformat(), "grant_reason": a.grant_reason,
            "approval_ref": a.approval_ref,
        }
        plan.items.append(Planned(a, reviewer, suggestion, why[:300], evidence))
    return plan


def create_items(review: AccessReview) -> list[ReviewItem]:
    """List the campaign's items (inside the launch's transaction), each audited."""
    plan = plan_items(review)
    items = [ReviewItem(review=review, person_id=p.assignment.user_id,
                        assignment=p.assignment, role=p.assignment.role,
                        site_id=p.assignment.site_id, reviewer=p.reviewer,
                        suggestion=p.suggestion, suggestion_reason=p.suggestion_reason,
                        evidence=p.evidence) if p.assignment is not None else
             ReviewItem(review=review, person_id=p.account.person_id if p.account else None,
                        account=p.account, site_id=review.site_id, reviewer=p.reviewer,
                        suggestion=p.suggestion, suggestion_reason=p.suggestion_reason,
                        evidence=p.evidence) for p in plan.items]
    ReviewItem.objects.bulk_create(items)
    for item in items:
        audit_record("governance.review_item.create", item, actor=None, created=True)
    due = timezone.localdate() + dt.timedelta(days=settings.CYBERQMS_ACCESS_REVIEW_DAYS)
    if review.due_date is None:
        review.due_date = due
        review.save(update_fields=["due_date"])
    return items


# --- decisions -----------------------------------------------------------------------------


def _open_for(item: ReviewItem, actor: Actor) -> None:
    require(actor, actions.DECIDE, item.review)
    if item.reviewer_id != actor.pk:
        raise PermissionDenied("Only the reviewer named for this person decides.")
    if item.person_id is not None and item.person_id == actor.pk:
        raise PermissionDenied("Nobody reviews their own access.")
    if item.review.state != ReviewState.OPEN:
        raise ValidationError({"__all__": ["The campaign is not open for decisions."]})
    if item.attestation_id is not None:
        raise ValidationError({"__all__": ["This decision is signed: it cannot change."]})


def item_decide(item: ReviewItem, *, actor: Actor, decision: str, reason: str,
                new_role: str = "") -> ReviewItem:
    """Record the reviewer's decision on one item (not applied until they attest).

    Side effects: audit entry `governance.review_item.decide`.
    :raises PermissionDenied: not the item's reviewer, or the person themselves.
    :raises ValidationError: naming the field (unknown decision, no reason, a change
        without another role), or the campaign closed, or the item already attested.
    """
    _open_for(item, actor)
    if decision not in Decision.values:
        raise ValidationError({"decision": [f"Choose keep, revoke or change, not "
                                            f"{decision!r}."]})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Say why."]})
    if len(reason) > 500:
        raise ValidationError({"reason": ["At most 500 characters."]})
    new_role = (new_role or "").strip() if decision == Decision.CHANGE else ""
    if decision == Decision.CHANGE and item.account_id is not None:
        raise ValidationError({"decision": ["An account in a system is kept or revoked: "
                                            "its privilege there changes in the system."]})
    if decision == Decision.CHANGE:
        if new_role not in Role.values or new_role == Role.ADMINISTRATOR:
            raise ValidationError({"new_role": ["Choose the role it changes to."]})
        if new_role == item.role:
            raise ValidationError({"new_role": ["Choose another role than the one held."]})
    with transaction.atomic():
        locked = ReviewItem.objects.select_for_update().select_related("review").get(
            pk=item.pk)
        _open_for(locked, actor)
        before = snapshot(locked)
        locked.decision, locked.reason, locked.new_role = decision, reason, new_role
        locked.decided_at = timezone.now()
        locked.save(update_fields=["decision", "reason", "new_role", "decided_at"])
        audit_record("governance.review_item.decide", locked, actor=actor, before=before,
                     reason=reason)
    return locked


def attestation_hash(review: AccessReview, items: list[ReviewItem]) -> str:
    """What the reviewer signs: the campaign and each decision, canonical JSON."""
    content = {"review": review.number, "decisions": [
        {"item": i.pk, "person": i.person_id, "assignment": i.assignment_id,
         "account": i.account_id, "role": i.role,
         "site": i.site_id, "decision": i.decision, "new_role": i.new_role,
         "reason": i.reason} for i in sorted(items, key=lambda i: i.pk)]}
    return hashlib.sha256(canonical_json(content)).hexdigest()


def review_attest(review: AccessReview, *, actor: Actor,
                  signature: SignatureRequest | None) -> Attestation:
    """The reviewer signs their decisions in the campaign ("Access reviewed") and the
    revocations and changes among them take effect at once.

    Side effects: signature row and its audit entry; audit entry
    `governance.attestation.create`; per revocation `accounts.role.revoke` (and
    `accounts.role.grant` for a change), with their security events; findings of the
    person scanned again on commit.
    :raises ValidationError: items still undecided, none to attest, campaign not open.
    :raises SigningError: the signature was refused (nothing changes).
    """
    require(actor, actions.DECIDE, review)
    mine = list(ReviewItem.objects.filter(review_id=review.pk, reviewer_id=actor.pk,
                                          attestation__isnull=True))
    if review.state != ReviewState.OPEN:
        raise ValidationError({"__all__": ["The campaign is not open for decisions."]})
    if not mine:
        raise ValidationError({"__all__": ["You have no decision waiting for your "
                                           "signature in this campaign."]})
    undecided = [i for i in mine if not i.decision]
    if undecided:
        raise ValidationError({"__all__": [f"Decide every item first: {len(undecided)} "
                                           "still open."]})
    verified = verify_signer(actor, signature)
    with transaction.atomic():
        locked = AccessReview.objects.select_for_update().get(pk=review.pk)
        if locked.state != ReviewState.OPEN:
            raise ValidationError({"__all__": ["The campaign is not open for decisions."]})
        items = list(ReviewItem.objects.select_for_update(of=("self",)).filter(
            review_id=review.pk, reviewer_id=actor.pk, attestation__isnull=True)
            .select_related("assignment", "account", "person", "site"))
        if {i.pk for i in items} != {i.pk for i in mine} or any(
                i.decision != m.decision or i.reason != m.reason
                for i, m in zip(sorted(items, key=lambda x: x.pk),
                                sorted(mine, key=lambda x: x.pk), strict=True)):
            raise ValidationError({"__all__": ["Your decisions changed while you signed: "
                                               "look at them again."]})
        revoked = [i for i in items if i.decision in (Decision.REVOKE, Decision.CHANGE)]
        attestation = Attestation.objects.create(
            review=locked, reviewer_id=actor.pk, decisions=len(items), revoked=len(revoked))
        row = record_signature(
            verified, record_type=ATTESTATION_TYPE, record_id=attestation.pk,
            record_label=f"{locked.number} attestation of {verified.user.get_username()}",
            record_hash=attestation_hash(locked, items), action=ATTEST_ACTION,
            meaning=ATTEST_MEANING, reason=f"{len(items)} decisions")
        attestation.signature = row
        attestation.save(update_fields=["signature"])
        audit_record("governance.attestation.create", attestation, actor=actor, created=True,
                     signature_id=row.pk)
        now = timezone.now()
        for item in items:
            before = snapshot(item)
            item.attestation = attestation
            if item.decision in (Decision.REVOKE, Decision.CHANGE):
                _apply(item, locked, actor)
                item.applied_at = now
            item.save(update_fields=["attestation", "applied_at", "granted"])
            audit_record("governance.review_item.attest", item, actor=actor, before=before,
                         signature_id=row.pk)
        if signature is not None:
            transaction.on_commit(lambda: mark_signing_session(signature))
    return attestation


def _apply(item: ReviewItem, review: AccessReview, actor: Any) -> None:
    why = f"Access review {review.number}: {item.reason}"
    if item.account_id is not None:
        from .system_review import removal_ask

        removal_ask(item, review, actor, why)
        return
    assert item.assignment_id is not None  # a role's item
    assert item.person_id is not None
    assignment = RoleAssignment.objects.get(pk=item.assignment_id)
    if assignment.revoked_at is None:
        role_revoke(assignment, actor=actor, reason=why, permission=actions.DECIDE)
    if item.decision == Decision.CHANGE:
        person = User.objects.get(pk=item.person_id)
        held = RoleAssignment.objects.held_on(timezone.now()).filter(
            user=person, role=item.new_role, site=item.site).first()
        item.granted = held or role_grant(
            person, item.new_role, actor=actor, reason=why, site=item.site,
            approval_ref=review.number, permission=actions.DECIDE)


def launch_scheduled(now: dt.datetime | None = None) -> list[AccessReview]:
    """Launch a campaign for every active site, and for every system in use whose accounts
    are kept, whose last scheduled one is older than the review period (the scheduler,
    daily); the owner is the site's first holder of the right to run campaigns (a system's
    accounts are reviewed by the system's owner all the same)."""
    from cyberqms.assets.systems.models import System
    from cyberqms.platform.accounts.models import Site

    months = settings.CYBERQMS_ACCESS_REVIEW_MONTHS
    if months <= 0:
        return []
    now = now or timezone.now()
    horizon = now - dt.timedelta(days=round(months * 30.44))
    quarter = f"{now.year} Q{(now.month - 1) // 3 + 1}"
    launched = []
    for site in Site.objects.filter(is_active=True).order_by("code"):
        review = _scheduled(site, None, f"Access review {site.code} {quarter}", horizon)
        if review is not None:
            launched.append(review)
    systems = (System.objects.filter(is_deleted=False, site__is_active=True,
                                     accounts__removed_at__isnull=True)
               .exclude(state="retired").distinct().select_related("site").order_by("number"))
    for system in systems:
        review = _scheduled(system.site, system,
                            f"Accounts of {system.title} {quarter}", horizon)
        if review is not None:
            launched.append(review)
    return launched


def _scheduled(site: Any, system: Any, title: str,
               horizon: dt.datetime) -> AccessReview | None:
    from cyberqms.platform.core.access import people_able

    from .enums import ReviewKind

    if AccessReview.objects.filter(site=site, system=system,
                                   review_kind=ReviewKind.SCHEDULED, is_deleted=False,
                                   created_at__gt=horizon).exists():
        return None
    owner = people_able("access_reviews.submit", [site.pk]).first()
    if owner is None:
        return None
    what = (f"Scheduled review of the accounts of {system.number} {system.title}, by its "
            "system owner." if system is not None
            else "Scheduled review of every role in force at the site.")
    review, launched = review_opened(
        site=site, owner=owner, kind=ReviewKind.SCHEDULED, title=title, description=what,
        system=system, created_why="Scheduled access review", started_why="Scheduled")
    return review if launched else None  # not launched: the draft says why on its page


def review_opened(*, site: Any, owner: Any, kind: str, title: str, description: str,
                  created_why: str, started_why: str, person: Any = None,
                  system: Any = None) -> tuple[AccessReview, bool]:
    """A campaign cyberqms opens by itself (on the schedule, for a mover): made in draft
    and audited in one transaction, then launched when someone can review it; the review
    and whether it was launched."""
    from cyberqms.platform.kit.records import next_number

    from .workflow import REVIEW_WORKFLOW

    with transaction.atomic():
        review = AccessReview(title=title, site=site, system=system, person=person,
                              owner=owner, originator=owner, state=ReviewState.DRAFT,
                              review_kind=kind, description=description)
        review.number = next_number("AR")
        review.save()
        audit_record(f"{TYPE}.create", review, actor=None, created=True, reason=created_why)
    try:
        REVIEW_WORKFLOW.run(review, "start", actor=None, reason=started_why)
    except ValidationError:
        return review, False
    return review, True


def schedule_interval() -> float:
    return 24 * 3600.0


def remind_reviewers(today: dt.date | None = None) -> int:
    """Tell every reviewer with decisions still unsigned in an open campaign past its due
    date (the scheduler, daily; one notice per reviewer and campaign, said again it stays
    one notice); returns how many reviewers were told."""
    from cyberqms.platform.notifications.services import notify_record

    today = today or timezone.localdate()
    told = 0
    late = AccessReview.objects.filter(state=ReviewState.OPEN, is_deleted=False,
                                       due_date__lt=today)
    for review in late.order_by("due_date", "pk"):
        waiting = User.objects.filter(pk__in=ReviewItem.objects.filter(
            review=review, attestation__isnull=True).values("reviewer_id"))
        people = list(waiting)
        if people:
            notify_record(people, review, kind="overdue",
                          subject=f"access review overdue since {review.due_date}: decide "
                                  "and sign")
            told += len(people)
    return told
