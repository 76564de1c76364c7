"""Joiners, movers and leavers: who answers for a person's access (their manager), when
they leave (the account is disabled at that moment, by the scheduler), and their id in the
HR system. Access governance (security.access) reads these; HR imports write them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from cyberqms.platform.core.access import require
from cyberqms.platform.trail.record import audit_record, snapshot

from . import actions
from .enums import AccountKind
from .models import RoleAssignment, User
from .services import ServiceError, _deactivate, _reason


def leavers_disable(now: datetime | None = None) -> list[User]:
    """Disable every active account whose leaver date has come (the scheduler, every
    minute): sessions and tokens stop at once. Each deactivation's audit entry carries the
    seconds from the leaver date to the disabling in its reason, and its security event
    in `leaver_to_disable_s`; access governance reports their median."""
    now = now or timezone.now()
    done: list[User] = []
    due = User.objects.filter(is_active=True, leaver_at__isnull=False, leaver_at__lte=now)
    for pk in due.order_by("leaver_at", "pk").values_list("pk", flat=True):
        with transaction.atomic():
            locked = User.objects.select_for_update().get(pk=pk)
            if not locked.is_active or locked.leaver_at is None or locked.leaver_at > now:
                continue
            moment = timezone.now()
            leaver = timezone.localtime(locked.leaver_at).strftime("%Y-%m-%d %H:%M %Z")
            late = round((moment - locked.leaver_at).total_seconds(), 1)
            _deactivate(locked, actor=None, now=moment, leaver_to_disable_s=late,
                        reason=f"Leaver date reached ({leaver}; disabled {late:g} s after)")
        done.append(locked)
    return done


def leavers_interval() -> float:
    return 60.0


_UNSET: object = object()


def user_employment_set(
    user: User, *, actor: Any, reason: str, manager: object = _UNSET,
    leaver_at: object = _UNSET, employee_id: object = _UNSET, full_name: object = _UNSET,
    email: object = _UNSET, title: object = _UNSET,
) -> User:
    """Set what HR knows of a person: who answers for their access (`manager`), when they
    leave (`leaver_at`: the account is disabled at that moment), their HR id, name, e-mail
    and title; only what is given changes. `actor`: a person who manages users, or an HR
    integration (its token's scopes decide), audited as itself.

    Side effects: audit entry `accounts.user.employment`.
    :raises ServiceError: naming the field (a manager who is the person, inactive, not a
        named person, or whose own chain of managers leads back to the person; a leaver
        date in the past; an HR id another person has; an empty name; too long a value).
    """
    require(actor, actions.USER_MANAGE, user)
    reason = _reason(reason)
    changes: dict[str, object] = {}
    for name, value, limit in (("full_name", full_name, 200), ("email", email, 254),
                               ("title", title, 200)):
        if value is _UNSET:
            continue
        text = str(value or "").strip()
        if len(text) > limit:
            raise ServiceError(f"At most {limit} characters.", field=name)
        if name == "full_name" and not text:
            raise ServiceError("A name is required.", field=name)
        changes[name] = text
    if manager is not _UNSET:
        chosen = manager if isinstance(manager, User) else None
        if manager is not None and chosen is None:
            raise ServiceError("Choose a person as manager.", field="manager")
        if chosen is not None:
            _check_manager(user, chosen)
        changes["manager"] = chosen
    if leaver_at is not _UNSET:
        if leaver_at is not None and not isinstance(leaver_at, datetime):
            raise ServiceError("Give the leaving date and time.", field="leaver_at")
        if isinstance(leaver_at, datetime) and leaver_at <= timezone.now():
            raise ServiceError("The leaving date is in the past: deactivate the account "
                               "instead.", field="leaver_at")
        changes["leaver_at"] = leaver_at
    if employee_id is not _UNSET:
        hr_id = str(employee_id or "").strip()
        if len(hr_id) > 64:
            raise ServiceError("At most 64 characters.", field="employee_id")
        if hr_id and User.objects.filter(employee_id=hr_id).exclude(pk=user.pk).exists():
            raise ServiceError(f"Another person has the employee id {hr_id!r}.",
                               field="employee_id")
        changes["employee_id"] = hr_id
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if not locked.is_active and changes.get("leaver_at") is not None:
            raise ServiceError("The account is deactivated.", field="leaver_at")
        before = snapshot(locked)
        changed = [name for name, value in changes.items() if getattr(locked, name) != value]
        if not changed:
            return locked
        for name in changed:
            setattr(locked, name, changes[name])
        locked.save(update_fields=changed)
        audit_record("accounts.user.employment", locked, actor=actor, before=before,
                     reason=reason)
    return locked


def _check_manager(user: User, manager: User) -> None:
    if manager.pk == user.pk:
        raise ServiceError("Nobody is their own manager.", field="manager")
    if not manager.is_active or manager.kind != AccountKind.PERSON:
        raise ServiceError(f"{manager.username} is not an active, named person.",
                           field="manager")
    seen = {user.pk}
    step: int | None = manager.pk
    while step is not None:
        if step in seen:
            raise ServiceError(f"{manager.username} reports to {user.username}, directly or "
                               "through others: managers cannot go round in a circle.",
                               field="manager")
        seen.add(step)
        step = User.objects.filter(pk=step).values_list("manager_id", flat=True).first()


def user_place_set(user: User, *, actor: Any, reason: str, site: Any,
                   department: Any) -> User:
    """Move a person to another home site or department (a mover): their roles stay as
    they are until their access is reviewed.

    Side effects: audit entry `accounts.user.employment`.
    :raises ServiceError: a department of another site.
    """
    from .models import Department, Site

    require(actor, actions.USER_MANAGE, user)
    reason = _reason(reason)
    if site is not None and not isinstance(site, Site):
        raise ServiceError("Choose a site.", field="site")
    if department is not None and (not isinstance(department, Department)
                                   or department.site_id != getattr(site, "pk", None)):
        raise ServiceError("The department belongs to another site.", field="department")
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        before = snapshot(locked)
        locked.site, locked.department = site, department
        locked.save(update_fields=["site", "department"])
        audit_record("accounts.user.employment", locked, actor=actor, before=before,
                     reason=reason)
    return locked


def role_approval_link(assignment: RoleAssignment, *, actor: User, approval_ref: str,
                       reason: str) -> RoleAssignment:
    """Name the record that approved a role grant made without one (a change control's
    number), after the fact; access governance checks that it is an approved change.

    Side effects: audit entry `accounts.role.approval`.
    """
    require(actor, actions.ROLE_MANAGE, assignment.user)
    reason = _reason(reason)
    ref = (approval_ref or "").strip().upper()
    if not ref:
        raise ServiceError("Give the number of the approving record.", field="approval_ref")
    if len(ref) > 40:
        raise ServiceError("At most 40 characters.", field="approval_ref")
    with transaction.atomic():
        locked = RoleAssignment.objects.select_for_update().get(pk=assignment.pk)
        if locked.revoked_at is not None:
            raise ServiceError("The role is revoked.", field="approval_ref")
        before = snapshot(locked)
        locked.approval_ref = ref
        locked.save(update_fields=["approval_ref"])
        audit_record("accounts.role.approval", locked, actor=actor, before=before,
                     reason=reason)
    return locked
