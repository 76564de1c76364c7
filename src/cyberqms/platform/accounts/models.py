"""People, organization, roles, integrations and API tokens.

Users are never deleted, so a user id is never reused or reassigned (P11-21): the row
stays, deactivated, for as long as anything refers to it. Role assignments are history:
a grant and its revocation are both kept with who, when and why (A11-20), so "who held
which rights on date X" is a query (`RoleAssignment.objects.held_on`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Expression, Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from cyberqms.platform.core.access import AccessProfile, Grant
from cyberqms.platform.core.compiled import Compiled, Param

from .enums import AccountKind, IntegrationKind, Role, WorkPattern


class Site(models.Model):
    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"


class Department(models.Model):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="departments")
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["site__code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["site", "code"], name="department_code_per_site")
        ]

    def __str__(self) -> str:
        return f"{self.site.code}/{self.code} – {self.name}"


class UndeletableError(Exception):
    pass


class User(AbstractUser):
    kind = models.CharField(max_length=10, choices=AccountKind.choices, default=AccountKind.PERSON)
    work_pattern = models.CharField(
        max_length=8, choices=WorkPattern.choices, default=WorkPattern.DAY,
        help_text="When this account normally works (security monitoring uses it).",
    )
    full_name = models.CharField(
        max_length=200, help_text="Printed name used in signatures and the audit trail."
    )
    title = models.CharField(max_length=200, blank=True)
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.PROTECT)
    time_zone = models.CharField(
        max_length=64, blank=True,
        help_text="The zone pages show dates and times in (an IANA name, e.g. Europe/Zurich); "
                  "empty: the installation's zone (CYBERQMS_TIME_ZONE, UTC by default).",
    )
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT)
    must_change_password = models.BooleanField(default=False)
    password_changed_at = models.DateTimeField(null=True, blank=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    deactivation_reason = models.CharField(max_length=500, blank=True)
    identity_verified_at = models.DateTimeField(null=True, blank=True)
    identity_verified_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    identity_verification_method = models.CharField(max_length=200, blank=True)
    # Joiners, movers and leavers (security.access): who answers for this person's access,
    # when their employment ends (the account is disabled at that moment), and the
    # person's id in the HR system or directory that keeps them up to date (CSV, SCIM).
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reports",
        help_text="Answers for this person's access: reviews it in access reviews.",
    )
    leaver_at = models.DateTimeField(
        "leaves on", null=True, blank=True,
        help_text="When employment ends: the account is disabled at that moment.",
    )
    employee_id = models.CharField(
        "employee id", max_length=64, blank=True,
        help_text="The person's id in the HR system or directory (CSV import, SCIM).",
    )

    class Meta:
        ordering = ["username"]
        constraints = [
            models.UniqueConstraint(Lower("username"), name="username_unique_ci"),
            models.UniqueConstraint(fields=["employee_id"], condition=~Q(employee_id=""),
                                    name="employee_id_unique"),
        ]

    def __str__(self) -> str:
        return self.printed_name

    @property
    def printed_name(self) -> str:
        return self.full_name or self.get_full_name() or self.username

    @property
    def initials(self) -> str:
        """Two letters for the avatar, titles left out: "Dr. Helena Brandt" is "HB"."""
        words = [w for w in self.printed_name.replace("-", " ").split()
                 if not w.endswith(".") and w[:1].isalpha()]
        letters = "".join(w[0] for w in (words[:1] + words[1:][-1:]))
        return (letters or self.username[:1]).upper()

    @classmethod
    def able_to(cls, action: str, site_ids: Iterable[int | None]) -> QuerySet[User]:
        """Named, active people whose roles grant `action` at one of `site_ids`, as the gate
        decides: the people a picker may offer for a role in a record (an owner must be
        able to do the work; an administrator or an inspector is not offered)."""
        from .queries import holders_at

        chosen = {p.pk for p in holders_at(action, site_ids)}
        return cls.objects.filter(pk__in=chosen, kind=AccountKind.PERSON).order_by(
            "full_name", "username")

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise UndeletableError("Users are deactivated, never deleted (21 CFR 11.100(a)).")

    # --- access --------------------------------------------------------------------
    def active_roles(self, at: datetime | None = None) -> list[RoleAssignment]:
        cache = getattr(self, "_active_roles_cache", None)
        if at is None and cache is not None:
            return list(cache)
        roles = _ROLES_HELD.all(user=self.pk, at=at or timezone.now())
        if at is None:
            self._active_roles_cache = roles
        return roles

    def has_mfa(self) -> bool:
        # List queries annotate `has_totp` so a page of users costs no query per row.
        cached = getattr(self, "_has_mfa_cache", getattr(self, "has_totp", None))
        if cached is None:
            cached = _HAS_TOTP.exists(user=self.pk)
            self._has_mfa_cache = cached
        return bool(cached)

    def access_profile(self) -> AccessProfile:
        cached = getattr(self, "_access_profile_cache", None)
        if cached is not None:
            return cached
        from .roles import grants_for, mfa_required

        assignments = self.active_roles()
        roles = {a.role for a in assignments}
        blocked = ""
        if self.must_change_password:
            blocked = "password change required"
        elif mfa_required(roles) and not self.has_mfa():
            blocked = "MFA enrolment required"
        grants: list[Grant] = []
        for assignment in assignments:
            grants.extend(grants_for(assignment.role, assignment.site_id))
        profile = AccessProfile(
            active=self.is_active,
            person=self.kind == AccountKind.PERSON,
            administrator=Role.ADMINISTRATOR in roles,
            grants=tuple(grants),
            blocked=blocked,
            label=self.username,
        )
        self._access_profile_cache = profile
        return profile

    def forget_access_cache(self) -> None:
        for name in ("_access_profile_cache", "_active_roles_cache", "_has_mfa_cache"):
            self.__dict__.pop(name, None)


class RoleAssignmentQuerySet(models.QuerySet["RoleAssignment"]):
    def held_on(self, moment: datetime | Expression) -> RoleAssignmentQuerySet:
        """Assignments in force at ``moment``: reproduces rights on any past date (A11-20)."""
        return self.filter(
            Q(valid_from__lte=moment),
            Q(valid_until__isnull=True) | Q(valid_until__gt=moment),
            Q(revoked_at__isnull=True) | Q(revoked_at__gt=moment),
        )


class RoleAssignment(models.Model):
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="role_assignments")
    role = models.CharField(max_length=20, choices=Role.choices)
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.PROTECT, help_text="Empty: all sites."
    )
    valid_from = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(null=True, blank=True)
    granted_by = models.ForeignKey(
        User, null=True, on_delete=models.PROTECT, related_name="+"
    )
    granted_at = models.DateTimeField(default=timezone.now)
    grant_reason = models.CharField(max_length=500)
    revoked_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.CharField(max_length=500, blank=True)
    # The record that approved the grant (a change control's number, or an approved
    # access request's): a grant without one is an access-governance finding.
    approval_ref = models.CharField(
        "approved by record", max_length=40, blank=True,
        help_text="The number of the change control or request that approved the grant.",
    )

    objects = RoleAssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["-granted_at", "-id"]
        indexes = [models.Index(fields=["user", "revoked_at"], name="role_user_revoked")]

    def __str__(self) -> str:
        scope = self.site.code if self.site else "all sites"
        return f"{self.get_role_display()} ({scope})"

    @property
    def is_current(self) -> bool:
        now = timezone.now()
        return (
            self.revoked_at is None
            and self.valid_from <= now
            and (self.valid_until is None or self.valid_until > now)
        )


class Integration(models.Model):
    """A registered machine source (LIMS, MES, SCADA, SIEM…): P11-12 device checks."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=12, choices=IntegrationKind.choices)
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.PROTECT)
    system = models.CharField(max_length=200, help_text="The computerized system it speaks for.")
    description = models.TextField(blank=True)
    allowed_addresses = models.JSONField(
        default=list, blank=True, help_text="Source addresses or CIDR ranges; empty: any."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    is_authenticated = True

    def access_profile(self) -> AccessProfile:
        # An integration's rights are exactly its token's scopes, which the gate already
        # enforces through the request context; the grant here admits any scoped action.
        return AccessProfile(
            active=self.is_active,
            person=False,
            administrator=False,
            grants=(Grant("*", self.site_id, source="integration"),) if self.is_active else (),
            label=f"integration:{self.name}",
        )

    def get_username(self) -> str:
        return f"integration:{self.name}"

    @property
    def username(self) -> str:
        """How the integration is named where a person's username would be (events)."""
        return self.get_username()

    @property
    def full_name(self) -> str:
        return f"{self.name} (integration)"


class ApiToken(models.Model):
    """A bearer token, stored as a SHA-256 hash; shown once at creation (P11-32)."""

    owner = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="api_tokens"
    )
    integration = models.ForeignKey(
        Integration, null=True, blank=True, on_delete=models.PROTECT, related_name="tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    token_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoke_reason = models.CharField(max_length=500, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(owner__isnull=False) & Q(integration__isnull=True))
                | (Q(owner__isnull=True) & Q(integration__isnull=False)),
                name="token_has_one_holder",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def holder(self) -> User | Integration:
        holder = self.owner or self.integration
        assert holder is not None  # guaranteed by token_has_one_holder
        return holder

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "active"


# The gate reads a person's roles on every request, and pages whether they have an
# authenticator: compiled once (core.compiled).
_ROLES_HELD: Compiled[RoleAssignment] = Compiled(
    lambda: RoleAssignment.objects.held_on(Param("at", models.DateTimeField()))
    .filter(user_id=Param("user", models.BigIntegerField()))
)


def _totp_of_user() -> QuerySet[Any]:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user_id=Param("user", models.BigIntegerField()),
                                        type=Authenticator.Type.TOTP)


_HAS_TOTP: Compiled[Any] = Compiled(_totp_of_user)
