"""The policy decision point: `authorize(actor, action, resource)`, default deny (CYB-01).

Every page, API operation, CLI command and background task asks this one function. It
knows no domain: actions are declared by the apps that own them (`declare`), and an actor
describes its own rights through `access_profile()` (people and integrations both do).
Each decision is recorded in `AccessDecision` with the acting context, so monitoring can
detect drift and denied probing later.

Rules, in order; the first that refuses wins:
1. the action must be declared (unknown actions are refused, never guessed);
2. public actions need no actor; everything else needs an authenticated, active one;
3. on the web and API, a blocked profile (password change or MFA enrolment pending)
   may only reach the set-up pages;
4. an API token limits the actor to the token's scopes;
5. generic accounts never touch GxP data (DI-02, P11-30);
6. administrators never create or modify GxP data (DI-01);
7. a current role grant, in scope for the resource's site, must cover the action.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.utils import timezone

from . import decisions
from .context import current_context
from .models import AccessDecision


@dataclass(frozen=True, slots=True)
class ActionSpec:
    name: str
    description: str
    gxp: bool = False
    gxp_write: bool = False
    public: bool = False
    self_service: bool = False
    setup: bool = False  # allowed while a password change or MFA enrolment is pending
    read: bool = False  # only reads: an allowed decision may be written in a batch


ACTIONS: dict[str, ActionSpec] = {}


def declare(
    name: str,
    description: str,
    *,
    gxp: bool = False,
    gxp_write: bool = False,
    public: bool = False,
    self_service: bool = False,
    setup: bool = False,
    read: bool = False,
) -> str:
    """Declare an action the gate may be asked about; returns its name for use as a constant.
    `read`: the action only reads (a page, a list, a search); allowed decisions about it
    are written in batches (`decisions`), refusals at once."""
    spec = ActionSpec(
        name=name,
        description=description,
        gxp=gxp or gxp_write,
        gxp_write=gxp_write,
        public=public,
        self_service=self_service or setup,
        setup=setup,
        read=read,
    )
    existing = ACTIONS.get(name)
    if existing is not None and existing != spec:
        raise ValueError(f"action {name!r} declared twice with different properties")
    ACTIONS[name] = spec
    return name


@dataclass(frozen=True, slots=True)
class Grant:
    """Permission for actions matching ``pattern`` (``x.y``, ``x.*`` or ``*``) at a site."""

    pattern: str
    site_id: int | None = None
    source: str = ""

    def covers(self, action: str, site_id: int | None) -> bool:
        if self.site_id is not None and site_id is not None and site_id != self.site_id:
            return False
        if self.pattern == "*":
            return True
        if self.pattern.endswith(".*"):
            return action.startswith(self.pattern[:-1])
        return action == self.pattern


@dataclass(frozen=True, slots=True)
class AccessProfile:
    """What an actor is, as far as the gate cares."""

    active: bool
    person: bool
    administrator: bool
    grants: tuple[Grant, ...] = ()
    blocked: str = ""  # a reason code when only self-service is allowed for now
    label: str = ""
    # What the grants answered, by (action, site): a page asks the same question for
    # every record it lists (the home page, thousands); the grants never change for the
    # profile's life (a request, a task).
    _answers: dict[tuple[str, int | None], bool] = field(
        default_factory=dict, compare=False, repr=False)

    def covers(self, action: str, site_id: int | None) -> bool:
        """Whether one of the grants covers `action` at `site_id`."""
        key = (action, site_id)
        found = self._answers.get(key)
        if found is None:
            found = self._answers[key] = any(g.covers(action, site_id) for g in self.grants)
        return found


@runtime_checkable
class Actor(Protocol):
    pk: Any

    def access_profile(self) -> AccessProfile: ...


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    action: str
    reason: str
    resource_type: str = ""
    resource_id: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    site_id: int | None = None


class AccessDenied(PermissionDenied):
    """Refused by the gate. Pages answer 403 (or 404 for object lookups), the API 403."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(f"{decision.action}: {decision.reason}")
        self.decision = decision


class RateLimited(Exception):
    """Refused for a while: too many failures from one client address. The API answers
    429 with ``retry_after`` (seconds) in the Retry-After header."""

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = max(1, retry_after)


def scope_covers(scopes: Iterable[str], action: str) -> bool:
    return any(Grant(scope).covers(action, None) for scope in scopes)


def describe_resource(resource: object) -> tuple[str, str, int | None]:
    if resource is None:
        return "", "", None
    if isinstance(resource, models.Model):
        meta = resource._meta
        site_id = getattr(resource, "site_id", None)
        return f"{meta.app_label}.{meta.model_name}", str(resource.pk or ""), site_id
    return type(resource).__name__, "", getattr(resource, "site_id", None)


def _evaluate(actor: object, spec: ActionSpec | None, action: str, site_id: int | None) -> str:
    """Return "" to allow, or the reason for refusal."""
    if spec is None:
        return "undeclared action"
    if spec.public:
        return ""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return "not authenticated"
    if not isinstance(actor, Actor):
        return "actor has no access profile"
    profile = actor.access_profile()
    if not profile.active:
        return "account inactive"
    ctx = current_context()
    if ctx.token_scopes is not None and not scope_covers(ctx.token_scopes, action):
        return "outside the token's scopes"
    if profile.blocked and ctx.channel in ("web", "api") and not spec.setup:
        # Pending password change or MFA enrolment gate interactive sign-in; the CLI is
        # reached through the server's own operating-system access control instead.
        return profile.blocked
    if spec.self_service:
        return ""
    if spec.gxp and not profile.person:
        return "generic accounts hold no GxP rights"
    if spec.gxp_write and profile.administrator:
        return "administrators cannot create or modify GxP records"
    if profile.covers(action, site_id):
        return ""
    return "no role grants this action"


