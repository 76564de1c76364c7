"""API input and output of CAPAs (no postponed annotations: ninja reads them)."""

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field


class CapaOut(Schema):
    id: int
    number: str
    title: str
    state: str
    source: str
    source_reference: str
    site: str
    owner: str
    originator: str
    due_date: dt.date | None
    overdue: bool
    cyber_related: bool
    effectiveness_result: str
    created_at: dt.datetime
    closed_at: dt.datetime | None
    url: str


class ActionOut(Schema):
    id: int
    kind: str
    description: str
    owner: str
    due_date: dt.date
    state: str
    overdue: bool
    created_at: dt.datetime
    completed_at: dt.datetime | None
    completed_by: str | None
    completion_note: str
    evidence: str
    cancel_reason: str


class CapaDetailOut(CapaOut):
    description: str
    problem_statement: str
    root_cause: str
    event_at: dt.datetime | None
    late_entry: bool
    late_entry_reason: str
    effectiveness_criteria: str
    effectiveness_due: dt.date | None
    effectiveness_evidence: str
    effectiveness_checked_by: str | None
    effectiveness_checked_at: dt.datetime | None
    editable_fields: list[str]
    actions: list[ActionOut]
    common: dict[str, Any]


class CapaPage(Schema):
    count: int
    page: int
    pages: int
    results: list[CapaOut]


class CapaIn(Schema):
    site: str = Field(description="Site code")
    title: str
    owner: str = Field(description="Username of the CAPA owner")
    source: str = Field(description="deviation, audit_finding, security_incident, complaint "
                                    "or other")
    source_reference: str = Field("", description="A record number (linked) or another id")
    description: str = ""
    problem_statement: str = ""
    due_date: dt.date | None = None
    cyber_related: bool = False
    event_at: dt.datetime | None = None
    late_entry_reason: str = ""


class CapaUpdateIn(Schema):
    changes: dict[str, Any] = Field(
        description="Fields editable in the current state: title, description, owner "
                    "(username), source, source_reference, problem_statement, root_cause, "
                    "cyber_related, due_date, effectiveness_criteria, effectiveness_due"
    )
    reason: str = ""


class ActionIn(Schema):
    kind: str = Field(description="corrective or preventive")
    description: str
    owner: str = Field(description="Username of the action owner")
    due_date: dt.date | None = None


class ActionCompleteIn(Schema):
    evidence: str = ""
    note: str = ""


class ReasonIn(Schema):
    reason: str = ""


class EffectivenessIn(Schema):
    result: str = Field(description="passed or failed")
    evidence: str = ""
    password: str = Field("", description="Your password: the result is signed (Verified)")
    otp: str = Field("", description="Authenticator code, for the first signature of a "
                                     "session when you have one")
