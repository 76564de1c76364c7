"""The received events' table, partitioned on PostgreSQL: evidence apart, the rest by month.

A large site receives 10^8 events a year; the retention policy (`retention.py`) removes
them after their source's period. Deleting row by row would rewrite and vacuum the whole
table every day; on PostgreSQL the table is instead partitioned so that a month whose
every event has expired is dropped whole, in a moment::

    monitoring_rawevent                 PARTITION BY LIST (kept)
    ├── monitoring_rawevent_kept        FOR VALUES IN (true): the evidence behind alerts
    └── monitoring_rawevent_recent      FOR VALUES IN (false), PARTITION BY RANGE (received_at)
        ├── monitoring_rawevent_p2026_11  one per UTC month
        ├── monitoring_rawevent_p2026_12
        └── monitoring_rawevent_pdefault  DEFAULT: anything outside the months made

Django and every query see one table; PostgreSQL routes each row and prunes the months a
query's time range excludes. A partitioned table's primary key must hold its partition
keys, so the key is (id, kept, received_at) while ids stay unique by their sequence; and
no foreign key can point at it, so the alert–event link table keeps its rows without one
(an event is removed only when no alert names it). SQLite keeps one table; its retention
deletes rows.

A month goes in two steps (`detach_month`, then `finish_month` in the removal's
transaction), so that no step holds one lock while waiting for another that writers hold
in the other order. Months are made ahead by the scheduler's daily
``monitoring.retention`` job (this month and the next two) and by whoever writes a range
of times at once (the big-site generator); an event outside them lands in the default
partition and is moved into its month when that month is made. Written here rather than
taken from a library (pg_partman is a server extension, which a managed PostgreSQL may not
offer; django-postgres-extra replaces the database backend): the whole of it is the few
statements below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.utils import CursorWrapper

TABLE = "monitoring_rawevent"
KEPT = f"{TABLE}_kept"
RECENT = f"{TABLE}_recent"
DEFAULT = f"{TABLE}_pdefault"
LINKS = "monitoring_alert_events"
_MONTH = re.compile(rf"^{TABLE}_p(\d{{4}})_(\d{{2}})$")
MONTHS_AHEAD = 2


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def of(cls, moment: datetime) -> Month:
        moment = moment.astimezone(UTC) if moment.tzinfo else moment
        return cls(moment.year, moment.month)

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return self.next().start

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    @property
    def table(self) -> str:
        return f"{TABLE}_p{self.year:04d}_{self.month:02d}"

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def is_partitioned(using: str = DEFAULT_DB_ALIAS) -> bool:
    connection = connections[using]
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [TABLE])
        row = cursor.fetchone()
    return bool(row and row[0] == "p")


def months(using: str = DEFAULT_DB_ALIAS) -> list[Month]:
    """The month partitions that exist, oldest first."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s)", [RECENT])
        names = [row[0] for row in cursor.fetchall()]
    found = [_MONTH.match(name) for name in names]
    return sorted(Month(int(m[1]), int(m[2])) for m in found if m)


def ensure_months(first: datetime, last: datetime, using: str = DEFAULT_DB_ALIAS) -> list[Month]:
    """Make the month partitions from `first`'s month to `last`'s that do not exist yet,
    moving into each what the default partition holds of it; returns those made."""
    if not is_partitioned(using):
        return []
    have = set(months(using))
    made: list[Month] = []
    month, stop = Month.of(first), Month.of(last)
    while month <= stop:
        if month not in have:
            _make(month, using)
            made.append(month)
        month = month.next()
    return made


def last_ahead(now: datetime) -> Month:
    """The last month made ahead of `now` (`MONTHS_AHEAD` after its own)."""
    last = Month.of(now)
    for _ in range(MONTHS_AHEAD):
        last = last.next()
    return last


def ensure_ahead(now: datetime, using: str = DEFAULT_DB_ALIAS) -> list[Month]:
    """This month and the next `MONTHS_AHEAD`, and the months of anything in the default
    partition (an event dated outside them)."""
    if not is_partitioned(using):
        return []
    last = last_ahead(now)
    made = ensure_months(now, last.start, using)
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT MIN(received_at), MAX(received_at) FROM {DEFAULT}")  # noqa: S608  # fixed name
        low, high = cursor.fetchone()
    if low is not None:
        made += ensure_months(low, high, using)
    return made


