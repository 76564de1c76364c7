"""Sample risk-assessment values for the record-kit walker (kit.tests.kit), and what its
steps need besides fields: a risk, the named approver, the approver's rationale and
expiry, and for a revision an approved change control that names it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

CREATE: dict[str, Any] = {
    "title": "Remote vendor access to the filling line SCADA",
    "description": "Risks of the vendor's remote support connection.",
    "subject": "process",
    "process": "Vendor remote support of SCADA Line 2",
    "method": "fmea",
}
FILL: dict[str, Any] = {}
# Queries of the list page and the API list, the same for 1 row as for 5.
QUERIES = {"page": 9, "api": 7}


def _risk(record: Any, people: dict[str, Any]) -> dict[str, Any]:
    return {"category": "cyber", "hazard": "Vendor account used by an attacker",
            "cause": "Shared vendor password", "asset": "SCADA Line 2 HMI",
            "effect": "Recipe changed without change control", "severity": 5,
            "occurrence": 3, "detectability": 4, "controls": "MFA on the jump host",
            "actions": "Session recording", "residual_severity": 5,
            "residual_occurrence": 1, "residual_detectability": 2}


ROWS = {"risks": _risk}


def before(kind: Any, record: Any, action: str, people: dict[str, Any]) -> None:
    from cyberqms.platform.kit.record_parts import link_create
    from cyberqms.platform.kit.record_rows import row_add, rows_of_kind
    from cyberqms.platform.kit.record_services import record_update
    from cyberqms.platform.kit.records import kind_by_slug
    from cyberqms.platform.kit.tests.kit import record_in_state

    if action == "submit":
        if record.approver_id is None:
            record_update(record, actor=record.owner,
                          changes={"approver": people["qa_approver"]})
        if not record.risks.exists():
            row_add(record, rows_of_kind(kind, "risks"), actor=record.owner,
                    values=_risk(record, people))
    if action == "accept" and not record.acceptance_rationale:
        record_update(record, actor=people["qa_approver"], reason="Acceptance", changes={
            "acceptance_rationale": "MFA and recording bring the likelihood to rare.",
            "acceptance_expires": timezone.localdate() + dt.timedelta(days=365)})
    if action == "revise":
        change = record_in_state(kind_by_slug("changes"), "approved", people,
                                 site=record.site)
        link_create(change, record, actor=change.owner, relation="affects")
