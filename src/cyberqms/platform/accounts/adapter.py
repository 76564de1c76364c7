"""allauth adapters: accounts are provisioned by administrators, never self-registered."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def get_password_change_redirect_url(self, request: HttpRequest) -> str:
        # On to the home page, where the gate sends a user with pending MFA enrolment on.
        return "/"

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        # Counting and lockout belong to django-axes; security events to our signals.
        return None


class MFAAdapter(DefaultMFAAdapter):
    def get_totp_label(self, user: Any) -> str:
        return str(user.username)
