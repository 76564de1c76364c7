"""Least privilege from use, in Chromium (issue 17, item 5): three QA reviewers at Basel
never approved a deviation in the year; the QA manager raises the change control from the
suggestion on Access governance and lands on it; once it is approved, the administrator
applies the role changes from the same page and the reviewers are authors from then on.

Screenshots go to /tmp/access_shots/ (7-…)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from cyberqms.web.tests.browser.test_access_browser import shot
from cyberqms.web.tests.browser.test_demo_browser import flash
from cyberqms.web.tests.browser.test_identity_browser import (
    assert_no_console_errors,
    at,
    sign_in,
)

pytestmark = pytest.mark.browser


def test_a_suggestion_becomes_role_changes_through_change_control(
        open_page: Callable[[], Page], personas: dict[str, Any],
        make_user: Callable[..., Any]) -> None:
    from cyberqms.platform.accounts.models import RoleAssignment
    from cyberqms.platform.core.access import can
    from cyberqms.platform.kit.records import kind_by_type
    from cyberqms.quality.deviations.tests.factories import a_site
    from cyberqms.security.governance.models import PrivilegeChange
    from cyberqms.security.governance.tests.test_privilege_changes import approve

    site = a_site("BSL")
    reviewers = [make_user(f"reviewer{n}", "qa_reviewer", site=site) for n in (1, 2, 3)]
    RoleAssignment.objects.filter(user__in=reviewers).update(
        valid_from=timezone.now() - dt.timedelta(days=400))

    page = open_page()
    sign_in(page, personas["qa_manager"], totp=True)
    page.goto("/access/")
    row = page.get_by_test_id("least-privilege").locator("tbody tr").filter(
        has_text="deviations.approve")
    expect(row.locator("td")).to_have_text(
        ["QA reviewer", "BSL", "deviations.approve", "3 of 3", "Raise a change control"])
    shot(page, "7-least-privilege")
    with page.expect_navigation():
        row.get_by_test_id("propose-change").click()
    pc = PrivilegeChange.objects.get(action="deviations.approve")
    expect(page).to_have_url(at(f"/changes/{pc.change_id}/"))
    expect(flash(page)).to_have_text(
        f"{pc.change_number} raised in draft: complete its impact assessment and submit "
        "it. The role changes apply once it is approved.")
    expect(page.locator("h1")).to_contain_text(
        "Least privilege: QA reviewer at BSL without “Approve a deviation”")
    shot(page, "7-change-raised")
    page.goto("/access/")
    expect(row.locator("td").last).to_have_text(f"{pc.change_number} proposed")
    expect(page.get_by_test_id("privilege-changes").locator("tbody td").last).to_have_text(
        "Waiting for the change control")
    assert_no_console_errors(page)

    approve(pc, personas)  # assessed, QA-approved and released through its workflow
    assert kind_by_type("changes.change").model.objects.get(pk=pc.change_id).state == (
        "approved")
    admin = open_page()
    sign_in(admin, personas["admin"], totp=True)
    expect(admin.locator("main")).to_contain_text(
        "Approved: apply the role changes of 3 people")  # a task on the home page
    admin.goto("/access/")
    changes = admin.get_by_test_id("privilege-changes")
    with admin.expect_navigation():
        changes.get_by_test_id("apply-change").click()
    expect(flash(admin)).to_have_text(f"{pc.change_number}: 3 roles changed.")
    expect(changes.locator("tbody td").last).to_have_text(re.compile(
        r"^applied \d{4}-\d\d-\d\d, 3 changed$"))
    shot(admin, "7-applied")
    assert_no_console_errors(admin)
    first = reviewers[0]
    first.forget_access_cache()
    assert (can(first, "deviations.approve"), sorted(RoleAssignment.objects.held_on(
        timezone.now()).filter(user=first).values_list("role", "approval_ref"))) == (
        False, [("author", pc.change_number)])
