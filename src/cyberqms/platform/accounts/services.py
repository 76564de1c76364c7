"""Every write to people, roles, sites, integrations and tokens.

Each function authorizes through the access gate, runs in one transaction, and raises
the security event that monitoring consumes. Pages, the API and CLI commands call these;
none of them writes models directly.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from axes.models import AccessFailureLog
from axes.utils import reset as axes_reset
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.dispatch import Signal
from django.utils import timezone

from cyberqms.platform.core.access import ACTIONS, RateLimited, require, scope_covers
from cyberqms.platform.core.compiled import Compiled, Param
from cyberqms.platform.core.events import (
    emit_repeated_security_event,
    emit_security_event,
    open_security_event,
    repeat_count,
)
from cyberqms.platform.core.models import Severity
from cyberqms.platform.trail.record import audit_record, replay, snapshot

from . import actions
from .enums import AccountKind, Role, WorkPattern
from .models import ApiToken, Department, Integration, RoleAssignment, Site, User
from .roles import GXP_ROLES
from .time_zones import zone_names

TOKEN_PREFIX = "cqms_"  # noqa: S105  (a public marker, not a secret)
# "Last used" of an API token is kept to the minute (one write a minute per token at most).
TOKEN_USE_PRECISION = timedelta(minutes=1)


class ServiceError(ValidationError):
    """A refused write, with the field it concerns (surfaced as 4xx, never 500)."""

    def __init__(self, message: str, *, field: str = "__all__") -> None:
        super().__init__({field: [message]})
        self.field = field
        self.text = message


def _time_zone(name: str) -> str:
    name = (name or "").strip()
    if name not in zone_names():
        raise ServiceError(f"{name!r} is not a known time zone (e.g. Europe/Zurich).",
                           field="time_zone")
    return name


def _actor_id(actor: object) -> int | None:
    """The acting person's id for a security event; None for cyberqms itself and for an
    integration (its id is not a person's: the event's username names it)."""
    return actor.pk if isinstance(actor, User) else None


def _person(actor: object) -> User | None:
    """The actor, when a person: a grant or revocation by an HR integration names no
    person (its reason and audit entry name the integration)."""
    return actor if isinstance(actor, User) else None


def _same(user: User, actor: object) -> bool:
    return isinstance(actor, User) and actor.pk == user.pk


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("A reason is required.", field="reason")
    return reason


def one_time_password() -> str:
    """A random initial password the user must change at first sign-in (P11-28)."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))


@dataclass(frozen=True)
class IssuedPassword:
    user: User
    password: str


# --- users ------------------------------------------------------------------------------


def user_create(
    *,
    actor: User,
    username: str,
    full_name: str,
    email: str,
    reason: str,
    kind: str = AccountKind.PERSON,
    title: str = "",
    site: Site | None = None,
    department: Department | None = None,
    work_pattern: str = "",
) -> IssuedPassword:
    """Create a user with a one-time password to be changed at first sign-in; their time
    zone is their site's (none: the installation's).

    Side effects: audit entry `accounts.user.create`, security event `account.created`.
    """
    require(actor, actions.USER_MANAGE)
    reason = _reason(reason)
    username = username.strip()
    if not username:
        raise ServiceError("A username is required.", field="username")
    if User.objects.filter(username__iexact=username).exists():
        # Also true for deactivated users: an identifier is never reassigned (P11-21).
        raise ServiceError(
            "This username exists or existed and cannot be reused.", field="username"
        )
    if kind not in AccountKind.values:
        raise ServiceError(f"Unknown account kind {kind!r}.", field="kind")
    if not work_pattern:
        work_pattern = WorkPattern.SERVICE if kind == AccountKind.GENERIC else WorkPattern.DAY
    if work_pattern not in WorkPattern.values:
        raise ServiceError(f"Unknown work pattern {work_pattern!r}.", field="work_pattern")
    if department is not None and site is not None and department.site_id != site.pk:
        raise ServiceError("The department belongs to another site.", field="department")
    password = one_time_password()
    with transaction.atomic():
        user = User(
            username=username,
            full_name=full_name.strip(),
            email=email.strip(),
            kind=kind,
            work_pattern=work_pattern,
            title=title.strip(),
            site=site,
            time_zone=site.time_zone if site is not None else "",
            department=department,
            must_change_password=True,
        )
        user.set_password(password)
        user.save()
        audit_record("accounts.user.create", user, actor=actor, created=True, reason=reason,
                     changes={"time_zone": [None, user.time_zone]} if user.time_zone else None)
    emit_security_event(
        "account.created",
        severity=Severity.INFO,
        message=f"Account {username} created by {actor.username}: {reason}",
        actor_id=_actor_id(actor),
        username=actor.username,
        data={"subject": username, "kind": kind, "reason": reason},
    )
    return IssuedPassword(user, password)


