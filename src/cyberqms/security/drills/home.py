"""The resilience panel of the home page (issue 19): the last backup, cyberqms's last
restore test (a failed one in red, linked) and the last drill with its score, each for
whoever may see it, at the sites where they may: IT security and administrators see all
three, QA managers the restore tests and drills, auditors what their roles let them read.
An unannounced drill shows once it is scored."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from cyberqms.platform.core.access import can
from cyberqms.platform.core.home import HomePanel
from cyberqms.platform.kit.family_pages import visible_records
from cyberqms.platform.kit.records import kind_by_slug


def resilience_panel(person: Any) -> HomePanel | None:
    from cyberqms.platform.backups.models import Backup

    from .scoring import score_class, scorecard

    shown: dict[str, Any] = {}
    if can(person, "backups.backup.view"):
        backup = Backup.objects.filter(removed_at__isnull=True).order_by("-created_at").first()
        hours = int(settings.CYBERQMS_BACKUP_HOURS) or 24
        shown["backup"] = backup
        shown["backup_late"] = backup is None or backup.created_at < timezone.now() - \
            dt.timedelta(hours=hours * 1.5)
    if can(person, "restore_tests.view"):
        # cyberqms's own (a test of a LIMS passed later does not hide a failed one of
        # cyberqms), at the sites where the person may see restore tests.
        shown["restore_test"] = (visible_records(kind_by_slug("restore-tests"), person)
                                 .filter(is_deleted=False, backup__isnull=False)
                                 .select_related("system").order_by("-event_at", "-id")
                                 .first())
    if can(person, "drills.view"):
        # An unannounced drill shows once it is scored: its responders see it then.
        drill = (visible_records(kind_by_slug("drills"), person)
                 .filter(is_deleted=False, started_at__isnull=False)
                 .filter(Q(announced=True) | Q(state="scored"))
                 .order_by("-started_at").first())
        shown["drill"] = drill
        shown["drill_score"] = scorecard(drill).get("score") if drill else None
        shown["drill_css"] = score_class(shown["drill_score"])
    if not shown:
        return None
    return HomePanel("drills/_home_resilience.html", shown, order=50)
