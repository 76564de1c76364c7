"""API shapes for accounts. Inputs forbid unknown fields so typos are refused, not ignored."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import ConfigDict, Field

from cyberqms.platform.core.models import SecurityEvent


class StrictInput(Schema):
    model_config = ConfigDict(extra="forbid")


class RoleOut(Schema):
    id: int
    role: str
    role_label: str
    site: str | None
    valid_from: datetime
    valid_until: datetime | None
    granted_by: str | None
    granted_at: datetime
    grant_reason: str
    revoked_at: datetime | None
    revoked_by: str | None
    revoke_reason: str


class UserOut(Schema):
    id: int
    username: str
    full_name: str
    email: str
    kind: str
    work_pattern: str
    title: str
    site: str | None
    is_active: bool
    mfa_enrolled: bool
    must_change_password: bool
    integrity_failure: bool = Field(
        description="Verification found this record changed outside cyberqms (unresolved)."
    )
    last_login: datetime | None
    date_joined: datetime
    deactivated_at: datetime | None
    roles: list[RoleOut]


class MeOut(UserOut):
    permissions: list[str]
    token_scopes: list[str] | None


class UserIn(StrictInput):
    username: str = Field(min_length=2, max_length=150, pattern=r"^[A-Za-z0-9_.@+-]+$")
    full_name: str = Field(min_length=2, max_length=200)
    email: str = Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    kind: str = "person"
    work_pattern: str = Field(
        "", description="day, shift or service; empty: service for generic accounts, "
                        "day otherwise")
    title: str = Field("", max_length=200)
    site: str | None = Field(None, description="Site code")
    reason: str = Field(min_length=1, max_length=500)


class UserCreatedOut(Schema):
    user: UserOut
    one_time_password: str


class ReasonIn(StrictInput):
    reason: str = Field(min_length=1, max_length=500)


class RoleGrantIn(StrictInput):
    role: str
    site: str | None = Field(None, description="Site code; empty for all sites")
    valid_until: datetime | None = None
    reason: str = Field(min_length=1, max_length=500)


class SiteOut(Schema):
    id: int
    code: str
    name: str
    country: str
    time_zone: str
    is_active: bool


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    status: str


class TokenIn(StrictInput):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] = Field(min_length=1)
    days: int = Field(30, ge=1, le=3650)


class TokenCreatedOut(Schema):
    token: TokenOut
    secret: str


class SecurityEventOut(Schema):
    id: int
    created_at: datetime
    kind: str
    severity: str
    username: str
    source_ip: str | None
    channel: str
    message: str
    count: int = Field(
        1, description="Occurrences the event stands for: repeated rejections from one "
        "address within the rate-limit window are one event (docs/configuration.md).")

    @staticmethod
    def resolve_count(obj: SecurityEvent) -> int:
        return int((obj.data or {}).get("count", 1))


class AccessDecisionOut(Schema):
    id: int
    created_at: datetime
    actor_username: str
    action: str
    resource_type: str
    resource_id: str
    allowed: bool
    reason: str
    channel: str
    source_ip: str | None
