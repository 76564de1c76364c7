"""The API's documentation page (/api/v1/docs) inside the app shell.

Swagger UI comes from django-ninja's own bundled files (/static/ninja/, the version locked
with django-ninja, never a CDN). Ninja's page starts it with settings written into the
page; this one extends the shell, and a static script (cyberqms/api-docs.js) starts it
from the schema's URL in a data attribute, so the strict Content-Security-Policy holds:
no inline script or style.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from ninja.openapi.docs import DocsBase

if TYPE_CHECKING:
    from ninja import NinjaAPI


class ShellDocs(DocsBase):
    template = "web/api_docs.html"

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        return render(request, self.template, {
            "api": api, "openapi_url": self.get_openapi_url(api, kwargs),
        })