def _make(month: Month, using: str) -> None:
    """One month's partition: created in place, or, when the default partition holds rows
    of that month, filled from it and attached (PostgreSQL refuses a new partition whose
    rows sit in the default one)."""
    bounds = "FOR VALUES FROM (%s) TO (%s)"
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute("SET LOCAL lock_timeout = '10s'")
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {DEFAULT} "  # noqa: S608  # fixed names
            "WHERE received_at >= %s AND received_at < %s)", [month.start, month.end])
        if not cursor.fetchone()[0]:
            cursor.execute(f"CREATE TABLE {month.table} PARTITION OF {RECENT} {bounds}",
                           [month.start, month.end])
            return
        cursor.execute(f"CREATE TABLE {month.table} (LIKE {RECENT} "
                       "INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        cursor.execute(
            f"WITH moved AS (DELETE FROM {DEFAULT} "  # noqa: S608  # fixed names
            "WHERE received_at >= %s AND received_at < %s RETURNING *) "
            f"INSERT INTO {month.table} SELECT * FROM moved", [month.start, month.end])
        cursor.execute(f"ALTER TABLE {RECENT} ATTACH PARTITION {month.table} {bounds}",
                       [month.start, month.end])


def detach_month(month: Month, using: str = DEFAULT_DB_ALIAS) -> None:
    """Take a month whose events have all expired out of the table, in a transaction of
    its own: the one statement takes the partitioned table's exclusive lock first and
    holds nothing else, so it waits for the writers in flight and deadlocks with none.
    `finish_month` then keeps its evidence and drops it (or the next run does, if this
    process stops in between: `detached`)."""
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute("SET LOCAL lock_timeout = '30s'")
        cursor.execute(f"ALTER TABLE {RECENT} DETACH PARTITION {month.table}")


