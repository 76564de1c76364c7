from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.http import HttpRequest
from django.urls import get_script_prefix, get_urlconf, reverse

import cyberqms
from cyberqms.platform.core.access import can

from .navigation import navigation_sections


@lru_cache(maxsize=512)
def _address(url_name: str, prefix: str, urlconf: str | None) -> str:
    """A menu entry's address, the same for every request served under `prefix` with
    `urlconf` (URL patterns do not change while a process runs): reversed once."""
    return reverse(url_name, urlconf=urlconf)


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"app_version": cyberqms.__version__}
    sections: list[dict[str, Any]] = []
    current = request.path
    for section in navigation_sections():
        items: list[dict[str, Any]] = [
            {"label": item.label,
             "url": _address(item.url_name, get_script_prefix(), get_urlconf()),
             "icon": item.icon, "active": False}
            for item in section.items
            if can(user, item.action)
        ]
        if items:
            sections.append({"title": section.title, "items": items})
    # The entry whose address is the longest prefix of this page is the current one, so
    # /trail/status/ marks "Trail status", not also "Audit trail" at /trail/.
    matches = [
        item for section in sections for item in section["items"]
        if (current == item["url"] if item["url"] == "/" else current.startswith(item["url"]))
    ]
    crumb: dict[str, Any] | None = None
    if matches:
        active = max(matches, key=lambda item: len(item["url"]))
        active["active"] = True
        # The breadcrumb starts with the menu's words for where the page is: the two agree.
        held = next(s for s in sections if any(i is active for i in s["items"]))
        crumb = {"section": held["title"], "label": active["label"], "url": active["url"],
                 "current": active["url"] == current}
    roles = [a.get_role_display() for a in user.active_roles()]
    return {"nav_sections": sections, "crumb": crumb, "user_roles": roles,
            "app_version": cyberqms.__version__}
