"""The access gate for API operations: `@gate(action)` authorizes before the body runs;
`api_actor` and `api_record` give the authenticated actor and the record it may reach.

Kept in core so that core's own routers (the shared record API, the family kit) need
nothing from the root API module.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.http import HttpRequest

from .access import require

F = TypeVar("F", bound=Callable[..., Any])


def gate(action: str) -> Callable[[F], F]:
    """Authorize the operation's actor for ``action`` before the operation runs."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            require(getattr(request, "auth", None), action)
            return view(request, *args, **kwargs)

        wrapper.cyberqms_action = action  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def api_actor(request: HttpRequest) -> Any:
    """Who the operation acts for: the person or integration ninja authenticated."""
    return request.auth  # type: ignore[attr-defined]  # set by ninja's authentication
