"""HR updates from a CSV file (issue 17, item 4): a dry run says what each row would
change, every error names its line and column, and applying changes all or nothing."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cyberqms.platform.accounts.models import User
from cyberqms.platform.accounts.tests.factories import SiteFactory
from cyberqms.security.access.hr_import import hr_import

pytestmark = pytest.mark.django_db
NEXT_YEAR = (timezone.localdate() + dt.timedelta(days=365)).isoformat()
HEADER = "username,full_name,email,site,manager,employee_id,leaver_at\n"


@pytest.fixture
def admin(personas: dict[str, Any]) -> Any:
    SiteFactory.create(code="BSL", time_zone="Europe/Zurich")
    return personas["admin"]


def errors(text: str, admin: Any) -> list[str]:
    return [str(e) for e in hr_import(text, actor=admin, reason="HR", apply=True).errors]


def test_a_dry_run_says_what_would_change_and_changes_nothing(admin: Any) -> None:
    text = HEADER + (f"jnew,Jo New,jnew@x.test,BSL,author,E-1,\n"
                     f"author,,,,,E-2,{NEXT_YEAR}\n")
    result = hr_import(text, actor=admin, reason="", apply=False)
    assert ([(p.row, p.username, p.action, sorted(p.changes)) for p in result.planned],
            result.applied, User.objects.filter(username="jnew").exists()) == (
        [(2, "jnew", "create", ["email", "employee_id", "full_name", "manager", "site"]),
         (3, "author", "update", ["employee_id", "leaver_at"])], False, False)


def test_applying_creates_joiners_and_their_managers_from_the_file(admin: Any) -> None:
    text = HEADER + ("boss,Bo Boss,boss@x.test,BSL,,E-10,\n"
                     "jnew,Jo New,jnew@x.test,BSL,boss,E-11,\n")
    result = hr_import(text, actor=admin, reason="HR extract 2026-12-07", apply=True)
    joiner = User.objects.get(username="jnew")
    assert (result.applied, joiner.manager.username if joiner.manager else "",
            joiner.employee_id, joiner.site.code if joiner.site else "") == (
        True, "boss", "E-11", "BSL")


def test_a_leaving_date_alone_is_six_in_the_evening_at_the_site(admin: Any,
                                                               personas: dict[str, Any]) -> None:
    User.objects.filter(username="author").update(site=SiteFactory.create(code="BSL"))
    hr_import(HEADER + f"author,,,,,,{NEXT_YEAR}\n", actor=admin, reason="HR", apply=True)
    leaves = User.objects.get(username="author").leaver_at
    assert leaves is not None
    local = leaves.astimezone(zoneinfo.ZoneInfo("Europe/Zurich"))
    assert (local.date().isoformat(), local.hour) == (NEXT_YEAR, 18)


def test_every_error_names_its_line_and_column_and_nothing_changes(admin: Any) -> None:
    text = HEADER + ("jnew,Jo New,,XYZ,,,\n"
                     "jnew,Jo Again,,BSL,,,\n"
                     "kfar,,,BSL,nobody,,\n"
                     "author,,,,,,2001-01-01\n")
    assert (errors(text, admin), User.objects.filter(username__in=["jnew", "kfar"]).count()
            ) == ([
        "line 2, site: No active site 'XYZ'.",
        "line 3, username: Also on line 2.",
        "line 4, full_name: Required for a new person (kfar).",
        "line 4, manager: No person 'nobody' in cyberqms or in the file.",
        "line 5, leaver_at: In the past: deactivate the account instead."], 0)


def test_managers_going_round_in_the_file_are_refused(admin: Any) -> None:
    text = HEADER + ("aa,A A,,BSL,bb,,\n" "bb,B B,,BSL,aa,,\n")
    assert errors(text, admin) == ["line 2, manager: aa's managers go round in a circle.",
                                   "line 3, manager: bb's managers go round in a circle."]


def test_an_unknown_column_is_named(admin: Any) -> None:
    assert errors("username,salary\nauthor,100\n", admin) == [
        "line 1, salary: Unknown column (known: username, full_name, email, title, "
        "employee_id, site, department, manager, leaver_at)."]


def test_a_file_that_is_not_utf8_is_refused(admin: Any) -> None:
    assert errors(b"username\n\xff\xfe\n", admin) == ["line 0: The file is not UTF-8 text."]


def test_an_employee_id_held_by_another_is_refused(admin: Any,
                                                   personas: dict[str, Any]) -> None:
    User.objects.filter(username="qa_manager").update(employee_id="E-7")
    assert errors(HEADER + "author,,,,,E-7,\n", admin) == [
        "line 2, employee_id: E-7 is qa_manager's."]


def test_only_administrators_import(personas: dict[str, Any]) -> None:
    from cyberqms.platform.core.access import AccessDenied

    with pytest.raises(AccessDenied):
        hr_import(HEADER, actor=personas["qa_manager"], reason="HR", apply=False)


def test_the_page_previews_then_applies(admin: Any, login: Any) -> None:
    client = login(admin)
    upload = SimpleUploadedFile("hr.csv", (HEADER + "jnew,Jo New,,BSL,,,\n").encode(),
                                content_type="text/csv")
    preview = client.post("/access/hr-import/", {"file": upload})
    applied = client.post("/access/hr-import/", {
        "content": preview.context["content"], "apply": "yes", "reason": "HR extract"})
    assert (preview.status_code, preview.context["counts"]["create"], applied.status_code,
            User.objects.filter(username="jnew").exists()) == (200, 1, 302, True)
