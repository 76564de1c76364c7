"""The workflow engine: declared transition tables, one way to change a record's state.

A record family declares its table once::

    S = CapaState
    CAPA_WORKFLOW = Workflow(Capa, "capa.capa", [
        Transition("submit", S.DRAFT, S.OPEN, "capa.submit"),
        Transition("close", S.VERIFYING, S.CLOSED, "capa.approve", sign="Closed",
                   reason=True, guards=(effectiveness_passed,), not_by=("owner",)),
    ])

`Workflow.run` is the only code that changes `state`: it checks the transition exists
from the current state (else 409 with the allowed actions, P11-10), authorizes through the
access gate, applies segregation of duties (the users named by `not_by` fields may not
take the action, P11-11) and the guards, re-authenticates the signer for signed
transitions (outside the transaction, so failure records survive), then in one
transaction locks the row, re-checks all of that against the locked row, saves the
changed fields, writes the signature (hash of the signed content) and the audit entry,
sends `state_changed` and runs the declared side effects (notices, which queue their
e-mail with the change), all in that transaction: one commit. There is no force.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.dispatch import Signal

from cyberqms.platform.core.access import can, require
from cyberqms.platform.trail.canonical import canonical_json
from cyberqms.platform.trail.record import audit_record, snapshot
from cyberqms.platform.trail.registry import audited

from .signatures import (
    SignatureRequest,
    SigningError,
    mark_signing_session,
    record_signature,
    verify_signer,
)

M = TypeVar("M", bound=models.Model)
Guard = Callable[[Any, Any], str | None]  # (record, actor) -> refusal message or None
SideEffect = Callable[[Any, Any], None]  # (record, actor), run in the step's transaction
Updates = Callable[[Any, Any], dict[str, Any]]  # (record, actor) -> fields set with the state
GuardData = Callable[[models.QuerySet[Any]], models.QuerySet[Any]]  # rows -> rows + guard data

# Checks every person's step passes besides its own guards, declared by apps that know
# more than the family (training: the documents whose current training a step needs,
# P11-13): (record, actor, transition, type_name) -> refusal or None.
StepCheck = Callable[[Any, Any, Any, str], str | None]
_STEP_CHECKS: list[StepCheck] = []


def add_step_check(check: StepCheck) -> None:
    """Run `check` on every person's step of every workflow, after the step's guards: like
    a guard, what it refuses is something the person can resolve, so the page shows the step
    disabled with the sentence and the home page lists it with “First: …”."""
    if check not in _STEP_CHECKS:
        _STEP_CHECKS.append(check)


# Checks of a person named on a record for a step they will take (a document's reviewer,
# who reviews), declared by the same apps: (record, person, "<type>.<action>") -> why they
# cannot be named, or None. The kit runs them when such a field is set
# (`RecordKind.assignees`), so a task is never given to someone who could not take it.
AssigneeCheck = Callable[[Any, Any, str], str | None]
_ASSIGNEE_CHECKS: list[AssigneeCheck] = []


def add_assignee_check(check: AssigneeCheck) -> None:
    if check not in _ASSIGNEE_CHECKS:
        _ASSIGNEE_CHECKS.append(check)


def assignee_refusal(record: Any, person: Any, step: str) -> str | None:
    """Why `person` cannot be named on `record` for `step`, or None."""
    for check in _ASSIGNEE_CHECKS:
        problem = check(record, person, step)
        if problem:
            return problem
    return None


# Sent inside the transition's transaction, after its audit entry: what follows a record's
# state commits or rolls back with the step (the inbox resolves the notices that awaited
# the state left). Core knows no inbox.
state_changed = Signal()  # sender: the model; record, type_name, source, target, actor


class Problem(str):
    """A guard's answer that names the field at fault: the 422 names it, and the page
    marks it (`Problem("Name the QA contact first.", field="qa_contact")`)."""

    field: str

    def __new__(cls, text: str, *, field: str = "__all__") -> Problem:
        made = super().__new__(cls, text)
        made.field = field
        return made


class TransitionNotAllowed(Exception):
    """The action does not exist from the record's current state (answered 409)."""

    def __init__(self, action: str, state: str, allowed: Sequence[str]) -> None:
        super().__init__(f"'{action}' is not possible while the record is {state}.")
        self.action = action
        self.state = state
        self.allowed = list(allowed)


