"""API input and output of deviations (no postponed annotations: ninja reads them)."""

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field


class DeviationOut(Schema):
    id: int
    number: str
    title: str
    state: str
    classification: str
    site: str
    owner: str
    originator: str
    due_date: dt.date | None
    overdue: bool
    cyber_related: bool
    security_reference: str
    gxp_impact: bool
    data_integrity_impact: bool
    created_at: dt.datetime
    url: str


class DeviationDetailOut(DeviationOut):
    description: str
    event_at: dt.datetime | None
    late_entry: bool
    late_entry_reason: str
    department: str | None
    area: str
    product_reference: str
    gxp_impact_text: str
    data_integrity_impact_text: str
    immediate_actions: str
    investigation_summary: str
    root_cause_category: str
    root_cause: str
    capa_required: bool
    qa_comments: str
    closed_at: dt.datetime | None
    editable_fields: list[str]
    capas: list[dict[str, Any]]
    common: dict[str, Any]


class DeviationPage(Schema):
    count: int
    page: int
    pages: int
    results: list[DeviationOut]


class DeviationIn(Schema):
    site: str = Field(description="Site code")
    title: str
    owner: str = Field(description="Username of the owner")
    description: str = ""
    event_at: dt.datetime | None = None
    late_entry_reason: str = ""
    due_date: dt.date | None = None
    classification: str = ""
    department: str | None = Field(None, description="Department code at the site")
    area: str = ""
    product_reference: str = ""
    gxp_impact: bool = False
    gxp_impact_text: str = ""
    data_integrity_impact: bool = False
    data_integrity_impact_text: str = ""
    cyber_related: bool = False
    security_reference: str = ""
    immediate_actions: str = ""


class DeviationUpdateIn(Schema):
    changes: dict[str, Any] = Field(
        description="Field values to set; only fields editable in the current state. "
        "owner is a username, department a department code."
    )
    reason: str = Field("", description="Required once the deviation left draft.")


class SpawnCapaIn(Schema):
    title: str
    owner: str = Field(description="Username of the CAPA owner")
    due_date: dt.date | None = None
    description: str = ""


class SpawnedCapaOut(Schema):
    id: int
    number: str
    title: str
    state: str
    url: str