def user_deactivate(user: User, *, actor: User, reason: str) -> User:
    """Deactivate at once: sessions stop authenticating and tokens stop working (P11-05).

    Side effects: audit entry `accounts.user.deactivate`; all of the user's tokens are
    revoked (audit entries `accounts.token.revoke`); security event `account.deactivated`.
    """
    require(actor, actions.USER_MANAGE, user)
    reason = _reason(reason)
    if _same(user, actor):
        raise ServiceError("You cannot deactivate your own account.")
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if not locked.is_active:
            raise ServiceError("The account is already deactivated.")
        _deactivate(locked, actor=actor, reason=reason, now=timezone.now())
    return locked


def _deactivate(locked: User, *, actor: User | None, reason: str, now: datetime,
                **extra: object) -> None:
    """Deactivate the locked row, revoke its tokens, audit and report it (inside the
    caller's transaction); `actor` None: cyberqms itself (a leaver's date reached)."""
    before = snapshot(locked)
    locked.is_active = False
    locked.deactivated_at = now
    locked.deactivation_reason = reason
    locked.save(update_fields=["is_active", "deactivated_at", "deactivation_reason"])
    audit_record("accounts.user.deactivate", locked, actor=actor, before=before,
                 reason=reason)
    user_deactivated.send(User, user=locked, reason=reason)
    for token in ApiToken.objects.select_for_update().filter(
        owner=locked, revoked_at__isnull=True
    ):
        _revoke(token, actor=actor, reason=f"Account deactivated: {reason}", now=now)
    by = actor.username if actor is not None else "cyberqms"
    emit_security_event(
        "account.deactivated",
        severity=Severity.MEDIUM,
        message=f"Account {locked.username} deactivated by {by}: {reason}",
        actor_id=_actor_id(actor),
        username=actor.username if actor is not None else "",
        data={"subject": locked.username, "reason": reason, **extra},
    )


def user_reactivate(user: User, *, actor: User, reason: str) -> IssuedPassword:
    """Reactivate with a fresh one-time password: the old secret is not trusted again."""
    require(actor, actions.USER_MANAGE, user)
    reason = _reason(reason)
    password = one_time_password()
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.is_active:
            raise ServiceError("The account is active.")
        before = snapshot(locked)
        locked.is_active = True
        locked.deactivated_at = None
        locked.deactivation_reason = ""
        locked.must_change_password = True
        locked.set_password(password)
        locked.save()
        audit_record("accounts.user.reactivate", locked, actor=actor, before=before,
                     reason=reason)
    emit_security_event(
        "account.reactivated",
        severity=Severity.MEDIUM,
        message=f"Account {user.username} reactivated by {actor.username}: {reason}",
        actor_id=_actor_id(actor),
        username=actor.username,
        data={"subject": user.username, "reason": reason},
    )
    return IssuedPassword(locked, password)


