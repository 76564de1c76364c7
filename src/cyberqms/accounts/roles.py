"""What each role may do: the grants table the access gate evaluates.

Patterns name actions exactly or by prefix (``trail.*``). Later record families add their
actions to the roles here, in one place, so the matrix stays reviewable as a whole.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings

from cyberqms.core.access import Grant

from .enums import Role

ROLE_GRANTS: dict[str, tuple[str, ...]] = {
    Role.ADMINISTRATOR: (
        "accounts.*",
        "access.decision.view",
        "security.event.view",
    ),
    Role.QA_MANAGER: ("accounts.user.view", "security.event.view"),
    Role.QA_REVIEWER: ("accounts.user.view",),
    Role.PROCESS_OWNER: ("accounts.user.view",),
    Role.AUTHOR: (),
    Role.IT_SECURITY: (
        "accounts.user.view",
        "accounts.integration.view",
        "access.decision.view",
        "security.event.view",
    ),
    Role.SYSTEM_OWNER: ("accounts.user.view", "accounts.integration.view"),
    Role.AUDITOR: (
        "accounts.user.view",
        "accounts.integration.view",
        "access.decision.view",
        "security.event.view",
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
