"""`flush` refuses to wipe the audit trail, except in the test suite.

Django's `flush` empties every table. In production that would destroy the audit trail
(and the triggers reject it anyway), so it is refused with an explanation. The test
suite (CYBERQMS_ALLOW_FLUSH) needs it between transactional tests: the append-only
guards of the trail and the deletion guards of GxP records (core.guards) are lifted for
the flush and restored straight after.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands.flush import Command as DjangoFlush
from django.db import connections

from cyberqms.platform.core import guards as kept
from cyberqms.platform.trail import guards


class Command(DjangoFlush):
    help = "Empty the database (refused outside the test suite: it would erase the trail)."

    def handle(self, **options: Any) -> None:
        if not getattr(settings, "CYBERQMS_ALLOW_FLUSH", False):
            raise CommandError(
                "flush is refused: it would erase the audit trail. Restore a backup or "
                "create a new database instead."
            )
        connection = connections[options["database"]]
        guards.remove(connection)
        kept.remove(connection)
        try:
            super().handle(**options)
        finally:
            guards.install(connection)
            kept.install(connection)
