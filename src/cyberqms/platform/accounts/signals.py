"""Security events for identity: sign-ins, failures, lockouts, MFA and password changes."""

from __future__ import annotations

from typing import Any

from allauth.account.signals import email_changed, password_changed, password_reset
from allauth.mfa import signals as mfa_signals
from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from cyberqms.platform.core.client_address import request_client_address
from cyberqms.platform.core.events import emit_security_event
from cyberqms.platform.core.models import Severity

from .first_sign_in import count_as_reauthentication
from .lockout import client_username
from .services import user_email_changed, user_password_changed


def _ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request_client_address(request) or None


@receiver(user_logged_in)
def on_login(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    emit_security_event(
        "auth.login.success", severity=Severity.INFO, message=f"{user.username} signed in",
        actor_id=user.pk, username=user.username, source_ip=_ip(request),
    )


@receiver(user_logged_out)
def on_logout(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if user is not None:
        emit_security_event(
            "auth.logout", severity=Severity.INFO, message=f"{user.username} signed out",
            actor_id=user.pk, username=user.username, source_ip=_ip(request),
        )


@receiver(user_login_failed)
def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    username = client_username(request, credentials) if request is not None else ""
    emit_security_event(
        "auth.login.failure", severity=Severity.LOW,
        message=f"Failed sign-in for {username or 'an empty username'}",
        username=username, source_ip=_ip(request),
    )


@receiver(user_locked_out)
def on_locked_out(
    sender: Any, request: HttpRequest, username: str, ip_address: str, **kwargs: Any
) -> None:
    emit_security_event(
        "auth.lockout", severity=Severity.HIGH,
        message=f"Account {username} locked after repeated failed sign-ins",
        username=username or "", source_ip=ip_address or None,
    )


@receiver(password_changed)
@receiver(password_reset)
def on_password_changed(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    user_password_changed(user)
    emit_security_event(
        "account.password_changed", severity=Severity.INFO,
        message=f"{user.username} changed their password",
        actor_id=user.pk, username=user.username, source_ip=_ip(request),
    )


@receiver(password_changed)
def on_password_changed_in_session(
    sender: Any, request: HttpRequest, user: Any, **kwargs: Any
) -> None:
    """A change made in this person's own session proved they know the password (the
    current one, or the one they signed in with moments ago): it counts as a
    re-authentication, so the MFA enrolment that follows does not ask for it again."""
    if request is not None and getattr(request.user, "pk", None) == user.pk:
        count_as_reauthentication(request, user)


@receiver(mfa_signals.authenticator_added)
def on_mfa_added(sender: Any, request: HttpRequest, user: Any, authenticator: Any,
                 **kwargs: Any) -> None:
    user.forget_access_cache()
    emit_security_event(
        "account.mfa.added", severity=Severity.LOW,
        message=f"{user.username} enrolled {authenticator.type}",
        actor_id=user.pk, username=user.username, source_ip=_ip(request),
    )


@receiver(mfa_signals.authenticator_removed)
def on_mfa_removed(sender: Any, request: HttpRequest, user: Any, authenticator: Any,
                   **kwargs: Any) -> None:
    user.forget_access_cache()
    emit_security_event(
        "account.mfa.removed", severity=Severity.MEDIUM,
        message=f"{user.username} removed {authenticator.type}",
        actor_id=user.pk, username=user.username, source_ip=_ip(request),
    )


@receiver(mfa_signals.authentication_failed)
def on_mfa_failed(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    emit_security_event(
        "auth.mfa.failure", severity=Severity.MEDIUM,
        message=f"Wrong second-factor code for {user.username}",
        actor_id=user.pk, username=user.username, source_ip=_ip(request),
    )


@receiver(email_changed)
def on_email_changed(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    user_email_changed(user)