def user_reset_password(user: User, *, actor: User, reason: str) -> IssuedPassword:
    """Issue a one-time password; the user must choose a new one at next sign-in (P11-28).

    An administrator therefore never knows a password the user signs with.
    """
    require(actor, actions.USER_MANAGE, user)
    reason = _reason(reason)
    if _same(user, actor):
        raise ServiceError("Change your own password from your profile.")
    password = one_time_password()
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        before = snapshot(locked)
        locked.set_password(password)
        locked.must_change_password = True
        locked.save(update_fields=["password", "must_change_password"])
        audit_record("accounts.user.reset_password", locked, actor=actor, before=before,
                     reason=reason)
    emit_security_event(
        "account.password_reset",
        severity=Severity.MEDIUM,
        message=f"Password of {user.username} reset by {actor.username}: {reason}",
        actor_id=_actor_id(actor),
        username=actor.username,
        data={"subject": user.username, "reason": reason},
    )
    return IssuedPassword(locked, password)


def user_password_changed(user: User) -> None:
    """Record that the user chose their own password (called from allauth's signals).

    allauth has saved the new password already, so the state before is the one the audit
    trail recorded last. Side effects: audit entry `accounts.user.password_change`.
    """
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        before = replay("accounts.user", str(locked.pk)) or None
        locked.must_change_password = False
        locked.password_changed_at = timezone.now()
        locked.save(update_fields=["must_change_password", "password_changed_at"])
        audit_record("accounts.user.password_change", locked, actor=locked, before=before,
                     created=before is None)
    user.must_change_password = False
    user.password_changed_at = locked.password_changed_at
    user.forget_access_cache()


def user_email_changed(user: User) -> None:
    """Audit a change of the user's own e-mail address made through allauth.

    Side effects: audit entry `accounts.user.email_change`.
    """
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        before = replay("accounts.user", str(locked.pk)) or None
        audit_record("accounts.user.email_change", locked, actor=locked, before=before,
                     created=before is None)


def user_time_zone_set(user: User, *, actor: User, time_zone: str) -> User:
    """Set the zone the person's pages show times in (self-service: one's own only).

    Refused, naming the field `time_zone`, for a name the tz database does not know.
    Side effects: audit entry `accounts.user.time_zone_change` with the old and the new zone.
    """
    require(actor, actions.SELF)
    if user.pk != actor.pk:
        raise ServiceError("People choose their own time zone.", field="time_zone")
    name = _time_zone(time_zone)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        old = locked.time_zone
        if name != old:
            locked.time_zone = name
            locked.save(update_fields=["time_zone"])
            # A display preference, not GxP data: outside the record's audited state (so
            # reconciliation ignores it), its change recorded here.
            audit_record("accounts.user.time_zone_change", locked, actor=actor,
                         changes={"time_zone": [old, name]})
    user.time_zone = name
    return user


def user_unlock(username: str, *, actor: User, reason: str) -> int:
    """Lift a lockout (P11-33); returns the number of lockout records cleared."""
    require(actor, actions.USER_MANAGE)
    reason = _reason(reason)
    subject = User.objects.filter(username__iexact=username).first()
    with transaction.atomic():
        cleared = int(axes_reset(username=username.lower()) or 0)
        audit_record(
            "accounts.user.unlock", actor=actor, reason=reason,
            object_type="accounts.user", object_id=subject.pk if subject else username.lower(),
            label=subject.username if subject else username.lower(),
            changes={"lockouts_cleared": [cleared, 0]},
        )
    emit_security_event(
        "auth.unlock",
        severity=Severity.MEDIUM,
        message=f"Lockout of {username} lifted by {actor.username}: {reason}",
        actor_id=_actor_id(actor),
        username=actor.username,
        data={"subject": username, "reason": reason, "cleared": cleared},
    )
    return cleared


def user_verify_identity(user: User, *, actor: User, method: str) -> User:
    """Record who verified the user's identity and how (P11-22), before signing rights."""
    require(actor, actions.USER_MANAGE, user)
    method = method.strip()
    if not method:
        raise ServiceError("Say how the identity was verified.", field="method")
    if _same(user, actor):
        raise ServiceError("Nobody verifies their own identity.")
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        before = snapshot(locked)
        locked.identity_verified_at = timezone.now()
        locked.identity_verified_by = actor
        locked.identity_verification_method = method
        locked.save(update_fields=["identity_verified_at", "identity_verified_by",
                                   "identity_verification_method"])
        audit_record("accounts.user.verify_identity", locked, actor=actor, before=before,
                     reason=method)
    user.refresh_from_db()
    return user


