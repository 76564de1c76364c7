"""Sample CAPA values for the record-kit walker (core.tests.kit), and the steps a CAPA
needs that are not fields: its actions and the effectiveness check."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

CREATE: dict[str, Any] = {
    "title": "Prevent recurrence of cold-room excursions",
    "source": "deviation",
    "problem_statement": "Door left ajar twice in a month; alarm not escalated.",
    "due_date": timezone.localdate() + dt.timedelta(days=60),
}
FILL: dict[str, Any] = {
    "effectiveness_criteria": "No excursion in three months of logger data.",
    "effectiveness_due": timezone.localdate() + dt.timedelta(days=90),
}
QUERIES = {"page": 9, "api": 7}


def before(kind: Any, record: Any, action: str, people: dict[str, Any]) -> None:
    """What a step needs besides fields: a planned action before the plan is approved, the
    actions done before implementation completes, a passed check before closure (a
    failed one before reopening)."""
    from cyberqms.platform.kit.tests.kit import ready_to_sign, signature
    from cyberqms.quality.capa import services

    if action == "approve_plan" and not record.actions.exists():
        services.capa_action_add(record, actor=people["author"], kind="corrective",
                                 description="Door alarm escalates after 2 minutes",
                                 owner=people["author"],
                                 due_date=timezone.localdate() + dt.timedelta(days=30))
    if action == "complete_implementation":
        for open_action in record.actions.filter(state="open"):
            services.capa_action_complete(open_action, actor=people["author"],
                                          evidence="Work order WO-1138")
    if action in ("close", "reopen") and record.effectiveness_result == "pending":
        checker = ready_to_sign(people["qa_manager"], people["admin"])
        services.capa_effectiveness_record(
            record, actor=checker, result="passed" if action == "close" else "failed",
            evidence="Logger data reviewed", signature=signature(checker))
