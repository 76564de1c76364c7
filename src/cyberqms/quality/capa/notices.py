"""Who is told what about CAPAs (in-app notifications, e-mail copies follow on commit).

A plan to approve waits for the CAPA's plan review; an action assignment holds while the
CAPA's actions are worked (draft, plan review, implementation), one notice per action and
owner."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from cyberqms.platform.accounts.queries import holders_of
from cyberqms.platform.notifications.services import notifications_resolve, notify

from .enums import CapaState
from .models import Capa, CapaAction

# The CAPA's states in which its actions are added, handed over and completed.
ACTION_STATES = (CapaState.DRAFT, CapaState.OPEN, CapaState.IMPLEMENTATION)


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
        awaits=(capa.state,), subject_key=f"capa.capa:{capa.pk}:plan",
    )


def action_assigned(action: CapaAction, actor: Any) -> None:
    """The owner of a CAPA action: it is theirs now (called in the transaction that adds
    the action or hands it over; a former owner's notice is resolved)."""
    capa = action.capa
    key = f"capa.action:{action.pk}"
    notifications_resolve(key, keep=action.owner_id)
    notify(
        [action.owner], kind="assignment",
        subject=f"{capa.number}: {action.get_kind_display().lower()} action assigned to you",
        body=f"{action.description}\nDue {action.due_date.isoformat()}.",
        url=reverse("capa:detail", args=[capa.pk]), record_type="capa.capa",
        record_id=capa.pk, record_number=capa.number, exclude=actor,
        awaits=ACTION_STATES, subject_key=key,
    )
