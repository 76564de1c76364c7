"""Sample evaluation values for the record-kit walker (kit.tests.kit): the system it is of
(made first, validated: what is evaluated is in use), the period and the conclusion."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

CREATE: dict[str, Any] = {
    "title": "Periodic evaluation of the LIMS",
    "period_start": timezone.localdate() - dt.timedelta(days=365),
    "period_end": timezone.localdate() - dt.timedelta(days=1),
}
FILL: dict[str, Any] = {
    "findings": "No incident; two changes closed effective; audit-trail reviews monthly.",
    "conclusion": "remains_validated",
}
# Queries of the list page and the API list, the same for 1 row as for 5.
QUERIES = {"page": 9, "api": 7}


def made(site: Any, author: Any) -> dict[str, Any]:
    """The system evaluated: at the evaluation's site, in the inventory."""
    from cyberqms.assets.systems.tests.kit import CREATE as SYSTEM
    from cyberqms.platform.kit.record_services import record_create
    from cyberqms.platform.kit.records import kind_by_slug

    systems = kind_by_slug("systems")
    system = systems.model._default_manager.filter(site=site, title=SYSTEM["title"]).first()
    if system is None:
        system = record_create(systems, actor=author, site=site,
                               values={**SYSTEM, "owner": author})
    return {"system": system}
