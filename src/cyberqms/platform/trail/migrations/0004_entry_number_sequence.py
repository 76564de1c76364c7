"""PostgreSQL: audit entry numbers from a sequence, so writers no longer wait for each
other's commit (trail/record.py). SQLite keeps MAX + 1 (its writers are serialized by the
database anyway)."""

from typing import Any

from django.db import migrations


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE SEQUENCE IF NOT EXISTS trail_entry_seq AS bigint MINVALUE 1")
    # Continue after the entries there are (the next number is MAX + 1).
    schema_editor.execute(
        "SELECT setval('trail_entry_seq', "
        "COALESCE((SELECT MAX(seq) FROM trail_auditentry), 0) + 1, false)"
    )


def drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP SEQUENCE IF EXISTS trail_entry_seq")


class Migration(migrations.Migration):

    dependencies = [
        ("trail", "0003_entry_authenticator_and_witness"),
    ]

    operations = [migrations.RunPython(create, drop)]
