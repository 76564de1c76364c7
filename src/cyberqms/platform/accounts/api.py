"""Accounts API: the caller's profile, users and roles, tokens, security oversight."""
# No "from __future__ import annotations": django-ninja resolves operation annotations
# through the gate wrapper, whose globals are not this module's.


from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Status

from cyberqms.platform.core.access import ACTIONS, can
from cyberqms.platform.core.api_gate import api_actor, gate
from cyberqms.platform.core.context import current_context
from cyberqms.platform.core.models import AccessDecision, SecurityEvent
from cyberqms.platform.core.paging import CURSOR_HELP, link_header, window

from . import actions, services
from .enums import Role
from .models import ApiToken, RoleAssignment, Site, User
from .queries import role_out, user_out, users_filtered
from .schemas import (
    AccessDecisionOut,
    MeOut,
    ReasonIn,
    RoleGrantIn,
    RoleOut,
    SecurityEventOut,
    SiteOut,
    TokenCreatedOut,
    TokenIn,
    TokenOut,
    UserCreatedOut,
    UserIn,
    UserOut,
)
from .services import ServiceError

router = Router(tags=["accounts"])

Limit = Query(50, ge=1, le=200, description="Page size, 1 to 200")
# Bounded so the database never sees a number it cannot hold (a 2^63 offset was a 500).
Offset = Query(0, ge=0, le=1_000_000, description="Rows to skip, 0 to 1,000,000")
Cursor = Query(None, max_length=2000, description=CURSOR_HELP + "; the `Link` header names "
                                                                "the next and previous pages")


def _site(code: str | None) -> Site | None:
    if not code:
        return None
    site = Site.objects.filter(code=code).first()
    if site is None:
        raise ServiceError(f"Unknown site {code!r}.", field="site")
    return site


def _token_out(t: ApiToken) -> dict[str, Any]:
    return {
        "id": t.pk, "name": t.name, "prefix": t.prefix, "scopes": t.scopes,
        "created_at": t.created_at, "expires_at": t.expires_at, "revoked_at": t.revoked_at,
        "last_used_at": t.last_used_at, "status": t.status,
    }


@router.get("/me", response=MeOut, operation_id="me_detail")
@gate(actions.SELF)
def me_detail(request: HttpRequest) -> dict[str, Any]:
    user = api_actor(request)
    if not isinstance(user, User):
        raise Http404
    data = user_out(user)
    data["permissions"] = sorted(a for a in ACTIONS if can(user, a))
    scopes = current_context().token_scopes
    data["token_scopes"] = sorted(scopes) if scopes is not None else None
    return data


@router.get("/users", response=list[UserOut], operation_id="user_list")
@gate(actions.USER_VIEW)
def user_list(
    request: HttpRequest,
    q: str = Query("", max_length=100),
    role: str = Query("", pattern=r"^(|" + "|".join(Role.values) + ")$"),
    site: str = Query("", max_length=20),
    status: str = Query("", pattern=r"^(|active|inactive)$"),
    sort: str = Query("username", pattern=r"^-?(username|name|last_login|joined)$"),
    limit: int = Limit,
    offset: int = Offset,
) -> list[dict[str, Any]]:
    users = users_filtered(q=q, role=role, site=site, status=status, sort=sort)
    return [user_out(u) for u in users[offset : offset + limit]]


@router.get("/users/{user_id}", response=UserOut, operation_id="user_detail")
@gate(actions.USER_VIEW)
def user_detail(request: HttpRequest, user_id: int) -> dict[str, Any]:
    return user_out(get_object_or_404(User, pk=user_id))


@router.post("/users", response={201: UserCreatedOut}, operation_id="user_create")
@gate(actions.USER_MANAGE)
def user_create(request: HttpRequest, payload: UserIn) -> Status:
    issued = services.user_create(
        actor=api_actor(request),
        username=payload.username, full_name=payload.full_name, email=payload.email,
        kind=payload.kind, title=payload.title, site=_site(payload.site),
        reason=payload.reason, work_pattern=payload.work_pattern,
    )
    return Status(201, {"user": user_out(issued.user), "one_time_password": issued.password})


