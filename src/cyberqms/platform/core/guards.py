"""Database guards: the tables of rows that are never deleted (every model inheriting
`core.models.KeptForever`: quality records, their child records, signatures, attachments,
comments, links, extensions) refuse DELETE (and TRUNCATE on PostgreSQL), whoever asks: the
ORM, a cascade, or SQL typed by someone with database access (P11-04, 21 CFR 11.10(c)).
UPDATE stays allowed: records change through their workflow, audited.

The triggers are (re)installed after every `migrate` (`post_migrate`), so a new family's
table is guarded without a migration of its own. The test suite's `flush` lifts them for
the flush and restores them straight after.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION cyberqms_kept_forever() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'cyberqms: % on % refused: GxP records are never deleted',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""


def kept_tables() -> list[str]:
    """The tables of every installed model that is kept forever."""
    from .models import KeptForever

    return sorted(m._meta.db_table for m in apps.get_models()
                  if issubclass(m, KeptForever) and not m._meta.proxy)


def _remove_statements(vendor: str, tables: list[str]) -> list[str]:
    if vendor == "postgresql":
        return [s for t in tables for s in (f"DROP TRIGGER IF EXISTS {t}_kept ON {t}",
                                            f"DROP TRIGGER IF EXISTS {t}_kept_truncate ON {t}")]
    return [f"DROP TRIGGER IF EXISTS {t}_kept" for t in tables]


def _install_statements(vendor: str, tables: list[str]) -> list[str]:
    statements = _remove_statements(vendor, tables)
    if vendor == "postgresql":
        statements.append(_PG_FUNCTION)
        for t in tables:
            statements += [
                f"CREATE TRIGGER {t}_kept BEFORE DELETE ON {t} "
                "FOR EACH ROW EXECUTE FUNCTION cyberqms_kept_forever()",
                f"CREATE TRIGGER {t}_kept_truncate BEFORE TRUNCATE ON {t} "
                "FOR EACH STATEMENT EXECUTE FUNCTION cyberqms_kept_forever()",
            ]
    elif vendor == "sqlite":
        statements += [
            f"CREATE TRIGGER {t}_kept BEFORE DELETE ON {t} BEGIN SELECT RAISE(ABORT, "
            f"'cyberqms: DELETE on {t} refused: GxP records are never deleted'); END"
            for t in tables]
    else:  # pragma: no cover - only the two supported databases
        raise RuntimeError(f"no deletion guards for database vendor {vendor!r}")
    return statements


def install(connection: Any) -> None:
    tables = [t for t in kept_tables() if t in connection.introspection.table_names()]
    with connection.cursor() as cursor:
        for statement in _install_statements(connection.vendor, tables):
            cursor.execute(statement)


def remove(connection: Any) -> None:
    tables = [t for t in kept_tables() if t in connection.introspection.table_names()]
    with connection.cursor() as cursor:
        for statement in _remove_statements(connection.vendor, tables):
            cursor.execute(statement)


def installed_after_migrate(sender: Any, *, using: str = "default", **kwargs: Any) -> None:
    """post_migrate: (re)install the guards once per migrate (sent once per app)."""
    from django.db import connections

    if getattr(sender, "label", "") != "core":
        return
    install(connections[using])
