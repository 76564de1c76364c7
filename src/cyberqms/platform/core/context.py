"""Who is acting, from where, through which channel: carried through one unit of work.

Pages, the API, CLI commands and background tasks each open a context; the access gate,
security events and the audit trail read it so that every record names its source.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any, Literal

Channel = Literal["web", "api", "cli", "task", "system"]


@dataclass(frozen=True, slots=True)
class RequestContext:
    channel: Channel = "system"
    source_ip: str = ""
    session_ref: str = ""
    token_id: int | None = None
    token_scopes: frozenset[str] | None = None
    user_agent: str = ""
    correlation_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    # A page's background poll (the alert banner): its allowed access decisions are not
    # recorded, or every open page would write one every few seconds. Refusals still are.
    poll: bool = False
    # A GET or HEAD request, which by HTTP's rules changes nothing (Django's CSRF protection
    # relies on the same rule): its allowed access decisions are reads, written in batches
    # (core/decisions.py), whatever the action.
    reading: bool = False
    # Allowed decisions for changes, waiting to commit with the change they allowed (see
    # core/decisions.py); shared by the copies `replace` makes, settled when the unit ends.
    held: list[Any] = field(default_factory=list, compare=False, repr=False)
    # What the unit of work read once and asks again (a person's current training, for
    # every record a page decides), by key; shared by the copies `replace` makes, gone with
    # the unit, so never stale past it.
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def with_token(self, token_id: int, scopes: frozenset[str]) -> RequestContext:
        return replace(self, token_id=token_id, token_scopes=scopes, channel="api")


_current: ContextVar[RequestContext | None] = ContextVar("cyberqms_request_context", default=None)


# Called with the context when a unit of work opened by `acting_context` ends (the access
# gate's held decisions are written then; core/decisions.py registers itself).
_closers: list[Callable[[RequestContext], None]] = []


def at_context_end(closer: Callable[[RequestContext], None]) -> None:
    if closer not in _closers:
        _closers.append(closer)


_memo: ContextVar[dict[Any, Any] | None] = ContextVar("cyberqms_memo", default=None)


def memo() -> dict[Any, Any] | None:
    """Where what is read once is kept for the unit of work in progress (`RequestContext.
    memo`), or for a `remembering()` block outside one; None: nowhere, read each time."""
    unit = _current.get()
    return unit.memo if unit is not None else _memo.get()


@contextlib.contextmanager
def remembering() -> Iterator[None]:
    """A block that reads the same things for many records (the home page's tasks) keeps
    them for its length, even outside a unit of work (a test, a shell)."""
    if memo() is not None:
        yield
        return
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def open_context() -> RequestContext | None:
    """The context a unit of work opened, or None outside one (unlike `current_context`,
    which then makes a bare system context that nothing will close)."""
    return _current.get()


def current_context() -> RequestContext:
    """The context of the unit of work in progress; a bare system context outside one."""
    ctx = _current.get()
    return ctx if ctx is not None else RequestContext()


def set_context(ctx: RequestContext) -> None:
    """Replace the context of the unit of work in progress (see `acting_context`)."""
    _current.set(ctx)


@contextlib.contextmanager
def acting_context(ctx: RequestContext) -> Iterator[RequestContext]:
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        ending = _current.get() or ctx  # `set_context` may have replaced it meanwhile
        try:
            for closer in _closers:
                closer(ending)
        finally:
            _current.reset(token)