@router.post("/users/{user_id}/deactivate", response=UserOut, operation_id="user_deactivate")
@gate(actions.USER_MANAGE)
def user_deactivate(request: HttpRequest, user_id: int, payload: ReasonIn) -> dict[str, Any]:
    user = get_object_or_404(User, pk=user_id)
    user = services.user_deactivate(user, actor=api_actor(request), reason=payload.reason)
    return user_out(user)


@router.post("/users/{user_id}/roles", response={201: RoleOut}, operation_id="role_grant")
@gate(actions.ROLE_MANAGE)
def role_grant(request: HttpRequest, user_id: int, payload: RoleGrantIn) -> Status:
    user = get_object_or_404(User, pk=user_id)
    assignment = services.role_grant(
        user, payload.role, actor=api_actor(request), reason=payload.reason,
        site=_site(payload.site), valid_until=payload.valid_until,
    )
    return Status(201, role_out(assignment))


@router.post(
    "/role-assignments/{assignment_id}/revoke", response=RoleOut, operation_id="role_revoke"
)
@gate(actions.ROLE_MANAGE)
def role_revoke(request: HttpRequest, assignment_id: int, payload: ReasonIn) -> dict[str, Any]:
    assignment = get_object_or_404(RoleAssignment, pk=assignment_id)
    revoked = services.role_revoke(assignment, actor=api_actor(request), reason=payload.reason)
    return role_out(revoked)


@router.get("/sites", response=list[SiteOut], operation_id="site_list")
@gate(actions.SELF)
def site_list(request: HttpRequest) -> list[Site]:
    return list(Site.objects.all())


@router.get("/tokens", response=list[TokenOut], operation_id="token_list")
@gate(actions.SELF)
def token_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [_token_out(t) for t in ApiToken.objects.filter(owner_id=api_actor(request).pk)]


@router.post("/tokens", response={201: TokenCreatedOut}, operation_id="token_create")
@gate(actions.SELF)
def token_create(request: HttpRequest, payload: TokenIn) -> Status:
    actor = api_actor(request)
    issued = services.token_create(
        actor=actor, owner=actor, name=payload.name, scopes=payload.scopes, days=payload.days
    )
    return Status(201, {"token": _token_out(issued.token), "secret": issued.secret})


@router.post("/tokens/{token_id}/revoke", response=TokenOut, operation_id="token_revoke")
@gate(actions.SELF)
def token_revoke(request: HttpRequest, token_id: int, payload: ReasonIn) -> dict[str, Any]:
    actor = api_actor(request)
    token = get_object_or_404(ApiToken, pk=token_id, owner_id=actor.pk)
    return _token_out(services.token_revoke(token, actor=actor, reason=payload.reason))


@router.get("/security-events", response=list[SecurityEventOut],
            operation_id="security_event_list")
@gate(actions.EVENT_VIEW)
def security_event_list(
    request: HttpRequest,
    response: HttpResponse,
    kind: str = Query("", max_length=80),
    severity: str = Query("", pattern=r"^(|info|low|medium|high|critical)$"),
    limit: int = Limit,
    offset: int = Offset,
    cursor: str | None = Cursor,
) -> list[SecurityEvent]:
    """Newest first; by `offset`, or by `cursor` (the `Link` header's next page)."""
    events = SecurityEvent.objects.all()
    if kind:
        events = events.filter(kind__startswith=kind)
    if severity:
        events = events.filter(severity=severity)
    found = window(events, limit=limit, offset=offset, cursor=cursor)
    link_header(request, response, found)
    return found.rows


@router.get("/access-decisions", response=list[AccessDecisionOut],
            operation_id="access_decision_list")
@gate(actions.DECISION_VIEW)
def access_decision_list(
    request: HttpRequest,
    response: HttpResponse,
    allowed: bool | None = None,
    actor: str = Query("", max_length=150),
    limit: int = Limit,
    offset: int = Offset,
    cursor: str | None = Cursor,
) -> list[AccessDecision]:
    """Newest first; by `offset`, or by `cursor` (the `Link` header's next page)."""
    decisions = AccessDecision.objects.all()
    if allowed is not None:
        decisions = decisions.filter(allowed=allowed)
    if actor:
        decisions = decisions.filter(actor_username=actor)
    found = window(decisions, limit=limit, offset=offset, cursor=cursor)
    link_header(request, response, found)
    return found.rows
