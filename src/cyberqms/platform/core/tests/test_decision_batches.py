"""CYB-01 without a commit per page view (issue 14): allowed reads outside a transaction are
written in batches off the request path; refusals, writes and decisions taken inside a
transaction are written at once, with what they decide."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cyberqms.platform.accounts import actions
from cyberqms.platform.core.access import authorize
from cyberqms.platform.core.decisions import BUFFER, DecisionBuffer
from cyberqms.platform.core.models import AccessDecision

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def batched(settings: Any) -> Iterator[None]:
    """Batches on, with an interval long enough that only the test decides when the
    buffer is written (the flusher's own timing has a test of its own)."""
    BUFFER.flush()
    settings.CYBERQMS_DECISION_FLUSH_SECONDS = 60.0
    settings.CYBERQMS_DECISION_BATCH = 200
    yield
    BUFFER.flush()


@pytest.fixture
def people(personas: dict[str, Any]) -> dict[str, Any]:
    """The personas, their own set-up decisions (role grants) cleared away."""
    AccessDecision.objects.all().delete()
    return personas


def rows() -> list[tuple[str, bool]]:
    return list(AccessDecision.objects.order_by("id").values_list("action", "allowed"))


def test_an_allowed_read_waits_in_the_buffer_and_keeps_its_time(
    people: dict[str, Any],
) -> None:
    decided = (timezone.now() + dt.timedelta(minutes=5)).replace(microsecond=0)
    with time_machine.travel(decided, tick=False):
        assert authorize(people["admin"], actions.USER_VIEW).allowed
    assert (rows(), BUFFER.pending()) == ([], 1)
    assert BUFFER.flush() == 1
    assert rows() == [(actions.USER_VIEW, True)]
    assert AccessDecision.objects.get().created_at == decided


def test_a_refusal_is_written_at_once(people: dict[str, Any]) -> None:
    assert not authorize(people["author"], actions.USER_VIEW).allowed
    assert (rows(), BUFFER.pending()) == ([(actions.USER_VIEW, False)], 0)


def test_a_decision_about_a_change_is_written_at_once(people: dict[str, Any]) -> None:
    assert authorize(people["admin"], actions.USER_MANAGE).allowed
    assert (rows(), BUFFER.pending()) == ([(actions.USER_MANAGE, True)], 0)


def test_a_read_inside_a_transaction_commits_with_it_or_not_at_all(
    people: dict[str, Any],
) -> None:
    class Undone(Exception):
        pass

    def read_then_undo() -> None:
        with transaction.atomic():
            authorize(people["admin"], actions.USER_VIEW)
            raise Undone

    with pytest.raises(Undone):
        read_then_undo()
    with transaction.atomic():
        authorize(people["admin"], actions.EVENT_VIEW)
    assert (rows(), BUFFER.pending()) == ([(actions.EVENT_VIEW, True)], 0)


def test_a_refusal_inside_a_transaction_outlives_its_rollback(
    people: dict[str, Any],
) -> None:
    from cyberqms.platform.core.access import AccessDenied, require

    def refused_change() -> None:
        with transaction.atomic():
            require(people["author"], actions.USER_MANAGE)

    with pytest.raises(AccessDenied):
        refused_change()
    assert BUFFER.flush() == 1
    assert rows() == [(actions.USER_MANAGE, False)]


def test_a_page_view_writes_its_decision_after_the_answer(
    people: dict[str, Any], login: Any,
) -> None:
    client: Client = login(people["admin"])
    assert client.get("/admin-area/users/").status_code == 200
    assert rows() == []
    assert BUFFER.flush() == 1
    assert rows() == [(actions.USER_VIEW, True)]


def test_a_get_request_reads_whatever_its_action_and_a_post_does_not(
    people: dict[str, Any],
) -> None:
    from cyberqms.platform.core.context import RequestContext, acting_context

    with acting_context(RequestContext(channel="web", reading=True)):
        authorize(people["admin"], actions.SELF)
    assert (rows(), BUFFER.pending()) == ([], 1)
    with acting_context(RequestContext(channel="web", reading=False)):
        authorize(people["admin"], actions.SELF)
    assert (rows(), BUFFER.pending()) == ([(actions.SELF, True)], 1)


def test_the_home_page_writes_nothing_while_it_answers(
    people: dict[str, Any], login: Any,
) -> None:
    client: Client = login(people["author"])
    client.get("/")  # the session's first request (sign-in bookkeeping)
    BUFFER.flush()
    AccessDecision.objects.all().delete()
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    writes = [q["sql"] for q in queries.captured_queries
              if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == []
    assert BUFFER.flush() == 1
    assert rows() == [(actions.SELF, True)]


def test_the_flusher_writes_within_the_interval(people: dict[str, Any], settings: Any,
                                                ) -> None:
    settings.CYBERQMS_DECISION_FLUSH_SECONDS = 0.1
    authorize(people["admin"], actions.USER_VIEW)
    deadline = time.monotonic() + 10
    while not AccessDecision.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (rows(), BUFFER.pending()) == ([(actions.USER_VIEW, True)], 0)


def test_a_backlog_of_ten_batches_is_written_by_the_request_that_adds_to_it(
    people: dict[str, Any], settings: Any,
) -> None:
    """A burst that outruns the flusher (here: a buffer without one) is written by the
    request that finds ten batches waiting: memory and the loss window stay bounded."""

    class Stalled(DecisionBuffer):
        def _ensure_flusher(self) -> None:
            pass

    settings.CYBERQMS_DECISION_BATCH = 2
    buffer = Stalled()
    made = [AccessDecision(created_at=timezone.now(), action=actions.USER_VIEW, allowed=True,
                           reason="granted", channel="web") for _ in range(20)]
    for row in made[:19]:
        buffer.add(row)
    assert (rows(), buffer.pending()) == ([], 19)
    buffer.add(made[19])
    assert (rows(), buffer.pending()) == ([(actions.USER_VIEW, True)] * 20, 0)


def test_a_backlog_reached_inside_a_transaction_waits_for_the_flusher(
    people: dict[str, Any], settings: Any,
) -> None:
    """Written inside the caller's transaction, the backlog would go with its rollback (a
    refusal inside a transaction is buffered for exactly that reason)."""

    class Stalled(DecisionBuffer):
        def _ensure_flusher(self) -> None:
            pass

    class Undone(Exception):
        pass

    settings.CYBERQMS_DECISION_BATCH = 2
    buffer = Stalled()

    def refusals_then_undo() -> None:
        with transaction.atomic():
            for _ in range(20):
                buffer.add(AccessDecision(created_at=timezone.now(), action=actions.USER_MANAGE,
                                          allowed=False, reason="no role", channel="web"))
            raise Undone

    with pytest.raises(Undone):
        refusals_then_undo()
    assert (rows(), buffer.pending()) == ([], 20)
    assert buffer.flush() == 20
    assert rows() == [(actions.USER_MANAGE, False)] * 20


def test_with_batches_off_every_decision_is_written_at_once(
    people: dict[str, Any], settings: Any,
) -> None:
    settings.CYBERQMS_DECISION_FLUSH_SECONDS = 0
    authorize(people["admin"], actions.USER_VIEW)
    assert (rows(), BUFFER.pending()) == ([(actions.USER_VIEW, True)], 0)
