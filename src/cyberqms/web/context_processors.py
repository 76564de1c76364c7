from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

import cyberqms
from cyberqms.core.access import can

from .navigation import NAVIGATION


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"app_version": cyberqms.__version__}
    sections = []
    current = request.path
    for section in NAVIGATION:
        items = []
        for item in section.items:
            if can(user, item.action):
                url = reverse(item.url_name)
                active = current == url if url == "/" else current.startswith(url)
                items.append({"label": item.label, "url": url, "icon": item.icon,
                              "active": active})
        if items:
            sections.append({"title": section.title, "items": items})
    roles = [a.get_role_display() for a in user.active_roles()]
    return {"nav_sections": sections, "user_roles": roles, "app_version": cyberqms.__version__}