# --- roles ------------------------------------------------------------------------------


# Sent inside the transaction of a role's grant: what follows from the roles a person holds
# (the training their curricula give) commits with the grant.
roles_changed = Signal()  # sender: RoleAssignment; user, assignment
role_revoked = Signal()  # sender: RoleAssignment; user, assignment (inside the transaction)
user_deactivated = Signal()  # sender: User; user, reason (inside the transaction)


def role_grant(
    user: User,
    role: str,
    *,
    actor: User,
    reason: str,
    site: Site | None = None,
    valid_until: datetime | None = None,
    approval_ref: str = "",
    permission: str = actions.ROLE_MANAGE,
) -> RoleAssignment:
    """Grant a role, recording who, when and why (A11-20), and the record that approved it
    (`approval_ref`, a change control's number: without one, access governance raises a
    finding).

    Refuses combinations that break segregation: administrator with a GxP role (DI-01),
    GxP roles on generic accounts (DI-02), open-ended or over-long auditor access (AL-09).
    `permission`: the right the actor grants by, when it is not role management itself (an
    access reviewer's change of a role, which its own service has checked).

    Side effects: security event `account.role_granted` (high for administrator).
    """
    require(actor, permission, user)
    reason = _reason(reason)
    if role not in Role.values:
        raise ServiceError(f"Unknown role {role!r}.", field="role")
    if _same(user, actor):
        raise ServiceError("Nobody grants roles to themselves.", field="user")
    if not user.is_active:
        raise ServiceError("The account is deactivated.", field="user")
    now = timezone.now()
    if valid_until is not None and valid_until <= now:
        raise ServiceError("The end of validity must be in the future.", field="valid_until")
    if role == Role.AUDITOR:
        longest = now + timedelta(days=settings.CYBERQMS_AUDITOR_MAX_DAYS)
        if valid_until is None or valid_until > longest:
            raise ServiceError(
                f"Auditor access is time-boxed: at most {settings.CYBERQMS_AUDITOR_MAX_DAYS} "
                "days.",
                field="valid_until",
            )
    held = {a.role for a in RoleAssignment.objects.held_on(now).filter(user=user)}
    if role in GXP_ROLES and user.kind != AccountKind.PERSON:
        raise ServiceError("Generic accounts cannot hold GxP roles.", field="role")
    if role == Role.ADMINISTRATOR and held & GXP_ROLES:
        raise ServiceError(
            "Administrators cannot hold a role that creates GxP records.", field="role"
        )
    if role in GXP_ROLES and Role.ADMINISTRATOR in held:
        raise ServiceError(
            "The user is an administrator; administrators cannot create GxP records.",
            field="role",
        )
    with transaction.atomic():
        duplicate = (
            RoleAssignment.objects.held_on(now)
            .select_for_update()
            .filter(user=user, role=role, site=site)
            .exists()
        )
        if duplicate:
            raise ServiceError("The user already holds this role at this scope.", field="role")
        assignment = RoleAssignment.objects.create(
            user=user,
            role=role,
            site=site,
            valid_from=now,
            valid_until=valid_until,
            granted_by=_person(actor),
            granted_at=now,
            grant_reason=reason,
            approval_ref=approval_ref.strip()[:40],
        )
        audit_record("accounts.role.grant", assignment, actor=actor, created=True,
                     reason=reason)
        roles_changed.send(RoleAssignment, user=user, assignment=assignment)
    emit_security_event(
        "account.role_granted",
        severity=Severity.HIGH if role == Role.ADMINISTRATOR else Severity.LOW,
        message=f"{actor.username} granted {role} to {user.username}: {reason}",
        actor_id=_actor_id(actor),
        username=actor.username,
        data={"subject": user.username, "role": role, "site": site.code if site else None,
              "reason": reason, "change_ref": approval_ref.strip()[:40]},
    )
    user.forget_access_cache()
    return assignment


