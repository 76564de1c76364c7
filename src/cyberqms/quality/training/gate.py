"""Training gates signatures (P11-13): a workflow step that names documents in the
requirements is refused to whoever has no current training on them, with a sentence that
names the missing documents, and the page shows the step disabled with that sentence.

Current training on a document: the person signed "Read and understood" for the version
in force. What a person has and what the steps need are read once per actor object (a
request's signed-in person, a task's actor) in two queries, whatever the number of
records a page decides.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import OuterRef, Subquery

from cyberqms.platform.core.context import memo
from cyberqms.platform.kit.words import listing
from cyberqms.quality.documents.models import DocumentVersion

from .enums import AssignmentState
from .models import TrainingAssignment, TrainingRequirement

MEMO = "training.current"


def _steps() -> dict[str, tuple[str, str]]:
    """Every person's step of every registered workflow: `<type>.<action>` → (its words,
    the gate action it needs)."""
    from cyberqms.platform.kit.records import registered_kinds

    out: dict[str, tuple[str, str]] = {}
    for kind in registered_kinds():
        for t in kind.workflow.transitions:
            if not t.system:
                out.setdefault(f"{kind.type_name}.{t.action}",
                               (f"{kind.label}: {t.title}", t.permission))
    return out


def known_steps() -> dict[str, str]:
    """Every person's step: `<type>.<action>` → its words."""
    return {step: words for step, (words, _permission) in _steps().items()}


def step_permission(step: str) -> str | None:
    """The gate action a person's step `<type>.<action>` needs, or None for no such step."""
    found = _steps().get(step)
    return found[1] if found else None


def _state(actor: Any) -> tuple[dict[str, list[tuple[int, str]]], set[int]]:
    """(requirements by step: [(document id, "SOP-QA-0003 Title")], ids of the documents
    the actor's training is current on), read once per unit of work (a request, a task)."""
    kept = memo()
    kept = {} if kept is None else kept
    cached = kept.get((MEMO, actor.pk))
    if cached is None:
        current_title = DocumentVersion.objects.filter(
            document_id=OuterRef("document_id"), state="effective").values("title")[:1]
        needs: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for step, doc_id, number, title in TrainingRequirement.objects.filter(
                removed_at__isnull=True).annotate(title=Subquery(current_title)).values_list(
                    "step", "document_id", "document__number", "title"):
            if title is not None:  # a document with no version in force trains nobody
                needs[step].append((doc_id, f"{number} ({title})"))
        current: set[int] = set()
        if needs:
            current = set(TrainingAssignment.objects.filter(
                person_id=actor.pk, state=AssignmentState.DONE, version__state="effective",
            ).values_list("document_id", flat=True))
        cached = (dict(needs), current)
        kept[(MEMO, actor.pk)] = cached
    return cached


def forget(actor: Any = None) -> None:
    """Drop what this unit of work read of `actor`'s training (all, when None): they
    completed some, or the requirements changed."""
    kept = memo()
    if kept is not None:
        for key in [k for k in kept if isinstance(k, tuple) and k[0] == MEMO
                    and actor in (None, k[1])]:
            del kept[key]


def missing_training(actor: Any, step: str) -> list[str]:
    """The documents `step` needs on which `actor`'s training is not current, in words."""
    needs, current = _state(actor)
    return [words for doc_id, words in needs.get(step, ()) if doc_id not in current]


def training_check(record: Any, actor: Any, t: Any, type_name: str) -> str | None:
    """The workflow engine's step check (kit.workflow.add_step_check)."""
    if getattr(actor, "pk", None) is None:
        return None
    missing = missing_training(actor, f"{type_name}.{t.action}")
    if not missing:
        return None
    return (f"Your training on {listing(missing)} is not current: read and sign it first "
            "(My training).")



def assignee_check(record: Any, person: Any, step: str) -> str | None:
    """The kit's assignee check (kit.workflow.add_assignee_check): a person is named for a
    step (a document's reviewer) only with current training on what the step needs."""
    missing = missing_training(person, step)
    if not missing:
        return None
    name = getattr(person, "printed_name", "") or str(person)
    return (f"{name} has no current training on {listing(missing)}, which this step needs: "
            "name someone else, or wait until they have read and signed it.")
