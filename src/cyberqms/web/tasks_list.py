"""The home page's open tasks: what this user should do next, across the product.

Each provider returns the tasks it knows about for a user; later record families register
theirs here (assignments, approvals due, overdue items).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone

from cyberqms.platform.core.access import can


@dataclass(frozen=True)
class OpenTask:
    title: str
    detail: str
    url: str
    priority: str  # "high", "medium", "low"
    due: Any = None
    first: str = ""  # what must be done before the step can be taken, in words


TaskProvider = Callable[[Any], list[OpenTask]]


def account_tasks(user: Any) -> list[OpenTask]:
    from cyberqms.platform.accounts.models import ApiToken

    tasks: list[OpenTask] = []
    if not user.has_mfa():
        tasks.append(OpenTask(
            "Set up two-factor authentication",
            "Protect your account with an authenticator app and recovery codes.",
            reverse("mfa_activate_totp"), "medium",
        ))
    soon = timezone.now() + timedelta(days=7)
    for token in ApiToken.objects.filter(
        owner=user, revoked_at__isnull=True, expires_at__gt=timezone.now(), expires_at__lte=soon
    ):
        tasks.append(OpenTask(
            f"API token “{token.name}” expires soon",
            "Issue a replacement and revoke the old one.",
            reverse("accounts:profile"), "low", token.expires_at,
        ))
    return tasks


def administration_tasks(user: Any) -> list[OpenTask]:
    if not can(user, "accounts.user.manage"):
        return []
    from cyberqms.platform.accounts.models import RoleAssignment, User
    from cyberqms.platform.accounts.queries import locked_out

    tasks: list[OpenTask] = []
    for attempt in locked_out()[:20]:
        tasks.append(OpenTask(
            f"Locked account: {attempt.username}",
            f"{attempt.failures_since_start} failed sign-ins, last from {attempt.ip_address}. "
            "Verify with the user before unlocking.",
            reverse("accounts:user_list") + f"?q={attempt.username}", "high",
        ))
    now = timezone.now()
    without_role = User.objects.filter(is_active=True).exclude(
        pk__in=RoleAssignment.objects.held_on(now).values("user_id")
    )
    for person in without_role[:20]:
        tasks.append(OpenTask(
            f"{person.username} has no role",
            "An active account without a role cannot work; grant one or deactivate it.",
            reverse("accounts:user_detail", args=[person.pk]), "low",
        ))
    expiring = RoleAssignment.objects.held_on(now).filter(
        valid_until__isnull=False, valid_until__lte=now + timedelta(days=3)
    ).select_related("user")
    for assignment in expiring[:20]:
        tasks.append(OpenTask(
            f"{assignment.get_role_display()} access of {assignment.user.username} ends soon",
            "Time-boxed access ends automatically; extend only with a new reason.",
            reverse("accounts:user_detail", args=[assignment.user_id]), "low",
            assignment.valid_until,
        ))
    return tasks


def security_tasks(user: Any) -> list[OpenTask]:
    if not can(user, "security.event.view"):
        return []
    from cyberqms.platform.core.models import SecurityEvent

    since = timezone.now() - timedelta(hours=24)
    serious = SecurityEvent.objects.filter(
        created_at__gte=since, severity__in=["high", "critical"]
    ).count()
    if not serious:
        return []
    return [OpenTask(
        f"{serious} high-severity security event{'s' if serious != 1 else ''} in 24 h",
        "Lockouts, administrator grants and integrity failures need a look.",
        reverse("accounts:security_events") + "?severity=high", "high",
    )]


# Steps that wait for someone other than the record's owner: QA and IT-security decisions.
GATEKEEPING = frozenset({"review", "approve", "close", "security_approve", "verify"})


def _steps(
    workflow: Any, record: Any, user: Any, *, mine: bool
) -> tuple[list[str], list[tuple[str, str]]]:
    """The steps this user can take on `record` now, and those they could take once
    something is done first (each with what). A step the user can never take (no right,
    barred by segregation of duties) is not theirs; cancelling is never a task; the owner
    and originator see their record's steps, others only the decisions that wait for them.
    """
    ready: list[str] = []
    waiting: list[tuple[str, str]] = []
    for t in workflow.actions_from(workflow.state_of(record)):
        if t.permission.endswith(".cancel"):
            continue
        if not (mine or t.permission.rsplit(".", 1)[-1] in GATEKEEPING):
            continue
        if workflow.closed_to(record, user, t):
            continue
        first = workflow.pending_check(record, user, t)
        if first is None:
            ready.append(t.title)
        else:
            waiting.append((t.title, first))
    return ready, waiting


def quality_tasks(user: Any, *, per_kind: int = 150, limit: int = 25) -> list[OpenTask]:
    """Open quality records on which this user can take a step now (the same decision the
    record's page makes): the owner's and originator's next steps, and the review and
    approval steps of QA and IT security; plus due-date extensions waiting for a decision."""
    from cyberqms.platform.core.models import DueDateExtension, ExtensionState
    from cyberqms.platform.kit.records import all_kinds

    tasks: list[OpenTask] = []
    today = timezone.localdate()
    for kind in all_kinds():
        if not can(user, kind.view_action):
            continue
        records = kind.open_records().select_related("site").order_by("due_date", "pk")
        for record in records[:per_kind]:
            mine = user.pk in (record.owner_id, record.originator_id)
            ready, waiting = _steps(kind.workflow, record, user, mine=mine)
            if not ready and not waiting:
                continue
            overdue = record.due_date is not None and record.due_date < today
            titles = ready or [title for title, _ in waiting]
            tasks.append(OpenTask(
                f"{record.number}: {', '.join(titles)}",
                f"{kind.label} “{record.title}” ({record.site.code})"
                + (" is overdue." if overdue else "."),
                kind.detail_url(record),
                "high" if overdue else "medium",
                record.due_date,
                first="" if ready else waiting[0][1],
            ))
        pending = DueDateExtension.objects.filter(
            record_type=kind.type_name, state=ExtensionState.PENDING
        ).exclude(requested_by=user)
        for ext in pending[:20]:
            record = kind.model._default_manager.filter(pk=ext.record_id).first()
            if record is None or not can(user, kind.action("extension.approve"), record):
                continue
            tasks.append(OpenTask(
                f"Decide the extension of {record.number}",
                f"{ext.requested_by.printed_name} asks to move the due date to "
                f"{ext.requested_due.isoformat()}.",
                kind.detail_url(record) + "#links", "medium", ext.requested_due,
            ))
    tasks.sort(key=lambda t: (t.priority != "high", t.due or today))
    return tasks[:limit]


PROVIDERS: list[TaskProvider] = [
    account_tasks, administration_tasks, security_tasks, quality_tasks,
]


def open_tasks(user: Any) -> list[OpenTask]:
    order = {"high": 0, "medium": 1, "low": 2}
    tasks = [task for provider in PROVIDERS for task in provider(user)]
    return sorted(tasks, key=lambda t: order.get(t.priority, 3))
