"""Create the bare project's table and its one row (`python -m bare.setup`)."""

import os

import django
from django.core.management import call_command

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bare.settings")
django.setup()
call_command("migrate", run_syncdb=True, verbosity=0)

from bare.models import Row  # noqa: E402  (after django.setup())

Row.objects.get_or_create(pk=1, defaults={"title": "One row", "state": "open"})
