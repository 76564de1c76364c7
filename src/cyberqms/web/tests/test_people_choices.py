"""Pickers offer only people who can take the role in that record at that site: never the
administrator, the external inspector or someone from another site (issue 13, item 6)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from cyberqms.platform.accounts.tests.factories import UserFactory
from cyberqms.quality.deviations.tests.factories import a_site, deviation_in_state

pytestmark = pytest.mark.django_db


def offered(html: str, select_name: str) -> list[str]:
    """The option texts of the named <select> (the empty choice left out)."""
    match = re.search(rf'<select name="{select_name}"[^>]*>(.*?)</select>', html, re.S)
    assert match is not None, f"no select named {select_name}"
    return [text.strip() for value, text in
            re.findall(r'<option value="([^"]*)"[^>]*>(.*?)</option>', match.group(1))
            if value]


def test_the_owner_choice_of_a_new_record_offers_only_people_who_can_do_its_work(
    personas: dict[str, Any], login: Any,
) -> None:
    """The roles that work on records (author, process owner, QA, IT security, system owner)
    are offered, by name; the administrator, the auditor and the person without a role are
    not."""
    a_site()
    page = login(personas["author"]).get("/deviations/new/").content.decode()
    workers = [personas[n] for n in ("author", "it_security", "process_owner", "qa_approver",
                                     "qa_manager", "system_owner")]
    assert offered(page, "owner") == [
        p.printed_name for p in sorted(workers, key=lambda p: (p.full_name, p.username))]


def test_the_owner_choice_of_a_record_offers_no_one_from_another_site(
    personas: dict[str, Any], make_user: Any, login: Any,
) -> None:
    here, elsewhere = a_site(), a_site()
    make_user("far_author", "author", site=elsewhere)
    d = deviation_in_state(personas, "draft", site=here)
    page = login(personas["author"]).get(f"/deviations/{d.pk}/").content.decode()
    assert "Far_Author" not in offered(page, "owner")
    assert "Author" in offered(page, "owner")


def test_the_capa_owner_choice_when_spawning_a_capa_leaves_out_administrator_and_auditor(
    personas: dict[str, Any], login: Any,
) -> None:
    d = deviation_in_state(personas, "investigation")
    page = login(personas["qa_manager"]).get(f"/deviations/{d.pk}/").content.decode()
    choices = offered(page, "owner")
    assert ("Admin" in choices, "Auditor" in choices, "Author" in choices) == (
        False, False, True)


def test_a_service_account_is_never_offered(personas: dict[str, Any], login: Any) -> None:
    from cyberqms.platform.core.access import people_able

    machine = UserFactory.create(username="lims_feed", kind="service")
    assert machine not in people_able("deviations.work", [a_site().pk])


@pytest.mark.parametrize(("name", "initials"), [
    ("Dr. Helena Brandt", "HB"), ("Marie-Claire Dubois", "MD"), ("Ana", "A"),
    ("Prof. Dr. med. Jonas Weber", "JW"),
])
def test_the_avatar_shows_the_initials_of_the_name_without_titles(name: str, initials: str) -> None:
    assert UserFactory.build(full_name=name).initials == initials
