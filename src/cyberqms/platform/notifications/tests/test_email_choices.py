"""Each person chooses which kinds of notification also come by e-mail (assignments,
approvals, overdue records and security alerts unless they choose otherwise; information
stays in the inbox); the mail follows the choice, and the choice is audited like other
self-service changes (A11-21)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from cyberqms.platform.notifications.models import EmailSettings
from cyberqms.platform.notifications.services import notification_email_choose, notify
from cyberqms.platform.trail.models import AuditEntry

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]
Login = Callable[[Any], Client]


def _send_assignment_and_info(recipient: Any, capture: Capture) -> list[str]:
    """The subjects of the e-mails an assignment and an information notice brought."""
    with capture(execute=True):
        notify([recipient], kind="assignment", subject="DEV-2026-0007 assigned to you")
        notify([recipient], kind="info", subject="DEV-2026-0007 closed")
    return [m.subject for m in mail.outbox]


def _checked(html: str) -> list[str]:
    return sorted(re.findall(r'<input type="checkbox" name="kinds" value="([a-z_]+)"[^>]*'
                             r"checked", html))


def test_without_a_choice_assignments_come_by_email_information_does_not(
    people: dict[str, Any], django_capture_on_commit_callbacks: Capture
) -> None:
    sent = _send_assignment_and_info(people["author"], django_capture_on_commit_callbacks)
    assert sent == ["[cyberqms] DEV-2026-0007 assigned to you"]


def test_the_page_shows_the_defaults_chosen(people: dict[str, Any], login: Login) -> None:
    response = login(people["author"]).get("/notifications/e-mail/")
    assert response.status_code == 200
    assert _checked(response.text) == ["alert", "approval_due", "assignment", "extension",
                                       "overdue"]


def test_a_choice_is_saved_and_audited_as_the_persons_own_change(
    people: dict[str, Any], login: Login
) -> None:
    author = people["author"]
    response = login(author).post("/notifications/e-mail/", {"kinds": ["info", "overdue"]},
                                  follow=True)
    assert "Your e-mail choices are saved." in response.text
    assert _checked(response.text) == ["info", "overdue"]
    entry = AuditEntry.objects.get(object_type="notifications.email")
    assert (entry.action, entry.actor_id, entry.object_id, entry.data["changes"]["kinds"]) == (
        "notifications.email.choose", author.pk, str(author.pk),
        [None, ["overdue", "info"]])


def test_a_changed_choice_keeps_the_earlier_one_in_the_trail(people: dict[str, Any]) -> None:
    author = people["author"]
    notification_email_choose(actor=author, kinds=["info"])
    notification_email_choose(actor=author, kinds=["assignment"])
    notification_email_choose(actor=author, kinds=["assignment"])  # no change: no entry
    changes = [e.data["changes"]["kinds"] for e in AuditEntry.objects.filter(
        object_type="notifications.email").order_by("seq")]
    assert changes == [[None, ["info"]], [["info"], ["assignment"]]]


def test_the_mail_follows_the_choice(
    people: dict[str, Any], django_capture_on_commit_callbacks: Capture
) -> None:
    notification_email_choose(actor=people["author"], kinds=["info"])
    sent = _send_assignment_and_info(people["author"], django_capture_on_commit_callbacks)
    assert sent == ["[cyberqms] DEV-2026-0007 closed"]


def test_an_unknown_kind_is_refused_naming_the_field(
    people: dict[str, Any], login: Login
) -> None:
    response = login(people["author"]).post("/notifications/e-mail/", {"kinds": ["gossip"]})
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "kinds": ["Select a valid choice. gossip is not one of the available choices."]}
    assert not EmailSettings.objects.exists()


def test_the_profile_and_the_inbox_link_to_the_choices(
    people: dict[str, Any], login: Login
) -> None:
    client = login(people["author"])
    link = 'href="/notifications/e-mail/" data-testid="email-choices"'
    assert (link in client.get("/profile/").text,
            link in client.get("/notifications/").text) == (True, True)


def test_the_page_has_no_inline_styles_or_scripts(people: dict[str, Any], login: Login) -> None:
    html = login(people["author"]).get("/notifications/e-mail/").text
    assert (" style=" in html, re.findall(r"<script(?![^>]*\bnonce=)[^>]*>", html),
            re.findall(r"\son[a-z]+=", html)) == (False, [], [])
