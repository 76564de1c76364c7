"""What drifts in the accounts of the inventory's computerized systems (from their user
lists, `access.system_accounts`): an account nobody active answers for (shared, unknown,
or a person who left), and an account revoked in an access review that the system still
holds after the grace period. Registered with the other detectors (`drift.DETECTORS`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings

from .drift import Found, World, detector
from .enums import FindingKind as K
from .enums import FindingSeverity as Sev


@detector
def accounts_orphaned(world: World) -> Iterable[Found]:
    """An account in a system whose person is unknown (a shared or generic account: no
    one is accountable for what it does, Part 11 §11.300), deactivated, or past their
    leaver date."""
    for account in world.accounts:
        person = account.person
        if person is None:
            why, severity = "no person in cyberqms answers for it", (
                Sev.HIGH if account.privileged else Sev.MEDIUM)
        elif not person.is_active:
            why, severity = f"{person.printed_name}'s account in cyberqms is deactivated", Sev.HIGH
        elif person.leaver_at is not None and person.leaver_at <= world.now:
            why, severity = f"{person.printed_name} left on {world.day(person.leaver_at)}", Sev.HIGH
        else:
            continue
        system = account.system
        yield Found(
            K.ACCOUNT_ORPHAN, severity, f"account:{account.pk}",
            f"{account.account} in {system.title}: {why}",
            person.pk if person else None, system.site_id,
            [("System", f"{system.number} {system.title}"),
             ("Account", f"{account.account} ({account.privilege}"
                         + (", privileged)" if account.privileged else ")")),
             ("Name in the list", account.listed_name or "—"),
             ("Last sign-in in the list", world.day(account.last_login_at)),
             ("In the user list since", world.day(account.first_listed_at)),
             ("Suggestion", "name the person who answers for it, or remove it from the "
                            "system")])


@detector
def accounts_kept(world: World) -> Iterable[Found]:
    """An account revoked in a signed access review that the system's newest user list
    still holds, after the days its owner has to remove it."""
    grace = dt.timedelta(days=settings.CYBERQMS_ACCESS_REMOVAL_DAYS)
    for account in world.accounts:
        asked = account.removal_asked_at
        if asked is None or asked + grace > world.now:
            continue
        system = account.system
        yield Found(
            K.ACCOUNT_KEPT, Sev.HIGH, f"account-kept:{account.pk}",
            f"{account.account} in {system.title}: revoked in {account.removal_ref}, "
            "still in the system",
            account.person_id, system.site_id,
            [("System", f"{system.number} {system.title}"),
             ("Account", f"{account.account} ({account.privilege})"),
             ("Revoked", f"{world.day(asked)} in {account.removal_ref}"),
             ("Newest user list", world.day(account.listed_at)),
             ("Suggestion", "remove the account in the system, then import its user list")])
