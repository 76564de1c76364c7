"""Triggers that make the audit tables append-only (installed by migration 0002).

Kept as plain functions so the test-only `flush` (which must empty every table between
transactional tests) can lift and restore them around its work.
"""

from __future__ import annotations

from typing import Any

APPEND_ONLY_TABLES = (
    "trail_auditentry", "trail_checkpoint", "trail_treenode", "trail_leafblock",
)

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION cyberqms_trail_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'cyberqms: % on % refused: the audit trail is append-only',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""


def _statements_install(vendor: str) -> list[str]:
    statements: list[str] = []
    if vendor == "postgresql":
        statements.append(_PG_FUNCTION)
        for table in APPEND_ONLY_TABLES:
            statements += [
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION cyberqms_trail_append_only()",
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION cyberqms_trail_append_only()",
            ]
    elif vendor == "sqlite":
        for table in APPEND_ONLY_TABLES:
            for op in ("UPDATE", "DELETE"):
                statements.append(
                    f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'cyberqms: {op} on {table} refused: "
                    "the audit trail is append-only'); END"
                )
    else:  # pragma: no cover - only the two supported databases
        raise RuntimeError(f"no append-only guards for database vendor {vendor!r}")
    return statements


def _statements_remove(vendor: str) -> list[str]:
    statements: list[str] = []
    for table in APPEND_ONLY_TABLES:
        if vendor == "postgresql":
            statements += [
                f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
                f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
            ]
        else:
            statements += [
                f"DROP TRIGGER IF EXISTS {table}_no_update",
                f"DROP TRIGGER IF EXISTS {table}_no_delete",
            ]
    return statements


def install(connection: Any) -> None:
    with connection.cursor() as cursor:
        for statement in _statements_install(connection.vendor):
            cursor.execute(statement)


def remove(connection: Any) -> None:
    with connection.cursor() as cursor:
        for statement in _statements_remove(connection.vendor):
            cursor.execute(statement)


def install_guards(apps: Any, schema_editor: Any) -> None:
    install(schema_editor.connection)


def remove_guards(apps: Any, schema_editor: Any) -> None:
    remove(schema_editor.connection)
