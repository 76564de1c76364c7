"""What drifts: each detector reads cyberqms's own state (people, roles in force, tokens,
second factors, the use of rights counted from the access-decision log) and says what it
finds, with the evidence. The whole organization is read in a fixed number of queries
(`World`), whatever the number of people: the detectors then work in memory.

A finding is identified by its fingerprint (kind, person, and what it is about: a role
assignment, a rule, a token), so that a scan finds the same finding again instead of
raising a new one (`scan.py`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import timezone

from cyberqms.platform.accounts.enums import AccountKind, Role
from cyberqms.platform.accounts.models import ApiToken, RoleAssignment, Site, User
from cyberqms.security.access.models import SystemAccount
from cyberqms.security.access.rights import (
    HIGH,
    action_label,
    critical_rights,
    role_label,
)
from cyberqms.security.access.sod import SOD_MATRIX
from cyberqms.security.access.usage import Usage, usage_for

from .enums import FindingKind as K
from .enums import FindingSeverity as Sev

PRIVILEGED = frozenset({Role.ADMINISTRATOR, Role.QA_MANAGER, Role.IT_SECURITY})
# What a role that is not used for its decisions may become (a suggestion to the reviewer).
LESSER_ROLE: dict[str, str] = {Role.QA_MANAGER: Role.QA_REVIEWER,
                               Role.QA_REVIEWER: Role.AUTHOR, Role.PROCESS_OWNER: Role.AUTHOR}


@dataclass
class Found:
    kind: str
    severity: str
    fingerprint: str
    title: str
    subject_id: int | None
    site_id: int | None
    facts: list[tuple[str, str]]
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    assignment_id: int | None = None
    token_id: int | None = None

    def evidence(self) -> dict[str, Any]:
        found: dict[str, Any] = {"facts": [list(f) for f in self.facts]}
        if self.rows:
            found["columns"], found["rows"] = list(self.columns), self.rows
        return found


@dataclass
class World:
    """Everything the detectors read, loaded at once."""

    now: dt.datetime
    people: dict[int, User]
    held: dict[int, list[RoleAssignment]]  # person → roles in force
    tokens: list[ApiToken]
    with_totp: set[int]
    sites: dict[int, str]
    usage: Usage
    approved_refs: set[str]
    auditor_ended: set[int]  # people whose auditor role ended and who hold no other
    # Accounts in force in the inventory's computerized systems (`system_drift`).
    accounts: list[SystemAccount] = field(default_factory=list)

    def site_code(self, site_id: int | None) -> str:
        return "every site" if site_id is None else self.sites.get(site_id, str(site_id))

    def day(self, moment: dt.datetime | None) -> str:
        return timezone.localtime(moment).strftime("%Y-%m-%d") if moment else "never"


def load_world(now: dt.datetime | None = None, *, people: Iterable[int] | None = None) -> World:
    """The organization as the detectors see it (`people`: only these persons)."""
    from allauth.mfa.models import Authenticator

    now = now or timezone.now()
    users = User.objects.select_related("site", "manager")
    if people is not None:
        users = users.filter(pk__in=list(people))
    found_people = {u.pk: u for u in users}
    held: dict[int, list[RoleAssignment]] = defaultdict(list)
    for a in RoleAssignment.objects.held_on(now).filter(
            user_id__in=list(found_people)).select_related("granted_by"):
        held[a.user_id].append(a)
    tokens = list(ApiToken.objects.filter(revoked_at__isnull=True, expires_at__gt=now)
                  .filter(**({"owner_id__in": list(found_people)} if people is not None
                             else {})).select_related("owner", "integration"))
    with_totp = set(Authenticator.objects.filter(
        type=Authenticator.Type.TOTP, user_id__in=list(found_people))
        .values_list("user_id", flat=True))
    longest = max(settings.CYBERQMS_ACCESS_UNUSED_HIGH_DAYS,
                  settings.CYBERQMS_ACCESS_UNUSED_MEDIUM_DAYS)
    # The detectors weigh deciding rights only (and anyone's last use of any right).
    weighed = {r for roles in held.values() for a in roles for r in critical_rights(a.role)}
    usage = usage_for(held, since=(now - dt.timedelta(days=longest)).date(), actions=weighed)
    refs = {a.approval_ref for roles in held.values() for a in roles if a.approval_ref}
    ended_auditors = set(RoleAssignment.objects.filter(
        user_id__in=list(found_people), role=Role.AUDITOR, valid_until__lte=now)
        .values_list("user_id", flat=True)) - set(held)
    accounts = SystemAccount.objects.filter(removed_at__isnull=True).select_related(
        "person", "system")
    if people is not None:
        accounts = accounts.filter(person_id__in=list(found_people))
    return World(now=now, people=found_people, held=dict(held), tokens=tokens,
                 with_totp=with_totp, sites=dict(Site.objects.values_list("id", "code")),
                 usage=usage, approved_refs=_approved(refs), auditor_ended=ended_auditors,
                 accounts=list(accounts))


# A grant is approved by a change control that has been approved (and not cancelled).
APPROVING_TYPE = "changes.change"
APPROVED_STATES = ("approved", "implementation", "review", "closed")


def _approved(refs: set[str]) -> set[str]:
    """The references that name a change control approved (from its approval on)."""
    from cyberqms.platform.kit.records import find_by_number

    approved = set()
    for ref in refs:
        record = find_by_number(ref)
        if record is None or record.is_deleted:
            continue
        if (f"{record._meta.app_label}.{record._meta.model_name}" == APPROVING_TYPE
                and record.state in APPROVED_STATES):
            approved.add(ref)
    return approved


Detector = Callable[[World], Iterable[Found]]
DETECTORS: list[Detector] = []


def detector(fn: Detector) -> Detector:
    DETECTORS.append(fn)
    return fn


def _active_people(world: World) -> list[User]:
    return [u for u in world.people.values() if u.is_active]


def _home_site(world: World, person: User, site_id: int | None = None) -> int | None:
    return site_id or person.site_id


@detector
def unused_rights(world: World) -> Iterable[Found]:
    """A role whose deciding rights (approve, close, verify, administer) its holder has not
    used at its site for N days, held for longer than that: least privilege says give it
    back, or change it to a role without them."""
    days = settings.CYBERQMS_ACCESS_UNUSED_HIGH_DAYS
    since = world.now - dt.timedelta(days=days)
    for person in _active_people(world):
        for a in world.held.get(person.pk, []):
            rights = critical_rights(a.role)
            if not rights or a.valid_from > since:
                continue
            uses = {r: world.usage.of(person.pk, r, a.site_id) for r in rights}
            if any(u.last_used_at and u.last_used_at >= since for u in uses.values()):
                continue
            lesser = LESSER_ROLE.get(a.role)
            advice = (f"change to {role_label(lesser)}" if lesser else "revoke the role")
            ever = [u.last_used_at for u in uses.values() if u.last_used_at]
            yield Found(
                K.UNUSED_RIGHTS, Sev.MEDIUM, f"unused:{a.pk}",
                f"{person.printed_name}: {role_label(a.role)} at {world.site_code(a.site_id)} "
                f"— deciding rights unused for {days} days",
                person.pk, _home_site(world, person, a.site_id),
                [("Role", f"{role_label(a.role)} at {world.site_code(a.site_id)}"),
                 ("Held since", world.day(a.valid_from)),
                 ("Deciding rights", f"{len(rights)}, none used in {days} days"),
                 ("Last used", world.day(max(ever)) if ever else "never"),
                 ("Suggestion", advice)],
                ["Right", "Action", "Last used", f"Uses in {days} days"],
                [[action_label(r), r, world.day(u.last_used_at), str(u.uses)]
                 for r, u in sorted(uses.items())],
                assignment_id=a.pk)


@detector
def dormant_accounts(world: World) -> Iterable[Found]:
    """A person holding roles who has neither signed in nor used a right for N days (nor
    ever, N days after the account was made)."""
    days = settings.CYBERQMS_ACCESS_DORMANT_DAYS
    since = world.now - dt.timedelta(days=days)
    for person in _active_people(world):
        roles = world.held.get(person.pk, [])
        seen = [m for m in (person.last_login, world.usage.last_activity(person.pk)) if m]
        last = max(seen) if seen else None
        if not roles or (last or person.date_joined) >= since:
            continue
        privileged = any(a.role in PRIVILEGED for a in roles)
        yield Found(
            K.DORMANT, Sev.HIGH if privileged else Sev.MEDIUM, f"dormant:{person.pk}",
            f"{person.printed_name}: no activity for {days} days",
            person.pk, person.site_id,
            [("Last sign-in", world.day(person.last_login)),
             ("Last use of a right", world.day(world.usage.last_activity(person.pk))),
             ("Account made", world.day(person.date_joined)),
             ("Roles", ", ".join(sorted(role_label(a.role) for a in roles))),
             ("Suggestion", "deactivate the account, or ask the manager why it is kept")])


@detector
def without_manager(world: World) -> Iterable[Found]:
    """A named person with roles and nobody who answers for their access."""
    for person in _active_people(world):
        if person.kind != AccountKind.PERSON or person.manager_id is not None \
                or not world.held.get(person.pk):
            continue
        yield Found(
            K.NO_MANAGER, Sev.LOW, f"no-manager:{person.pk}",
            f"{person.printed_name}: no responsible manager",
            person.pk, person.site_id,
            [("Roles", ", ".join(sorted(role_label(a.role)
                                        for a in world.held[person.pk]))),
             ("Suggestion", "name the manager who reviews this person's access")])


@detector
def leavers_active(world: World) -> Iterable[Found]:
    """A person past their leaver date whose account is still active (the scheduler
    disables it within a minute: a finding means it did not)."""
    grace = dt.timedelta(minutes=10)
    for person in _active_people(world):
        if person.leaver_at is None or person.leaver_at > world.now - grace:
            continue
        yield Found(
            K.LEAVER_ACTIVE, Sev.HIGH, f"leaver:{person.pk}",
            f"{person.printed_name}: left on {world.day(person.leaver_at)}, account still active",
            person.pk, person.site_id,
            [("Leaver date", timezone.localtime(person.leaver_at).strftime("%Y-%m-%d %H:%M")),
             ("Last sign-in", world.day(person.last_login)),
             ("Suggestion", "deactivate the account now; check what it did after the date")])


@detector
def grants_unapproved(world: World) -> Iterable[Found]:
    """A role in force whose grant names no record that approved it (a change control)."""
    for person in _active_people(world):
        for a in world.held.get(person.pk, []):
            if a.approval_ref and a.approval_ref in world.approved_refs:
                continue
            why = (f"names {a.approval_ref}, which approved nothing" if a.approval_ref
                   else "names no approving record")
            yield Found(
                K.GRANT_UNAPPROVED, Sev.HIGH if a.role in PRIVILEGED else Sev.MEDIUM,
                f"unapproved:{a.pk}",
                f"{person.printed_name}: {role_label(a.role)} at {world.site_code(a.site_id)} "
                f"granted without approval",
                person.pk, _home_site(world, person, a.site_id),
                [("Role", f"{role_label(a.role)} at {world.site_code(a.site_id)}"),
                 ("Granted", f"{world.day(a.granted_at)} by "
                             f"{a.granted_by.username if a.granted_by else 'cyberqms'}"),
                 ("Reason given", a.grant_reason), ("Approval", why),
                 ("Suggestion", "link the change control that approved it, or revoke it")],
                assignment_id=a.pk)


@detector
def sod_conflicts(world: World) -> Iterable[Found]:
    """Roles one person must not hold together (access.sod.SOD_MATRIX)."""
    for person in _active_people(world):
        roles = world.held.get(person.pk, [])
        held = [(a.role, a.site_id) for a in roles]
        for rule in SOD_MATRIX:
            pairs = rule.conflict(held)
            if not pairs:
                continue
            first, second, site_id = pairs[0]
            yield Found(
                K.SOD_CONFLICT, rule.severity, f"sod:{rule.code}:{person.pk}",
                f"{person.printed_name}: {role_label(first)} and {role_label(second)} at "
                f"{world.site_code(site_id)}",
                person.pk, site_id or person.site_id,
                [("Rule", rule.why),
                 ("Held together", "; ".join(
                     f"{role_label(a)} and {role_label(b)} at {world.site_code(s)}"
                     for a, b, s in pairs)),
                 ("Suggestion", "revoke one of the two roles")])


@detector
def privileged_without_mfa(world: World) -> Iterable[Found]:
    """A person holding a role that needs a second factor, who has signed in and has none
    (an account that never signed in enrols at its first sign-in: the gate holds it
    there)."""
    required = set(settings.CYBERQMS_MFA_REQUIRED_ROLES)
    for person in _active_people(world):
        roles = sorted({a.role for a in world.held.get(person.pk, []) if a.role in required})
        if not roles or person.pk in world.with_totp or person.last_login is None:
            continue
        yield Found(
            K.MFA_MISSING, Sev.HIGH, f"mfa:{person.pk}",
            f"{person.printed_name}: privileged without a second factor",
            person.pk, person.site_id,
            [("Privileged roles", ", ".join(role_label(r) for r in roles)),
             ("Second factor", "none enrolled"),
             ("Suggestion", "enrol an authenticator; until then sign-in is held at "
                            "enrolment")])


@detector
def tokens_stale(world: World) -> Iterable[Found]:
    unused = dt.timedelta(days=settings.CYBERQMS_ACCESS_TOKEN_UNUSED_DAYS)
    rotation = dt.timedelta(days=settings.CYBERQMS_TOKEN_ROTATION_DAYS)
    for token in world.tokens:
        holder = token.owner if token.owner_id else None
        if holder is not None and (holder.pk not in world.people or not holder.is_active):
            continue
        who = holder.printed_name if holder else f"integration {token.integration}"
        facts = [("Token", f"{token.name} ({token.prefix}…)"), ("Holder", who),
                 ("Made", world.day(token.created_at)),
                 ("Last used", world.day(token.last_used_at)),
                 ("Expires", world.day(token.expires_at))]
        site_id = holder.site_id if holder else (
            token.integration.site_id if token.integration else None)
        if (token.last_used_at or token.created_at) < world.now - unused:
            yield Found(K.TOKEN_UNUSED, Sev.LOW, f"token-unused:{token.pk}",
                        f"{who}: API token “{token.name}” unused for "
                        f"{unused.days} days", holder.pk if holder else None, site_id,
                        [*facts, ("Suggestion", "revoke it")], token_id=token.pk)
        if token.created_at < world.now - rotation:
            yield Found(K.TOKEN_ROTATION, Sev.MEDIUM, f"token-rotation:{token.pk}",
                        f"{who}: API token “{token.name}” older than {rotation.days} days",
                        holder.pk if holder else None, site_id,
                        [*facts, ("Suggestion", "issue a new token and revoke this one")],
                        token_id=token.pk)


@detector
def auditors_past_time_box(world: World) -> Iterable[Found]:
    """Auditor access longer than the time box (granted before it, or outside cyberqms),
    and auditor accounts still active after their access ended."""
    longest = dt.timedelta(days=settings.CYBERQMS_AUDITOR_MAX_DAYS)
    for person in _active_people(world):
        for a in world.held.get(person.pk, []):
            if a.role != Role.AUDITOR:
                continue
            if a.valid_until is not None and a.valid_until - a.valid_from <= longest:
                continue
            ends = world.day(a.valid_until) if a.valid_until else "never"
            yield Found(
                K.AUDITOR_TIMEBOX, Sev.HIGH, f"auditor:{a.pk}",
                f"{person.printed_name}: auditor access past its time box",
                person.pk, _home_site(world, person, a.site_id),
                [("Access", f"from {world.day(a.valid_from)}, ends {ends}"),
                 ("Time box", f"{longest.days} days"),
                 ("Suggestion", "end the auditor access at the time box")],
                assignment_id=a.pk)
        if person.pk in world.auditor_ended:
            yield Found(
                K.AUDITOR_TIMEBOX, Sev.MEDIUM, f"auditor-ended:{person.pk}",
                f"{person.printed_name}: auditor access ended, account still active",
                person.pk, person.site_id,
                [("Roles in force", "none"), ("Last sign-in", world.day(person.last_login)),
                 ("Suggestion", "deactivate the account")])


def detect(world: World) -> dict[str, Found]:
    """Every finding, by fingerprint."""
    found: dict[str, Found] = {}
    for run in DETECTORS:
        for item in run(world):
            found.setdefault(item.fingerprint, item)
    return found


__all__ = ["DETECTORS", "HIGH", "Found", "World", "detect", "load_world"]
