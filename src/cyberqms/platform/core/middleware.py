"""Request-level controls: context, body size, idle timeout and the page access gate."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from .access import ACTIONS, authorize, session_ref
from .client_address import request_client_address
from .context import RequestContext, acting_context, current_context, set_context
from .events import emit_security_event
from .models import Severity
from .problems import problem_response

_REQUEST_ID = re.compile(r"^[0-9a-fA-F]{16,32}$")

GetResponse = Callable[[HttpRequest], HttpResponse]


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


class RequestContextMiddleware:
    """Open the acting context (channel, client address, correlation id) for a request.

    The client address is derived here once (behind trusted proxies, the forwarded one)
    and everything downstream reads it from the context or the request."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        supplied = request.headers.get("X-Request-ID", "")
        correlation = supplied.lower() if _REQUEST_ID.match(supplied) else uuid.uuid4().hex
        ctx = RequestContext(
            channel="api" if is_api(request) else "web",
            source_ip=request_client_address(request),
            user_agent=request.headers.get("User-Agent", "")[:200],
            correlation_id=correlation,
            reading=request.method in ("GET", "HEAD"),
        )
        # The context ends with the request, so a thread serving the next one starts clean.
        with acting_context(ctx):
            response = self.get_response(request)
        response["X-Request-ID"] = correlation
        return response


class BodySizeLimitMiddleware:
    """Refuse bodies over the limit before anything reads them (413, problem+json)."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.CYBERQMS_MAX_BODY_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return problem_response(400, "Content-Length is not a number.", errors=[
                {"field": "Content-Length", "message": "must be a non-negative integer"}
            ])
        if length > limit:
            # Recorded: a sender (or someone probing) that overruns the limit is worth seeing
            # in monitoring, like a quarantined line.
            emit_security_event(
                "request.oversized", severity=Severity.LOW,
                message=f"Request body of {length} bytes to {request.path[:200]} refused "
                        f"(limit {limit} bytes)",
                data={"path": request.path[:200], "length": length, "limit": limit},
            )
            return problem_response(
                413,
                f"The request body of {length} bytes exceeds the limit of {limit} bytes.",
                errors=[{"field": "body", "message": f"at most {limit} bytes"}],
            )
        return self.get_response(request)


class IdleTimeoutMiddleware:
    """End a session after CYBERQMS_SESSION_IDLE_MINUTES without a request (A11-19)."""

    KEY = "cyberqms_last_seen"

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            now = timezone.now().timestamp()
            last_seen = request.session.get(self.KEY)
            if last_seen is not None and now - float(last_seen) > settings.SESSION_IDLE_SECONDS:
                emit_security_event(
                    "auth.session.idle_timeout",
                    severity=Severity.INFO,
                    message="Session ended after the idle timeout",
                    actor_id=user.pk,
                    username=user.get_username(),
                )
                logout(request)
                if is_api(request):
                    return problem_response(401, "The session expired after inactivity.")
                messages.info(request, "Your session ended after a period of inactivity.")
                return redirect_to_login(request.get_full_path())
            # Rewriting the session on every request costs a write; a few seconds of slack
            # in the idle clock is harmless. Background polls (the live alert banner) are
            # not activity: an open page must not keep a session alive.
            polling = request.headers.get("X-Cyberqms-Poll") == "1"
            if not polling and (last_seen is None or now - float(last_seen) > 5):
                request.session[self.KEY] = now
        return self.get_response(request)


# allauth's own views cannot carry our decorator; their actions are declared here.
ALLAUTH_VIEW_ACTIONS: dict[str, str] = {
    "account_login": "account.login",
    "account_logout": "account.login",
    "account_signup": "account.login",
    "account_reset_password": "account.login",
    "account_reset_password_done": "account.login",
    "account_reset_password_from_key": "account.login",
    "account_reset_password_from_key_done": "account.login",
    "account_inactive": "account.login",
    "account_confirm_email": "account.login",
    "account_email_verification_sent": "account.login",
    "mfa_authenticate": "account.login",
    "mfa_trust": "account.login",
    "account_change_password": "account.setup",
    "account_set_password": "account.setup",
    "account_email": "account.self",
    "account_reauthenticate": "account.setup",
    "mfa_reauthenticate": "account.setup",
    "mfa_index": "account.setup",
    "mfa_activate_totp": "account.setup",
    "mfa_deactivate_totp": "account.setup",
    "mfa_view_recovery_codes": "account.setup",
    "mfa_generate_recovery_codes": "account.setup",
    "mfa_download_recovery_codes": "account.setup",
}


def view_action(view_func: Callable[..., Any], url_name: str | None) -> str | None:
    declared = getattr(view_func, "cyberqms_action", None)
    if declared:
        return str(declared)
    return ALLAUTH_VIEW_ACTIONS.get(url_name or "")


class AccessGateMiddleware:
    """Every page passes the gate before its view runs; undeclared views are refused.

    The API is gated by its own authentication and per-operation `require` calls (see
    cyberqms.api), so this middleware leaves /api/ to it.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            ctx = current_context()
            set_context(replace(ctx, session_ref=session_ref(request.session.session_key)))
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        if is_api(request) or request.path.startswith(settings.STATIC_URL):
            return None
        match = request.resolver_match
        action = view_action(view_func, match.url_name if match else None)
        if action is None:
            decision = authorize(request.user, f"undeclared:{match.view_name if match else '?'}")
            return render(request, "403.html", {"reason": decision.reason}, status=403)
        spec = ACTIONS.get(action)
        if spec is not None and spec.public:
            return None
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if getattr(view_func, "cyberqms_poll", False) and request.headers.get(
            "X-Cyberqms-Poll"
        ) == "1":
            # A page's background poll of a view declared `polled`: its allowed decisions
            # are not recorded (refusals are), or every open page would write one a second.
            set_context(replace(current_context(), poll=True))
        decision = authorize(request.user, action)
        if decision.allowed:
            return None
        if decision.reason == "password change required":
            messages.warning(request, "Choose a new password before you continue.")
            return redirect("account_change_password")
        if decision.reason == "MFA enrolment required":
            messages.warning(request, "Your role requires two-factor sign-in: set it up now.")
            return redirect(reverse("mfa_activate_totp"))
        return render(request, "403.html", {"reason": decision.reason}, status=403)
