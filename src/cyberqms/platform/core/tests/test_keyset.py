"""Keyset pagination (issue 14): pages found by the sort values at their edge walk every
row once, in order, whatever the directions and NULLs of the sort; their cursors go back
as well as forth, a cursor that is not one of the list is refused naming `cursor`, and
counts stop at their cap."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest
from django.db.models import QuerySet
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cyberqms.platform.core.keyset import (
    BadCursor,
    CappedCount,
    capped_counts,
    cursor_after,
    decode_cursor,
    keyset_page,
    sort_keys,
)
from cyberqms.platform.core.models import AccessDecision

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 1, 8, 0, 0, 250_000, tzinfo=dt.UTC)
ACTION = "keyset.test"


def decisions(count: int) -> QuerySet[AccessDecision]:
    """`count` decisions, two at each moment (rows that share their sort value); every
    third without an actor (a sort value that can be NULL)."""
    AccessDecision.objects.bulk_create([
        AccessDecision(created_at=T0 + dt.timedelta(minutes=i // 2), action=ACTION,
                       allowed=i % 4 < 2, reason="test", channel="web",
                       actor_id=None if i % 3 == 0 else 100 + i % 5)
        for i in range(count)])
    return AccessDecision.objects.filter(action=ACTION)


def walk(rows: QuerySet[Any], size: int) -> list[list[int]]:
    """The ids of every page, following `next` from the first."""
    pages, cursor = [], None
    while True:
        page = keyset_page(rows, cursor=cursor, size=size)
        pages.append([row.pk for row in page])
        if page.next is None:
            return pages
        cursor = page.next


def encoded(data: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def test_pages_hold_every_row_once_in_order_when_rows_share_their_sort_value() -> None:
    rows = decisions(9)
    pages = walk(rows, 2)
    assert (pages, [len(p) for p in pages]) == (
        [list(rows.values_list("pk", flat=True))[i:i + 2] for i in range(0, 9, 2)],
        [2, 2, 2, 2, 1])


def test_the_previous_cursor_gives_back_the_page_before() -> None:
    rows = decisions(6)
    first = keyset_page(rows, cursor=None, size=2)
    second = keyset_page(rows, cursor=first.next, size=2)
    back = keyset_page(rows, cursor=second.previous, size=2)
    assert ([r.pk for r in back], back.previous, back.next is not None) == (
        [r.pk for r in first], None, True)


def test_ascending_and_descending_keys_mixed() -> None:
    rows = decisions(10).order_by("allowed", "-created_at")
    assert [pk for page in walk(rows, 3) for pk in page] == list(
        rows.order_by("allowed", "-created_at", "-id").values_list("pk", flat=True))


@pytest.mark.parametrize("sign", ["", "-"], ids=["ascending: last", "descending: first"])
def test_nulls_sort_as_the_largest_value_on_every_database(sign: str) -> None:
    rows = decisions(10).order_by(f"{sign}actor_id")
    listed = [pk for page in walk(rows, 3) for pk in page]
    valued = list(rows.filter(actor_id__isnull=False).order_by(f"{sign}actor_id", f"{sign}id")
                  .values_list("pk", flat=True))
    nulls = list(rows.filter(actor_id__isnull=True).order_by(f"{sign}id")
                 .values_list("pk", flat=True))
    assert listed == (valued + nulls if sign == "" else nulls + valued)


def test_walking_back_from_the_last_page_gives_every_page_again() -> None:
    rows = decisions(10).order_by("actor_id")
    forth = walk(rows, 3)
    page = keyset_page(rows, cursor=None, size=3)
    while page.next is not None:
        page = keyset_page(rows, cursor=page.next, size=3)
    back = [[row.pk for row in page]]
    while page.previous is not None:
        page = keyset_page(rows, cursor=page.previous, size=3)
        back.append([row.pk for row in page])
    assert back[::-1] == forth


def test_a_cursor_after_a_row_starts_the_page_after_it() -> None:
    rows = decisions(5)
    third = list(rows)[2]
    page = keyset_page(rows, cursor=cursor_after(rows, third), size=5)
    assert [row.pk for row in page] == [row.pk for row in list(rows)[3:]]


def test_the_order_ends_with_the_id_in_the_direction_before_it() -> None:
    rows = AccessDecision.objects.order_by("allowed", "-created_at")
    assert [key.name for key in sort_keys(rows)] == ["allowed", "-created_at", "-id"]


@pytest.mark.parametrize("cursor", [
    "!!not base64!!",
    base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    encoded("a string"),
    encoded({"k": ["-created_at", "-id"], "v": ["2026-03-01T08:00:00+00:00", 5]}),
    encoded({"k": ["created_at", "id"], "v": ["2026-03-01T08:00:00+00:00", 5], "b": 0}),
    encoded({"k": ["-created_at", "-id"], "v": ["2026-03-01T08:00:00+00:00"], "b": 0}),
    encoded({"k": ["-created_at", "-id"], "v": ["2026-03-01T08:00:00", 5], "b": 0}),
    encoded({"k": ["-created_at", "-id"], "v": ["2026-02-30T08:00:00+00:00", 5], "b": 0}),
    encoded({"k": ["-created_at", "-id"], "v": ["2026-03-01T08:00:00+00:00", "5"], "b": 0}),
    encoded({"k": ["-created_at", "-id"], "v": ["2026-03-01T08:00:00+00:00", 2**63], "b": 0}),
    encoded({"k": ["-created_at", "-id"], "v": ["2026-03-01T08:00:00+00:00", True], "b": 0}),
    encoded({"k": ["-created_at", "-id"], "v": [None, 5], "b": 0}),
    encoded({"k": ["-created_at", "-id"], "v": ["2026-03-01T08:00:00+00:00", 5], "b": 2}),
    "A" * 2001,
    encoded({"k": ["-created_at", "-id"], "v": ["0001-01-01T00:00:00+05:00", 5], "b": 0}),
    encoded({"k": ["-created_at", "-id"], "v": ["9999-12-31T23:59:59-05:00", 5], "b": 0}),
], ids=["garbled", "not utf-8", "not an object", "no direction", "another order",
        "too few values", "a naive moment", "an impossible date", "a text for a number",
        "a number past 64 bits", "a boolean for a number", "a null that cannot be",
        "no such direction", "too long", "before year 1 in UTC", "after year 9999 in UTC"])
def test_a_cursor_that_is_not_one_of_the_list_is_refused_naming_cursor(cursor: str) -> None:
    with pytest.raises(BadCursor) as refused:
        keyset_page(AccessDecision.objects.all(), cursor=cursor, size=2)
    assert list(refused.value.message_dict) == ["cursor"]


def test_a_text_value_with_a_nul_is_refused() -> None:
    rows = AccessDecision.objects.order_by("action")
    with pytest.raises(BadCursor):
        decode_cursor(encoded({"k": ["action", "id"], "v": ["a\x00b", 1], "b": 0}),
                      sort_keys(rows))


JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30)),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["k", "v", "b", "x"]), inner, max_size=4),
    max_leaves=12)
KEYS = ["-created_at", "-id"]


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cursor=st.one_of(
    st.text(max_size=300),
    st.binary(max_size=200).map(lambda b: base64.urlsafe_b64encode(b).decode()),
    JSON.map(encoded),
    st.tuples(st.one_of(st.text(max_size=40), st.integers(), st.none(), st.floats()),
              st.one_of(st.integers(), st.text(max_size=5), st.none()),
              st.sampled_from([0, 1, True, "0"])).map(
        lambda t: encoded({"k": KEYS, "v": [t[0], t[1]], "b": t[2]})),
))
def test_fuzzed_cursors_give_a_page_or_a_refusal(cursor: str) -> None:
    """Whatever a cursor holds, the list answers a page or BadCursor, never another
    error (from the decoder or from the database)."""
    try:
        shown, named = len(keyset_page(AccessDecision.objects.all(), cursor=cursor, size=2)), []
    except BadCursor as refused:
        shown, named = 0, list(refused.message_dict)
    assert (shown <= 2, named in ([], ["cursor"])) == (True, True)


def test_counts_are_exact_up_to_the_cap_and_say_more_beyond() -> None:
    rows = decisions(7)
    found = capped_counts({"all": rows, "allowed": rows.filter(allowed=True),
                           "none": rows.none()}, cap=5)
    assert (found, [str(c) for c in found.values()], found["all"].short) == (
        {"all": CappedCount(5, more=True), "allowed": CappedCount(4), "none": CappedCount(0)},
        ["more than 5", "4", "0"], "5+")


def test_several_counts_are_read_in_one_query(django_assert_num_queries: Any) -> None:
    rows = decisions(4)
    with django_assert_num_queries(1):
        capped_counts({"all": rows, "allowed": rows.filter(allowed=True),
                       "denied": rows.filter(allowed=False)})
