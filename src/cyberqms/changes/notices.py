"""Who is told what about a change: approval requests and assignments (notifications app).

Each function runs inside the transaction of the change it announces, or as a workflow
side effect after commit; `notify` itself defers delivery to the commit.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from cyberqms.accounts.enums import Role
from cyberqms.accounts.models import RoleAssignment, User
from cyberqms.notifications.services import notify

from .models import Change, ChangeTask

QA_ROLES = (Role.QA_MANAGER, Role.QA_REVIEWER)
SECURITY_ROLES = (Role.IT_SECURITY,)


def holders(roles: tuple[str, ...], site_id: int | None) -> QuerySet[User]:
    """Active users holding one of `roles` now, for all sites or for `site_id`."""
    assignments = RoleAssignment.objects.held_on(timezone.now()).filter(
        Q(site__isnull=True) | Q(site_id=site_id), role__in=roles
    )
    return User.objects.filter(
        is_active=True, pk__in=assignments.values("user_id")
    ).order_by("pk")


def _about(change: Change) -> dict[str, Any]:
    return {
        "url": reverse("changes:detail", args=[change.pk]), "record_type": "changes.change",
        "record_id": change.pk, "record_number": change.number,
    }


def qa_approval_due(change: Change, actor: Any) -> None:
    """On submit: QA (managers and reviewers of the site) is asked to approve."""
    notify(
        holders(QA_ROLES, change.site_id), kind="approval_due", exclude=change.originator,
        subject=f"{change.number} awaits QA approval: {change.title}",
        body=f"Submitted by {actor}. Risk {change.risk_level or 'unscored'}"
             f"{', cybersecurity impact' if change.cyber_impact else ''}.",
        **_about(change),
    )


def security_approval_due(change: Change, actor: Any) -> None:
    """On QA approval of a cyber-relevant change: IT security of the site is asked."""
    if not change.cyber_impact:
        return
    notify(
        holders(SECURITY_ROLES, change.site_id), kind="approval_due",
        exclude=change.originator,
        subject=f"{change.number} needs IT security approval: {change.title}",
        body=f"QA approved by {actor}. The change affects interfaces, accounts, network "
             "exposure or data flows.",
        **_about(change),
    )


def owner_approved(change: Change, actor: Any) -> None:
    notify(
        [change.owner], kind="info", exclude=actor,
        subject=f"{change.number} is approved for implementation", **_about(change),
    )


def task_assigned(task: ChangeTask, actor: Any) -> None:
    change = task.change
    notify(
        [task.owner], kind="assignment", exclude=actor,
        subject=f"Task on {change.number}: {task.description[:80]}",
        body=f"Due {task.due_date.isoformat()}." if task.due_date else "",
        **_about(change),
    )
