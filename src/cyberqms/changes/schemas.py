"""API shapes for change control. Inputs forbid unknown fields so typos are refused."""

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field


class StrictInput(Schema):
    model_config = ConfigDict(extra="forbid")


class AssessmentFields(StrictInput):
    description: str | None = None
    scope: str | None = None
    product_quality_impact: str | None = None
    validation_impact: str | None = None
    revalidation_required: bool | None = None
    regulatory_impact: str | None = None
    regulatory_filing_required: bool | None = None
    new_interfaces: bool | None = Field(None, description="Cyber question: new interfaces")
    new_accounts: bool | None = Field(None, description="Cyber question: new accounts")
    network_exposure: bool | None = Field(None, description="Cyber question: network exposure")
    data_flow_change: bool | None = Field(None, description="Cyber question: data flows")
    cyber_assessment: str | None = None
    severity: int | None = Field(None, description="1 (negligible) to 5 (critical)")
    probability: int | None = Field(None, description="1 (rare) to 5 (almost certain)")
    detectability: int | None = Field(None, description="1 (always detected) to 5 (undetectable)")
    planned_implementation_date: dt.date | None = None
    due_date: dt.date | None = None


class ChangeIn(AssessmentFields):
    site: str = Field(description="Site code")
    title: str
    change_type: str = Field(
        description="equipment, process, facility, computerized_system, software, supplier, "
                    "document or other"
    )
    justification: str
    owner: str | None = Field(None, description="Username of the change owner (default: you)")
    event_at: dt.datetime | None = Field(None, description="When the need arose (AL-03)")
    late_entry_reason: str = ""


class ChangeUpdateIn(AssessmentFields):
    """Only the fields sent are changed; each must be editable in the current state."""

    title: str | None = None
    change_type: str | None = None
    justification: str | None = None
    owner: str | None = Field(None, description="Username")
    post_implementation_review: str | None = None
    pir_outcome: str | None = Field(None, description="effective or not_effective")
    reason: str = Field("", description="Required once the change has left draft")


class TaskIn(StrictInput):
    description: str
    owner: str = Field(description="Username of the task owner")
    due_date: dt.date | None = None


class TaskCompleteIn(StrictInput):
    note: str = ""


class ReasonIn(StrictInput):
    reason: str


class TaskOut(Schema):
    id: int
    description: str
    owner: str
    due_date: dt.date | None
    state: str
    completed_at: dt.datetime | None
    note: str


class ChangeOut(Schema):
    id: int
    number: str
    title: str
    state: str
    change_type: str
    site: str
    owner: str
    originator: str
    due_date: dt.date | None
    overdue: bool
    cyber_impact: bool
    risk_score: int | None
    risk_level: str
    planned_implementation_date: dt.date | None
    created_at: dt.datetime
    closed_at: dt.datetime | None
    url: str


class ChangeDetailOut(ChangeOut):
    description: str
    justification: str
    scope: str
    product_quality_impact: str
    validation_impact: str
    revalidation_required: bool
    regulatory_impact: str
    regulatory_filing_required: bool
    new_interfaces: bool
    new_accounts: bool
    network_exposure: bool
    data_flow_change: bool
    cyber_assessment: str
    severity: int | None
    probability: int | None
    detectability: int | None
    post_implementation_review: str
    pir_outcome: str
    event_at: dt.datetime | None
    late_entry: bool
    late_entry_reason: str
    editable_fields: list[str]
    tasks: list[TaskOut]
    common: dict[str, Any]


class ChangePage(Schema):
    count: int
    page: int
    pages: int
    results: list[ChangeOut]
