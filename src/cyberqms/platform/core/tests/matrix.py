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


# Families on the record kit grant the same vocabulary to the same roles (accounts.roles):
# their generic endpoints are expected alike. Object URLs name a record that does not
# exist: those the gate lets through get 404, the others 403; POST-only pages answer 405.
RECORD_WORKERS = RECORD_USERS - {"auditor"}


def family_expectations() -> tuple[dict[str, Expect], dict[str, Expect]]:
    """Matrix rows for the kit's endpoints of every registered family."""
    from cyberqms.platform.kit.records import all_kinds

    rows: dict[str, Expect] = {}
    shared: dict[str, Expect] = {}
    for kind in all_kinds():
        if not kind.on_kit:
            continue
        slug, noun = kind.slug, kind.type_name.rsplit(".", 1)[-1]
        # A family whose roles differ from the quality records' says who it serves in its
        # tests/matrix.py: KIT_ROLES = (viewers, workers).
        users, workers = _kit_roles(kind)
        missing, api_missing = {"pk": 999999}, {"record_id": 999999}
        rows.update({
            f"{slug}:list": Expect(users),
            f"{slug}:create": Expect(workers),
            f"{slug}:detail": Expect(users, ok=404, kwargs=missing),
            f"{slug}:edit": Expect(workers, ok=405, kwargs=missing),
            f"api:{noun}_list": Expect(users, anonymous=401),
            f"api:{noun}_detail": Expect(users, ok=404, anonymous=401,
                                         kwargs=api_missing),
            f"api:{noun}_update": Expect(workers, ok=404, anonymous=401,
                                         method="post", kwargs=api_missing,
                                         body={"changes": {}, "reason": "matrix"}),
        })
        if kind.rows:
            # The pages of a family's row tables: one URL pattern for all its tables.
            named = {"pk": 999999, "rows_name": kind.rows[0].name}
            rows[f"{slug}:row_add"] = Expect(workers, ok=405, kwargs=named)
            rows[f"{slug}:row_remove"] = Expect(workers, ok=405, kwargs={**named, "row_id": 1})
        for table in kind.rows:
            api_named = {"record_id": 999999}
            rows[f"api:{noun}_{table.name}_list"] = Expect(users, ok=404, anonymous=401,
                                                           kwargs=api_named)
            rows[f"api:{noun}_{table.name}_withdraw"] = Expect(
                workers, ok=404, anonymous=401, method="post",
                kwargs={**api_named, "row_id": 1}, body={"reason": "matrix"})
            # Adding shares its path with the list: adders pass the gate, then the record
            # is missing (404).
            shared[f"api:{noun}_{table.name}_add"] = Expect(
                workers, ok=404, anonymous=401, method="post", kwargs=api_named, body={})
        # POST shares its path with the list: creators pass the gate, then an unknown
        # site is refused (422, naming the field).
        shared[f"api:{noun}_create"] = Expect(
            workers, ok=422, anonymous=401, method="post",
            body={"site": "NOPE", "title": "matrix"})
    return rows, shared


def _kit_roles(kind: Any) -> tuple[frozenset[str], frozenset[str]]:
    config = apps.get_containing_app_config(kind.model.__module__)
    assert config is not None
    try:
        module = importlib.import_module(f"{config.name}.tests.matrix")
    except ModuleNotFoundError:
        return RECORD_USERS, RECORD_WORKERS
    roles: tuple[frozenset[str], frozenset[str]] = getattr(
        module, "KIT_ROLES", (RECORD_USERS, RECORD_WORKERS))
    return roles


def app_expectations() -> tuple[dict[str, Expect], dict[str, Expect]]:
    """The expectations declared by apps in `<app>/tests/matrix.py`, and the kit's rows
    for every family on it."""
    expectations, shared = family_expectations()
    for config in apps.get_app_configs():
        if not config.name.startswith("cyberqms.") or config.name.startswith("cyberqms.platform.core"):
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
