"""Database guards: the audit tables reject UPDATE and DELETE (and TRUNCATE on PostgreSQL).

These stop accidents and anyone using the application's own connection. An attacker who
owns the database can drop a trigger; that is what verification detects. Production runs
the application with a role that has only INSERT and SELECT on these tables (see
docs/audit-trail.md), so even the application cannot change history.
"""

from django.db import migrations

from cyberqms.platform.trail.guards import install_guards, remove_guards


class Migration(migrations.Migration):
    dependencies = [("trail", "0001_audit_log")]

    operations = [migrations.RunPython(install_guards, remove_guards, elidable=False)]
