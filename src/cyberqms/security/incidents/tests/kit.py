"""Sample incident values for the record-kit walker (core.tests.kit): an incident raised
by hand (a phishing report), contained and assessed without GxP impact."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

CREATE: dict[str, Any] = {
    "title": "Phishing mail with credential form reported by QC",
    "description": "Three QC analysts received a mail imitating the LIMS sign-in page.",
    "event_at": timezone.now() - dt.timedelta(hours=1),
    "due_date": timezone.localdate() + dt.timedelta(days=14),
}
FILL: dict[str, Any] = {
    "containment": "Sender blocked; mails purged from every mailbox.",
    "affected_systems": "Mail gateway",
    "window_start": timezone.now() - dt.timedelta(hours=3),
    "window_end": timezone.now() - dt.timedelta(hours=1),
    "impact_assessment": "No credentials entered (proxy logs); no GxP system touched.",
}
QUERIES = {"page": 9, "api": 7}
