"""The access gate for API operations: `@gate(action)` authorizes the operation's action
as soon as the caller is authenticated, before django-ninja parses the input; `api_actor`
and `api_record` give the authenticated actor and the record it may reach.

Kept in core so that core's own routers (the shared record API, the family kit) need
nothing from the root API module.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.http import HttpRequest
from ninja.decorators import decorate_view

from .access import require

F = TypeVar("F", bound=Callable[..., Any])

# What an operation's request carries between ninja's steps: the action the operation
# declared (set before authentication), and the action the gate has allowed (set once).
_DECLARED = "cyberqms_declared_action"
_ALLOWED = "cyberqms_allowed_action"


def gate(action: str) -> Callable[[F], F]:
    """Authorize the operation's actor for ``action`` before the operation reads its input.

    django-ninja parses and validates the body and query before it calls the operation,
    so a refusal inside it would come after a 400 or 422 that tells a caller without the
    right what the operation expects. The operation therefore announces ``action`` on the
    request before ninja's steps begin, and the API's authentication classes authorize it
    the moment they know the caller (`authorize_declared`). An operation reached any
    other way (one without authentication, such as the health check) is authorized here.
    """

    def announce(run: Callable[..., Any]) -> Callable[..., Any]:
        def announced(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            setattr(request, _DECLARED, action)
            return run(request, *args, **kwargs)

        return announced

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if getattr(request, _ALLOWED, None) != action:
                require(getattr(request, "auth", None), action)
            return view(request, *args, **kwargs)

        wrapper.cyberqms_action = action  # type: ignore[attr-defined]
        return decorate_view(announce)(wrapper)  # type: ignore[return-value]

    return decorate


def authorize_declared(request: HttpRequest, actor: Any) -> None:
    """Authorize ``actor`` for the action the operation of ``request`` declared, if any
    (raises `AccessDenied`); called by the API's authentication classes."""
    action = getattr(request, _DECLARED, None)
    if action is None:
        return
    require(actor, action)
    setattr(request, _ALLOWED, action)


def api_actor(request: HttpRequest) -> Any:
    """Who the operation acts for: the person or integration ninja authenticated."""
    return request.auth  # type: ignore[attr-defined]  # set by ninja's authentication
