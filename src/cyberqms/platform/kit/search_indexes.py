"""Trigram indexes for the lists' text search, on PostgreSQL.

A family's list searches its number, title and declared ``search_fields`` for a fragment
anywhere in them (`RecordFilterSet.search`: ``icontains``, which PostgreSQL runs as
``UPPER(column::text) LIKE UPPER('%fragment%')``). A B-tree index cannot serve a pattern
that starts with a wildcard, so without more the search reads the family's whole table
(599 ms at 3·10^5 records, docs/architecture.md "A big site"). A GIN index of the same
expression with ``pg_trgm``'s operator class serves it for fragments of three characters
or more.

The indexes follow the families' declarations: after every ``migrate`` (Django's
``post_migrate``), each registered family's searched columns get theirs if missing
(``CREATE INDEX IF NOT EXISTS``), so a new family, or a new search field, needs no
migration of its own. The first build reads the table once. Where the database refuses
the extension (a role without the right to create it on a managed server), the search
works as before, unindexed, and the reason is logged. SQLite has no such index; its search
reads the table.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction

logger = logging.getLogger("cyberqms.kit")


def index_name(table: str, column: str) -> str:
    """A name within PostgreSQL's 63 characters, stable for the table and column."""
    name = f"{table}_{column}_trgm"
    if len(name) <= 63:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[:49]}_{digest}_trgm"


def searched_columns() -> list[tuple[str, str]]:
    """(table, column) for every registered family's searched fields."""
    from .records import model_field, registered_kinds

    found: list[tuple[str, str]] = []
    for kind in registered_kinds():
        if kind.filterset is None:
            continue
        meta = kind.model._meta
        for name in ("number", "title", *kind.filterset.search_fields):
            found.append((meta.db_table, str(model_field(kind.model, name).column)))
    return found


def ensure(using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Create the missing trigram indexes; returns the names of those made."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    try:
        with transaction.atomic(using=using), connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as exc:
        logger.warning("list search stays unindexed: pg_trgm cannot be created (%s)", exc)
        return []
    tables = set(connection.introspection.table_names())
    made: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE %s", ["%_trgm"])
        present = {row[0] for row in cursor.fetchall()}
        for table, column in searched_columns():
            name = index_name(table, column)
            if table not in tables or name in present:
                continue
            quote = connection.ops.quote_name
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {quote(name)} ON {quote(table)} "
                f"USING gin ((UPPER({quote(column)}::text)) gin_trgm_ops)")
            made.append(name)
    return made


def after_migrate(sender: Any, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """``post_migrate`` receiver (connected for core's app only: once per migrate)."""
    made = ensure(using)
    if made and kwargs.get("verbosity", 1) >= 1:
        logger.info("list search indexes made: %s", ", ".join(made))