def detached(using: str = DEFAULT_DB_ALIAS) -> list[Month]:
    """Months taken out of the table and not finished yet, oldest first."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relname LIKE %s AND relkind = 'r' "
                       "AND NOT relispartition", [f"{TABLE}_p%"])
        names = [row[0] for row in cursor.fetchall()]
    found = [_MONTH.match(name) for name in names]
    return sorted(Month(int(m[1]), int(m[2])) for m in found if m)


def finish_month(month: Month, using: str = DEFAULT_DB_ALIAS) -> tuple[dict[int, int], int]:
    """Keep a detached month's evidence (copied to the evidence partition) and drop the
    rest. Returns the removed events per source id and the number kept. Runs in the
    caller's transaction (one with the removal's record)."""
    columns = _columns(using)
    listed = ", ".join(columns)
    chosen = ", ".join("true" if c == "kept" else c for c in columns)
    evidence = f"EXISTS (SELECT 1 FROM {LINKS} l WHERE l.rawevent_id = m.id)"  # noqa: S608  # fixed names
    with connections[using].cursor() as cursor:
        cursor.execute("SET LOCAL lock_timeout = '30s'")
        # The sources' foreign key is checked at commit; PostgreSQL refuses to drop a table
        # with such checks pending (rows written earlier in this transaction): run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # Nobody links an event meanwhile (writers lock the events, then the links: this
        # takes the links first and then only adds rows, which waits for no one).
        cursor.execute(f"LOCK TABLE {LINKS} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(
            f"INSERT INTO {TABLE} ({listed}) "  # noqa: S608  # names from the catalog
            f"SELECT {chosen} FROM {month.table} m WHERE {evidence}")
        kept = cursor.rowcount
        cursor.execute(
            f"SELECT source_id, COUNT(*) FROM {month.table} m "  # noqa: S608  # fixed names
            f"WHERE NOT {evidence} GROUP BY source_id")
        removed = {int(source): int(count) for source, count in cursor.fetchall()}
        cursor.execute(f"DROP TABLE {month.table}")
    return removed, kept


def _columns(using: str) -> list[str]:
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) "
            "AND attnum > 0 AND NOT attisdropped ORDER BY attnum", [TABLE])
        return [row[0] for row in cursor.fetchall()]


# --- the upgrade ------------------------------------------------------------------------


def partition(using: str = DEFAULT_DB_ALIAS, now: datetime | None = None) -> None:
    """Rebuild the plain table as the partitioned one, with its rows, indexes, key, id
    sequence and foreign key to the sources (the migration that introduces partitions)."""
    connection = connections[using]
    now = now or datetime.now(UTC)
    with connection.cursor() as cursor:
        indexes = _index_definitions(cursor)
        links_fk = _incoming_foreign_keys(cursor)
        for name in links_fk:
            cursor.execute(f"ALTER TABLE {LINKS} DROP CONSTRAINT {name}")
        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {TABLE}_plain")
        for name, _ in indexes:
            cursor.execute(f'ALTER INDEX "{name}" RENAME TO "{name}_plain"')
        cursor.execute(
            f"CREATE TABLE {TABLE} (LIKE {TABLE}_plain INCLUDING DEFAULTS INCLUDING "
            "CONSTRAINTS) PARTITION BY LIST (kept)")
        # Its id takes the sequence made below (the old one goes with the old table).
        cursor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN id DROP DEFAULT")
        cursor.execute(f"CREATE TABLE {KEPT} PARTITION OF {TABLE} FOR VALUES IN (true)")
        cursor.execute(f"CREATE TABLE {RECENT} PARTITION OF {TABLE} FOR VALUES IN (false) "
                       "PARTITION BY RANGE (received_at)")
        cursor.execute(f"CREATE TABLE {DEFAULT} PARTITION OF {RECENT} DEFAULT")
        cursor.execute(f"SELECT MIN(received_at), MAX(received_at), MAX(id) FROM {TABLE}_plain")  # noqa: S608  # fixed name
        low, high, top = cursor.fetchone()
    last = last_ahead(now)
    ensure_months(min(low, now) if low else now, max(high, last.start) if high else last.start,
                  using)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {TABLE}_plain")  # noqa: S608  # fixed names
        cursor.execute(f"DROP TABLE {TABLE}_plain")  # takes its own id sequence along
        cursor.execute(f"CREATE SEQUENCE {TABLE}_id_seq AS bigint OWNED BY {TABLE}.id")
        cursor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN id SET DEFAULT "
                       f"nextval('{TABLE}_id_seq')")
        if top:
            cursor.execute(f"SELECT setval('{TABLE}_id_seq', %s)", [top])
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey "
                       "PRIMARY KEY (id, kept, received_at)")
        cursor.execute(
            f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_source_id_fk FOREIGN KEY (source_id) "
            "REFERENCES monitoring_eventsource (id) DEFERRABLE INITIALLY DEFERRED")
        for _, definition in indexes:
            cursor.execute(definition)


def unpartition(using: str = DEFAULT_DB_ALIAS) -> None:
    """The reverse: one plain table again, keyed by id alone, with the link table's foreign
    key restored."""
    connection = connections[using]
    with connection.cursor() as cursor:
        indexes = _index_definitions(cursor)
        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {TABLE}_parts")
        for name, _ in indexes:
            cursor.execute(f'ALTER INDEX "{name}" RENAME TO "{name}_parts"')
        cursor.execute(f"CREATE TABLE {TABLE} (LIKE {TABLE}_parts INCLUDING DEFAULTS "
                       "INCLUDING CONSTRAINTS)")
        cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {TABLE}_parts")  # noqa: S608  # fixed names
        cursor.execute(f"ALTER SEQUENCE {TABLE}_id_seq OWNED BY {TABLE}.id")
        cursor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN id SET DEFAULT "
                       f"nextval('{TABLE}_id_seq')")
        cursor.execute(f"DROP TABLE {TABLE}_parts")
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id)")
        cursor.execute(
            f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_source_id_fk FOREIGN KEY (source_id) "
            "REFERENCES monitoring_eventsource (id) DEFERRABLE INITIALLY DEFERRED")
        for _, definition in indexes:
            cursor.execute(definition)
        cursor.execute(
            f"ALTER TABLE {LINKS} ADD CONSTRAINT {LINKS}_rawevent_id_fk FOREIGN KEY "
            f"(rawevent_id) REFERENCES {TABLE} (id) DEFERRABLE INITIALLY DEFERRED")


def _index_definitions(cursor: CursorWrapper) -> list[tuple[str, str]]:
    """The table's own indexes (not its key), by name, as statements that make them."""
    cursor.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid "
        "WHERE x.indrelid = to_regclass(%s) AND NOT x.indisprimary ORDER BY i.relname",
        [TABLE])
    return [(name, definition.replace(" ONLY ", " "))
            for name, definition in cursor.fetchall()]


def _incoming_foreign_keys(cursor: CursorWrapper) -> list[str]:
    cursor.execute(
        "SELECT conname FROM pg_constraint WHERE contype = 'f' AND confrelid = to_regclass(%s)",
        [TABLE])
    return [row[0] for row in cursor.fetchall()]