def role_revoke(assignment: RoleAssignment, *, actor: User, reason: str,
                permission: str = actions.ROLE_MANAGE) -> RoleAssignment:
    """Revoke a role at once; the assignment stays as history (A11-20). `permission`: the
    right the actor revokes by, when it is not role management itself (an access
    reviewer's decision, which its own service has checked is theirs to take)."""
    require(actor, permission, assignment.user)
    reason = _reason(reason)
    with transaction.atomic():
        locked = RoleAssignment.objects.select_for_update().get(pk=assignment.pk)
        if locked.revoked_at is not None:
            raise ServiceError("The role is already revoked.")
        before = snapshot(locked)
        locked.revoked_at = timezone.now()
        locked.revoked_by = _person(actor)
        locked.revoke_reason = reason
        locked.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        audit_record("accounts.role.revoke", locked, actor=actor, before=before, reason=reason)
        role_revoked.send(RoleAssignment, user=locked.user, assignment=locked)
    locked.user.forget_access_cache()
    emit_security_event(
        "account.role_revoked",
        severity=Severity.LOW,
        message=f"{actor.username} revoked {locked.role} from {locked.user.username}: {reason}",
        actor_id=_actor_id(actor),
        username=actor.username,
        data={"subject": locked.user.username, "role": locked.role, "reason": reason},
    )
    return locked


# --- sites ------------------------------------------------------------------------------


def site_create(*, actor: User, code: str, name: str, country: str = "",
                time_zone: str = "UTC") -> Site:
    require(actor, actions.SITE_MANAGE)
    code = code.strip().upper()
    if not code:
        raise ServiceError("A code is required.", field="code")
    if Site.objects.filter(code=code).exists():
        raise ServiceError("A site with this code exists.", field="code")
    time_zone = _time_zone(time_zone)
    with transaction.atomic():
        site = Site.objects.create(code=code, name=name.strip(), country=country.upper()[:2],
                                   time_zone=time_zone)
        audit_record("accounts.site.create", site, actor=actor, created=True)
    return site


def department_create(*, actor: User, site: Site, code: str, name: str) -> Department:
    require(actor, actions.SITE_MANAGE, site)
    code = code.strip().upper()
    if not code:
        raise ServiceError("A code is required.", field="code")
    if Department.objects.filter(site=site, code=code).exists():
        raise ServiceError("This site already has a department with this code.", field="code")
    with transaction.atomic():
        department = Department.objects.create(site=site, code=code, name=name.strip())
        audit_record("accounts.department.create", department, actor=actor, created=True)
    return department


# --- integrations and tokens ----------------------------------------------------------


def integration_create(
    *,
    actor: User,
    name: str,
    kind: str,
    system: str,
    site: Site | None = None,
    allowed_addresses: list[str] | None = None,
    description: str = "",
) -> Integration:
    require(actor, actions.INTEGRATION_MANAGE)
    if Integration.objects.filter(name=name).exists():
        raise ServiceError("An integration with this name exists.", field="name")
    with transaction.atomic():
        integration = Integration.objects.create(
            name=name, kind=kind, system=system, site=site,
            allowed_addresses=allowed_addresses or [], description=description,
            created_by=actor,
        )
        audit_record("accounts.integration.create", integration, actor=actor, created=True)
    return integration


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str


def _hash_token(secret: str) -> str:
    # Tokens carry 256 bits of randomness, so a fast hash cannot be brute-forced.
    return hashlib.sha256(secret.encode()).hexdigest()


