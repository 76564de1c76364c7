"""On PostgreSQL, the received events' table becomes partitioned: the evidence of alerts
apart, the others by month of receipt (`partitions.py`), so that retention drops expired
months whole. SQLite keeps its one table; nothing changes for Django's model."""

from django.db import migrations


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from cyberqms.security.monitoring import partitions

    partitions.partition(schema_editor.connection.alias)


def unpartition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from cyberqms.security.monitoring import partitions

    partitions.unpartition(schema_editor.connection.alias)


class Migration(migrations.Migration):

    dependencies = [
        ("monitoring", "0009_retention"),
    ]

    operations = [
        migrations.RunPython(partition, unpartition, elidable=False),
    ]
