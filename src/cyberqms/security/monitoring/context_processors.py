"""The live alert banner's address, for the users who see alerts (base.html polls it)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from cyberqms.platform.core.access import can

# htmx sends this header with the banner's polls; the idle timeout does not count them as
# activity (A11-19), so an open page does not keep a session alive.
POLL_HEADER = "X-Cyberqms-Poll"


def alert_banner(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not can(user, "monitoring.alert.view"):
        return {}
    from .queries import banner_context

    # The page is rendered with the banner's current content, so it does not appear a
    # moment later and push the page down under the pointer; polls keep it current.
    return {"alert_banner_url": reverse("monitoring:banner"),
            "alert_banner": SimpleLazyObject(lambda: banner_context(user))}
