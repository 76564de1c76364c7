"""Who is told what about CAPAs (in-app notifications, e-mail copies follow on commit)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from cyberqms.platform.accounts.queries import holders_of
from cyberqms.platform.notifications.services import notify

from .models import Capa, CapaAction


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
