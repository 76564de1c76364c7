"""Sample complaint values for the record-kit walker (core.tests.kit)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

CREATE: dict[str, Any] = {
    "title": "Cracked vials in carton, batch 24-0117",
    "description": "Pharmacy reports three cracked vials in one carton on receipt.",
    "event_at": timezone.now() - dt.timedelta(hours=2),
    "due_date": timezone.localdate() + dt.timedelta(days=30),
    "complainant": "customer",
    "complainant_contact": "Apotheke am Markt, order 5581",
    "channel": "email",
    "product_reference": "Batch 24-0117",
}
FILL: dict[str, Any] = {
    "category": "packaging",
    "severity": "medium",
    "investigation_summary": "Retained samples intact; transport shock logger tripped.",
    "root_cause": "Carrier dropped the pallet; shock logger confirms 40 g.",
    "response": "Replacement shipped; carrier claim opened.",
}
# Queries of the list page and the API list, the same for 1 row as for 5.
QUERIES = {"page": 9, "api": 7}