def authorize(actor: object, action: str, resource: object = None) -> Decision:
    """Decide whether ``actor`` may perform ``action`` on ``resource``, and record it."""
    resource_type, resource_id, site_id = describe_resource(resource)
    spec = ACTIONS.get(action)
    reason = _evaluate(actor, spec, action, site_id)
    decision = Decision(
        allowed=not reason,
        action=action,
        reason=reason or "granted",
        resource_type=resource_type,
        resource_id=resource_id,
        site_id=site_id if isinstance(site_id, int) else None,
    )
    quiet = decision.allowed and (
        (spec is not None and spec.public) or current_context().poll
    )
    if not quiet:
        _record(actor, decision,
                read=(spec is not None and spec.read) or current_context().reading)
    if not decision.allowed and getattr(actor, "is_authenticated", False):
        _report_denial(actor, decision)
    return decision


def _report_denial(actor: object, decision: Decision) -> None:
    """A signed-in person or token refused by the gate is a security event (it flows into
    the monitoring pipeline like sign-in failures do: probing shows up there)."""
    from .events import emit_security_event
    from .models import Severity

    username = str(getattr(actor, "username", "") or "")
    actor_id = getattr(actor, "pk", None)
    where = f" on {decision.resource_type} {decision.resource_id}".rstrip() \
        if decision.resource_type else ""
    emit_security_event(
        "access.denied", severity=Severity.LOW,
        message=f"{username or 'a token'} refused {decision.action}{where}: {decision.reason}",
        actor_id=actor_id if isinstance(actor_id, int) else None, username=username,
        data={"action": decision.action, "reason": decision.reason,
              "resource_type": decision.resource_type, "resource_id": decision.resource_id},
    )


def require(actor: object, action: str, resource: object = None) -> Decision:
    """`authorize`, raising `AccessDenied` on refusal."""
    decision = authorize(actor, action, resource)
    if not decision.allowed:
        raise AccessDenied(decision)
    return decision


def can(actor: object, action: str, resource: object = None) -> bool:
    """Ask without recording: for showing or hiding navigation and buttons only."""
    _type, _id, site_id = describe_resource(resource)
    return not _evaluate(actor, ACTIONS.get(action), action, site_id)


def sites_for(actor: object, action: str) -> set[int] | None:
    """Sites where `actor` holds `action` (None: every site), from its role grants; for
    filtering lists to what the actor may see."""
    profile_of = getattr(actor, "access_profile", None)
    if profile_of is None or not can(actor, action):
        return set()
    sites: set[int] = set()
    for grant in profile_of().grants:
        if grant.covers(action, grant.site_id):
            if grant.site_id is None:
                return None
            sites.add(grant.site_id)
    return sites


def capable(person: object, action: str, resource: object = None) -> bool:
    """Whether `person`'s roles cover `action` on `resource`, whatever the current request
    is: for choosing someone (an owner, an assignee), not for letting the actor act. A
    person who has not finished first sign-in (password change, MFA enrolment) can still
    be chosen; they will do the work once signed in."""
    from .context import RequestContext, acting_context

    _type, _id, site_id = describe_resource(resource)
    with acting_context(RequestContext(channel="system")):
        return not _evaluate(person, ACTIONS.get(action), action, site_id)


def people_able(action: str, site_ids: Iterable[int | None]) -> QuerySet[Any]:
    """The people a picker offers for a role that needs `action` at one of `site_ids`
    (an owner, an assignee): named, active people whose roles grant it there. The user
    model answers (`able_to`): role assignments are the accounts app's."""
    from django.contrib.auth import get_user_model

    people: Any = get_user_model()  # accounts.User: `able_to` is its own, not Django's
    return people.able_to(action, site_ids)


def session_ref(session_key: str | None) -> str:
    """A short, non-reversible reference to a session (the key itself is a credential)."""
    if not session_key:
        return ""
    return hashlib.sha256(session_key.encode()).hexdigest()[:16]


def _record(actor: object, decision: Decision, *, read: bool) -> None:
    if not settings.CYBERQMS_RECORD_DECISIONS:
        return
    ctx = current_context()
    authenticated = getattr(actor, "is_authenticated", False)
    actor_id = getattr(actor, "pk", None) if authenticated else None
    label = ""
    if authenticated and isinstance(actor, Actor):
        label = actor.access_profile().label
    row = AccessDecision(
        created_at=timezone.now(),
        actor_id=actor_id if isinstance(actor_id, int) else None,
        actor_username=label[:150],
        action=decision.action[:100],
        resource_type=decision.resource_type[:100],
        resource_id=decision.resource_id[:64],
        site_id=decision.site_id,
        allowed=decision.allowed,
        reason=decision.reason[:200],
        channel=ctx.channel,
        source_ip=ctx.source_ip or None,
        session_ref=ctx.session_ref,
        token_id=ctx.token_id,
        correlation_id=ctx.correlation_id,
    )
    decisions.write(row, read=read)
