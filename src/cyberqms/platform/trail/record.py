"""`audit_record`: the only way an entry enters the audit trail.

Called by service functions inside the transaction of the change it describes, so the
change and its entry commit or roll back together, with the access decision that allowed
the change (held since the gate took it, core/decisions.py). Sequence numbers are
gap-free. On SQLite, transactions here are IMMEDIATE, which serializes writers: the next
number is MAX + 1. On PostgreSQL writers do not wait for each other: a number comes from
the sequence `trail_entry_seq` and, in the same statement, the writer takes a
transaction-scoped advisory lock on that number, held until it commits or rolls back. A
number whose change rolled back is filled by the sealer (trail/log.py) with a "void" entry
once its lock is free; numbers still locked are in flight, and the sealer signs only up to
the first of them. Entries are therefore sealed in number order, not commit order.

The entry is serialized once to canonical JSON (RFC 8785, see docs/audit-trail.md); that
text is stored verbatim in `body`, its RFC 9162 leaf hash in `leaf_hash` and, in `mac`,
an authenticator of that hash made with a key kept outside the database (trail/mac.py),
so an entry written by anything but this function is detected. The other columns are
copies of body fields, for filtering; verification checks they agree.
"""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import json
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init
from django.utils import timezone

from cyberqms.platform.core import decisions
from cyberqms.platform.core.context import current_context
from cyberqms.platform.trail.canonical import canonical_json_prevalidated, check_canonical_domain
from cyberqms.platform.trail.mac import mac_keys
from cyberqms.platform.trail.models import AuditEntry
from cyberqms.platform.trail.registry import Value, audited, by_type, diff, state_hash

