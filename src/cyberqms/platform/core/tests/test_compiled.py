"""Queries compiled once (issue 14): the same rows as the plain queryset for any values,
related objects attached without a query, SQL built on the first call only, and values
that are missing, unexpected, None or out of range answered without a wrong query."""

from __future__ import annotations

import datetime as dt
import gc
import threading
import weakref
from typing import Any

import pytest
from django.db import connection, connections, models
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cyberqms.platform.core.compiled import Compiled, Param
from cyberqms.platform.core.models import AccessDecision, Comment, SecurityEvent

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
ACTIONS = ["deviation.view", "capa.view", "x' OR '1'='1"]
ADDRESSES = ["10.0.0.1", "10.0.0.2", "2001:db8::1"]

DECISIONS = Compiled(lambda: AccessDecision.objects.filter(
    action=Param("action", models.CharField()),
    source_ip=Param("ip", models.GenericIPAddressField()),
    created_at__gt=Param("since", models.DateTimeField()),
))
BY_ACTOR = Compiled(lambda: AccessDecision.objects.filter(
    actor_id=Param("actor", models.BigIntegerField())))
COMMENTS = Compiled(lambda: Comment.objects.filter(
    record_type="deviations.deviation", record_id=Param("id", models.CharField()))
    .select_related("author"))


def decide(action: str, ip: str, minute: int, actor: int = 1) -> AccessDecision:
    return AccessDecision.objects.create(
        created_at=T0 + dt.timedelta(minutes=minute), action=action, source_ip=ip,
        actor_id=actor, allowed=True, reason="test", channel="api")


@pytest.fixture
def decisions() -> list[AccessDecision]:
    return [decide(ACTIONS[i % 3], ADDRESSES[i % 2 + (i % 5 == 0)], i) for i in range(30)]


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(action=st.sampled_from(ACTIONS), ip=st.sampled_from(ADDRESSES),
       minute=st.integers(min_value=-5, max_value=35))
def test_rows_are_those_of_the_plain_queryset(
    decisions: list[AccessDecision], action: str, ip: str, minute: int,
) -> None:
    since = T0 + dt.timedelta(minutes=minute)
    expected = list(AccessDecision.objects.filter(action=action, source_ip=ip,
                                                  created_at__gt=since))
    found = DECISIONS.all(action=action, ip=ip, since=since)
    assert [(d.pk, d.created_at, d.source_ip) for d in found] == [
        (d.pk, d.created_at, d.source_ip) for d in expected]


def test_a_quote_in_a_value_is_a_value_not_sql(decisions: list[AccessDecision]) -> None:
    found = DECISIONS.all(action="deviation.view' OR '1'='1", ip="10.0.0.1",
                          since=T0 - dt.timedelta(days=1))
    assert found == []


def test_values_come_back_converted(decisions: list[AccessDecision]) -> None:
    # the IPv6 address's one "deviation.view" decision is minute 15's
    first = DECISIONS.first(action="deviation.view", ip="2001:db8::1",
                            since=T0 - dt.timedelta(days=1))
    assert first is not None
    assert (first.created_at, first.source_ip, first.allowed) == (
        T0 + dt.timedelta(minutes=15), "2001:db8::1", True)


def test_the_sql_is_built_on_the_first_call_only(
    decisions: list[AccessDecision], monkeypatch: pytest.MonkeyPatch,
) -> None:
    compiled = Compiled(lambda: AccessDecision.objects.filter(
        action=Param("action", models.CharField())))
    built: list[str] = []
    original = SQLCompiler.as_sql

    def counting(self: SQLCompiler, *args: Any, **kwargs: Any) -> Any:
        built.append(self.query.model.__name__)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "as_sql", counting)
    counts = [len(compiled.all(action=action)) for action in ACTIONS * 2]
    assert (counts, built) == ([10, 10, 10, 10, 10, 10], ["AccessDecision"])


