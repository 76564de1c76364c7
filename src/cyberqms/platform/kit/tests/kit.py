"""The test kit for record families: a record in any state, walked there through the
family's own workflow table by the personas who hold each step.

    from cyberqms.platform.kit.tests.kit import record_in_state
    complaint = record_in_state(kind_by_slug("complaints"), "qa_review", personas)

A family on the kit gives sample values in `<app>/tests/kit.py`: ``CREATE`` (entered at
creation) and ``FILL`` (set where the state allows before each step and on arrival: what
the guards ask for), ``QUERIES``, its list page's and API list's query counts, and may give
``before(kind, record, action, people)`` for what a step needs besides fields (child
records, a check recorded outside the table). The walker takes the shortest path in the table that avoids cancelling, lets the
first persona who may take each step take it (the owner first), and signs where the step
is signed. Personas: the `personas` fixture; the first of TAKERS who may create the
family's records originates and owns them (`maker`: the author for quality records, IT
security for incidents).
"""

from __future__ import annotations

import importlib
from collections import deque
from typing import Any

from django.apps import apps
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache
from django.test import RequestFactory

from cyberqms.conftest import PASSWORD, totp_code
from cyberqms.platform.core.access import can
from cyberqms.platform.kit.record_services import editable_fields, record_create, record_update
from cyberqms.platform.kit.records import QualityRecord, RecordKind, all_kinds, kind_of
from cyberqms.platform.kit.signatures import SignatureRequest, commitment_accept, has_commitment
from cyberqms.platform.kit.workflow import Transition

# Who takes a step, in order of preference: the owner, then QA, then IT security.
TAKERS = ("author", "qa_approver", "qa_manager", "it_security", "process_owner")


def maker(kind: RecordKind, people: dict[str, Any]) -> Any:
    """The first persona who may create records of `kind` (and so owns them)."""
    for name in TAKERS:
        if can(people[name], kind.action("create")):
            return people[name]
    raise LookupError(f"{kind.slug}: no persona may create")


def kit_families() -> list[RecordKind]:
    return [kind for kind in all_kinds() if kind.on_kit]


def samples(kind: RecordKind) -> Any:
    """The family's `tests/kit.py` (CREATE, FILL)."""
    config = apps.get_containing_app_config(kind.model.__module__)
    assert config is not None
    return importlib.import_module(f"{config.name}.tests.kit")


def creation_values(kind: RecordKind, *, site: Any, author: Any) -> dict[str, Any]:
    """The family's sample values for a new record at `site` by `author`: CREATE, plus what
    `made(site, author)` in its tests/kit.py makes first (another record it names: the
    system a periodic evaluation is of)."""
    sample = samples(kind)
    made = getattr(sample, "made", None)
    return {**sample.CREATE, **(made(site, author) if made is not None else {})}


def path_to(kind: RecordKind, state: str) -> list[Transition]:
    """The shortest run of transitions from the first state to `state`, cancelling only
    when `state` is reached by nothing else."""
    for allow_cancel in (False, True):
        seen = {kind.initial_state: list[Transition]()}
        queue = deque([kind.initial_state])
        while queue:
            here = queue.popleft()
            if here == state:
                return seen[here]
            for t in kind.workflow.actions_from(here):
                if t.action == "cancel" and not allow_cancel:
                    continue
                if t.target not in seen:
                    seen[t.target] = [*seen[here], t]
                    queue.append(t.target)
    raise ValueError(f"{kind.slug}: no path to {state!r}")


def ready_to_sign(user: Any, admin: Any) -> Any:
    """Verify the identity (P11-22) and accept the accountability statement, once (None,
    cyberqms itself, signs nothing)."""
    from cyberqms.platform.accounts.services import user_verify_identity

    if user is None:
        return None
    if user.identity_verified_at is None:
        user_verify_identity(user, actor=admin, method="Passport")
    if not has_commitment(user):
        commitment_accept(user)
    return user


