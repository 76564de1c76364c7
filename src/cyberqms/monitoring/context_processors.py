"""The live alert banner's address, for the users who see alerts (base.html polls it)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from cyberqms.core.access import can

# htmx sends this header with the banner's polls; the idle timeout does not count them as
# activity (A11-19), so an open page does not keep a session alive.
POLL_HEADER = "X-Cyberqms-Poll"


def alert_banner(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not can(user, "monitoring.alert.view"):
        return {}
    return {"alert_banner_url": reverse("monitoring:banner")}
