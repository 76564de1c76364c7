"""Declaring the gate action of a page view.

The access-gate middleware refuses any view that declares no action, so forgetting this
decorator fails closed. Object-level checks happen inside the view through services.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.http import HttpRequest

from .access import Actor

F = TypeVar("F", bound=Callable[..., Any])


def gated(action: str) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        view.cyberqms_action = action  # type: ignore[attr-defined]
        return view

    return decorate


def polled[V: Callable[..., Any]](view: V) -> V:
    """Mark a view that pages poll in the background (with `X-Cyberqms-Poll: 1`): the gate
    does not record its allowed decisions for those polls (refusals are recorded)."""
    view.cyberqms_poll = True  # type: ignore[attr-defined]
    return view


def page_actor(request: HttpRequest) -> Actor:
    """The signed-in person a gated page acts for."""
    user = request.user
    assert isinstance(user, Actor), "gated pages are reached signed in"
    return user