ENTRY_VERSION = 1
DELETED = "deleted"  # the state "hash" of a record whose deletion an entry records
SYSTEM_ACTOR_NAME = "cyberqms (system)"
# PostgreSQL: the first key of the two-key advisory lock a writer holds on its number until
# it commits (any constant works: the same in every process using the database).
NUMBER_LOCK_CLASS = 0x6371_6D73  # "cqms"
_DRAW = (
    "WITH n AS MATERIALIZED (SELECT nextval('trail_entry_seq') AS s) "
    "SELECT s, pg_advisory_xact_lock(%s, (s %% 2147483647)::int) FROM n"
)
VOID_ACTION = "trail.seq.void"
VOID_REASON = "The change that drew this number was rolled back; nothing was recorded under it."
_INSERT = (
    "INSERT INTO trail_auditentry (seq, at, actor_id, action, object_type, object_id, "
    "state_hash, correlation_id, leaf_hash, body, mac) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
_INSERT_QMARK = _INSERT.replace("%s", "?")  # the sqlite3 module's parameter style
_INSERT_PG = _INSERT + " ON CONFLICT (seq) DO NOTHING RETURNING seq"
_RESYNC = (
    "SELECT setval('trail_entry_seq', GREATEST((SELECT COALESCE(MAX(seq), 1) FROM "
    "trail_auditentry), (SELECT last_value FROM trail_entry_seq)))"
)
_NEXT_SEQ = "SELECT COALESCE(MAX(seq), 0) + 1 FROM trail_auditentry"
# The columns of `_INSERT`, in its order.
_COLUMNS = (
    "seq", "at", "actor_id", "action", "object_type", "object_id", "state_hash",
    "correlation_id", "leaf_hash", "body", "mac",
)


class AuditError(ValueError):
    """A call of `audit_record` that would produce an incomplete entry."""

    def __init__(self, message: str, *, field: str = "__all__") -> None:
        super().__init__(message)
        self.field = field


def snapshot(obj: models.Model) -> dict[str, Value]:
    """The audited state of a registered record, to pass as `before=` later."""
    return audited(obj).state(obj)


def reason_required(action: str) -> bool:
    return _reason_required(action, tuple(settings.CYBERQMS_TRAIL_REASON_REQUIRED))


@functools.lru_cache(maxsize=1024)
def _reason_required(action: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(action, p) for p in patterns)


def _actor_fields(actor: Any | None) -> dict[str, Any]:
    """Who acted: a person (by id), cyberqms itself, or a registered integration (named,
    without an id: integrations are not people, and their ids are not people's)."""
    if actor is None:
        return {"id": None, "name": SYSTEM_ACTOR_NAME, "username": ""}
    name = getattr(actor, "full_name", "") or actor.get_username()
    meta = getattr(actor, "_meta", None)
    person = meta is None or meta.label_lower == settings.AUTH_USER_MODEL.lower()
    return {"id": actor.pk if person else None, "name": str(name),
            "username": actor.get_username()}


@functools.cache
def _fields_in_column_order() -> bool:
    """Whether `AuditEntry`'s fields are exactly `_COLUMNS` (plain fields, this order)."""
    return tuple(f.attname for f in AuditEntry._meta.concrete_fields) == _COLUMNS


def _entry_instance(row: list[Any], entry: dict[str, Any]) -> AuditEntry:
    """The written entry as a saved `AuditEntry`, its parsed body already in `data`.

    What `AuditEntry(*row)` builds, at a third of its cost (about 3 µs instead of 9 on
    the development machine): the field values go straight into the instance dict, as
    `Model.__init__` puts them there for plain (non-relation) fields. Only while no
    `pre_init`/`post_init` receiver exists at all, so no signal goes unsent.
    """
    if pre_init.receivers or post_init.receivers or not _fields_in_column_order():
        record = AuditEntry(**dict(zip(_COLUMNS, row, strict=True)))
        record._state.adding = False
    else:
        record = AuditEntry.__new__(AuditEntry)
        state = ModelState()
        state.adding = False
        record.__dict__.update(zip(_COLUMNS, row, strict=True))
        record._state = state
    record.__dict__["data"] = entry
    return record


def _direct_sqlite(db: BaseDatabaseWrapper) -> Any | None:
    """The sqlite3 connection, where the entry's two statements may go straight to it.

    Django's cursor layers (wrapper objects, `%s` to `?` rewriting, execute wrappers) cost
    about as much as the two statements themselves. They are skipped only where nothing
    would notice: SQLite, no query logging (DEBUG, `CaptureQueriesContext`) and no
    `execute_wrapper` installed. The checks Django's cursor makes before a statement
    (thread sharing, broken transaction) are made here, and errors are translated by
    `wrap_database_errors` as there. Otherwise ``None``: use a Django cursor.
    """
    if (
        db.vendor != "sqlite" or db.connection is None or db.execute_wrappers
        or db.queries_logged
    ):
        return None
    db.validate_thread_sharing()
    db.validate_no_broken_transaction()
    return db.connection


def number_lock(seq: int) -> tuple[int, int]:
    """The two keys of the advisory lock a PostgreSQL writer holds on number `seq`."""
    return NUMBER_LOCK_CLASS, seq % 2147483647


def _allocate_seq(db: BaseDatabaseWrapper, direct: Any | None) -> int:
    if direct is not None:
        with db.wrap_database_errors:
            return int(direct.execute(_NEXT_SEQ).fetchone()[0])
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            cursor.execute(_DRAW, [NUMBER_LOCK_CLASS])
        else:
            cursor.execute(_NEXT_SEQ)
        return int(cursor.fetchone()[0])


def audit_record(
    action: str,
    obj: models.Model | None = None,
    *,
    actor: Any | None = None,
    before: dict[str, Value] | None = None,
    created: bool = False,
    deleted: bool = False,
    changes: dict[str, list[Any]] | None = None,
    reason: str | None = None,
    signature_id: str | int | None = None,
    object_type: str | None = None,
    object_id: str | int | None = None,
    label: str | None = None,
) -> AuditEntry:
    """Append one entry describing `action` on `obj` by `actor` (``None``: the system).

    For a registered record the entry holds the hash of its state after the change and,
    with `created=True` or `before=snapshot(obj)`, the changed fields ``{field: [old,
    new]}``; explicit `changes` are added to those. Unregistered subjects name themselves
    with `object_type`/`object_id`. Must run inside the caller's transaction.

    :raises AuditError: outside a transaction, or a required reason is missing.
    """
    db = connections[DEFAULT_DB_ALIAS]  # once: each `connection.x` looks the alias up
    if not db.in_atomic_block:
        raise AuditError("audit_record must run inside the transaction of the change")
    reason = (reason or "").strip() or None
    if reason is None and reason_required(action):
        raise AuditError(f"A reason is required for {action}.", field="reason")

    all_changes: dict[str, list[Any]] = {}
    digest = ""
    if obj is not None:
        spec = audited(obj)
        type_name = object_type or spec.type_name
        pk = obj.pk
        if pk is None and before is not None:
            # `Model.delete()` clears the primary key; the snapshot still holds it.
            pk = before.get(obj._meta.pk.attname)
        if pk is None and object_id is None:
            raise AuditError("a deleted record needs before=snapshot(obj) or object_id")
        ident = str(pk if object_id is None else object_id)
        text_label = label if label is not None else spec.label(obj)
        if deleted:
            digest = DELETED
            all_changes = diff(before, None) if before is not None else {}
        else:
            after = spec.state(obj)
            digest = state_hash(after)
            if created:
                all_changes = diff(None, after)
            elif before is not None:
                all_changes = diff(before, after)
    else:
        if not object_type or object_id is None:
            raise AuditError("an entry without a record needs object_type and object_id")
        type_name, ident, text_label = object_type, str(object_id), label or ""
    if changes:
        # Caller-supplied values are the only ones not built by the registry: validate them
        # (no floats, safe integers, string keys) so the entry below can skip the walk.
        check_canonical_domain(changes)
        all_changes.update(changes)

    # The gate's decision that allowed this change commits with it (core/decisions.py).
    decisions.attach()
    ctx = current_context()
    written = _append(db, {
        "actor": _actor_fields(actor),
        "action": action,
        "object": {"type": type_name, "id": ident, "label": text_label[:200]},
        "changes": all_changes,
        "reason": reason,
        "correlation": ctx.correlation_id,
        "signature": None if signature_id is None else str(signature_id),
        "context": {
            "channel": ctx.channel,
            "source": ctx.source_ip or None,
            "session": ctx.session_ref or None,
            "token": ctx.token_id,
        },
        "state": digest or None,
    })
    if written is None:  # only a number given by the caller can be taken already
        raise AuditError("the entry's number is taken")
    return written


def void_entry(seq: int) -> AuditEntry | None:
    """PostgreSQL, for the sealer: fill number `seq`, whose change rolled back, with an
    entry saying so. Must run inside the sealer's transaction, holding the number's lock.
    None if an entry holds the number after all (its writer committed meanwhile)."""
    db = connections[DEFAULT_DB_ALIAS]
    if not db.in_atomic_block:
        raise AuditError("void_entry must run inside the sealer's transaction")
    ctx = current_context()
    return _append(db, {
        "actor": _actor_fields(None),
        "action": VOID_ACTION,
        "object": {"type": "trail.sequence", "id": str(seq), "label": f"Entry {seq}"},
        "changes": {},
        "reason": VOID_REASON,
        "correlation": ctx.correlation_id,
        "signature": None,
        "context": {"channel": ctx.channel, "source": None, "session": None, "token": None},
        "state": None,
    }, seq=seq)


def _append(
    db: BaseDatabaseWrapper, content: dict[str, Any], *, seq: int | None = None
) -> AuditEntry | None:
    """Number, serialize, hash, authenticate and insert one entry (`content` is the entry
    without its number and time). On PostgreSQL a drawn number that the sealer voided
    between the draw and the insert (its lock was not yet taken) is drawn again."""
    direct = _direct_sqlite(db)
    postgres = db.vendor == "postgresql"
    while True:
        number = seq if seq is not None else _allocate_seq(db, direct)
        at = timezone.now()
        entry: dict[str, Any] = {
            "v": ENTRY_VERSION,
            "seq": number,
            # = strftime("%Y-%m-%dT%H:%M:%S.%fZ") for years 1000-9999, at a third of the cost
            "at": at.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z",
            **content,
        }
        body = canonical_json_prevalidated(entry)
        leaf = hashlib.sha256(b"\x00" + body).digest()
        text = body.decode("utf-8")
        obj = content["object"]
        row = [
            number, at, content["actor"]["id"], content["action"], obj["type"], obj["id"],
            content["state"] or "", content["correlation"], leaf, text,
            mac_keys().authenticator(leaf),
        ]
        params = list(row)
        if db.vendor == "sqlite":
            # Django's own SQLite text form of an aware UTC datetime, from the entry's text.
            stamp = entry["at"]
            params[1] = f"{stamp[:10]} {stamp[11:26] if at.microsecond else stamp[11:19]}"
        else:
            params[1] = db.ops.adapt_datetimefield_value(at)
        if direct is not None:
            with db.wrap_database_errors:
                direct.execute(_INSERT_QMARK, params)
        elif postgres:
            with db.cursor() as cursor:
                cursor.execute(_INSERT_PG, params)
                inserted = cursor.fetchone() is not None
            if not inserted:
                if seq is not None:
                    return None
                # Voided meanwhile (rare), or the sequence lags the entries (a restore that
                # did not carry it, or someone reset it): move it past the highest entry,
                # never backwards, so the next draw is free.
                with db.cursor() as cursor:
                    cursor.execute(_RESYNC)
                continue
        else:
            with db.cursor() as cursor:
                cursor.execute(_INSERT, params)
        return _entry_instance(row, entry)


def replay(type_name: str, object_id: str) -> dict[str, Value]:
    """A record's state as its audit entries describe it (creation plus every change).

    Here, not with verification (trail/integrity.py), so that services replaying a record
    do not load the signing and witness code at start-up."""
    state: dict[str, Value] = {}
    names = set(by_type(type_name).names)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT body FROM trail_auditentry WHERE object_type = %s AND object_id = %s "
            "ORDER BY seq",
            [type_name, object_id],
        )
        for (body,) in cursor.fetchall():
            for name, pair in (json.loads(body).get("changes") or {}).items():
                if name in names and isinstance(pair, list) and len(pair) == 2:
                    state[name] = pair[1]
    return state
