"""Least privilege from use, accepted through change control (issue 17, item 5).

Accepting a suggestion ("11 of 12 holders of QA reviewer at DUB never used
deviations.approve in 180 days") raises a change control in draft, filled with the
evidence, and keeps the role changes it stands for: each idle holder's role revoked, or
changed to the lesser role. The change control then follows its own workflow (impact
assessment, QA and IT-security approval). Once it is approved, an administrator applies
the role changes through the account services, each grant naming the change control (so
the drift scan sees it approved); cancelling the change control cancels them.

Change control is a family of the quality layer: it is reached through the record kit by
its type name, never imported.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from cyberqms.platform.accounts import actions as account_actions
from cyberqms.platform.accounts.models import RoleAssignment, Site, User
from cyberqms.platform.accounts.services import role_grant, role_revoke
from cyberqms.platform.core.access import Actor, require
from cyberqms.platform.core.home import OpenTask
from cyberqms.platform.trail.record import audit_record, snapshot
from cyberqms.security.access.least_privilege import Suggestion, suggestions
from cyberqms.security.access.rights import action_label, role_label
from cyberqms.security.findings.drift import LESSER_ROLE

from . import actions
from .models import PrivilegeChange

CHANGE_TYPE = "changes.change"
# The change control's states from its approval until implementation ends.
APPLICABLE = ("approved", "implementation")
ENDED = ("cancelled",)
TYPE = "governance.privilege_change"


def change_kind() -> Any:
    from cyberqms.platform.kit.records import kind_by_type

    return kind_by_type(CHANGE_TYPE)


def change_of(pc: PrivilegeChange) -> Any:
    return change_kind().model._default_manager.filter(pk=pc.change_id).first()


def _find(role: str, site: str, action: str) -> Suggestion:
    for found in suggestions():
        if (found.role, found.site, found.action) == (role, site, action):
            return found
    raise ValidationError({"action": [f"{role_label(role) if role else 'The role'} at "
                                      f"{site or 'the site'} is not suggested to give up "
                                      f"{action or 'a right'} now."]})


def suggestion_propose(*, actor: Actor, role: str, site: str, action: str) -> PrivilegeChange:
    """Accept a least-privilege suggestion: raise its change control (in draft, owned by
    `actor`) and keep the role changes it stands for.

    Side effects: the change control's `changes.change.create`; audit entry
    `governance.privilege_change.create`.
    :raises PermissionDenied: `actor` may not propose access changes, or raise change
        controls at the site.
    :raises ValidationError: naming the field: no such suggestion now, or already proposed
        in a change control that is still open.
    """
    from cyberqms.platform.kit.record_services import record_create

    require(actor, actions.PROPOSE)
    found = _find(role, site, action)
    if found.site_id is None:
        raise ValidationError({"site": ["A role held at every site changes by the "
                                        "administrators' own change control."]})
    waiting = PrivilegeChange.objects.filter(role=role, site_id=found.site_id, action=action,
                                             state=PrivilegeChange.PROPOSED).first()
    if waiting is not None:
        raise ValidationError({"action": [f"Already proposed in {waiting.change_number}."]})
    lesser = LESSER_ROLE.get(role, "")
    held = list(RoleAssignment.objects.filter(pk__in=found.idle).select_related("user")
                .order_by("user__username"))
    people = ", ".join(a.user.username for a in held)
    outcome = f"change to {role_label(lesser)}" if lesser else "revoke the role"
    site_obj = Site.objects.get(pk=found.site_id)
    with transaction.atomic():
        change = record_create(change_kind(), actor=actor, site=site_obj, values={
            "title": f"Least privilege: {role_label(role)} at {site} without "
                     f"“{action_label(action).split(' (')[0]}”"[:200],
            "change_type": "software",
            "owner": actor,
            "description": (f"{found.text}. Proposed: {outcome} for the {len(held)} "
                            f"holders who never used it: {people}.")[:5000],
            "justification": ("Access that follows use (Annex 11 §12, least privilege): "
                              "rights nobody uses are rights an attacker or a mistake "
                              "can use.")[:5000],
            "scope": f"Roles in cyberqms at {site}: {people}"[:5000],
            "cyber_assessment": (f"Reduces access: {len(held)} people no longer hold "
                                 f"{action} at {site}. No new interface, account or "
                                 "exposure.")[:5000],
        })
        pc = PrivilegeChange.objects.create(
            change_number=change.number, change_id=change.pk, role=role,
            site_id=found.site_id, action=action, new_role=lesser, evidence=found.text[:300],
            assignments=[{"assignment": a.pk, "user": a.user_id,
                          "username": a.user.username} for a in held],
            proposed_by_id=actor.pk)
        audit_record(f"{TYPE}.create", pc, actor=actor, created=True,
                     reason=f"Least privilege: {found.text}"[:500])
    return pc


def privilege_change_apply(pc: PrivilegeChange, *, actor: User) -> PrivilegeChange:
    """Apply the role changes of an approved change control: each idle holder's role
    revoked (and the lesser role granted, naming the change control).

    Side effects: `accounts.role.revoke` and `accounts.role.grant` with their security
    events; audit entry `governance.privilege_change.apply`.
    :raises PermissionDenied: `actor` does not manage roles.
    :raises ValidationError: the change control is not approved, or the changes are
        already applied or cancelled.
    """
    require(actor, account_actions.ROLE_MANAGE)
    with transaction.atomic():
        locked = PrivilegeChange.objects.select_for_update().get(pk=pc.pk)
        if locked.state != PrivilegeChange.PROPOSED:
            raise ValidationError({"__all__": [
                f"These role changes are {locked.get_state_display().lower()}."]})
        change = change_of(locked)
        if change is None or change.is_deleted or change.state not in APPLICABLE:
            state = change.get_state_display().lower() if change is not None else "missing"
            raise ValidationError({"__all__": [
                f"{locked.change_number} is {state}: role changes wait for its approval."]})
        why = (f"{locked.change_number}: least privilege, {locked.action} unused "
               f"({locked.evidence})")[:500]
        changed = 0
        for entry in locked.assignments:
            assignment = RoleAssignment.objects.filter(pk=entry["assignment"]).select_related(
                "user", "site").first()
            if assignment is None or assignment.revoked_at is not None:
                continue  # revoked meanwhile: nothing left to change
            person = assignment.user
            if person.pk == getattr(actor, "pk", None):
                raise PermissionDenied("Nobody changes their own roles.")
            role_revoke(assignment, actor=actor, reason=why)
            if locked.new_role and person.is_active and not RoleAssignment.objects.held_on(
                    timezone.now()).filter(user=person, role=locked.new_role,
                                           site=assignment.site).exists():
                role_grant(person, locked.new_role, actor=actor, reason=why,
                           site=assignment.site, approval_ref=locked.change_number)
            changed += 1
        before = snapshot(locked)
        locked.state, locked.applied_at, locked.changed = (
            PrivilegeChange.APPLIED, timezone.now(), changed)
        locked.applied_by_id = actor.pk
        locked.save(update_fields=["state", "applied_at", "changed", "applied_by"])
        audit_record(f"{TYPE}.apply", locked, actor=actor, before=before,
                     reason=f"{locked.change_number} approved")
    return locked


def on_change_step(sender: Any, *, record: Any, type_name: str, source: str, target: str,
                   actor: Any, **kwargs: Any) -> None:
    """A change control cancelled: the role changes it stood for are cancelled with it
    (inside the change's transaction)."""
    if type_name != CHANGE_TYPE or target not in ENDED:
        return
    for pc in PrivilegeChange.objects.select_for_update().filter(
            change_id=record.pk, state=PrivilegeChange.PROPOSED):
        before = snapshot(pc)
        pc.state = PrivilegeChange.CANCELLED
        pc.save(update_fields=["state"])
        audit_record(f"{TYPE}.cancel", pc, actor=actor, before=before,
                     reason=f"{record.number} cancelled")


def waiting_for(user: Any) -> list[PrivilegeChange]:
    """Proposed role changes whose change control is approved, for those who manage roles
    (the overview and their home page)."""
    from cyberqms.platform.core.access import can

    if not isinstance(user, User) or not can(user, account_actions.ROLE_MANAGE):
        return []
    proposed = list(PrivilegeChange.objects.filter(state=PrivilegeChange.PROPOSED))
    if not proposed:
        return []
    approved = set(change_kind().model._default_manager.filter(
        pk__in=[p.change_id for p in proposed], state__in=APPLICABLE,
        is_deleted=False).values_list("pk", flat=True))
    return [p for p in proposed if p.change_id in approved]


def privilege_tasks(user: Any) -> list[OpenTask]:
    """Role changes of an approved change control, on the home page of those who manage
    roles."""
    return [OpenTask(title=f"{pc.change_number} {pc.role_label} at {pc.site.code if pc.site
                                                                      else 'every site'}",
                     detail=f"Approved: apply the role changes of {len(pc.assignments)} "
                            f"{'person' if len(pc.assignments) == 1 else 'people'}",
                     url=reverse("governance:overview") + "#privilege-changes",
                     priority="medium")
            for pc in waiting_for(user)]
