"""What each role may do: the grants table the access gate evaluates.

Patterns name actions exactly or by prefix (``trail.*``). Quality-record families share one
vocabulary of actions (kit.records), granted here per role as `RECORD_GRANTS` to every
registered family that declares `grants="quality"`; a family's own steps are granted by its
declaration (`own_grants`), so adding a family edits nothing here.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings

from cyberqms.platform.core.access import Grant

from .enums import Role

# Trail rights in one place: everyone sees the history of records they may see; QA,
# IT security and auditors read the whole trail; QA reviews it independently.
_TRAIL_READ = ("trail.history.view", "trail.entry.view", "trail.export")

# Quality records: every family has the same vocabulary of actions (kit.records), so the
# grants read the same for every family; each role's suffixes, granted in every family.
_RECORD_WORKER = ("view", "create", "edit", "comment", "submit", "work")
RECORD_GRANTS: dict[str, tuple[str, ...]] = {
    Role.QA_MANAGER: (*_RECORD_WORKER, "delete", "review", "approve", "close", "cancel",
                      "extension.approve"),
    Role.QA_REVIEWER: (*_RECORD_WORKER, "review", "approve"),
    Role.PROCESS_OWNER: (*_RECORD_WORKER, "delete", "extension.approve"),
    Role.AUTHOR: (*_RECORD_WORKER, "delete"),
    Role.IT_SECURITY: (*_RECORD_WORKER, "review"),
    Role.SYSTEM_OWNER: _RECORD_WORKER,
    Role.AUDITOR: ("view",),
}


ROLE_GRANTS: dict[str, tuple[str, ...]] = {
    Role.ADMINISTRATOR: (
        "accounts.*",
        "backups.*",
        "access.decision.view",
        "access.governance.view",
        "access.usage.view",
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
        "monitoring.alert.view",
        "monitoring.alert.triage",
        "training.view", "training.deliver", "training.manage",
        "access.governance.*", "access.usage.view",
    ),
    Role.QA_REVIEWER: (
        "accounts.user.view", *_TRAIL_READ, "trail.review.create", "training.view",
    ),
    Role.PROCESS_OWNER: (
        "accounts.user.view", "trail.history.view", "training.view", "training.deliver",
    ),
    Role.AUTHOR: ("trail.history.view",),
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
        "monitoring.event.view",
        "monitoring.alert.view",
        "monitoring.alert.triage",
        "monitoring.source.manage",
        "access.governance.*", "access.usage.view",
        "backups.*",
    ),
    Role.SYSTEM_OWNER: (
        "accounts.user.view",
        "accounts.integration.view",
        "access.governance.accounts",
        "trail.history.view",
        "trail.status.view",
        "trail.verify.run",
    ),
    Role.AUDITOR: (
        "accounts.user.view",
        "accounts.integration.view",
        "access.decision.view",
        "security.event.view",
        *_TRAIL_READ,
        "trail.status.view",
        "trail.proof.view",
        "monitoring.event.view",
        "monitoring.alert.view",
        "training.view",
        "access.governance.view", "access.usage.view",
        "backups.backup.view",
    ),
}

# Roles whose holders create or change GxP records: never combined with administrator
# (DI-01) and never held by generic accounts (DI-02, P11-30).
GXP_ROLES = frozenset(
    {Role.QA_MANAGER, Role.QA_REVIEWER, Role.PROCESS_OWNER, Role.AUTHOR, Role.SYSTEM_OWNER}
)


def patterns_for(role: str) -> tuple[str, ...]:
    """Every action pattern `role` holds: its own grants, the record vocabulary in every
    registered quality family (plus `records.use`, reaching the shared parts) and the
    families' own steps declared for it."""
    from cyberqms.platform.kit.records import all_kinds

    patterns = list(ROLE_GRANTS.get(role, ()))
    suffixes = RECORD_GRANTS.get(role, ())
    if suffixes:
        patterns.append("records.use")
    for kind in all_kinds():
        if kind.grants == "quality":
            patterns += [kind.action(suffix) for suffix in suffixes]
        patterns += [kind.action(suffix) for suffix, roles in kind.own_grants.items()
                     if role in roles]
    return tuple(patterns)


def grants_for(role: str, site_id: int | None) -> list[Grant]:
    return [Grant(pattern, site_id, source=role) for pattern in patterns_for(role)]


def roles_granting(action: str) -> list[str]:
    """The roles whose grants cover `action` (at some site)."""
    return [role for role in Role.values
            if any(Grant(pattern).covers(action, None) for pattern in patterns_for(role))]


def mfa_required(roles: Iterable[str]) -> bool:
    """A11-19: privileged roles authenticate with a second factor."""
    required = set(settings.CYBERQMS_MFA_REQUIRED_ROLES)
    return any(role in required for role in roles)
