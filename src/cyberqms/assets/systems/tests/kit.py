"""Sample system values for the record-kit walker (kit.tests.kit), and what release needs
besides fields: the four people and the validation summary report of the version."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

CREATE: dict[str, Any] = {
    "title": "LIMS LabWare",
    "description": "Laboratory information management for QC release testing.",
    "gxp_functions": "Sample login, results entry and review, certificate of analysis.",
    "records_held": "QC results, audit trail, CoA",
    "gamp_category": "4",
    "criticality": "high",
    "data_integrity_relevant": True,
    "hosting": "on_premises",
    "version": "8.1.2",
    "rto_hours": 24,
    "rpo_hours": 4,
    "continuity_plan": "BCP-IT-0003: paper result sheets, entered within 48 h of recovery.",
}
FILL: dict[str, Any] = {}
# Queries of the list page and the API list, the same for 1 row as for 5.
QUERIES = {"page": 9, "api": 7}


def before(kind: Any, record: Any, action: str, people: dict[str, Any]) -> None:
    from cyberqms.platform.kit.record_rows import row_add, rows_of_kind
    from cyberqms.platform.kit.record_services import record_update

    if action != "validate":
        return
    missing = {name: people[persona] for name, persona in (
        ("process_owner", "process_owner"), ("qa_contact", "qa_approver"),
        ("security_contact", "it_security")) if getattr(record, f"{name}_id") is None}
    if missing:
        record_update(record, actor=record.owner, changes=missing, reason="Test kit")
    if not record.deliverables.filter(kind="report", system_version=record.version).exists():
        row_add(record, rows_of_kind(kind, "deliverables"), actor=record.owner,
                values={"kind": "report", "system_version": record.version,
                        "reference": "VAL-QA-0012 v1.0", "approved_on": timezone.localdate()})


def _interface(record: Any, people: dict[str, Any]) -> dict[str, Any]:
    from cyberqms.platform.kit.record_services import record_create
    from cyberqms.platform.kit.records import kind_of

    other = record_create(kind_of(record), actor=record.owner, site=record.site,
                          values={**CREATE, "title": "ERP SAP S/4", "owner": record.owner})
    return {"direction": "sends", "other": other, "data": "Released batches, IDoc over RFC"}


def _deliverable(record: Any, people: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "oq", "system_version": "8.1.2", "reference": "OQ-LIMS-2025-02",
            "approved_on": timezone.localdate()}


def _posture(record: Any, people: dict[str, Any]) -> dict[str, Any]:
    return {"item": "patch_level", "value": "Windows Server 2022, CU 2025-10",
            "assessed_on": timezone.localdate(), "evidence": "WSUS report 2025-10-14"}


# A valid row of each of the family's tables (kit.record_rows), for the kit's invariants.
ROWS = {"interfaces": _interface, "deliverables": _deliverable, "posture": _posture}
