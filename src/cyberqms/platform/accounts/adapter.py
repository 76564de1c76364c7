"""allauth adapters: accounts are provisioned by administrators, never self-registered."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa.adapter import DefaultMFAAdapter
from django.http import HttpRequest

from cyberqms.platform.core.access import RateLimited
from cyberqms.platform.core.client_address import request_client_address

from .first_sign_in import destination, remember_destination
from .lockout import rate_limited_response
from .services import signin_admit


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def post_login(self, request: HttpRequest, user: Any, **kwargs: Any) -> Any:
        # The gate sends a person with first steps pending (password change, MFA
        # enrolment) to them: the page they were going to waits until those are done.
        if user.access_profile().blocked:
            remember_destination(request, kwargs.get("redirect_url"))
        return super().post_login(request, user, **kwargs)

    def get_password_change_redirect_url(self, request: HttpRequest) -> str:
        # On to the page kept at sign-in (or home); the gate sends a user with pending MFA
        # enrolment to it first.
        return destination(request)

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        # Counting and lockout belong to django-axes; security events to our signals.
        return None

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        """Before the password is checked: refuse an address over the sign-in rate limit
        (429 page), whichever username it tries next."""
        super().pre_authenticate(request, **credentials)
        try:
            signin_admit(request_client_address(request))
        except RateLimited as refused:
            raise ImmediateHttpResponse(rate_limited_response(request, refused)) from None

    def get_client_ip(self, request: HttpRequest) -> str:
        # The one client address of the request (trusted proxies honoured), for allauth's
        # own records and e-mails.
        return request_client_address(request)


class MFAAdapter(DefaultMFAAdapter):
    def get_totp_label(self, user: Any) -> str:
        return str(user.username)
