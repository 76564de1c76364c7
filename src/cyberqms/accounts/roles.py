"""What each role may do: the grants table the access gate evaluates.

Patterns name actions exactly or by prefix (``trail.*``). Later record families add their
actions to the roles here, in one place, so the matrix stays reviewable as a whole.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings

from cyberqms.core.access import Grant

from .enums import Role

# Trail rights in one place: everyone sees the history of records they may see; QA,
# IT security and auditors read the whole trail; QA reviews it independently.
_TRAIL_READ = ("trail.history.view", "trail.entry.view", "trail.export")

# Quality records: every family has the same vocabulary of actions (core.records), so the
# grants read the same for deviations, CAPA and change control.
_RECORD_FAMILIES = ("deviations", "capa", "changes")


def _records(*names: str) -> tuple[str, ...]:
    """These actions in every family, plus `records.use` (reaching the shared parts)."""
    return ("records.use",
            *(f"{family}.{name}" for family in _RECORD_FAMILIES for name in names))


_RECORD_WORKER = ("view", "create", "edit", "comment", "submit", "work")


def _incidents(*names: str) -> tuple[str, ...]:
    """Security incidents (CYB-05): IT security runs them, QA decides on their closure."""
    return tuple(f"incidents.{name}" for name in names)


ROLE_GRANTS: dict[str, tuple[str, ...]] = {
    Role.ADMINISTRATOR: (
        "accounts.*",
        "access.decision.view",
        "security.event.view",
        "trail.history.view",
        "trail.status.view",
    ),
    Role.QA_MANAGER: (
        "accounts.user.view",
        "security.event.view",
        *_TRAIL_READ,
        "trail.status.view",
        "trail.verify.run",
        "trail.flag.resolve",
        "trail.review.create",
        "trail.proof.view",
        *_records(*_RECORD_WORKER, "delete", "review", "approve", "close", "cancel",
                  "extension.approve"),
        "capa.verify",
        "monitoring.alert.view",
        "monitoring.alert.triage",
        *_incidents("view", "comment", "review", "approve", "close", "cancel",
                    "extension.approve"),
    ),
    Role.QA_REVIEWER: (
        "accounts.user.view", *_TRAIL_READ, "trail.review.create",
        *_records(*_RECORD_WORKER, "review", "approve"),
        "capa.verify",
        *_incidents("view", "comment", "review"),
    ),
    Role.PROCESS_OWNER: (
        "accounts.user.view", "trail.history.view",
        *_records(*_RECORD_WORKER, "delete", "extension.approve"),
    ),
    Role.AUTHOR: ("trail.history.view", *_records(*_RECORD_WORKER, "delete")),
    Role.IT_SECURITY: (
        "accounts.user.view",
        "accounts.integration.view",
        "access.decision.view",
        "security.event.view",
        *_TRAIL_READ,
        "trail.status.view",
        "trail.verify.run",
        "trail.flag.resolve",
        "trail.proof.view",
        *_records(*_RECORD_WORKER, "review"),
        "changes.security_approve",
        "monitoring.event.view",
        "monitoring.alert.view",
        "monitoring.alert.triage",
        "monitoring.source.manage",
        *_incidents(*_RECORD_WORKER, "review", "cancel", "delete"),
    ),
    Role.SYSTEM_OWNER: (
        "accounts.user.view",
        "accounts.integration.view",
        "trail.history.view",
        "trail.status.view",
        "trail.verify.run",
        *_records(*_RECORD_WORKER),
    ),
    Role.AUDITOR: (
        "accounts.user.view",
        "accounts.integration.view",
        "access.decision.view",
        "security.event.view",
        *_TRAIL_READ,
        "trail.status.view",
        "trail.proof.view",
        *_records("view"),
        "monitoring.event.view",
        "monitoring.alert.view",
        *_incidents("view"),
    ),
}

# Roles whose holders create or change GxP records: never combined with administrator
# (DI-01) and never held by generic accounts (DI-02, P11-30).
GXP_ROLES = frozenset(
    {Role.QA_MANAGER, Role.QA_REVIEWER, Role.PROCESS_OWNER, Role.AUTHOR, Role.SYSTEM_OWNER}
)


def grants_for(role: str, site_id: int | None) -> list[Grant]:
    return [Grant(pattern, site_id, source=role) for pattern in ROLE_GRANTS.get(role, ())]


def mfa_required(roles: Iterable[str]) -> bool:
    """A11-19: privileged roles authenticate with a second factor."""
    required = set(settings.CYBERQMS_MFA_REQUIRED_ROLES)
    return any(role in required for role in roles)
