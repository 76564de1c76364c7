"""A person's training record as a PDF (WeasyPrint): every page names the person, their
roles and site, who printed the record and when; then the summary (assigned, completed, on
time, overdue, compliance), every assignment with who signed its completion and what the
signature meant, and the signatures' manifestation (who, when, meaning; P11-18).

Built in a fixed number of queries whatever the number of assignments: the person, their
roles, the assignments with their versions, signers and signatures, the quiz attempts.
Times are UTC.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

import cyberqms
from cyberqms.platform.accounts.enums import Role
from cyberqms.platform.accounts.models import RoleAssignment
from cyberqms.platform.core.access import Actor
from cyberqms.platform.kit.record_export import EMPTY, html_to_pdf, utc_text
from cyberqms.platform.trail.record import audit_record

from .enums import AssignmentState, ItemKind
from .models import QuizAttempt, TrainingAssignment

A = AssignmentState
# The kinds as a table column says them ("Document reading", not the choice's whole
# explanation).
KIND_WORDS = {k.value: str(k.label).split(" (", 1)[0] for k in ItemKind}


@dataclass(frozen=True)
class Summary:
    assigned: int  # every assignment not cancelled
    completed: int
    on_time: int  # completed on or before the due date
    overdue: int  # open past the due date
    due_so_far: int  # completed, or open past the due date: what compliance divides by

    @property
    def compliance(self) -> str:
        """Completions on time ÷ assignments due so far, as the KPIs count it."""
        if not self.due_so_far:
            return EMPTY
        return f"{100 * self.on_time / self.due_so_far:.1f} %"


@dataclass(frozen=True)
class Line:
    """One assignment as the PDF prints it: words, dates in UTC."""

    title: str
    kind: str
    version: str
    assigned: str
    due: str
    completed: str
    signed_by: str
    meaning: str
    state: str
    note: str  # why it was cancelled


@dataclass(frozen=True)
class Manifestation:
    meaning: str
    printed_name: str
    username: str
    signed_at: str
    what: str
    components: str


@dataclass(frozen=True)
class Attempt:
    """One quiz attempt: every attempt is part of the record, passed or not."""

    title: str
    submitted: str
    score: str
    outcome: str


@dataclass(frozen=True)
class TrainingRecord:
    person: Any
    roles: str
    site: str
    lines: list[Line]
    summary: Summary
    signatures: list[Manifestation]
    attempts: list[Attempt]


def training_record(person_id: int, *, today: dt.date | None = None) -> TrainingRecord | None:
    """The record of the person `person_id` (None: no such person): four queries."""
    person = get_user_model()._default_manager.select_related("site").filter(
        pk=person_id).first()
    if person is None:
        return None
    today = today or timezone.localdate()
    held = list(RoleAssignment.objects.held_on(timezone.now()).filter(
        user_id=person_id).select_related("site").order_by("role", "site__code"))
    rows = list(TrainingAssignment.objects.filter(person_id=person_id).select_related(
        "version", "completed_by", "signature").order_by("-assigned_at", "-id"))
    attempts = [Attempt(
        title=a.assignment.title, submitted=utc_text(a.submitted_at, seconds=False),
        score=f"{a.score} % ({a.right} of {a.asked}; pass mark {a.pass_mark} %)",
        outcome="Passed" if a.passed else "Not passed")
        for a in QuizAttempt.objects.filter(person_id=person_id).select_related(
            "assignment").order_by("-submitted_at", "-id")]
    return TrainingRecord(attempts=attempts,
        person=person, roles=_roles(held), site=_site(person, held),
        lines=[_line(row, today) for row in rows], summary=_summary(rows, today),
        signatures=[Manifestation(
            meaning=s.meaning, printed_name=s.printed_name, username=s.username,
            signed_at=utc_text(s.signed_at), what=s.record_label,
            components=s.components.replace("+", " and "))
            for s in sorted((r.signature for r in rows if r.signature is not None),
                            key=lambda s: (s.signed_at, s.pk))],
    )


def training_record_pdf(record: TrainingRecord, *, actor: Actor) -> bytes:
    """The record as PDF, printed for `actor` (named on every page with the time).

    Side effects: audit entry `training.record.export` (who took a copy of whose record,
    how many assignments it holds).
    """
    printed_by = str(getattr(actor, "printed_name", "") or getattr(actor, "username", ""))
    html = render_to_string("training/record_pdf.html", {
        "record": record, "organization": settings.CYBERQMS_ORGANIZATION,
        "printed_by": printed_by, "printed_at": utc_text(timezone.now()),
        "application": f"cyberqms {cyberqms.__version__}",
    })
    pdf = html_to_pdf(html, "training/record_pdf.css")
    with transaction.atomic():
        audit_record(
            "training.record.export", actor=actor, object_type="training.record",
            object_id=str(record.person.pk),
            label=f"Training record of {record.person.printed_name}",
            changes={"format": [None, "pdf"], "assignments": [None, len(record.lines)]})
    return pdf


def _roles(held: list[RoleAssignment]) -> str:
    labels = dict(Role.choices)
    words = [f"{labels.get(r.role, r.role)} ({r.site.code if r.site else 'all sites'})"
             for r in held]
    return ", ".join(dict.fromkeys(words)) or "no role"


def _site(person: Any, held: list[RoleAssignment]) -> str:
    if person.site is not None:
        return f"{person.site.code} — {person.site.name}"
    sites = sorted({(r.site.code, r.site.name) for r in held if r.site is not None})
    return ", ".join(f"{code} — {name}" for code, name in sites) or EMPTY


def _summary(rows: list[TrainingAssignment], today: dt.date) -> Summary:
    live = [r for r in rows if r.state != A.CANCELLED]
    done = [r for r in live if r.state == A.DONE]
    on_time = [r for r in done if r.completed_at is not None
               and timezone.localdate(r.completed_at) <= r.due_date]
    overdue = [r for r in live if r.is_overdue(today)]
    return Summary(assigned=len(live), completed=len(done), on_time=len(on_time),
                   overdue=len(overdue), due_so_far=len(done) + len(overdue))


def _line(row: TrainingAssignment, today: dt.date) -> Line:
    signature = row.signature
    if signature is not None:
        signed_by, meaning = f"{signature.printed_name} ({signature.username})", signature.meaning
    elif row.completed_by is not None:
        signed_by, meaning = str(getattr(row.completed_by, "printed_name", "")), EMPTY
    else:
        signed_by, meaning = EMPTY, EMPTY
    state = "Overdue" if row.is_overdue(today) else str(AssignmentState(row.state).label)
    return Line(
        title=row.title, kind=KIND_WORDS.get(row.kind, row.kind),
        version=row.version.version if row.version is not None else EMPTY,
        assigned=utc_text(row.assigned_at, seconds=False)[:10],
        due=row.due_date.isoformat(),
        completed=(utc_text(row.completed_at, seconds=False).removesuffix(" UTC")
                   if row.completed_at else EMPTY),
        signed_by=signed_by, meaning=meaning, state=state,
        # Why it was cancelled, or why it was done without reading (QA's decision).
        note=row.cancelled_reason or (row.note if row.carried else ""))