def token_create(
    *,
    actor: User,
    name: str,
    scopes: list[str],
    days: int,
    owner: User | None = None,
    integration: Integration | None = None,
) -> IssuedToken:
    """Issue a token; the secret is returned once and only its hash is stored.

    A user's token can never exceed the user's own rights: the gate checks both the
    token's scopes and the user's roles at every use.
    """
    if (owner is None) == (integration is None):
        raise ServiceError("A token belongs to a user or to an integration.", field="owner")
    if integration is not None:
        require(actor, actions.INTEGRATION_MANAGE, integration)
    elif owner is not None and owner.pk != actor.pk:
        raise ServiceError("Users issue tokens for themselves only.", field="owner")
    else:
        require(actor, actions.SELF)
    name = name.strip()
    if not name:
        raise ServiceError("A name is required.", field="name")
    if not scopes:
        raise ServiceError("Choose at least one scope.", field="scopes")
    for scope in scopes:
        if not any(scope_covers([scope], action) for action in ACTIONS):
            raise ServiceError(f"Scope {scope!r} matches no action.", field="scopes")
    if not 1 <= days <= settings.CYBERQMS_TOKEN_MAX_DAYS:
        raise ServiceError(
            f"Tokens live 1 to {settings.CYBERQMS_TOKEN_MAX_DAYS} days.", field="days"
        )
    prefix = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            owner=owner,
            integration=integration,
            name=name,
            prefix=prefix,
            token_hash=_hash_token(secret),
            scopes=sorted(set(scopes)),
            created_by=actor,
            expires_at=timezone.now() + timedelta(days=days),
        )
        audit_record("accounts.token.create", token, actor=actor, created=True)
    emit_security_event(
        "account.token_created",
        severity=Severity.LOW,
        message=f"API token {name} ({prefix}) issued by {actor.username}",
        actor_id=_actor_id(actor),
        username=actor.username,
        data={"token": prefix, "scopes": token.scopes,
              "holder": str(owner.username if owner else integration)},
    )
    return IssuedToken(token, secret)


def token_revoke(token: ApiToken, *, actor: User, reason: str) -> ApiToken:
    """Revoke at once (P11-32): the next request with it is refused."""
    if token.owner_id != actor.pk:
        require(actor, actions.TOKEN_MANAGE, token)
    reason = _reason(reason)
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is not None:
            raise ServiceError("The token is already revoked.")
        _revoke(locked, actor=actor, reason=reason, now=timezone.now())
    emit_security_event(
        "account.token_revoked",
        severity=Severity.LOW,
        message=f"API token {locked.name} ({locked.prefix}) revoked by {actor.username}",
        actor_id=_actor_id(actor),
        username=actor.username,
        data={"token": locked.prefix, "reason": reason},
    )
    return locked


def _revoke(token: ApiToken, *, actor: User | None, reason: str, now: datetime) -> None:
    before = snapshot(token)
    token.revoked_at = now
    token.revoked_by = _person(actor)
    token.revoke_reason = reason[:500]
    token.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    audit_record("accounts.token.revoke", token, actor=actor, before=before, reason=reason)


TOKEN_REJECTED = "auth.token.rejected"  # noqa: S105  (an event kind, not a secret)


def rate_limit_window() -> timedelta:
    """The window of the per-address rate limits (sign-in failures, rejected tokens)."""
    return timedelta(minutes=settings.CYBERQMS_RATE_LIMIT_WINDOW_MINUTES)


# Every API request reads its token: compiled once (core.compiled); prefixes are unique.
_TOKEN_BY_PREFIX = Compiled(lambda: ApiToken.objects.select_related("owner", "integration")
                            .filter(prefix=Param("prefix", models.CharField())).order_by()[:1])