class GuardFailed(ValidationError):
    """A guard or input check refused the transition (answered 422, naming the field)."""

    def __init__(self, message: str, *, field: str = "__all__") -> None:
        super().__init__({field: [message]})
        self.field = field
        self.text = message


class StepClosed(PermissionDenied):
    """The step is not the actor's (a review asked of someone else, a step cyberqms takes
    by itself on its date), answered 403 with the sentence."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.text = message


class SegregationOfDuties(PermissionDenied):
    """The actor is barred from this action on this record (P11-11), answered 403."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.text = message


@dataclass(frozen=True)
class Transition:
    action: str
    source: str | tuple[str, ...]
    target: str
    permission: str
    sign: str | None = None  # the signature meaning ("Approved"); None: no signature
    reason: bool = False
    guards: tuple[Guard, ...] = ()
    not_by: tuple[str, ...] = ()  # fields naming users who may not take this action
    effects: tuple[SideEffect, ...] = ()
    # Run in the step's transaction before the record is saved in its new state: what
    # must make room for it (the version in force superseded before the next takes its
    # place, which the database's unique index checks at once).
    before: tuple[SideEffect, ...] = ()
    label: str = ""
    updates: Updates | None = None  # e.g. closed_at on closure, inside the transaction
    # Whose step it is, beyond the right: (record, actor) → why it is not this actor's,
    # or None (a review asked of named reviewers). Unlike a guard, nothing the actor does
    # changes the answer: the step is not on their list of tasks.
    only: Guard | None = None
    # A step cyberqms takes by itself (`run(…, actor=None)`, the scheduler on a date):
    # never a person's, never shown as an action.
    system: bool = False
    # Whether the step is work waiting for someone (a task on their home page). A step
    # that is open but that nobody has to take is not: withdrawing a system's validation,
    # retiring it, disqualifying an approved supplier. It still shows on the record's page.
    task: bool = True

    @property
    def sources(self) -> tuple[str, ...]:
        return self.source if isinstance(self.source, tuple) else (self.source,)

    @property
    def title(self) -> str:
        return self.label or self.action.replace("_", " ").capitalize()


