"""Training over the API: the caller's assignments (or anyone's, for holders of
`training.view`), signing a reading "Read and understood", the matrix and the KPIs."""

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

from . import actions, queries, services
from .enums import AssignmentState
from .models import TrainingAssignment

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
