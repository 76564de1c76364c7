"""The resilience panel of the home page (issue 19): the last backup, the last restore test
(a failed one in red, linked) and the last drill with its score, each for whoever may see
it: IT security and administrators see all three, QA managers the restore tests and
drills, auditors what their roles let them read."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import timezone

from cyberqms.platform.core.access import can
from cyberqms.platform.core.home import HomePanel


def resilience_panel(person: Any) -> HomePanel | None:
    from cyberqms.assets.restores.models import RestoreTest
    from cyberqms.platform.backups.models import Backup

    from .models import Drill
    from .scoring import scorecard

    shown: dict[str, Any] = {}
    if can(person, "backups.backup.view"):
        backup = Backup.objects.filter(removed_at__isnull=True).order_by("-created_at").first()
        hours = int(settings.CYBERQMS_BACKUP_HOURS) or 24
        shown["backup"] = backup
        shown["backup_late"] = backup is None or backup.created_at < timezone.now() - \
            dt.timedelta(hours=hours * 1.5)
    if can(person, "restore_tests.view"):
        shown["restore_test"] = (RestoreTest.objects.filter(is_deleted=False)
                                 .exclude(state="cancelled").select_related("system")
                                 .order_by("-event_at", "-id").first())
    if can(person, "drills.view"):
        drill = (Drill.objects.filter(is_deleted=False, started_at__isnull=False)
                 .order_by("-started_at").first())
        shown["drill"] = drill
        shown["drill_score"] = scorecard(drill).get("score") if drill else None
    if not shown:
        return None
    return HomePanel("drills/_home_resilience.html", shown, order=50)
