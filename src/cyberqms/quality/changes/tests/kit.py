"""Sample change values for the record-kit walker (core.tests.kit), and the steps a change
needs that are not fields: its implementation tasks, and IT security's approval, which
only a change with cybersecurity impact reaches."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

CREATE: dict[str, Any] = {
    "title": "Replace the label printer on line 2",
    "change_type": "equipment",
    "justification": "The current model is out of vendor support.",
    "scope": "Line 2 labelling station.",
    "product_quality_impact": "None: same label template.",
    "validation_impact": "IQ/OQ of the new printer.",
    "regulatory_impact": "No filing.",
    "cyber_assessment": "Standalone device; no network.",
    "severity": 2, "probability": 2, "detectability": 2,
    "planned_implementation_date": timezone.localdate() + dt.timedelta(days=20),
}
FILL: dict[str, Any] = {
    "post_implementation_review": "Printer qualified; labels verified for a week.",
    "pir_outcome": "effective",
}
QUERIES = {"page": 9, "api": 7}


def before(kind: Any, record: Any, action: str, people: dict[str, Any]) -> None:
    """IT security approves only a change with cybersecurity impact: the change goes back
    to draft, is assessed as networked, and is approved by QA again. Implementation
    completes when a task is done."""
    from cyberqms.platform.kit.tests.kit import ready_to_sign, signature
    from cyberqms.quality.changes import services

    run = kind.workflow.run
    if action == "security_approve" and not record.cyber_impact:
        run(record, "return", actor=people["qa_manager"], reason="Networked after all")
        services.change_update(record, actor=people["author"],
                               changes={"new_interfaces": True,
                                        "cyber_assessment": "Joins the OT network."})
        run(record, "submit", actor=people["author"])
        qa = ready_to_sign(people["qa_approver"], people["admin"])
        run(record, "qa_approve", actor=qa, signature=signature(qa))
    if action == "complete_implementation" and not record.tasks.filter(state="done").exists():
        task = services.change_task_add(record, actor=people["author"],
                                        description="Install and qualify the printer",
                                        owner=people["author"])
        services.change_task_complete(task, actor=people["author"], note="Done.")
