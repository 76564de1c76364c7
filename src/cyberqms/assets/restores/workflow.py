"""The restore test's table (docs/workflows/): draft → IT review → reviewed, e-signed
"Restore test reviewed" by IT security or the QA manager, never by the person who
performed the restore. cyberqms's own restore tests start in IT review (it performed them:
`recorded`). A failed test, or one slower than the system's RTO, is reviewed only once its
follow-up is written."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from cyberqms.platform.accounts.queries import holders_of
from cyberqms.platform.kit.words import listing, missing
from cyberqms.platform.kit.workflow import Problem, Transition, Workflow
from cyberqms.platform.notifications.services import notify_record

from .enums import Outcome, RestoreTestState
from .models import RestoreTest

S = RestoreTestState
TYPE = "restores.restoretest"


def measured(test: RestoreTest, actor: Any) -> Problem | None:
    absent = missing((("the result", test.outcome),
                      ("the time to restore",
                       test.time_to_restore if test.outcome == Outcome.PASSED else "-")))
    if absent:
        return Problem(f"Record {listing(absent)} first.",
                       field="outcome" if not test.outcome else "time_to_restore")
    return None


def followed_up(test: RestoreTest, actor: Any) -> Problem | None:
    if test.follow_up.strip():
        return None
    if test.outcome == Outcome.FAILED:
        return Problem("Write the follow-up of the failed restore first (the deviation or "
                       "CAPA that makes it work).", field="follow_up")
    rto = test.rto
    if rto is not None and test.rto_met is False:
        return Problem(f"The restore took longer than the system's RTO of "
                       f"{rto.total_seconds() / 3600:g} hours: write the follow-up first.",
                       field="follow_up")
    return None


def recorded_by_hand(test: RestoreTest, actor: Any) -> Problem | None:
    if test.backup_id is not None:
        return Problem("cyberqms recorded this test as it ran it: review it, or test the "
                       "restore again.")
    return None


def closing(test: RestoreTest, actor: Any) -> dict[str, Any]:
    return {"closed_at": timezone.now()}


def review_due(test: RestoreTest, actor: Any) -> None:
    people = holders_of("restore_tests.approve", test.site_id)
    notify_record(people, test, kind="approval_due",
                  subject=f"restore test {test.get_outcome_display().lower()}: review it",
                  exclude=actor)


RESTORE_TEST_WORKFLOW = Workflow(RestoreTest, TYPE, [
    Transition("submit", S.DRAFT, S.REVIEW, "restore_tests.work", guards=(measured,),
               effects=(review_due,), label="Send for IT review"),
    Transition("recorded", S.DRAFT, S.REVIEW, "restore_tests.work", system=True,
               guards=(measured,), effects=(review_due,),
               label="Recorded by cyberqms"),
    Transition("return", S.REVIEW, S.DRAFT, "restore_tests.approve", reason=True,
               only=recorded_by_hand, task=False, label="Return to the author"),
    Transition("review", S.REVIEW, S.REVIEWED, "restore_tests.approve",
               sign="Restore test reviewed", not_by=("performed_by",),
               guards=(measured, followed_up), updates=closing, label="Review and sign"),
    Transition("cancel", S.DRAFT, S.CANCELLED, "restore_tests.work", reason=True,
               label="Cancel"),
])
