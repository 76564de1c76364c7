"""Who is told what about CAPAs (in-app notifications, e-mail copies follow on commit)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from cyberqms.accounts.models import RoleAssignment, User
from cyberqms.accounts.roles import ROLE_GRANTS
from cyberqms.core.access import Grant, can
from cyberqms.notifications.services import notify

from .models import Capa, CapaAction


def holders_of(action: str, site_id: int | None) -> list[User]:
    """Active people whose current roles grant `action` at `site_id` (asked of the gate)."""
    roles = [role for role, patterns in ROLE_GRANTS.items()
             if any(Grant(p).covers(action, None) for p in patterns)]
    user_ids = RoleAssignment.objects.held_on(timezone.now()).filter(
        Q(site__isnull=True) | Q(site_id=site_id), role__in=roles,
    ).values_list("user_id", flat=True)
    scope = _AtSite(site_id)
    return [u for u in User.objects.filter(pk__in=user_ids, is_active=True)
            if can(u, action, scope)]


class _AtSite:
    """A resource standing for "a record at this site" when asking the gate."""

    def __init__(self, site_id: int | None) -> None:
        self.site_id = site_id


def plan_submitted(capa: Capa, actor: Any) -> None:
    """QA reviewers of the CAPA's site: a plan waits for approval."""
    approvers = [u for u in holders_of("capa.approve", capa.site_id)
                 if u.pk not in (capa.owner_id, capa.originator_id)]
    notify(
        approvers, kind="approval_due",
        subject=f"{capa.number}: CAPA plan to approve",
        body=f"{capa.title}\nSubmitted by {getattr(actor, 'printed_name', actor)}.",
        url=reverse("capa:detail", args=[capa.pk]), record_type="capa.capa",
        record_id=capa.pk, record_number=capa.number, exclude=actor,
    )


def action_assigned(action: CapaAction, actor: Any) -> None:
    """The owner of a CAPA action: it is theirs now."""
    capa = action.capa
    notify(
        [action.owner], kind="assignment",
        subject=f"{capa.number}: {action.get_kind_display().lower()} action assigned to you",
        body=f"{action.description}\nDue {action.due_date.isoformat()}.",
        url=reverse("capa:detail", args=[capa.pk]), record_type="capa.capa",
        record_id=capa.pk, record_number=capa.number, exclude=actor,
    )
