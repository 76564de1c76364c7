"""Sample supplier values for the record-kit walker (kit.tests.kit), and what approval
needs besides fields: an assessment."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

CREATE: dict[str, Any] = {
    "title": "LabSys GmbH",
    "scope": "software",
    "supplies": "LIMS licences, configuration and support",
    "gxp_critical": True,
    "contact": "Anna Berg, quality manager, quality@labsys.example",
}
FILL: dict[str, Any] = {"conditions": "Annual remote audit of the hosting sub-processor."}
# Queries of the list page and the API list, the same for 1 row as for 5.
QUERIES = {"page": 9, "api": 7}


def before(kind: Any, record: Any, action: str, people: dict[str, Any]) -> None:
    from cyberqms.platform.kit.record_rows import row_add, rows_of_kind

    if action in ("approve", "approve_conditionally") and not record.assessments.exists():
        today = timezone.localdate()
        row_add(record, rows_of_kind(kind, "assessments"), actor=people["qa_approver"],
                values={"method": "questionnaire", "assessed_on": today, "score": 82,
                        "outcome": "approved", "next_due": today + dt.timedelta(days=730),
                        "summary": "Quality system certified; security questionnaire good."})


def _assessment(record: Any, people: dict[str, Any]) -> dict[str, Any]:
    today = timezone.localdate()
    return {"method": "onsite_audit", "assessed_on": today, "score": 74,
            "outcome": "conditional", "next_due": today + dt.timedelta(days=365),
            "summary": "Backups untested at the hosting partner.", "reference": "AUD-24-07"}


def _agreement(record: Any, people: dict[str, Any]) -> dict[str, Any]:
    today = timezone.localdate()
    return {"kind": "quality", "reference": "QA-AGR-2025-004", "starts_on": today,
            "expires_on": today + dt.timedelta(days=1095)}


# A valid row of each of the family's tables (kit.record_rows), for the kit's invariants.
ROWS = {"assessments": _assessment, "agreements": _agreement}
