"""Reads of people and roles, shared by pages and the API."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from allauth.mfa.models import Authenticator
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import CharField, Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone

from cyberqms.platform.trail.models import IntegrityFlag

from .models import RoleAssignment, User

USER_SORTS = {
    "username": "username",
    "-username": "-username",
    "name": "full_name",
    "-name": "-full_name",
    "last_login": "last_login",
    "-last_login": "-last_login",
    "joined": "date_joined",
    "-joined": "-date_joined",
}


def with_totp(users: QuerySet[User]) -> QuerySet[User]:
    """`users`, each knowing whether it has a second factor (`has_mfa()` without a query)."""
    totp = Authenticator.objects.filter(user=OuterRef("pk"), type=Authenticator.Type.TOTP)
    return users.annotate(has_totp=Exists(totp))


def users_filtered(
    *,
    q: str = "",
    role: str = "",
    site: str = "",
    status: str = "",
    sort: str = "username",
) -> QuerySet[User]:
    now = timezone.now()
    current = RoleAssignment.objects.held_on(now).select_related("site", "granted_by")
    totp = Authenticator.objects.filter(user=OuterRef("pk"), type=Authenticator.Type.TOTP)
    users = (
        User.objects.select_related("site")
        .prefetch_related(Prefetch("role_assignments", queryset=current, to_attr="current_roles"))
        .annotate(has_totp=Exists(totp), integrity_failure=Exists(_open_flags()))
    )
    if q:
        users = users.filter(
            Q(username__icontains=q) | Q(full_name__icontains=q) | Q(email__icontains=q)
        )
    if role:
        users = users.filter(
            pk__in=RoleAssignment.objects.held_on(now).filter(role=role).values("user_id")
        )
    if site:
        users = users.filter(site__code=site)
    if status == "active":
        users = users.filter(is_active=True)
    elif status == "inactive":
        users = users.filter(is_active=False)
    return users.order_by(USER_SORTS.get(sort, "username"), "pk")


def locked_out() -> QuerySet[AccessAttempt]:
    """Lockout records at or over the failure limit (django-axes keys them by username)."""
    return AccessAttempt.objects.filter(failures_since_start__gte=settings.AXES_FAILURE_LIMIT)


def roles_held(user: User) -> list[RoleAssignment]:
    """The roles `user` holds now (as `active_roles`), with the people and site that their
    page and `role_out` show: one query, however many roles."""
    return list(RoleAssignment.objects.held_on(timezone.now()).filter(user=user)
                .select_related("site", "granted_by", "revoked_by"))


def role_history(user: User) -> QuerySet[RoleAssignment]:
    return RoleAssignment.objects.filter(user=user).select_related(
        "site", "granted_by", "revoked_by"
    )


def role_out(a: RoleAssignment) -> dict[str, Any]:
    return {
        "id": a.pk,
        "role": a.role,
        "role_label": a.get_role_display(),
        "site": a.site.code if a.site else None,
        "valid_from": a.valid_from,
        "valid_until": a.valid_until,
        "granted_by": a.granted_by.username if a.granted_by else None,
        "granted_at": a.granted_at,
        "grant_reason": a.grant_reason,
        "revoked_at": a.revoked_at,
        "revoked_by": a.revoked_by.username if a.revoked_by else None,
        "revoke_reason": a.revoke_reason,
    }


def user_out(user: User, roles: list[RoleAssignment] | None = None) -> dict[str, Any]:
    if roles is None:
        roles = getattr(user, "current_roles", None)
    if roles is None:
        roles = roles_held(user)
    return {
        "id": user.pk,
        "username": user.username,
        "full_name": user.full_name,
        "email": user.email,
        "kind": user.kind,
        "work_pattern": user.work_pattern,
        "title": user.title,
        "site": user.site.code if user.site else None,
        "is_active": user.is_active,
        "mfa_enrolled": user.has_mfa(),
        "must_change_password": user.must_change_password,
        "last_login": user.last_login,
        "date_joined": user.date_joined,
        "deactivated_at": user.deactivated_at,
        "roles": [role_out(a) for a in roles],
        "integrity_failure": _has_integrity_failure(user),
    }


def _open_flags() -> QuerySet[IntegrityFlag]:
    return IntegrityFlag.objects.filter(
        object_type="accounts.user",
        object_id=Cast(OuterRef("pk"), output_field=CharField()),
        resolved_at__isnull=True,
    )


def _has_integrity_failure(user: User) -> bool:
    """Whether verification found this user's record altered outside cyberqms (open flag)."""
    annotated = getattr(user, "integrity_failure", None)
    if annotated is not None:
        return bool(annotated)
    return IntegrityFlag.objects.filter(
        object_type="accounts.user", object_id=str(user.pk), resolved_at__isnull=True
    ).exists()


class _AtSite:
    """A resource standing for "a record at this site" when asking the gate."""

    def __init__(self, site_id: int | None) -> None:
        self.site_id = site_id


def holders_of(action: str, site_id: int | None) -> list[User]:
    """Active people whose current roles grant `action` at `site_id`, as the gate decides
    (never a list of role names kept beside the grants): who is told a step waits."""
    return holders_at(action, [site_id])


def holders_at(action: str, site_ids: Iterable[int | None]) -> list[User]:
    """Active people whose current roles grant `action` at one of `site_ids`, as the gate
    decides: two queries, whatever the number of people and sites."""
    from cyberqms.platform.core.access import capable

    from .roles import roles_granting

    scopes = [_AtSite(site_id) for site_id in dict.fromkeys(site_ids)]
    if not scopes:
        return []
    held = RoleAssignment.objects.held_on(timezone.now())
    named = [scope.site_id for scope in scopes if scope.site_id is not None]
    user_ids = held.filter(
        Q(site__isnull=True) | Q(site_id__in=named), role__in=roles_granting(action),
    ).values_list("user_id", flat=True)
    # Each person's roles and second factor come with them: the gate decides for all of
    # them in the queries that read them, not in two more per person.
    totp = Authenticator.objects.filter(user=OuterRef("pk"), type=Authenticator.Type.TOTP)
    people = list(User.objects.filter(pk__in=user_ids, is_active=True).annotate(
        has_totp=Exists(totp)).prefetch_related(
        Prefetch("role_assignments", queryset=held)))
    for person in people:
        # what active_roles() reads: the roles held now, prefetched above
        person._active_roles_cache = list(person.role_assignments.all())
    return [person for person in people
            if any(capable(person, action, scope) for scope in scopes)]
