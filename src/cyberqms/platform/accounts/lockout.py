"""django-axes hooks: who a failed attempt counts against, and what a locked-out user sees."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cyberqms.platform.core.access import RateLimited
from cyberqms.platform.core.problems import problem_response


def client_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """Count failures per lower-cased username, so case variations share one counter."""
    raw = ""
    if credentials:
        raw = str(credentials.get("username") or credentials.get("login") or "")
    if not raw:
        raw = str(request.POST.get("login", "") or request.POST.get("username", ""))
    return raw.strip().lower()[:150]


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The same answer whether or not the account exists (no user enumeration)."""
    message = (
        "Too many failed sign-in attempts. The account is locked; "
        "contact your administrator to unlock it."
    )
    if settings.AXES_COOLOFF_TIME:
        message = "Too many failed sign-in attempts. Try again later."
    if request.path.startswith("/api/"):
        return problem_response(429, message, title="Locked out")
    return render(request, "account/lockout.html", {"message": message}, status=429)


def rate_limited_response(request: HttpRequest, refused: RateLimited) -> HttpResponse:
    """Sign-in refused for the client address (too many failures from it, any usernames):
    the same answer whether or not the account exists, with Retry-After."""
    response = render(request, "account/rate_limited.html", {"message": refused.detail},
                      status=429)
    response["Retry-After"] = str(refused.retry_after)
    return response
