"""API input and output of CAPAs (no postponed annotations: ninja reads them)."""

import datetime as dt

from ninja import Schema
from pydantic import Field


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
    document_number: str = Field(description="The controlled document this action revises")


class ActionIn(Schema):
    kind: str = Field(description="corrective or preventive")
    description: str
    owner: str = Field(description="Username of the action owner")
    due_date: dt.date | None = None
    document_number: str = Field(
        "", max_length=24, description="A controlled document this action revises "
                                       "(SOP-QA-0007): done only once its new version is in force")


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