def test_related_objects_come_with_the_row(make_user: Any) -> None:
    author = make_user("qa_reviewer")
    Comment.objects.create(record_type="deviations.deviation", record_id="7", author=author,
                           body="Checked the chart.", created_at=T0)
    with CaptureQueriesContext(connection) as queries:
        comments = COMMENTS.all(id="7")
        names = [c.author.username for c in comments]
    assert (names, len(queries.captured_queries)) == (["qa_reviewer"], 1)


def test_exists_answers_without_reading_rows(decisions: list[AccessDecision]) -> None:
    with CaptureQueriesContext(connection) as queries:
        answers = (BY_ACTOR.exists(actor=1), BY_ACTOR.exists(actor=2))
    assert answers == (True, False)
    assert all("LIMIT 1" in q["sql"] for q in queries.captured_queries)


@pytest.mark.parametrize("actor", [2**63, -(2**63) - 1, 10**30])
def test_an_integer_outside_the_column_is_refused_before_a_query(actor: int) -> None:
    with CaptureQueriesContext(connection) as queries, pytest.raises(
            ValueError, match="'actor' is outside its column's range"):
        BY_ACTOR.all(actor=actor)
    assert queries.captured_queries == []


def test_a_template_that_matches_nothing_answers_nothing_without_a_query() -> None:
    nothing = Compiled(lambda: AccessDecision.objects.filter(
        pk__in=[], action=Param("action", models.CharField())))
    with CaptureQueriesContext(connection) as queries:
        answers = (nothing.all(action="x"), nothing.first(action="x"),
                   nothing.exists(action="x"))
    assert (answers, queries.captured_queries) == (([], None, False), [])


def test_a_moment_written_into_the_template_is_refused() -> None:
    frozen = Compiled(lambda: AccessDecision.objects.filter(
        created_at__gt=T0, action=Param("action", models.CharField())))
    with pytest.raises(TypeError, match=r"holds the moment datetime\.datetime"):
        frozen.all(action="x")


# committed rows: on SQLite's shared in-memory test database, another connection is locked
# out of a table the test's open transaction has written
@pytest.mark.django_db(transaction=True)
def test_calls_on_other_threads_leave_their_connections_free(
    decisions: list[AccessDecision],
) -> None:
    held: list[weakref.ref[Any]] = []
    counts: list[int] = []

    def on_a_thread() -> None:
        counts.append(len(BY_ACTOR.all(actor=1)))
        held.append(weakref.ref(connections["default"]))
        connections["default"].close()

    for _ in range(3):
        thread = threading.Thread(target=on_a_thread)
        thread.start()
        thread.join()
    gc.collect()
    assert [ref() is None for ref in held] == [True, True, True]
    assert len(counts) == 3


def test_a_missing_value_is_named() -> None:
    with pytest.raises(TypeError, match=r"values missing: ip, since$"):
        DECISIONS.all(action="capa.view")


def test_a_value_the_query_does_not_use_is_ignored(decisions: list[AccessDecision]) -> None:
    assert len(BY_ACTOR.all(actor=1, site=3)) == 30


def test_none_is_refused_rather_than_compared() -> None:
    with pytest.raises(ValueError, match="'actor' is None"):
        BY_ACTOR.all(actor=None)


def test_a_query_made_after_another_was_dropped_converts_its_own_columns(
    decisions: list[AccessDecision],
) -> None:
    SecurityEvent.objects.create(created_at=T0, kind="test.kind", severity="low",
                                 message="m", data={"count": 2})
    found = []
    for _ in range(20):  # a dropped query's memory is soon reused by the next
        dropped = Compiled(lambda: AccessDecision.objects.filter(
            actor_id=Param("actor", models.BigIntegerField())))
        dropped.first(actor=1)
        del dropped
        gc.collect()
        made = Compiled(lambda: SecurityEvent.objects.filter(
            kind=Param("kind", models.CharField())))
        event = made.first(kind="test.kind")
        assert event is not None
        found.append((event.data, event.created_at))
    assert found == [({"count": 2}, T0)] * 20
