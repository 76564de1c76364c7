"""/favicon.ico: the icon browsers ask for by themselves (pages link it as SVG).

Answered with the same SVG file, so no page logs a failed load of it.
"""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from cyberqms.platform.core.access import declare
from cyberqms.platform.core.pages import gated

ICON = declare("web.icon", "Fetch the site's icon", public=True)


@cache
def _icon() -> bytes:
    return (settings.BASE_DIR / "static" / "cyberqms" / "favicon.svg").read_bytes()


@require_safe
@cache_control(public=True, max_age=86400)
@gated(ICON)
def favicon(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_icon(), content_type="image/svg+xml")
