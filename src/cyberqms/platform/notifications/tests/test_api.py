"""The inbox API: one's own notifications only, filters, marking read, token scopes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from cyberqms.platform.accounts.services import token_create
from cyberqms.platform.notifications.models import Notification

pytestmark = pytest.mark.django_db

Login = Callable[[Any], Client]
Send = Callable[..., list[Any]]


def test_list_returns_only_ones_own_unread_first(
    people: dict[str, Any], login: Login, send: Send
) -> None:
    author = people["author"]
    first, second = send(author, 2)
    send(people["qa_approver"], 3)
    Notification.objects.filter(pk=second.pk).update(read_at=second.created_at)
    body = login(author).get("/api/v1/notifications").json()
    assert (body["count"], body["unread"]) == (2, 1)
    assert [(i["id"], i["subject"], i["kind"], i["url"], i["record_number"], i["read_at"] is None)
            for i in body["items"]] == [
        (first.pk, "Record 0 assigned to you", "assignment", "/records/0/", "REC-0", True),
        (second.pk, "Record 1 assigned to you", "assignment", "/records/1/", "REC-1", False),
    ]


def test_list_filters_and_pages(people: dict[str, Any], login: Login, send: Send) -> None:
    author = people["author"]
    assigned = send(author, 3)
    overdue = send(author, kind="overdue", subject="REC-9 is overdue")[0]
    Notification.objects.filter(pk=assigned[0].pk).update(read_at=assigned[0].created_at)
    client = login(author)

    def ids(query: str) -> list[int]:
        return [i["id"] for i in client.get(f"/api/v1/notifications{query}").json()["items"]]

    assert ids("?unread=true") == [overdue.pk, assigned[2].pk, assigned[1].pk]
    assert ids("?kind=overdue") == [overdue.pk]
    assert ids("?kind=assignment&unread=true") == [assigned[2].pk, assigned[1].pk]
    assert ids("?limit=2&offset=1") == [assigned[2].pk, assigned[1].pk]
    bad = client.get("/api/v1/notifications?kind=gossip")
    assert (bad.status_code, bad["Content-Type"]) == (422, "application/problem+json")
    assert bad.json()["errors"][0]["field"] == "kind"


def test_cursor_pages_hold_every_notification_once_unread_first(
    people: dict[str, Any], login: Login, send: Send
) -> None:
    """Issue 14: the inbox's order (unread first, then latest) pages by cursor as by offset."""
    author = people["author"]
    sent = send(author, 7)
    read = [n.pk for n in sent[1::2]]
    Notification.objects.filter(pk__in=read).update(read_at=sent[0].created_at)
    client = login(author)
    everything = [i["id"] for i in client.get("/api/v1/notifications").json()["items"]]
    cursor, pages = "", []
    while cursor is not None:
        body = client.get("/api/v1/notifications", {"limit": 3, "cursor": cursor}).json()
        pages.append([i["id"] for i in body["items"]])
        cursor = body["next"]
    assert (pages, body["count"], body["count_exact"]) == (
        [everything[:3], everything[3:6], everything[6:]], 7, True)


def test_mark_read_own_only(people: dict[str, Any], login: Login, send: Send) -> None:
    mine = send(people["author"])[0]
    theirs = send(people["qa_approver"])[0]
    client = login(people["author"])
    response = client.post(f"/api/v1/notifications/{mine.pk}/read")
    assert response.status_code == 200
    mine.refresh_from_db()
    assert mine.read_at is not None
    # The API writes times to the millisecond, in UTC.
    assert response.json()["read_at"] == mine.read_at.strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{mine.read_at.microsecond // 1000:03d}Z"
    )
    again = client.post(f"/api/v1/notifications/{mine.pk}/read").json()
    assert again["read_at"] == response.json()["read_at"]
    refused = client.post(f"/api/v1/notifications/{theirs.pk}/read")
    assert (refused.status_code, refused["Content-Type"]) == (404, "application/problem+json")
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read(people: dict[str, Any], login: Login, send: Send) -> None:
    send(people["author"], 3)
    send(people["qa_approver"], 2)
    client = login(people["author"])
    assert client.post("/api/v1/notifications/read-all").json() == {"marked": 3}
    assert client.post("/api/v1/notifications/read-all").json() == {"marked": 0}
    assert Notification.objects.filter(read_at=None).count() == 2
    assert client.get("/api/v1/notifications").json()["unread"] == 0


def test_token_scopes_limit_the_inbox(people: dict[str, Any], send: Send) -> None:
    author = people["author"]
    note = send(author)[0]
    reader = token_create(actor=author, owner=author, name="inbox reader",
                          scopes=["notifications.inbox.view"], days=1).secret
    client = Client(HTTP_AUTHORIZATION=f"Bearer {reader}")
    assert [i["id"] for i in client.get("/api/v1/notifications").json()["items"]] == [note.pk]
    refused = client.post(f"/api/v1/notifications/{note.pk}/read")
    assert refused.status_code == 403
    assert refused.json()["action"] == "notifications.inbox.mark"
    other = token_create(actor=author, owner=author, name="profile only",
                         scopes=["account.self"], days=1).secret
    assert Client(HTTP_AUTHORIZATION=f"Bearer {other}").get(
        "/api/v1/notifications").status_code == 403


def test_list_says_what_is_awaited_how_often_and_whether_it_is_done(
    people: dict[str, Any], login: Login, django_capture_on_commit_callbacks: Any
) -> None:
    from cyberqms.platform.notifications.services import notifications_resolve, notify

    author = people["author"]
    with django_capture_on_commit_callbacks(execute=True):
        for subject_key in ("dev-7-review", "dev-7-review", "dev-8-review"):
            notify([author], kind="approval_due", subject="Review due", subject_key=subject_key,
                   record_type="deviations.deviation", record_id=subject_key[4],
                   awaits=("qa_review",))
    notifications_resolve("dev-8-review")
    client = login(author)

    def listed(query: str) -> tuple[int, int, list[tuple[str, int, list[str], bool]]]:
        body = client.get(f"/api/v1/notifications{query}").json()
        return body["count"], body["unread"], [
            (i["record_id"], i["occurrences"], i["awaits"], i["resolved"])
            for i in body["items"]]

    assert listed("") == (1, 1, [("7", 2, ["qa_review"], False)])
    assert listed("?resolved=true") == (1, 1, [("8", 1, ["qa_review"], True)])
