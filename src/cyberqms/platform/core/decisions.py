"""Where the gate's decisions are written (CYB-01: every decision recorded).

A decision that allows a change commits with the change it allowed: the gate usually
decides before the service opens its transaction, so the decision is held by the unit of
work (the request, command or task, `RequestContext.held`) and `audit_record`, which every
change calls inside its transaction, writes the held decisions there. The decision, the
change, its audit entry and signature therefore commit once, together. If that transaction
rolls back (the change failed validation or lost a race), the decision stays held and is
written when the unit of work ends, as is one that no audited change followed; nothing is
lost. Outside any unit of work (a shell, a direct call) it is written at once, as is an
allowed decision taken inside a transaction (it commits with what it decided).

A refusal is written at once, or, inside a transaction (which the refusal usually
undoes), through the buffer below, so that the rollback does not take it. An allowed read
outside any transaction (a page, an API read, a search) is a row nobody waits for: writing
it on the request path cost a commit, and on SQLite a disk flush and the one write lock,
for every page view. Those rows go to a per-process buffer instead, written in batches by
a flusher thread:

* at most `CYBERQMS_DECISION_FLUSH_SECONDS` (default 1 s) after the decision, or at once
  (by the flusher) when `CYBERQMS_DECISION_BATCH` rows (default 200) are waiting;
* when a burst outruns the flusher and ten batches are waiting, the request that adds
  one more writes them itself, unless it is inside a transaction (back-pressure bounds the
  memory and the loss window);
* when the process exits normally (`atexit`).

The loss window, documented in docs/architecture.md: if the process is killed (SIGKILL,
power loss), up to one flush interval of allowed reads of that process are lost, never a
write, a sign-in, an allowed read inside a transaction or a refusal outside one (a refusal
inside a transaction shares the window). Each row keeps the moment of its decision
(`created_at`), so lists ordered by time are unchanged by batching.

`CYBERQMS_DECISION_FLUSH_SECONDS = 0` writes every decision at once (the test settings do,
so that a test sees the row of the request it just made); held decisions are held all the
same.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from functools import partial

from django.conf import settings
from django.db import connection, transaction

from .context import RequestContext, at_context_end, open_context
from .models import AccessDecision

log = logging.getLogger(__name__)
BACKLOG_BATCHES = 10  # batches waiting before a request writes them itself
TICK = 0.25  # how often the flusher looks at the buffer (seconds)


class DecisionBuffer:
    """Allowed reads waiting to be written, and the thread that writes them."""

    def __init__(self) -> None:
        self._rows: list[AccessDecision] = []
        self._oldest = 0.0  # when the oldest waiting row was added (monotonic)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self.written = 0  # rows written by this buffer since the process started
        self.flushes = 0

    def add(self, row: AccessDecision) -> None:
        batch = max(1, settings.CYBERQMS_DECISION_BATCH)
        with self._lock:
            if not self._rows:
                self._oldest = time.monotonic()
            self._rows.append(row)
            waiting = len(self._rows)
        self._ensure_flusher()
        if waiting >= batch * BACKLOG_BATCHES and not connection.in_atomic_block:
            # Not inside the caller's transaction: its rollback would take the rows along.
            self.flush()
        elif waiting >= batch:
            self._wake.set()

    def pending(self) -> int:
        with self._lock:
            return len(self._rows)

    def flush(self) -> int:
        """Write what is waiting in one transaction; return how many rows were written.
        A failed write keeps the rows for the next attempt (and logs why)."""
        with self._lock:
            rows, self._rows = self._rows, []
        if not rows:
            return 0
        try:
            with transaction.atomic():
                AccessDecision.objects.bulk_create(rows, batch_size=500)
        except Exception:
            log.exception("could not write %d access decisions; kept for the next flush",
                          len(rows))
            with self._lock:
                self._rows[:0] = rows
            self._oldest = time.monotonic()
            return 0
        self.written += len(rows)
        self.flushes += 1
        return len(rows)

    def _ensure_flusher(self) -> None:
        """One flusher thread per process (a forked worker starts its own)."""
        if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="decision-flusher",
                                            daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            woken = self._wake.wait(timeout=TICK)
            self._wake.clear()
            interval = settings.CYBERQMS_DECISION_FLUSH_SECONDS  # read now: it may change
            with self._lock:
                due = bool(self._rows) and (
                    woken or time.monotonic() - self._oldest >= interval)
            if not due:
                continue
            try:
                self.flush()
            finally:
                # The flusher's own connection: closed after each flush, so that it holds
                # no transaction, lock or server connection while it waits.
                connection.close()


BUFFER = DecisionBuffer()
atexit.register(BUFFER.flush)


class Held:
    """An allowed decision waiting for the change it allowed (`RequestContext.held`)."""

    __slots__ = ("attached", "row")

    def __init__(self, row: AccessDecision) -> None:
        self.row = row
        self.attached = False  # written inside a transaction that has not committed (yet)

    def copy(self) -> AccessDecision:
        """A fresh, unsaved row: a rolled-back insert must not leave its key behind."""
        return AccessDecision(**{
            f.attname: getattr(self.row, f.attname)
            for f in AccessDecision._meta.concrete_fields if not f.primary_key
        })

    def same_as(self, row: AccessDecision) -> bool:
        mine = self.row
        return (mine.actor_id, mine.action, mine.resource_type, mine.resource_id) == (
            row.actor_id, row.action, row.resource_type, row.resource_id)


def write(row: AccessDecision, *, read: bool) -> None:
    """Write `row` now, hold it for the change it allows, or buffer it: an allowed read
    outside a transaction (nobody waits for it), and a refusal inside a transaction (the
    refusal usually undoes that transaction, which must not take the record of the refusal
    with it)."""
    inside = connection.in_atomic_block
    if row.allowed and not read:
        ctx = open_context()
        if ctx is not None and not inside:
            ctx.held.append(Held(row))
            return
        if ctx is not None and any(h.same_as(row) for h in ctx.held if not h.attached):
            # Decided again inside the change's transaction (a workflow step checks the
            # locked row): the decision already held goes into this transaction instead.
            attach()
            return
        row.save(force_insert=True)
        return
    if settings.CYBERQMS_DECISION_FLUSH_SECONDS > 0 and (
            (read and row.allowed and not inside) or (not row.allowed and inside)):
        BUFFER.add(row)
    else:
        row.save(force_insert=True)


def attach() -> int:
    """Write the decisions the unit of work holds inside the caller's transaction (the
    change they allowed); returns how many. Called by `audit_record`."""
    ctx = open_context()
    if ctx is None or not ctx.held:
        return 0
    waiting = [h for h in ctx.held if not h.attached]
    if not waiting:
        return 0
    AccessDecision.objects.bulk_create([h.copy() for h in waiting])
    for h in waiting:
        h.attached = True
    transaction.on_commit(partial(_committed, ctx.held, waiting))
    return len(waiting)


def _committed(held: list[Held], done: list[Held]) -> None:
    gone = {id(h) for h in done}
    held[:] = [h for h in held if id(h) not in gone]


def settle(ctx: RequestContext) -> None:
    """The unit of work ends: write what it still holds (no change followed the decision,
    or the change's transaction rolled back). A decision written into a transaction that is
    still open commits or rolls back with it."""
    if not ctx.held:
        return
    inside = connection.in_atomic_block
    rows = [h.copy() for h in ctx.held if not (h.attached and inside)]
    ctx.held.clear()
    if not rows:
        return
    if inside and settings.CYBERQMS_DECISION_FLUSH_SECONDS > 0:
        for row in rows:  # not into a transaction that may still roll back
            BUFFER.add(row)
        return
    try:
        AccessDecision.objects.bulk_create(rows)
    except Exception:
        log.exception("could not write %d held access decisions; buffered", len(rows))
        for row in rows:
            BUFFER.add(row)


at_context_end(settle)
