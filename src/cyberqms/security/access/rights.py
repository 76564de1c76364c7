"""Rights and how much they matter: which actions a role's grants cover, and each action's
criticality, which sets how long it may stay unused before it is a finding.

- high: decisions others rely on (approve, close, verify, accept, release, review) and
  administration (roles, users, integrations, trail flags, monitoring sources);
- medium: every other write (moving a due date by an approved extension included: a
  planning decision, not a quality one);
- low: reads (declared `read=True` to the gate), never a finding by themselves.
"""

from __future__ import annotations

from functools import cache

from cyberqms.platform.accounts.enums import Role
from cyberqms.platform.accounts.roles import patterns_for
from cyberqms.platform.core.access import ACTIONS, Grant

HIGH = "high"
MEDIUM = "medium"
LOW = "low"
_DECIDING = ("approve", "close", "verify", "accept", "release", "qualify", "validate",
             "review")
_ADMINISTERING = ("accounts.role.", "accounts.user.manage", "accounts.integration.manage",
                  "accounts.token.manage", "accounts.site.manage", "trail.flag.resolve",
                  "monitoring.source.manage", "training.manage")


def criticality(action: str) -> str:
    spec = ACTIONS.get(action)
    if spec is None or spec.read or action.endswith(".view"):
        return LOW
    if action.endswith(".extension.approve"):
        return MEDIUM
    if action.startswith(_ADMINISTERING) or action.rsplit(".", 1)[-1] in _DECIDING:
        return HIGH
    return MEDIUM


@cache
def role_rights(role: str) -> tuple[str, ...]:
    """The declared actions `role` holds (not public or self-service ones), sorted. The
    grants and the declared actions are fixed once the apps are ready."""
    grants = [Grant(pattern) for pattern in patterns_for(role)]
    return tuple(sorted(
        name for name, spec in ACTIONS.items()
        if not spec.public and not spec.self_service
        and any(g.covers(name, None) for g in grants)))


@cache
def critical_rights(role: str) -> tuple[str, ...]:
    """`role`'s rights of high criticality: what an access review weighs (fixed once the
    apps are ready, as `role_rights`)."""
    return tuple(a for a in role_rights(role) if criticality(a) == HIGH)


_LABELS = {r.value: str(r.label) for r in Role}


def role_label(role: str) -> str:
    return _LABELS.get(role, role)


def action_label(action: str) -> str:
    """The action in words, as the gate's declaration says it ("Approve deviations")."""
    spec = ACTIONS.get(action)
    return spec.description if spec is not None else action
