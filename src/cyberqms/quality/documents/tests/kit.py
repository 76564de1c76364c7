"""Sample document values for the record-kit walker (kit.tests.kit), and what its steps
need besides fields: the named reviewer, the reviews and IT security's approval before
QA approves, two years passing before a periodic review, and a minor version for QA to
release without retraining."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

CREATE: dict[str, Any] = {
    "title": "Access management for GxP computerized systems",
    "doc_type": "sop",
    "department": "IT",
    "cyber_relevant": True,
    "description": "How access to GxP systems is requested, approved, reviewed and removed.",
    "body": "# Purpose\n\nAccess follows need.\n\n# Procedure\n\n1. Request\n2. Approve\n",
    "effective_date": timezone.localdate(),
}
FILL: dict[str, Any] = {}
# Queries of the list page and the API list, the same for 1 row as for 5.
QUERIES = {"page": 9, "api": 7}


def before(kind: Any, record: Any, action: str, people: dict[str, Any]) -> None:
    from cyberqms.platform.kit.record_services import record_update
    from cyberqms.platform.kit.tests.kit import ready_to_sign, signature

    run = kind.workflow.run
    if action == "submit" and record.reviewer_id is None:
        record_update(record, actor=record.owner, changes={"reviewer": people["process_owner"]})
    if action == "approve":
        for step, person in (("review", "process_owner"), ("security_approve", "it_security")):
            actor = ready_to_sign(people[person], people["admin"])
            if kind.workflow.closed_to(record, actor, kind.workflow.transition(
                    step, record.state)) is None:
                run(record, step, actor=actor, signature=signature(actor))
    if action == "waive_retraining" and record.minor == 0:
        # Only a minor revision is released without retraining: make this one 1.1.
        type(record)._default_manager.filter(pk=record.pk).update(minor=1)
        record.refresh_from_db()
    if action == "confirm_review":
        # Two years on: the periodic review falls due within the review window.
        type(record)._default_manager.filter(pk=record.pk).update(
            due_date=timezone.localdate() + dt.timedelta(days=30))
        record.refresh_from_db()


def twin(row: Any, i: int) -> None:
    """A copy of a version is another version of its document (one per version number)."""
    row.minor += i + 1
