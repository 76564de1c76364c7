"""API shapes of the audit trail. Inputs forbid unknown fields so typos are refused."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field


class StrictIn(Schema):
    model_config = ConfigDict(extra="forbid")


class EntryOut(Schema):
    seq: int
    leaf_hash: str = Field(description="RFC 9162 leaf hash: SHA-256(0x00 || entry)")
    entry: dict[str, Any] | None = Field(
        description="The hashed entry (canonical JSON, parsed); null when it did not verify"
    )
    verified: bool = Field(
        description="cyberqms wrote this entry as it reads now (its authenticator matches); "
        "when false, its content is withheld"
    )
    integrity_failure: bool = Field(description="Verification flagged this entry as altered")


class EntryPage(Schema):
    count: int  # by `cursor`: up to 10,000 (`count_exact`)
    count_exact: bool
    items: list[EntryOut]
    next: str | None  # the cursor of the next page
    previous: str | None


class CheckpointOut(Schema):
    size: int
    root_hash: str
    signed_at: datetime
    key_ids: list[str]
    note: str = Field(description="C2SP signed-note checkpoint (tlog-checkpoint)")


class InclusionProofOut(Schema):
    seq: int
    leaf_index: int
    tree_size: int
    leaf_hash: str
    root_hash: str
    inclusion_proof: list[str]
    checkpoint: str


class ConsistencyProofOut(Schema):
    old_size: int
    new_size: int
    old_root: str
    new_root: str
    consistency_proof: list[str]
    old_checkpoint: str
    new_checkpoint: str


class KeyOut(Schema):
    verifier_key: str
    key_id: str
    current: bool


class VerificationOut(Schema):
    id: int
    started_at: datetime
    finished_at: datetime
    mode: str
    result: str
    from_seq: int
    to_seq: int
    entries_checked: int
    checkpoints_checked: int
    records_checked: int
    first_problem: str
    problems: list[dict[str, Any]]
    triggered_by: str
    channel: str


class VerifyIn(StrictIn):
    since_checkpoint: bool = False
    reconcile: bool = True


class FlagOut(Schema):
    id: int
    kind: str
    object_type: str
    object_id: str
    seq: int | None
    fields: list[str]
    message: str
    raised_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str


class ResolveIn(StrictIn):
    reason: str = Field(min_length=1, max_length=1000)


class ReviewIn(StrictIn):
    scope: str = Field(pattern="^(record|range)$")
    object_type: str = Field("", max_length=64)
    object_id: str = Field("", max_length=64)
    date_from: date | None = None
    date_to: date | None = None
    outcome: str = Field(pattern="^(no_findings|discrepancies)$")
    comment: str = Field("", max_length=5000)


class ReviewOut(Schema):
    id: int
    scope: str
    object_type: str
    object_id: str
    object_label: str
    date_from: date | None
    date_to: date | None
    seq_from: int
    seq_to: int
    entries: int
    outcome: str
    comment: str
    reviewer: str
    reviewed_at: datetime


class StatusOut(Schema):
    origin: str
    entries: int
    sealed: int
    latest_checkpoint: CheckpointOut | None
    last_verification: VerificationOut | None
    open_flags: int
