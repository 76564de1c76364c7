"""Each person's time zone: the names one may choose, and the middleware that shows pages in
the signed-in person's zone.

Everything is stored in UTC; only pages show local times (`core.moments`). A person's zone
is `User.time_zone`, set from their site's zone when the account is created and changed on
the profile (`services.user_time_zone_set`); empty means the installation's zone
(`CYBERQMS_TIME_ZONE`, UTC by default). The API and the exports stay in UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from cyberqms.platform.core.middleware import is_api


@cache
def zone_names() -> frozenset[str]:
    """The IANA zone names this machine knows (its tz database)."""
    return frozenset(available_timezones())


def zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zone_names())]


def zone_named(name: str) -> ZoneInfo | None:
    """The zone called `name`; None for an empty or unknown name."""
    if name not in zone_names():
        return None
    return ZoneInfo(name)


class TimeZoneMiddleware:
    """Activate the signed-in person's zone for the request (after authentication).

    It reads only `request.user`, which the gate loads anyway: no query of its own. API
    requests keep UTC, and the zone is put back when the response is made, so a thread
    serves its next request in the installation's zone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        zone = None
        if not is_api(request) and user.is_authenticated:
            zone = zone_named(getattr(user, "time_zone", ""))
        if zone is None:
            return self.get_response(request)
        with timezone.override(zone):
            return self.get_response(request)
