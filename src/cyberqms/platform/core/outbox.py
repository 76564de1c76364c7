"""Work queued by a change commits with the change (the transactional outbox).

The product's task queue (django-tasks-db) keeps its tasks in the database. A task that a
change asks for (e-mail its notices, forward its security event to the SIEM, feed it to
monitoring, escalate an alert) is therefore written inside the change's transaction: it
exists if and only if the change committed, the worker sees it only after the commit, and
the change costs one commit instead of one more per queued task. Whatever leaves the
database (the e-mail, the SIEM message) happens in the worker, after the commit.

A queue kept elsewhere (the test settings' immediate backend runs a task on the spot) is
given the task when the transaction commits instead, so nothing runs for a change that
rolls back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.tasks import Task

logger = logging.getLogger(__name__)


def _database_of(task: Task[Any, Any]) -> str | None:
    """The database alias a task's backend writes its queue to, or None (not a database)."""
    backend = task.get_backend()
    if type(backend).__module__.split(".")[0] != "django_tasks_db":
        return None
    from django_tasks_db.models import DBTaskResult

    return router.db_for_write(DBTaskResult) or DEFAULT_DB_ALIAS


def queue_with_change(
    task: Task[Any, Any], *args: Any,
    on_error: Callable[[Exception], None] | None = None, **kwargs: Any,
) -> None:
    """Queue `task(*args, **kwargs)` as part of the caller's transaction.

    Inside a transaction on the queue's database: written now, committed with the change
    (an error is the change's error). Otherwise: handed to the queue when the transaction
    commits (at once outside one); an error then is logged and passed to `on_error`, never
    raised into a change that is already saved.
    """
    alias = _database_of(task)
    if alias is not None and connections[alias].in_atomic_block:
        task.enqueue(*args, **kwargs)
        return
    transaction.on_commit(partial(_enqueue_after, task, args, kwargs, on_error))


def _enqueue_after(
    task: Task[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any],
    on_error: Callable[[Exception], None] | None,
) -> None:
    try:
        task.enqueue(*args, **kwargs)
    except Exception as exc:  # the change is saved: a failure to queue is reported, not raised
        logger.exception("could not queue %s%r", task.name, args)
        if on_error is not None:
            on_error(exc)


__all__ = ["queue_with_change"]
