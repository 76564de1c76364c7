"""The navigation's entry for security incidents (CYB-01: an entry shows only where the gate
allows its view action): a family on the kit is listed in the section it declares."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def section_entries(client: Client, title: str) -> list[str]:
    """The entries of one navigation section, in order, as the sidebar shows them."""
    html = client.get("/").content.decode()
    found = re.search(rf'<div class="nav-section">{re.escape(title)}</div>\s*<nav class="nav">'
                      r"(.*?)</nav>", html, re.S)
    return re.findall(r'data-nav="([^"]+)"', found.group(1)) if found else []


@pytest.mark.parametrize("role", ["it_security", "qa_manager", "qa_approver", "auditor"])
def test_those_who_may_see_incidents_find_them_first_in_the_security_section(
        role: str, personas: dict[str, Any], login: Callable[[Any], Client]) -> None:
    entries = section_entries(login(personas[role]), "Security")
    assert entries[:1] == ["Security incidents"]


@pytest.mark.parametrize("role", ["author", "process_owner", "system_owner", "admin"])
def test_those_who_may_not_see_incidents_have_no_entry_for_them(
        role: str, personas: dict[str, Any], login: Callable[[Any], Client]) -> None:
    html = login(personas[role]).get("/").content.decode()
    assert 'data-nav="Security incidents"' not in html


def test_the_entry_leads_to_the_incident_list_and_is_marked_there(
        personas: dict[str, Any], login: Callable[[Any], Client]) -> None:
    html = login(personas["it_security"]).get("/incidents/").content.decode()
    assert re.findall(r'<a href="([^"]+)" class="active" data-nav="([^"]+)"', html) == [
        ("/incidents/", "Security incidents")]
