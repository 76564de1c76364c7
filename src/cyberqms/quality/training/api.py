"""Training over the API: the caller's assignments (or anyone's, for holders of
`training.view`), signing a reading "Read and understood", taking a quiz and listing one's
attempts, the matrix and the KPIs."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from pydantic import ConfigDict

from cyberqms.platform.core.api_gate import api_actor, gate
from cyberqms.platform.core.client_address import request_client_address
from cyberqms.platform.kit.signatures import (
    SignatureRequest,
    SigningError,
    commitment_accept,
    has_commitment,
)

from . import actions, queries, quiz, services
from .enums import AssignmentState, ItemKind
from .models import MAX_CHOICES, QuizAttempt, TrainingAssignment

router = Router(tags=["Training"])


class AssignmentOut(Schema):
    id: int
    person: str
    kind: str
    title: str
    reason: str
    document: str | None
    version: str | None
    assigned_at: Any
    due_date: Any
    state: str
    overdue: bool
    completed_at: Any
    completed_by: str | None


class AssignmentFilters(Schema):
    person: str | None = Field(None, max_length=150,
                               description="Username (holders of training.view); default: you.")
    state: AssignmentState | None = None
    overdue: bool | None = None


class SignIn(Schema):
    model_config = ConfigDict(extra="forbid")

    password: str = Field("", max_length=1024)
    otp: str = Field("", max_length=12, description="TOTP code: first signature of a session.")
    accept_statement: bool = Field(
        False, description="Acknowledge the accountability statement (first signature only).")


class MatrixColumnOut(Schema):
    key: str
    label: str
    title: str


class MatrixRowOut(Schema):
    username: str
    name: str
    roles: list[str]
    cells: list[str] = Field(description="Per column: ok, open, overdue, or '' (not required).")


class MatrixOut(Schema):
    columns: list[MatrixColumnOut]
    rows: list[MatrixRowOut]
    counts: dict[str, int]


class KpisOut(Schema):
    training_compliance: float | None
    assignments_due: int
    completed_on_time: int
    overdue_trainings: int
    documents_past_review: int


def _out(a: TrainingAssignment) -> dict[str, Any]:
    return {
        "id": a.pk, "person": a.person.username, "kind": a.kind, "title": a.title,
        "reason": a.reason, "document": a.document.number if a.document else None,
        "version": a.version.number if a.version else None, "assigned_at": a.assigned_at,
        "due_date": a.due_date, "state": a.state, "overdue": a.is_overdue(),
        "completed_at": a.completed_at,
        "completed_by": a.completed_by.username if a.completed_by else None,
    }


@router.get("/training/assignments", response=list[AssignmentOut],
            operation_id="training_assignments",
            openapi_extra={"responses": {404: {
                "description": "No such person, or not one whose training you may see."}}})
@gate(actions.SELF)
def training_assignments(request: HttpRequest,
                         filters: Query[AssignmentFilters]) -> list[dict[str, Any]]:
    """Your training assignments, newest first (at most 500); holders of `training.view`
    name anyone with `person`."""
    actor = api_actor(request)
    rows = TrainingAssignment.objects.select_related("person", "document", "version",
                                                     "completed_by")
    if filters.person and filters.person != getattr(actor, "username", None):
        from cyberqms.platform.accounts.models import User

        subject = User.objects.filter(username=filters.person).first()
        if subject is None or not services.covers(actor, actions.VIEW, subject.pk):
            raise Http404
        rows = rows.filter(person=subject)
    else:
        rows = rows.filter(person_id=actor.pk)
    if filters.state is not None:
        rows = rows.filter(state=filters.state.value)
    if filters.overdue is not None:
        late = Q(state=AssignmentState.OPEN, due_date__lt=timezone.localdate())
        rows = rows.filter(late) if filters.overdue else rows.exclude(late)
    return [_out(a) for a in rows.order_by("-assigned_at", "-id")[:500]]


@router.post("/training/assignments/{assignment_id}/acknowledge", response=AssignmentOut,
             operation_id="training_acknowledge")
@gate(actions.SELF)
def training_acknowledge(request: HttpRequest, assignment_id: int,
                         payload: SignIn) -> dict[str, Any]:
    """Sign "Read and understood" for your reading (e-signature: password, and the code for
    the first signature of a session); 403 on a wrong password."""
    actor = api_actor(request)
    assignment = TrainingAssignment.objects.filter(pk=assignment_id, person_id=actor.pk).first()
    if assignment is None:
        raise Http404
    if not has_commitment(actor):
        if not payload.accept_statement:
            raise SigningError("Acknowledge the accountability statement (accept_statement: "
                               "true) before your first signature.", field="accept_statement")
        commitment_accept(actor, source_ip=request_client_address(request) or None)
    done = services.reading_acknowledge(
        assignment, actor=actor,
        signature=SignatureRequest(password=payload.password, otp=payload.otp, request=request))
    return _out(TrainingAssignment.objects.select_related(
        "person", "document", "version", "completed_by").get(pk=done.pk))


@router.get("/training/matrix", response=MatrixOut, operation_id="training_matrix")
@gate(actions.VIEW)
def training_matrix(request: HttpRequest, site: str = "", role: str = "",
                    department: str = "", item: str = "") -> dict[str, Any]:
    """People × the items of their curricula: ok, open, overdue or '' (not required)."""
    if role and role not in services.TRAINED_ROLES:
        raise ValidationError({"role": [f"Choose one of {', '.join(services.TRAINED_ROLES)}."]})
    found = queries.matrix(site=site[:40], role=role, department=department[:8],
                           item=item[:40])
    return {"columns": [{"key": c.key, "label": c.label, "title": c.title}
                        for c in found.columns],
            "rows": [{"username": r.person.username, "name": str(r.person.printed_name),
                      "roles": r.roles, "cells": r.cells} for r in found.rows],
            "counts": found.counts}


@router.get("/training/kpis", response=KpisOut, operation_id="training_kpis")
@gate(actions.VIEW)
def training_kpis(request: HttpRequest) -> dict[str, Any]:
    """Training compliance (completions on time ÷ assignments due so far, in %), overdue
    trainings, documents past their periodic review."""
    return queries.kpis()


# --- quizzes -----------------------------------------------------------------------------------


class QuizQuestionOut(Schema):
    id: int
    text: str
    choices: list[str]


class QuizOut(Schema):
    assignment: int
    title: str
    state: str
    pass_mark: int
    questions: list[QuizQuestionOut] = Field(description="Empty: the quiz cannot be taken yet.")
    started: str = Field(description="Send it back with the answers: when you opened the quiz.")


class AnswerIn(Schema):
    model_config = ConfigDict(extra="forbid")

    question: int = Field(ge=1, le=2**53, description="The question's id.")
    choice: int = Field(ge=0, le=MAX_CHOICES - 1,
                        description="The index of the choice made, from 0.")


class QuizSubmitIn(SignIn):
    answers: list[AnswerIn] = Field(max_length=quiz.MAX_QUESTIONS)
    started: str = Field("", max_length=200, description="`started` from the quiz.")


class AttemptAnswerOut(Schema):
    question: int
    text: str
    chosen: str
    right: bool | None = Field(description="Whether it was right: on a pass only (a failed "
                                           "attempt says its score, not which were wrong).")


class AttemptOut(Schema):
    id: int
    assignment: int
    title: str
    started_at: Any
    submitted_at: Any
    asked: int
    right: int
    score: int = Field(description="Percent of the questions answered right, rounded down.")
    pass_mark: int
    passed: bool
    signed_by: str | None = Field(description="Who signed “Quiz passed” (a pass only).")
    answers: list[AttemptAnswerOut]


def _attempt_out(a: QuizAttempt) -> dict[str, Any]:
    return {
        "id": a.pk, "assignment": a.assignment_id, "title": a.assignment.title,
        "started_at": a.started_at, "submitted_at": a.submitted_at, "asked": a.asked,
        "right": a.right, "score": a.score, "pass_mark": a.pass_mark, "passed": a.passed,
        "signed_by": a.signature.username if a.signature else None,
        "answers": [{"question": row["question"], "text": row["text"],
                     "chosen": row["choices"][row["chosen"]],
                     "right": row["chosen"] == row["correct"] if a.passed else None}
                    for row in a.answers],
    }


def _own_quiz(request: HttpRequest, assignment_id: int) -> TrainingAssignment:
    actor = api_actor(request)
    assignment = TrainingAssignment.objects.select_related("item").filter(
        pk=assignment_id, person_id=actor.pk, kind=ItemKind.QUIZ).first()
    if assignment is None or assignment.item is None:
        raise Http404
    return assignment


@router.get("/training/assignments/{assignment_id}/quiz", response=QuizOut,
            operation_id="training_quiz")
@gate(actions.SELF)
def training_quiz(request: HttpRequest, assignment_id: int) -> dict[str, Any]:
    """The questions of your quiz (without the right answers) and its pass mark."""
    assignment = _own_quiz(request, assignment_id)
    item = assignment.item
    assert item is not None  # _own_quiz answers 404 for a quiz without its item
    return {"assignment": assignment.pk, "title": assignment.title, "state": assignment.state,
            "pass_mark": item.pass_mark or 0,
            "questions": [{"id": q.pk, "text": q.text, "choices": q.choices}
                          for q in quiz.questions_of(item.pk)],
            "started": quiz.start_token(assignment)}


@router.post("/training/assignments/{assignment_id}/quiz", response=AttemptOut,
             operation_id="training_quiz_submit")
@gate(actions.SELF)
def training_quiz_submit(request: HttpRequest, assignment_id: int,
                         payload: QuizSubmitIn) -> dict[str, Any]:
    """Submit your answers with your e-signature (password, and the code for the first
    signature of a session). The attempt is kept; reaching the pass mark completes the
    training, signed "Quiz passed"; below it, try again. 422 names the field at fault; 403
    on a wrong password."""
    actor = api_actor(request)
    assignment = _own_quiz(request, assignment_id)
    answers = {a.question: a.choice for a in payload.answers}
    if len(answers) != len(payload.answers):
        raise ValidationError({"answers": ["Answer each question once."]})
    if not has_commitment(actor):
        if not payload.accept_statement:
            raise SigningError("Acknowledge the accountability statement (accept_statement: "
                               "true) before your first signature.", field="accept_statement")
        commitment_accept(actor, source_ip=request_client_address(request) or None)
    attempt = quiz.quiz_attempt_submit(
        assignment, actor=actor, answers=answers,
        signature=SignatureRequest(password=payload.password, otp=payload.otp, request=request),
        started_at=quiz.started_from(assignment, payload.started),
        shown=quiz.shown_from(assignment, payload.started))
    return _attempt_out(quiz.attempts_of_anyone().get(pk=attempt.pk))


@router.get("/training/quiz-attempts", response=list[AttemptOut],
            operation_id="training_quiz_attempts")
@gate(actions.SELF)
def training_quiz_attempts(request: HttpRequest,
                           assignment: int | None = None) -> list[dict[str, Any]]:
    """Your quiz attempts, newest first (at most 500; of one assignment with `assignment`)."""
    actor = api_actor(request)
    return [_attempt_out(a) for a in quiz.attempts_of(actor.pk, assignment_id=assignment)[:500]]