def token_authenticate(secret: str, source_ip: str) -> ApiToken | None:
    """Find the live token for ``secret``; None for anything unknown, expired or revoked.

    Raises `RateLimited`, without looking the token up, while ``source_ip`` has had
    CYBERQMS_TOKEN_FAILURES_PER_ADDRESS rejections in the window its first rejection
    opened (CYBERQMS_RATE_LIMIT_WINDOW_MINUTES); the answer says when that window ends.

    Side effects: a well-formed but refused token, and a request refused by the rate
    limit, count in the address's `auth.token.rejected` security event: the window's
    first rejection writes it, later ones raise its count (`emit_repeated_security_event`);
    `last_used_*` updated on success.
    """
    window = rate_limit_window()
    opened = open_security_event(TOKEN_REJECTED, source_ip, window)
    if opened is not None and repeat_count(opened) >= settings.CYBERQMS_TOKEN_FAILURES_PER_ADDRESS:
        retry_after = math.ceil((opened.created_at + window - timezone.now()).total_seconds())
        _token_rejected(source_ip, "API token refused: too many rejected tokens from the address")
        raise RateLimited(
            f"Too many rejected API tokens from this address; try again in {retry_after} s.",
            retry_after=retry_after,
        )
    if not secret.startswith(TOKEN_PREFIX) or secret.count("_") < 2:
        return None
    prefix = secret[len(TOKEN_PREFIX):].split("_", 1)[0]
    token = _TOKEN_BY_PREFIX.first(prefix=prefix)
    if token is None or not hmac.compare_digest(token.token_hash, _hash_token(secret)):
        _token_rejected(source_ip, "Unknown API token presented", data={"prefix": prefix[:12]})
        return None
    problem = ""
    holder_active = token.holder.is_active
    if token.status != "active":
        problem = f"{token.status} API token presented"
    elif not holder_active:
        problem = "API token of a deactivated holder presented"
    elif token.integration is not None and not _address_allowed(
        token.integration.allowed_addresses, source_ip
    ):
        problem = "API token presented from an address outside the integration's allow-list"
    if problem:
        _token_rejected(source_ip, problem, actor_id=token.owner_id,
                        username=token.owner.username if token.owner else "",
                        data={"prefix": token.prefix})
        return None
    now = timezone.now()
    if (token.last_used_at is None or now - token.last_used_at >= TOKEN_USE_PRECISION
            or token.last_used_ip != (source_ip or None)):
        # At most one write a minute per token and address: "last used" is shown to the
        # minute, and a write on every API read would cost a commit (on SQLite a disk flush
        # and the one write lock) for nothing the holder can see.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now,
                                                   last_used_ip=source_ip or None)
    return token


SIGNIN_RATE_LIMITED = "auth.login.rate_limited"


def signin_admit(source_ip: str) -> None:
    """Refuse a sign-in attempt from ``source_ip`` (raises `RateLimited`) while the
    address has CYBERQMS_SIGNIN_FAILURES_PER_ADDRESS failed sign-ins, whatever the
    usernames, within the last CYBERQMS_RATE_LIMIT_WINDOW_MINUTES; the answer says when
    enough of them will have aged out. The per-account lockout is django-axes' own.

    The failures counted are django-axes' failure log, one row per failed sign-in with
    its client address, so every process sees the same count.

    Side effects: each refusal counts in the address's `auth.login.rate_limited` security
    event (one per window: `emit_repeated_security_event`).
    """
    if not source_ip:
        return
    window, limit = rate_limit_window(), settings.CYBERQMS_SIGNIN_FAILURES_PER_ADDRESS
    now = timezone.now()
    recent = list(
        AccessFailureLog.objects.filter(ip_address=source_ip, attempt_time__gt=now - window)
        .order_by("-attempt_time").values_list("attempt_time", flat=True)[:limit]
    )
    if len(recent) < limit:
        return
    retry_after = math.ceil((recent[-1] + window - now).total_seconds())
    emit_repeated_security_event(
        SIGNIN_RATE_LIMITED, source_ip=source_ip, window=window, severity=Severity.MEDIUM,
        message=f"Sign-in from {source_ip} refused: {limit} failed sign-ins within "
                f"{settings.CYBERQMS_RATE_LIMIT_WINDOW_MINUTES} minutes",
        data={"limit": limit},
    )
    minutes = math.ceil(retry_after / 60)
    raise RateLimited(
        "Too many failed sign-ins from your network address. "
        f"Try again in {minutes} minute{'' if minutes == 1 else 's'}.",
        retry_after=retry_after,
    )


def _token_rejected(source_ip: str, message: str, *, actor_id: int | None = None,
                    username: str = "", data: dict[str, str] | None = None) -> None:
    emit_repeated_security_event(
        TOKEN_REJECTED, source_ip=source_ip, window=rate_limit_window(),
        severity=Severity.MEDIUM, message=message, actor_id=actor_id, username=username,
        data=data,
    )


def _address_allowed(allowed: list[str], source_ip: str) -> bool:
    if not allowed:
        return True
    try:
        address = ipaddress.ip_address(source_ip)
    except ValueError:
        return False
    for entry in allowed:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False
