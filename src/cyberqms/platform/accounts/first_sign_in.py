"""The first sign-in: one password entry, then the password change and MFA enrolment.

A new account signs in with its one-time password, must choose its own (P11-28) and, in a
privileged role, must enrol an authenticator (A11-19). Each of those allauth steps would
ask for a password again; security needs it once, while the entry is recent:

- the forced change does not ask for the current password when the person signed in
  with it in this session within the re-authentication window
  (`ACCOUNT_REAUTHENTICATION_TIMEOUT`, allauth's 5 minutes by default);
- a password change counts as a re-authentication, so the TOTP enrolment that follows
  (guarded by allauth's `reauthentication_required`) does not ask for it again.

A session whose password entry is older than the window is asked again, as before.

The page the person was going to when they signed in is kept through those steps, for
the Continue of the recovery-codes page that ends them.
"""

from __future__ import annotations

import time
from typing import Any

from allauth.account import app_settings as allauth_settings
from allauth.account.authentication import get_authentication_records
from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

DESTINATION_KEY = "cyberqms_after_first_steps"


def password_entered_recently(request: HttpRequest, user: Any) -> bool:
    """Whether `user` typed their password in this session (to sign in or to confirm it)
    within the re-authentication window."""
    window = allauth_settings.REAUTHENTICATION_TIMEOUT
    now = time.time()  # allauth stamps its records with time.time()
    return any(
        record.get("method") == "password" and now - float(record.get("at", 0)) < window
        for record in get_authentication_records(request, user)
    )


def count_as_reauthentication(request: HttpRequest, user: Any) -> None:
    """Record a password change in this session as a re-authentication by password."""
    # allauth offers no public call for this; its own password confirmation uses this one.
    from allauth.account.internal.flows.login import record_authentication

    record_authentication(request, user, method="password", reauthenticated=True)


def remember_destination(request: HttpRequest, url: str | None) -> None:
    """Keep the page a person signing in was going to, while first steps stand between."""
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
        request.session[DESTINATION_KEY] = url


def destination(request: HttpRequest) -> str:
    """Where the first steps lead on to: the page kept at sign-in, or the home page."""
    kept = str(request.session.get(DESTINATION_KEY) or "")
    if kept and url_has_allowed_host_and_scheme(kept, allowed_hosts={request.get_host()},
                                                require_https=request.is_secure()):
        return kept
    return reverse("web:home")
