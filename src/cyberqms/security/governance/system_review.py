"""Per-system access reviews: the accounts a computerized system holds, from its user list
(`access.system_accounts`), reviewed by its system owner.

Each account in force is an item with the evidence of its use (the last sign-in the list
gives, or the newest monitoring received from the system's event sources), the person
who answers for it and how they stand in cyberqms (active, deactivated, past their leaver
date), and a suggestion: revoke an account nobody answers for, one of a person who left,
or one without a sign-in for the unused-rights period; else keep it.

cyberqms cannot remove an account from another system: a revocation, when the owner signs
the attestation, asks the system's owner and IT-security contact to remove it (a task on
their home page until the next user list shows it gone), and the drift scan raises a high
finding for an account still listed after the grace period.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import timezone

from cyberqms.platform.accounts.models import User
from cyberqms.platform.core.home import OpenTask
from cyberqms.platform.trail.record import audit_record, snapshot
from cyberqms.security.access.models import SystemAccount
from cyberqms.security.access.system_accounts import last_sign_ins

from .enums import Decision
from .models import AccessReview, ReviewItem


def system_reviewer(system: Any, person_id: int | None, review: AccessReview) -> User | None:
    """The system's owner, else its QA contact, else the campaign's owner: never the
    person whose account it is."""
    for candidate in (system.owner, system.qa_contact, review.owner):
        if candidate is not None and candidate.is_active and candidate.pk != person_id:
            return candidate
    return None


def _day(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d") if moment else ""


def plan_accounts(review: AccessReview) -> Any:
    """The items launching a system's review lists: every account in force."""
    from .campaigns import Plan, Planned

    system = review.system
    assert system is not None  # plan_items sends only a system's review here
    days = settings.CYBERQMS_ACCESS_UNUSED_HIGH_DAYS
    now = timezone.now()
    since = now - dt.timedelta(days=days)
    accounts = list(SystemAccount.objects.filter(system=system, removed_at__isnull=True)
                    .select_related("person").order_by("account", "pk"))
    seen = last_sign_ins(system, accounts, days=days)
    plan = Plan()
    for account in accounts:
        reviewer = system_reviewer(system, account.person_id, review)
        if reviewer is None:
            plan.unreviewable.append(account.account)
            continue
        person = account.person
        last = seen.get(account.pk)
        if account.removal_asked_at is not None:
            suggestion, why = Decision.REVOKE, (
                f"Revoked in {account.removal_ref} on {_day(account.removal_asked_at)}, "
                "still in the system")
        elif person is None:
            suggestion = Decision.REVOKE
            why = "No person in cyberqms answers for it (a shared or unknown account)"
        elif not person.is_active:
            suggestion = Decision.REVOKE
            why = f"{person.printed_name}'s account in cyberqms is deactivated"
        elif person.leaver_at is not None and person.leaver_at <= now:
            suggestion = Decision.REVOKE
            why = f"{person.printed_name} left on {_day(person.leaver_at)}"
        elif last is not None and last < since:
            suggestion = Decision.REVOKE
            why = f"No sign-in for {days} days (last {_day(last)})"
        elif last is None and account.first_listed_at <= since:
            suggestion = Decision.REVOKE
            why = f"No sign-in known in {days} days"
        else:
            suggestion = Decision.KEEP
            why = (f"In use: last sign-in {_day(last)}" if last
                   else "Listed recently; no sign-in known yet")
        evidence = {
            "since": since.date().isoformat(), "days": days, "system": system.number,
            "account": account.account, "listed_name": account.listed_name,
            "privilege": account.privilege, "privileged": account.privileged,
            "last_sign_in": last.isoformat() if last else "",
            "first_listed": account.first_listed_at.isoformat(),
            "person": person.username if person else "",
            "person_active": bool(person and person.is_active),
        }
        plan.items.append(Planned(None, reviewer, suggestion, why[:300], evidence,
                                  account=account))
    return plan


def removal_ask(item: ReviewItem, review: AccessReview, actor: Any, why: str) -> None:
    """A revoked account: ask the system's owner and IT-security contact to remove it
    (inside the attestation's transaction)."""
    from cyberqms.platform.notifications.services import notify_record

    assert item.account_id is not None  # campaigns._apply sends only accounts here
    account = SystemAccount.objects.select_for_update().select_related("system").get(
        pk=item.account_id)
    if account.removed_at is not None:
        return
    before = snapshot(account)
    account.removal_asked_at = account.removal_asked_at or timezone.now()
    account.removal_ref = account.removal_ref or review.number
    account.save(update_fields=["removal_asked_at", "removal_ref"])
    audit_record("access.system_account.revoke", account, actor=actor, before=before,
                 reason=why)
    system = account.system
    told = [p for p in (system.owner, system.security_contact) if p is not None]
    if told:
        notify_record(told, system, kind="assignment", awaits=(),
                      subject=f"remove the account {account.account} (revoked in "
                              f"{review.number})")


def removal_tasks(user: Any) -> list[OpenTask]:
    """Accounts revoked in a review that the next user list has not shown removed, on the
    home page of the systems' owners and IT-security contacts."""
    from django.db.models import Q
    from django.urls import reverse

    if getattr(user, "pk", None) is None:
        return []
    waiting = (SystemAccount.objects.filter(removed_at__isnull=True,
                                            removal_asked_at__isnull=False)
               .filter(Q(system__owner_id=user.pk) | Q(system__security_contact_id=user.pk))
               .select_related("system").order_by("removal_asked_at", "pk"))
    grace = dt.timedelta(days=settings.CYBERQMS_ACCESS_REMOVAL_DAYS)
    tasks = []
    for account in waiting:
        asked = account.removal_asked_at
        assert asked is not None  # filtered above
        due = timezone.localtime(asked + grace).date()
        tasks.append(OpenTask(
            title=f"{account.system.number} {account.system.title}",
            detail=f"Remove the account {account.account}, revoked in "
                   f"{account.removal_ref}; then import the user list",
            url=reverse("governance:system_accounts", args=[account.system_id]),
            priority="high" if due < timezone.localdate() else "medium", due=due))
    return tasks
