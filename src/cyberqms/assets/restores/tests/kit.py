"""Sample restore-test values for the record-kit walker (kit.tests.kit): the LIMS's
nightly backup restored by hand on the test server, passed within its RTO."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

CREATE: dict[str, Any] = {
    "title": "Quarterly restore test of the LIMS database",
    "backup_name": "LIMS nightly full backup, 2026-11-30 02:00",
    "event_at": timezone.now() - dt.timedelta(hours=3),
    "outcome": "passed",
    "time_to_restore": dt.timedelta(hours=2),
}
FILL: dict[str, Any] = {"description": "Restored on the test server from tape; QC results checked."}
# Queries of the list page and the API list, the same for 1 row as for 5.
QUERIES = {"page": 9, "api": 7}


def made(site: Any, author: Any) -> dict[str, Any]:
    """The system restored: at the test's site, in the inventory."""
    from cyberqms.assets.systems.tests.kit import CREATE as SYSTEM
    from cyberqms.platform.kit.record_services import record_create
    from cyberqms.platform.kit.records import kind_by_slug

    systems = kind_by_slug("systems")
    system = systems.model._default_manager.filter(site=site, title=SYSTEM["title"]).first()
    if system is None:
        system = record_create(systems, actor=author, site=site,
                               values={**SYSTEM, "owner": author})
    return {"system": system}
