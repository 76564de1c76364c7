"""The complaint workflow, one declared table (docs/workflows/ shows the diagram).

draft → open (QA assessment) → investigation → QA review → closed; QA may send an
investigation back; a complaint is cancelled (with a reason) before its investigation.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from cyberqms.platform.accounts.queries import holders_of
from cyberqms.platform.kit.words import listing, missing
from cyberqms.platform.kit.workflow import Transition, Workflow
from cyberqms.platform.notifications.services import notify_record

from .enums import Category, ComplaintState
from .models import Complaint

S = ComplaintState


def received(c: Complaint, actor: Any) -> str | None:
    missing = [label for label, value in (
        ("what the complainant reports (description)", c.description.strip()),
        ("when it was received", c.event_at),
        ("who complains", c.complainant),
    ) if not value]
    return "Before submitting, give " + " and ".join(missing) + "." if missing else None


def assessed(c: Complaint, actor: Any) -> str | None:
    absent = missing((("the category", c.category), ("the severity", c.severity)))
    if absent:
        return f"Set {listing(absent)} before the investigation."
    if c.category == Category.ADVERSE_EVENT and not c.reportable:
        return ("An adverse event is reported to the authorities: mark it reportable and "
                "record the reporting decision.")
    return None


def answered(c: Complaint, actor: Any) -> str | None:
    absent = missing((
        ("the investigation summary", c.investigation_summary),
        ("the root cause", c.root_cause),
        ("the response to the complainant", c.response),
    ))
    return f"Fill in {listing(absent)} first." if absent else None


def closing_time(c: Complaint, actor: Any) -> dict[str, Any]:
    return {"closed_at": timezone.now()}


def assessment_due(c: Complaint, actor: Any) -> None:
    notify_record(holders_of("complaints.review", c.site_id), c, kind="approval_due",
                  subject="submitted for QA assessment", exclude=actor)


def investigate(c: Complaint, actor: Any) -> None:
    notify_record([c.owner], c, kind="assignment", subject="assessed: investigate it",
                  exclude=actor, awaits=(c.state,))


def review_due(c: Complaint, actor: Any) -> None:
    notify_record(holders_of("complaints.close", c.site_id), c, kind="approval_due",
                  subject="investigation complete: QA review due", exclude=actor)


def returned(c: Complaint, actor: Any) -> None:
    notify_record([c.owner], c, kind="info", subject="returned to investigation by QA",
                  exclude=actor)


COMPLAINT_WORKFLOW = Workflow(Complaint, "complaints.complaint", [
    Transition("submit", S.DRAFT, S.OPEN, "complaints.submit", guards=(received,),
               effects=(assessment_due,), label="Submit to QA"),
    Transition("assess", S.OPEN, S.INVESTIGATION, "complaints.review", guards=(assessed,),
               not_by=("originator",), effects=(investigate,),
               label="Assess: start investigation"),
    Transition("complete", S.INVESTIGATION, S.QA_REVIEW, "complaints.work",
               guards=(assessed, answered), effects=(review_due,),
               label="Complete investigation"),
    Transition("return", S.QA_REVIEW, S.INVESTIGATION, "complaints.review", reason=True,
               effects=(returned,), label="Return to investigation"),
    Transition("close", S.QA_REVIEW, S.CLOSED, "complaints.close", sign="Closed",
               not_by=("owner", "originator"), guards=(answered,), updates=closing_time,
               label="Close"),
    Transition("cancel", (S.DRAFT, S.OPEN), S.CANCELLED, "complaints.cancel", reason=True,
               label="Cancel"),
])
