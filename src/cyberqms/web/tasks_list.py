"""The home page's open tasks: what this user should do next, across the product.

Each provider returns the tasks it knows about for a user; later record families register
theirs here (assignments, approvals due, overdue items).
"""

from __future__ import annotations

import operator
from datetime import timedelta
from functools import reduce
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import lazy

from cyberqms.platform.core.access import can, sites_for
from cyberqms.platform.core.compiled import Compiled, Param
from cyberqms.platform.core.context import remembering
from cyberqms.platform.core.home import OpenTask, TaskProvider, registered_task_providers

_lazy_url = lazy(lambda detail_url, record: detail_url(record), str)


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
    barred by segregation of duties) is not theirs; cancelling is never a task, nor a step
    declared `task=False` (withdrawing a validation, disqualifying a supplier); the owner
    and originator see their record's steps, others only the decisions that wait for them.
    """
    ready: list[str] = []
    waiting: list[tuple[str, str]] = []
    for t in workflow.actions_from(workflow.state_of(record)):
        if t.permission.endswith(".cancel") or not t.task:
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


# The shape of a user's candidates: per step they may take somewhere, the sites where
# (None: all). Each shape's query is compiled once (core.compiled), with the user as its
# value; people with the same roles at the same sites share it.
Shape = tuple[tuple[int, tuple[int, ...] | None], ...]
_CANDIDATES: dict[tuple[str, Shape], Compiled[Any]] = {}
_CANDIDATE_SHAPES_KEPT = 512


def _shape(kind: Any, user: Any) -> Shape:
    """Which steps of `kind`'s workflow `user` holds the right to take, and where."""
    shape = []
    for n, t in enumerate(kind.workflow.transitions):
        if t.permission.endswith(".cancel") or not t.task or t.system:
            continue
        sites = sites_for(user, t.permission)
        if sites is not None and not sites:
            continue
        shape.append((n, None if sites is None else tuple(sorted(sites))))
    return tuple(shape)


def _reachable(kind: Any, shape: Shape, user: Any) -> Q:
    """Which open records of `kind` hold a step for `user` (the compiled query's `Param`),
    as a filter: the states from which a step of `shape` (not empty) leaves, at its sites,
    on their own records (owner, originator) or, for the decisions of QA and IT security,
    on anyone's. The workflow then decides each candidate as the record's page does; the
    filter only keeps the others out of the query."""
    wheres = []
    for n, sites in shape:
        t = kind.workflow.transitions[n]
        where = Q(state__in=[str(s) for s in t.sources])
        if sites is not None:
            where &= Q(site_id__in=sites)
        if t.permission.rsplit(".", 1)[-1] not in GATEKEEPING:
            where &= Q(owner_id=user) | Q(originator_id=user)
        wheres.append(where)
    return reduce(operator.or_, wheres)


def _candidates(kind: Any, user: Any) -> list[Any]:
    """The open records of `kind` that may hold a step for `user`, most urgent first."""
    shape = _shape(kind, user)
    if not shape:
        return []
    compiled = _CANDIDATES.get((kind.type_name, shape))
    if compiled is None:
        if len(_CANDIDATES) >= _CANDIDATE_SHAPES_KEPT:
            _CANDIDATES.clear()
        person = Param("user", models.BigIntegerField())
        compiled = _CANDIDATES[(kind.type_name, shape)] = Compiled(
            lambda: kind.workflow.with_guard_data(
                kind.open_records().filter(_reachable(kind, shape, person))
                .select_related("site").order_by("due_date", "pk")))
    return compiled.all(user=user.pk)


def quality_tasks(user: Any) -> list[OpenTask]:
    with remembering():  # what the steps' checks read of the person, read once
        return _quality_tasks(user)


def _quality_tasks(user: Any) -> list[OpenTask]:
    """Open quality records on which this user can take a step now (the same decision the
    record's page makes): the owner's and originator's next steps, and the review and
    approval steps of QA and IT security; plus due-date extensions waiting for a decision.
    All of them, whatever their number: the query asks only for records the user can act
    on, so there is no cut, and the queries do not grow with the records."""
    from cyberqms.platform.kit.records import all_kinds

    tasks: list[OpenTask] = []
    today = timezone.localdate()
    for kind in all_kinds():
        if not can(user, kind.view_action):
            continue
        for record in _candidates(kind, user):
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
                # Built when shown: the page shows the 25 most urgent of them all.
                _lazy_url(kind.detail_url, record),
                "high" if overdue else "medium",
                record.due_date,
                first="" if ready else waiting[0][1],
            ))
        pending = _PENDING_EXTENSIONS.all(type=kind.type_name, user=user.pk)
        extended = kind.model._default_manager.in_bulk(
            {ext.record_id for ext in pending}) if pending else {}
        for ext in pending:
            record = extended.get(_key(kind.model, ext.record_id))
            if record is None or not can(user, kind.action("extension.approve"), record):
                continue
            tasks.append(OpenTask(
                f"Decide the extension of {record.number}",
                f"{ext.requested_by.printed_name} asks to move the due date to "
                f"{ext.requested_due.isoformat()}.",
                kind.detail_url(record) + "#links", "medium", ext.requested_due,
            ))
    tasks.sort(key=lambda t: (t.priority != "high", t.due or today))
    return tasks


def _pending_extensions() -> QuerySet[Any]:
    from cyberqms.platform.core.models import DueDateExtension, ExtensionState

    return DueDateExtension.objects.filter(
        record_type=Param("type", models.CharField()), state=ExtensionState.PENDING,
    ).exclude(requested_by_id=Param("user", models.BigIntegerField())).select_related(
        "requested_by").order_by("pk")


_PENDING_EXTENSIONS: Compiled[Any] = Compiled(_pending_extensions)


def _key(model: Any, value: Any) -> Any:
    """A record id as stored in a generic reference (text), as the model's key."""
    try:
        return model._meta.pk.to_python(value)
    except (TypeError, ValueError, ValidationError):
        return None


PROVIDERS: list[TaskProvider] = [
    account_tasks, administration_tasks, security_tasks, quality_tasks,
]


def open_tasks(user: Any) -> list[OpenTask]:
    order = {"high": 0, "medium": 1, "low": 2}
    tasks = [task for provider in (*PROVIDERS, *registered_task_providers())
             for task in provider(user)]
    return sorted(tasks, key=lambda t: order.get(t.priority, 3))
