"""The inbox pages: one's own notifications only, unread first, filters, paging, opening
marks read and goes to the record, mark all read, the badge in the top bar; notices whose
work is done under "Resolved"; repeats shown as one notice."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.test import Client

from cyberqms.platform.notifications.models import Notification

pytestmark = pytest.mark.django_db

Login = Callable[[Any], Client]
Send = Callable[..., list[Any]]
T0 = dt.datetime(2031, 3, 10, 9, 0, tzinfo=dt.UTC)


def shown(response: Any) -> list[int]:
    """The notification ids on the page, in order."""
    return [int(pk) for pk in re.findall(r'data-notification="(\d+)"', response.content.decode())]


def test_inbox_lists_only_ones_own_unread_first(
    people: dict[str, Any], login: Login, send: Send
) -> None:
    author, approver = people["author"], people["qa_approver"]
    first, second, third = send(author, 3)
    others = send(approver, 2)
    Notification.objects.filter(pk=second.pk).update(read_at=second.created_at)
    response = login(author).get("/notifications/")
    assert response.status_code == 200
    assert shown(response) == [third.pk, first.pk, second.pk]
    assert not set(shown(response)) & {n.pk for n in others}
    assert shown(login(approver).get("/notifications/")) == [n.pk for n in reversed(others)]


def test_filters_unread_and_kind(people: dict[str, Any], login: Login, send: Send) -> None:
    author = people["author"]
    assignment = send(author)[0]
    overdue = send(author, kind="overdue", subject="REC-9 is overdue")[0]
    Notification.objects.filter(pk=assignment.pk).update(read_at=assignment.created_at)
    client = login(author)
    assert shown(client.get("/notifications/?show=unread")) == [overdue.pk]
    assert shown(client.get("/notifications/?kind=assignment")) == [assignment.pk]
    assert shown(client.get("/notifications/?show=all&kind=")) == [overdue.pk, assignment.pk]
    assert "Nothing matches this filter." in client.get(
        "/notifications/?kind=approval_due").content.decode()
    bad = client.get("/notifications/?kind=gossip")
    assert bad.status_code == 400
    assert shown(bad) == []


def test_pages_of_25_with_constant_queries(
    people: dict[str, Any], login: Login, send: Send,
    django_assert_num_queries: Callable[..., Any],
) -> None:
    author = people["author"]
    client = login(author)
    send(author, 2)
    client.get("/notifications/")  # the first request after a pause rewrites the session
    with django_assert_num_queries(QUERIES_PER_INBOX_PAGE):
        client.get("/notifications/")
    send(author, 28)
    client.get("/notifications/")
    with django_assert_num_queries(QUERIES_PER_INBOX_PAGE):
        page_one = client.get("/notifications/")
    assert len(shown(page_one)) == 25
    assert "30 rows" in page_one.content.decode()
    assert len(shown(client.get("/notifications/?page=2"))) == 5


# session, user, roles, access decision, unread count (page and badge), page count, rows
QUERIES_PER_INBOX_PAGE = 7


def test_resolved_view_has_constant_queries(
    people: dict[str, Any], login: Login, send: Send,
    django_assert_num_queries: Callable[..., Any],
) -> None:
    author = people["author"]
    client = login(author)
    Notification.objects.filter(pk=send(author)[0].pk).update(resolved_at=T0)
    client.get("/notifications/?show=resolved")
    with django_assert_num_queries(QUERIES_PER_INBOX_PAGE):
        client.get("/notifications/?show=resolved")
    Notification.objects.filter(pk__in=[n.pk for n in send(author, 12)]).update(resolved_at=T0)
    with django_assert_num_queries(QUERIES_PER_INBOX_PAGE):
        assert len(shown(client.get("/notifications/?show=resolved"))) == 13


def test_resolved_notices_leave_the_inbox_for_the_resolved_view(
    people: dict[str, Any], login: Login, send: Send
) -> None:
    author = people["author"]
    first, second, third = send(author, 3)
    Notification.objects.filter(pk__in=[first.pk, third.pk]).update(resolved_at=T0)
    client = login(author)
    assert shown(client.get("/notifications/")) == [second.pk]
    resolved = client.get("/notifications/?show=resolved")
    assert shown(resolved) == [third.pk, first.pk]
    assert resolved.text.count(
        '<span class="badge ok">Done <time datetime="2031-03-10T09:00:00Z" '
        'title="2031-03-10 09:00 UTC">10 Mar 2031, 09:00 UTC</time></span>') == 2


def test_unread_counts_only_notices_whose_work_is_not_done(
    people: dict[str, Any], login: Login, send: Send
) -> None:
    author = people["author"]
    first, *_ = send(author, 3)
    Notification.objects.filter(pk=first.pk).update(resolved_at=T0)
    client = login(author)
    page = client.get("/notifications/").text
    assert ('<span class="badge count">2</span>' in page, "Mark all read (2)" in page) == (
        True, True)
    assert client.post("/notifications/read-all/", follow=True).text.count(
        "2 notifications marked read.") == 1


def test_a_repeated_notice_shows_once_with_how_often_and_since_when(
    people: dict[str, Any], login: Login, django_capture_on_commit_callbacks: Any
) -> None:
    from cyberqms.platform.notifications.services import notify

    for hours in (0, 1, 5):
        with time_machine.travel(T0 + dt.timedelta(hours=hours), tick=False), \
                django_capture_on_commit_callbacks(execute=True):
            notify([people["author"]], kind="overdue", subject="Balance B-12 is overdue",
                   subject_key="balance-b12")
    response = login(people["author"]).get("/notifications/")
    assert len(shown(response)) == 1
    assert ('title="2031-03-10 14:00 UTC">10 Mar 2031, 14:00 UTC</time>' in response.text,
            '<span data-testid="occurrences">3 times since <time datetime="2031-03-10T09:00:00Z"'
            ' title="2031-03-10 09:00 UTC">10 Mar 2031, 09:00 UTC</time></span>'
            in response.text) == (True, True)


def test_opening_marks_read_and_goes_to_the_record(
    people: dict[str, Any], login: Login, send: Send
) -> None:
    note = send(people["author"])[0]
    response = login(people["author"]).post(f"/notifications/{note.pk}/open/")
    assert (response.status_code, response["Location"]) == (302, "/records/0/")
    note.refresh_from_db()
    assert note.read_at is not None
    first_read = note.read_at
    login(people["author"]).post(f"/notifications/{note.pk}/open/")
    note.refresh_from_db()
    assert note.read_at == first_read


def test_opening_without_a_link_goes_back_to_the_inbox(
    people: dict[str, Any], login: Login, send: Send
) -> None:
    note = send(people["author"])[0]
    Notification.objects.filter(pk=note.pk).update(url="")
    response = login(people["author"]).post(f"/notifications/{note.pk}/open/")
    assert (response.status_code, response["Location"]) == (302, "/notifications/")


def test_someone_elses_notification_answers_like_a_missing_one(
    people: dict[str, Any], login: Login, send: Send
) -> None:
    note = send(people["qa_approver"])[0]
    client = login(people["author"])
    assert client.post(f"/notifications/{note.pk}/open/").status_code == 404
    assert client.post("/notifications/999999/open/").status_code == 404
    note.refresh_from_db()
    assert note.read_at is None


def test_mark_all_read_touches_only_ones_own(
    people: dict[str, Any], login: Login, send: Send
) -> None:
    mine = send(people["author"], 3)
    theirs = send(people["qa_approver"], 2)
    client = login(people["author"])
    response = client.post("/notifications/read-all/", follow=True)
    assert "3 notifications marked read." in response.content.decode()
    assert Notification.objects.filter(pk__in=[n.pk for n in mine], read_at=None).count() == 0
    assert Notification.objects.filter(pk__in=[n.pk for n in theirs], read_at=None).count() == 2
    assert client.get("/notifications/read-all/").status_code == 405


def test_top_bar_badge_counts_unread(people: dict[str, Any], login: Login, send: Send) -> None:
    author = people["author"]
    client = login(author)
    home = client.get("/").content.decode()
    assert 'data-testid="inbox-badge"' in home
    assert 'class="badge count"' not in home
    send(author, 3)
    send(people["qa_approver"], 4)
    home = client.get("/").content.decode()
    assert '<span class="badge count">3</span>' in home
    assert 'data-nav="Notifications"' in home
    client.post("/notifications/read-all/")
    assert 'class="badge count"' not in client.get("/").content.decode()


def test_inbox_page_has_no_inline_styles_or_scripts(
    people: dict[str, Any], login: Login, send: Send
) -> None:
    send(people["author"], 2)
    html = login(people["author"]).get("/notifications/").content.decode()
    assert " style=" not in html
    assert re.findall(r"<script(?![^>]*\bnonce=)[^>]*>", html) == []
    assert re.findall(r"\son[a-z]+=", html) == []