def signature(user: Any) -> SignatureRequest:
    """A fresh signature request (password, and a TOTP code for enrolled users).

    The cache is cleared so the same time-step code is accepted again; `totp_code` gives
    a code valid for the rest of its step."""
    cache.clear()
    request = RequestFactory().post("/x", REMOTE_ADDR="10.0.0.9")
    request.session = SessionStore()
    return SignatureRequest(password=PASSWORD, otp=totp_code() if user.has_mfa() else "",
                            request=request)


def taker(kind: RecordKind, record: QualityRecord, t: Transition, people: dict[str, Any]) -> Any:
    """The first persona whose step `t` is now (right, segregation of duties, whose step
    it is); None for a step cyberqms takes by itself."""
    if t.system:
        return None
    for name in TAKERS:
        if kind.workflow.closed_to(record, people[name], t) is None:
            return people[name]
    raise LookupError(f"{kind.slug}: no persona may {t.action} from {record.state}")


def fill(kind: RecordKind, record: QualityRecord, people: dict[str, Any],
         values: dict[str, Any]) -> None:
    """Set the sample values the state lets someone change, the owner first."""
    for name in TAKERS:
        person = people[name]
        wanted = {k: v for k, v in values.items()
                  if k in editable_fields(record, person) and getattr(record, k) != v}
        if wanted:
            record_update(record, actor=person, changes=wanted, reason="Test kit")


def ready(kind: RecordKind, record: QualityRecord, action: str, people: dict[str, Any]) -> None:
    """The family's own preparation of a step (`before` in its tests/kit.py): child
    records, a check recorded outside the table."""
    prepare = getattr(samples(kind), "before", None)
    if prepare is not None:
        prepare(kind, record, action, people)


def record_in_state(kind: RecordKind, state: str, people: dict[str, Any], *,
                    site: Any = None, **fields: Any) -> QualityRecord:
    """A record of `kind` brought to `state` through its workflow (every step audited)."""
    from cyberqms.platform.accounts.tests.factories import SiteFactory

    sample = samples(kind)
    site = site or SiteFactory.create(code="MUC", name="Site MUC")
    author = maker(kind, people)
    values = {**creation_values(kind, site=site, author=author),
              **{k: v for k, v in fields.items() if k in kind.create_fields}}
    values.setdefault("owner", author)
    record = record_create(kind, actor=author, site=site, values=values)
    later = {**sample.FILL, **{k: v for k, v in fields.items() if k not in kind.create_fields}}
    return walk(kind, record, state, people, values=later)


def walk(kind: RecordKind, record: QualityRecord, state: str, people: dict[str, Any], *,
         values: dict[str, Any] | None = None) -> QualityRecord:
    """Bring an existing `record` from its state to `state` through the table (the path
    from the first state, followed from where the record is), filling `values` (default:
    the family's FILL) where each state allows."""
    later = samples(kind).FILL if values is None else values
    path = path_to(kind, state)
    steps = [t for i, t in enumerate(path)
             if record.state in t.sources or any(record.state in u.sources
                                                 for u in path[:i])]
    for t in steps:
        if t.system and type(record)._default_manager.filter(
                pk=record.pk, state=t.target).exists():
            # cyberqms took the step by itself when the last one committed (a document
            # approved on its effective date takes effect at once).
            record.refresh_from_db()
            continue
        fill(kind, record, people, later)
        ready(kind, record, t.action, people)
        actor = taker(kind, record, t, people)
        ready_to_sign(actor, people["admin"])
        kind.workflow.run(record, t.action, actor=actor,
                          reason="Test kit" if t.reason else "",
                          signature=signature(actor) if t.sign else None)
    fill(kind, record, people, later)
    return record


def copies(record: QualityRecord, count: int) -> list[Any]:
    """`count` more rows like `record` (same state, site and people), numbered after it and
    written in one statement: for tests about reading many records, not making them. A
    family whose rows are unique by more than their number says how a twin differs in
    `twin(row, i)` in its tests/kit.py (documents: the version)."""
    model = type(record)
    differ = getattr(samples(kind_of(record)), "twin", None)
    twins = []
    for i in range(count):
        twin = model._default_manager.get(pk=record.pk)
        twin.pk = None
        twin.number = f"{record.number}-{i + 1:03d}"
        if differ is not None:
            differ(twin, i)
        twins.append(twin)
    return list(model._default_manager.bulk_create(twins))