@dataclass
class Workflow[M: models.Model]:
    model: type[M]
    type_name: str
    transitions: list[Transition]
    state_field: str = "state"
    # Fields whose change does not alter what a signature vouched for.
    unsigned_fields: tuple[str, ...] = ("state", "updated_at", "closed_at")
    # What the guards read beyond the record's own fields (child rows, links), fetched with
    # many records at once (prefetch, annotation) so that deciding a list of them, the home
    # page's tasks, costs no query per record; the guards use it when it is there.
    guard_data: GuardData | None = None
    _by_action: dict[str, list[Transition]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_action = {}
        for t in self.transitions:
            self._by_action.setdefault(t.action, []).append(t)
        for t in self.transitions:
            for s in t.sources:
                duplicates = [u for u in self._by_action[t.action] if s in u.sources]
                if len(duplicates) > 1:
                    raise ValueError(f"{self.type_name}: '{t.action}' declared twice from {s}")

    # --- reading the table -------------------------------------------------------------

    def state_of(self, record: M) -> str:
        return str(getattr(record, self.state_field))

    def transition(self, action: str, state: str) -> Transition | None:
        return next((t for t in self._by_action.get(action, ()) if state in t.sources), None)

    def actions_from(self, state: str) -> list[Transition]:
        return [t for t in self.transitions if state in t.sources]

    def states(self) -> list[str]:
        seen: dict[str, None] = {}
        for t in self.transitions:
            for s in (*t.sources, t.target):
                seen.setdefault(str(s), None)
        return list(seen)

    def with_guard_data(self, rows: models.QuerySet[M]) -> models.QuerySet[M]:
        """`rows` carrying what the guards read (see `guard_data`)."""
        return rows if self.guard_data is None else self.guard_data(rows)

    def barred(self, record: M, actor: Any, t: Transition) -> str | None:
        """Segregation of duties: why `actor` may not take `t` on `record`, or None."""
        for name in t.not_by:
            holder = getattr(record, f"{name}_id", None)
            if holder is None:
                holder = getattr(getattr(record, name, None), "pk", None)
            if holder is not None and holder == actor.pk:
                label = getattr(record._meta.get_field(name), "verbose_name", name)
                return (f"You are the {label} of this record: someone else must take the "
                        f"step “{t.title}”.")
        return None

    def closed_to(self, record: M, actor: Any, t: Transition) -> str | None:
        """Why `actor` can never take `t` on this record as it stands (no right, barred by
        segregation of duties, not whose step it is), or None: what the actor could
        resolve is not here."""
        if t.system:
            return "cyberqms takes this step by itself."
        if not can(actor, t.permission, record):
            return "You do not have the right to do this."
        return self.barred(record, actor, t) or (t.only(record, actor) if t.only else None)

    def pending_check(self, record: M, actor: Any, t: Transition) -> str | None:
        """What must be done before `t` can be taken (the first failing guard), or None."""
        for guard in t.guards:
            problem = guard(record, actor)
            if problem:
                return problem
        return self._step_checks(record, actor, t)

    def _step_checks(self, record: M, actor: Any, t: Transition) -> str | None:
        if actor is None or t.system:
            return None
        for check in _STEP_CHECKS:
            problem = check(record, actor, t, self.type_name)
            if problem:
                return problem
        return None

    def refusal(self, record: M, actor: Any, t: Transition) -> str | None:
        """Why `actor` cannot take `t` now (without recording a decision), or None."""
        return self.closed_to(record, actor, t) or self.pending_check(record, actor, t)

    def available(self, record: M, actor: Any) -> list[tuple[Transition, str | None]]:
        """A person's actions from the current state with, for each, why it is refused
        (None: can); the steps cyberqms takes by itself are not among them."""
        current = self.state_of(record)
        return [(t, self.refusal(record, actor, t)) for t in self.actions_from(current)
                if not t.system]

    # --- hashing what is signed ------------------------------------------------------------

    def content_hash(self, record: M) -> str:
        state = snapshot(record)
        content = {k: v for k, v in state.items() if k not in self.unsigned_fields}
        return hashlib.sha256(canonical_json(content)).hexdigest()

    def hash_for(self, record: M, action: str) -> str:
        """The hash a signature for `action` binds (and is later compared with, P11-20).

        By default the whole signed content; a family whose later steps fill fields that
        an earlier signature did not vouch for (a CAPA's effectiveness result after the
        plan approval) narrows it per action."""
        return self.content_hash(record)

    # --- running -------------------------------------------------------------------------

    def _check(self, record: M, action: str, actor: Any) -> Transition:
        state = self.state_of(record)
        t = self.transition(action, state)
        if t is None:
            # Authorization first: someone who may never take this step learns nothing of
            # the record's state from the answer (403, not 409).
            named = [u for u in self.transitions if u.action == action]
            if named and actor is not None and not any(
                    can(actor, u.permission, record) for u in named):
                require(actor, named[0].permission, record)
            raise TransitionNotAllowed(action, state, [u.action for u in self.actions_from(state)])
        if t.system or actor is None:
            if not (t.system and actor is None):
                raise StepClosed("cyberqms takes this step by itself." if t.system
                                 else "Only a person takes this step.")
        else:
            require(actor, t.permission, record)
            barred = self.barred(record, actor, t)
            if barred:
                raise SegregationOfDuties(barred)
            closed = t.only(record, actor) if t.only else None
            if closed:
                raise StepClosed(closed)
        for guard in t.guards:
            problem = guard(record, actor)
            if problem:
                raise GuardFailed(problem, field=getattr(problem, "field", "__all__"))
        problem = self._step_checks(record, actor, t)
        if problem:
            raise GuardFailed(problem)
        return t

    def run(
        self,
        record: M,
        action: str,
        *,
        actor: Any,
        reason: str = "",
        signature: SignatureRequest | None = None,
        changes: dict[str, Any] | None = None,
        effects: Iterable[SideEffect] = (),
        expected_hash: str = "",
    ) -> M:
        """Take `action` on `record`; returns the saved record.

        `actor` is None only for a step cyberqms takes by itself (`Transition.system`).
        `changes` are field values set together with the state (e.g. a closure date).
        `expected_hash` is the `content_hash` of the version the user saw: when another
        request changed the record since, nothing is signed (what you see is what you sign).
        :raises TransitionNotAllowed: / AccessDenied / SegregationOfDuties / GuardFailed /
            SigningError: nothing is changed.
        """
        reason = (reason or "").strip()
        # Decide on the stored row, not on a possibly stale instance of the caller's.
        current = type(record)._default_manager.get(pk=record.pk)
        t = self._check(current, action, actor)
        if t.reason and not reason:
            raise GuardFailed("A reason is required.", field="reason")
        verified = verify_signer(actor, signature) if t.sign else None
        with transaction.atomic():
            locked = type(record)._default_manager.select_for_update().get(pk=record.pk)
            decided = t
            t = self._check(locked, action, actor)
            if t is not decided:
                # The record moved on since the signer looked: what was checked (reason,
                # signature) may not be what this transition needs. Start again.
                raise TransitionNotAllowed(
                    action, self.state_of(locked),
                    [u.action for u in self.actions_from(self.state_of(locked))],
                )
            if expected_hash and expected_hash != self.content_hash(locked):
                raise TransitionNotAllowed(
                    action, f"{self.state_of(locked)} (changed since you opened it)",
                    [u.action for u in self.actions_from(self.state_of(locked))],
                )
            for prepare in t.before:
                prepare(locked, actor)
            before = snapshot(locked)
            source = self.state_of(locked)
            updated = [self.state_field]
            setattr(locked, self.state_field, t.target)
            computed = t.updates(locked, actor) if t.updates else {}
            for name, value in {**computed, **(changes or {})}.items():
                setattr(locked, name, value)
                updated.append(name)
            if any(f.name == "updated_at" for f in locked._meta.concrete_fields):
                updated.append("updated_at")
            locked.save(update_fields=list(dict.fromkeys(updated)))
            signature_row = None
            if verified is not None and t.sign:
                spec = audited(locked)
                signature_row = record_signature(
                    verified,
                    record_type=spec.type_name,
                    record_id=locked.pk,
                    record_label=spec.label(locked),
                    record_hash=self.hash_for(locked, f"{self.type_name}.{t.action}"),
                    action=f"{self.type_name}.{t.action}",
                    meaning=t.sign,
                    reason=reason,
                )
            audit_record(
                f"{self.type_name}.{t.action}",
                locked,
                actor=actor,
                before=before,
                reason=reason or None,
                signature_id=signature_row.pk if signature_row else None,
            )
            state_changed.send(type(locked), record=locked, type_name=self.type_name,
                               source=source, target=t.target, actor=actor)
            if signature is not None and signature_row is not None:
                # Session continuity starts with a signature that exists, not an attempt.
                transaction.on_commit(partial(mark_signing_session, signature))
            for effect in (*t.effects, *effects):
                # Notices and queued work commit with the step (core/outbox.py).
                effect(locked, actor)
        for f in locked._meta.concrete_fields:
            setattr(record, f.attname, getattr(locked, f.attname))
        return locked


def mermaid(workflow: Workflow[Any]) -> str:
    """A Mermaid state diagram of the table (docs/workflows/ is generated from this)."""
    lines = ["stateDiagram-v2"]
    for t in workflow.transitions:
        for s in t.sources:
            extras = []
            if t.sign:
                extras.append(f"signed: {t.sign}")
            if t.reason:
                extras.append("reason")
            if t.system:
                extras.append("by cyberqms itself")
            if t.not_by:
                extras.append("not by " + ", ".join(t.not_by))
            note = f" ({'; '.join(extras)})" if extras else ""
            lines.append(f"    {s} --> {t.target}: {t.action} [{t.permission}]{note}")
    return "\n".join(lines) + "\n"


__all__ = [
    "GuardFailed",
    "Problem",
    "SegregationOfDuties",
    "SigningError",
    "StepCheck",
    "StepClosed",
    "Transition",
    "TransitionNotAllowed",
    "Workflow",
    "add_assignee_check",
    "add_step_check",
    "assignee_refusal",
    "mermaid",
    "state_changed",
]
