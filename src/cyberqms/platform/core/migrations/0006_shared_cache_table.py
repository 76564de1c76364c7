"""The shared cache's table (``CACHES``: Django's database cache), made by `migrate`.

Every web worker and node reads one cache: one-time codes once used are refused on every
worker (allauth keeps them there), and the SIEM forwarder's breaker is one for all."""

from typing import Any

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps: Any, schema_editor: Any) -> None:
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0005_lease"),
    ]

    operations = [
        migrations.RunPython(create_cache_table, migrations.RunPython.noop, elidable=False),
    ]
