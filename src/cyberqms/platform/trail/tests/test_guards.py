"""Append-only guards: the database itself refuses to change or remove trail rows."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from cyberqms.platform.trail.log import trail_seal
from cyberqms.platform.trail.models import AuditEntry, Checkpoint, TreeNode
from cyberqms.platform.trail.tests.tampering import sql

TABLES = ("trail_auditentry", "trail_checkpoint", "trail_treenode")
UPDATES = {
    "trail_auditentry": "UPDATE trail_auditentry SET body = '{}' WHERE seq = 3",
    "trail_checkpoint": "UPDATE trail_checkpoint SET note = 'forged' WHERE size = 256",
    "trail_treenode": "UPDATE trail_treenode SET level = 9 WHERE level = 8",
}
DELETES = {
    "trail_auditentry": "DELETE FROM trail_auditentry WHERE seq = 3",
    "trail_checkpoint": "DELETE FROM trail_checkpoint",
    "trail_treenode": "DELETE FROM trail_treenode",
}


@pytest.fixture
def filled(write_entries: Callable[..., list[int]]) -> None:
    """256 sealed entries, so every guarded table holds rows (one level-8 tree node)."""
    write_entries(256)
    trail_seal()
    assert (AuditEntry.objects.count(), Checkpoint.objects.count(), TreeNode.objects.count()) == (
        256, 1, 1
    )


def _refused(statement: str) -> str:
    with pytest.raises(DatabaseError) as refused, transaction.atomic():
        sql(statement)
    return str(refused.value).splitlines()[0]


def _counts() -> tuple[int, int, int]:
    return AuditEntry.objects.count(), Checkpoint.objects.count(), TreeNode.objects.count()


@pytest.mark.usefixtures("filled")
@pytest.mark.parametrize("table", TABLES)
def test_sql_update_and_delete_are_refused(table: str) -> None:
    """P11-06, AL-06: no UPDATE or DELETE on the trail tables, even through raw SQL."""
    snapshot = sql(f"SELECT * FROM {table} ORDER BY 1")
    for operation, statement in (("UPDATE", UPDATES[table]), ("DELETE", DELETES[table])):
        assert _refused(statement) == (
            f"cyberqms: {operation} on {table} refused: the audit trail is append-only"
        )
    assert sql(f"SELECT * FROM {table} ORDER BY 1") == snapshot


@pytest.mark.usefixtures("filled")
def test_orm_update_and_delete_are_refused() -> None:
    """P11-06: the ORM (and so the admin, pages and API) cannot change history either."""
    entry = AuditEntry.objects.get(seq=7)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(seq=7).update(action="test.thing.hidden")
    with pytest.raises(DatabaseError), transaction.atomic():
        entry.delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        Checkpoint.objects.all().delete()
    assert AuditEntry.objects.get(seq=7).action == "test.thing.touch"
    assert _counts() == (256, 1, 1)


@pytest.mark.usefixtures("filled")
@pytest.mark.parametrize("table", TABLES)
def test_truncate_is_refused_on_postgresql(table: str) -> None:
    """P11-06: TRUNCATE bypasses row triggers, so PostgreSQL gets a statement trigger."""
    if connection.vendor != "postgresql":
        pytest.skip("TRUNCATE exists on PostgreSQL only")
    assert _refused(f"TRUNCATE {table} CASCADE") == (
        f"cyberqms: TRUNCATE on {table} refused: the audit trail is append-only"
    )
    assert _counts() == (256, 1, 1)


@pytest.mark.usefixtures("filled")
def test_flush_is_refused_outside_the_test_suite(settings: Any) -> None:
    """P11-06, P11-09: `cyberqms flush` would erase the trail; production refuses it."""
    settings.CYBERQMS_ALLOW_FLUSH = False
    with pytest.raises(CommandError) as refused:
        call_command("flush", "--noinput", stdout=StringIO(), stderr=StringIO())
    assert str(refused.value) == (
        "flush is refused: it would erase the audit trail. Restore a backup or create a new "
        "database instead."
    )
    assert _counts() == (256, 1, 1)
