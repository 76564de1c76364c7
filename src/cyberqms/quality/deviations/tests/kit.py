"""Sample deviation values for the record-kit walker (core.tests.kit)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

CREATE: dict[str, Any] = {
    "title": "Temperature excursion in cold room 3",
    "description": "Logger showed 9.4 °C for 40 minutes during the night shift.",
    "event_at": timezone.now() - dt.timedelta(hours=2),
    "due_date": timezone.localdate() + dt.timedelta(days=30),
    "classification": "major",
    "area": "Warehouse",
    "product_reference": "Batch 24-0117",
}
FILL: dict[str, Any] = {
    "investigation_summary": "Door sensor failed; alarm not escalated.",
    "root_cause_category": "equipment",
    "root_cause": "Worn door seal and a faulty sensor.",
}
# Queries of the list page and the API list, the same for 1 row as for 5.
QUERIES = {"page": 9, "api": 7}
