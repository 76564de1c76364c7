"""What the shell serves besides pages: the site icon at /favicon.ico (browsers ask for it on
their own), and the API's documentation inside the shell under the strict
Content-Security-Policy (CYB-01 hardening)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db

Login = Callable[[Any], Client]
ICON_LINK = '<link rel="icon" href="/static/cyberqms/favicon.svg" type="image/svg+xml">'


def test_favicon_ico_answers_anonymously_with_the_sites_icon() -> None:
    response = Client().get("/favicon.ico")
    assert (response.status_code, response["Content-Type"]) == (200, "image/svg+xml")
    assert response.content == (
        settings.BASE_DIR / "static" / "cyberqms" / "favicon.svg").read_bytes()


def test_the_shell_links_the_icon(personas: dict[str, Any], login: Login) -> None:
    assert ICON_LINK in login(personas["author"]).get("/").content.decode()


def test_the_api_docs_are_a_page_of_the_shell(personas: dict[str, Any], login: Login) -> None:
    response = login(personas["author"]).get("/api/v1/docs")
    html = response.content.decode()
    assert response.status_code == 200
    assert (ICON_LINK in html, '<aside class="sidebar"' in html,
            'data-openapi-url="/api/v1/openapi.json"' in html) == (True, True, True)


def test_the_api_docs_need_no_inline_script_or_style(
    personas: dict[str, Any], login: Login
) -> None:
    """Swagger UI is started by a static file that reads the schema's URL from the page."""
    response = login(personas["author"]).get("/api/v1/docs")
    html = response.content.decode()
    assert re.findall(r'<script src="([^"]+)" nonce="[^"]+" defer>', html) == [
        "/static/vendor/htmx.min.js", "/static/cyberqms/app.js",
        "/static/ninja/swagger-ui-bundle.js", "/static/cyberqms/api-docs.js",
    ]
    assert (html.count("<script"), " style=" in html, "<style" in html) == (4, False, False)
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
