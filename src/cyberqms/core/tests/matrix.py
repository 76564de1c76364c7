"""Who may do what, for the authorization matrix: personas, role sets and `Expect`.

Each app that adds URLs declares their expectations in its own `tests/matrix.py` as
``EXPECTATIONS`` (and optionally ``SHARED_PATH_OPERATIONS``); the matrix test collects them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps

from cyberqms.conftest import PERSONAS

ROLES = [*PERSONAS, "anonymous"]
EVERYONE = frozenset(PERSONAS)  # every signed-in persona, with or without a role
ADMIN = frozenset({"admin"})
USER_VIEWERS = frozenset(
    {"admin", "qa_manager", "qa_approver", "process_owner", "it_security", "system_owner",
     "auditor"}
)
EVENT_VIEWERS = frozenset({"admin", "qa_manager", "it_security", "auditor"})
DECISION_VIEWERS = frozenset({"admin", "it_security", "auditor"})
INTEGRATION_VIEWERS = frozenset({"admin", "it_security", "system_owner", "auditor"})
MFA_ENROLLED = frozenset({"admin", "qa_manager", "it_security", "system_owner"})
NOBODY: frozenset[str] = frozenset()
TRAIL_READERS = frozenset({"qa_manager", "qa_approver", "it_security", "auditor"})
TRAIL_STATUS = frozenset({"admin", "qa_manager", "it_security", "system_owner", "auditor"})
TRAIL_PROOFS = frozenset({"qa_manager", "it_security", "auditor"})
TRAIL_VERIFIERS = frozenset({"qa_manager", "it_security", "system_owner"})
TRAIL_RESOLVERS = frozenset({"qa_manager", "it_security"})
TRAIL_REVIEWERS = frozenset({"qa_manager", "qa_approver"})
# Everyone with a role on quality records (viewers included); the record decides next.
RECORD_USERS = frozenset(
    {"qa_manager", "qa_approver", "process_owner", "author", "it_security", "system_owner",
     "auditor"}
)


@dataclass(frozen=True)
class Expect:
    """Who gets ``ok``; others signed in get ``denied``; anonymous gets ``anonymous``;
    ``overrides`` names personas that get another status (a 404 after the gate let
    them through, for instance)."""

    allowed: frozenset[str]
    ok: int = 200
    denied: int = 403
    anonymous: int = 302  # to the sign-in page
    method: str = "get"
    kwargs: dict[str, Any] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    overrides: dict[str, int] = field(default_factory=dict)


PUBLIC = Expect(EVERYONE, anonymous=200)
SELF = Expect(EVERYONE)


def app_expectations() -> tuple[dict[str, Expect], dict[str, Expect]]:
    """The expectations declared by apps in `<app>/tests/matrix.py`."""
    expectations: dict[str, Expect] = {}
    shared: dict[str, Expect] = {}
    for config in apps.get_app_configs():
        if not config.name.startswith("cyberqms.") or config.name.startswith("cyberqms.core"):
            continue
        try:
            module = importlib.import_module(f"{config.name}.tests.matrix")
        except ModuleNotFoundError as exc:
            if exc.name in (f"{config.name}.tests", f"{config.name}.tests.matrix"):
                continue
            raise
        for source, target in ((getattr(module, "EXPECTATIONS", {}), expectations),
                               (getattr(module, "SHARED_PATH_OPERATIONS", {}), shared)):
            clash = set(source) & set(target)
            if clash:
                raise ValueError(f"matrix rows declared twice: {sorted(clash)}")
            target.update(source)
    return expectations, shared
