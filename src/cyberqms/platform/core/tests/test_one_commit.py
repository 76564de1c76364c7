"""One commit per change (issue 14, item 2): the access decision that allowed a change, the
change, its audit entry, its signature, its notices and the tasks it queues commit
together; the decision of a change that fails or rolls back is still written, once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from cyberqms.platform.accounts import actions
from cyberqms.platform.core.access import authorize
from cyberqms.platform.core.context import RequestContext, acting_context
from cyberqms.platform.core.models import AccessDecision
from cyberqms.platform.notifications.models import Notification
from cyberqms.platform.trail.models import AuditEntry
from cyberqms.platform.trail.record import audit_record
from cyberqms.quality.deviations.models import Deviation
from cyberqms.quality.deviations.tests.factories import (
    a_site,
    deviation_in_state,
    ready_to_sign,
    signature,
)
from cyberqms.quality.deviations.workflow import DEVIATION_WORKFLOW

pytestmark = pytest.mark.django_db(transaction=True)

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


@pytest.fixture(autouse=True)
def queue_in_the_database(settings: Any) -> None:
    """The product's task queue (django-tasks-db), not the test settings' immediate one."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@contextmanager
def commits() -> Iterator[Callable[[], int]]:
    """Counts the transactions committed meanwhile on this thread's connection: explicit
    commits, and writes made in autocommit mode (each its own transaction)."""
    db = connections[DEFAULT_DB_ALIAS]
    db.ensure_connection()
    autocommitted: list[str] = []

    def watch(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if not db.in_atomic_block and sql.lstrip().upper().startswith(WRITES):
            autocommitted.append(sql)
        return execute(sql, params, many, context)

    with mock.patch.object(db, "commit", wraps=db.commit) as commit, db.execute_wrapper(watch):
        yield lambda: commit.call_count + len(autocommitted)


def decisions(action: str) -> list[tuple[str, bool, str]]:
    return list(AccessDecision.objects.filter(action=action).order_by("id")
                .values_list("actor_username", "allowed", "resource_type"))


def test_a_deviation_created_through_the_api_commits_once(
    personas: dict[str, Any], login: Any,
) -> None:
    site = a_site()
    client = login(personas["author"])
    client.get("/api/v1/deviations")  # the session's first request (sign-in bookkeeping)
    body = {"site": site.code, "title": "Audit trail disabled on HPLC-07",
            "owner": "process_owner", "description": "Audit trail found off.",
            "event_at": (timezone.now() - dt.timedelta(hours=3)).isoformat()}
    with commits() as count:
        response = client.post("/api/v1/deviations", body, content_type="application/json")
        committed = count()
    assert response.status_code == 201
    number = response.json()["number"]
    assert committed == 1
    # ... and that one commit holds all of it: the API gate's decision, the record's
    assert decisions("deviations.create") == [("author", True, ""),
                                              ("author", True, "deviations.deviation")]
    assert list(AuditEntry.objects.filter(action="deviations.deviation.create")
                .values_list("object_id", flat=True)) == [str(response.json()["id"])]
    assert list(Notification.objects.values_list("recipient__username", "subject")) == [
        ("process_owner", f"{number}: you own this new deviation")]
    assert list(DBTaskResult.objects.values_list("task_path", flat=True)) == [
        "cyberqms.platform.notifications.mail.email_notifications"]


def test_a_signed_step_commits_once(personas: dict[str, Any]) -> None:
    manager = ready_to_sign(personas["qa_manager"], personas["admin"])
    deviation = deviation_in_state(personas, "qa_review", classification="minor")
    request = signature(manager)
    with acting_context(RequestContext(channel="web")), commits() as count:
        DEVIATION_WORKFLOW.run(deviation, "approve", actor=manager, signature=request)
        committed = count()
    assert committed == 1
    assert decisions("deviations.approve") == [("qa_manager", True, "deviations.deviation")]
    assert Deviation.objects.get(pk=deviation.pk).state == "approved"
    assert list(Notification.objects.filter(subject__endswith="approved by QA")
                .values_list("recipient__username", flat=True)) == ["author"]


def test_a_change_refused_by_validation_keeps_its_decision(
    personas: dict[str, Any], login: Any,
) -> None:
    site = a_site()
    response = login(personas["author"]).post(
        "/api/v1/deviations", {"site": site.code, "title": ""}, content_type="application/json")
    assert response.status_code == 422
    assert Deviation.objects.count() == 0
    assert decisions("deviations.create") == [("author", True, ""),
                                              ("author", True, "deviations.deviation")]


def test_the_decision_of_a_rolled_back_change_is_written_once_when_the_work_ends(
    personas: dict[str, Any],
) -> None:
    class Undone(Exception):
        pass

    def change_then_undo() -> None:
        with transaction.atomic():
            audit_record("accounts.user.review", object_type="accounts.user", object_id=1)
            raise Undone

    AccessDecision.objects.all().delete()
    with acting_context(RequestContext(channel="cli")):
        assert authorize(personas["admin"], actions.USER_MANAGE).allowed
        assert decisions(actions.USER_MANAGE) == []  # held for the change
        with pytest.raises(Undone):
            change_then_undo()
        with transaction.atomic():  # a later change in the same unit of work
            audit_record("accounts.user.review", object_type="accounts.user", object_id=2)
        assert decisions(actions.USER_MANAGE) == []
    assert decisions(actions.USER_MANAGE) == [("admin", True, "")]


def test_a_decision_no_change_follows_is_written_when_the_work_ends(
    personas: dict[str, Any],
) -> None:
    AccessDecision.objects.all().delete()
    with acting_context(RequestContext(channel="cli")):
        authorize(personas["admin"], actions.USER_MANAGE)
        assert decisions(actions.USER_MANAGE) == []
    assert decisions(actions.USER_MANAGE) == [("admin", True, "")]
