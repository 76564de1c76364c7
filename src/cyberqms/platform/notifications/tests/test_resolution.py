"""Notices that ask someone to act are resolved when that work is done: the record left
the state the notice waited on, was closed or cancelled, or was handed to someone else;
in the same transaction as the step that did it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.db import transaction

from cyberqms.platform.notifications.models import Notification
from cyberqms.platform.notifications.services import notify
from cyberqms.quality.deviations import services as deviations
from cyberqms.quality.deviations.tests.factories import a_site, deviation_in_state, draft_values
from cyberqms.quality.deviations.workflow import DEVIATION_WORKFLOW

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]
# After the personas' roles were granted (at the real time).
T0 = dt.datetime(2031, 3, 10, 9, 0, tzinfo=dt.UTC)
T1 = T0 + dt.timedelta(hours=2)


def _notices(**filters: Any) -> list[tuple[str, str, dt.datetime | None]]:
    return [(n.recipient.username, n.kind, n.resolved_at)
            for n in Notification.objects.filter(**filters).order_by("recipient__username")]


@pytest.fixture
def submitted(personas: dict[str, Any], django_capture_on_commit_callbacks: Capture) -> Any:
    """A deviation waiting for QA triage, owned by the process owner; QA was told
    (approval due), the owner too (assignment)."""
    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=True):
        return deviation_in_state(personas, "open", owner=personas["process_owner"])


def test_an_approval_due_is_resolved_when_the_record_leaves_the_awaited_state(
    personas: dict[str, Any], submitted: Any
) -> None:
    with time_machine.travel(T1, tick=False):
        DEVIATION_WORKFLOW.run(submitted, "triage", actor=personas["qa_approver"])
    assert _notices(kind="approval_due") == [
        ("qa_approver", "approval_due", T1), ("qa_manager", "approval_due", T1),
    ]


def test_the_resolution_rolls_back_with_the_step(
    personas: dict[str, Any], submitted: Any
) -> None:
    def failing_triage() -> None:
        with transaction.atomic():
            DEVIATION_WORKFLOW.run(submitted, "triage", actor=personas["qa_approver"])
            raise RuntimeError("the change around the step failed")

    with pytest.raises(RuntimeError):
        failing_triage()
    assert _notices(kind="approval_due") == [
        ("qa_approver", "approval_due", None), ("qa_manager", "approval_due", None),
    ]


def test_a_step_between_awaited_states_leaves_the_notice_open(
    personas: dict[str, Any], submitted: Any
) -> None:
    """The owner's "you own this" waits while the deviation is open in any state."""
    DEVIATION_WORKFLOW.run(submitted, "triage", actor=personas["qa_approver"])
    note = Notification.objects.get(subject=f"{submitted.number}: you own this new deviation")
    assert (note.recipient.username, note.awaited_states, note.resolved_at) == (
        "process_owner", ["draft", "open", "investigation", "qa_review", "approved"], None)


def test_an_assignment_is_resolved_when_the_record_is_cancelled(
    personas: dict[str, Any], submitted: Any
) -> None:
    with time_machine.travel(T1, tick=False):
        DEVIATION_WORKFLOW.run(submitted, "cancel", actor=personas["qa_manager"],
                               reason="Entered twice")
    assert _notices(kind="assignment") == [("process_owner", "assignment", T1)]


def test_a_notice_whose_step_is_taken_before_its_mail_leaves_is_resolved_and_not_mailed(
    personas: dict[str, Any], django_capture_on_commit_callbacks: Capture
) -> None:
    """The notice was written while the record waited; the step came before the e-mail
    task ran (here: in the same transaction)."""
    d = deviation_in_state(personas, "open")
    with time_machine.travel(T1, tick=False), django_capture_on_commit_callbacks(execute=True):
        notify([personas["qa_manager"]], kind="approval_due", subject="triage it",
               record_type="deviations.deviation", record_id=d.pk, awaits=("open",))
        DEVIATION_WORKFLOW.run(d, "triage", actor=personas["qa_approver"])
    assert _notices(subject="triage it") == [("qa_manager", "approval_due", T1)]
    # No e-mail for it; the owner's assignment that the step itself sent goes out.
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["author@x.test"], f"[cyberqms] {d.number}: triaged: investigate it")]


def test_a_handover_resolves_the_former_owners_notice(
    personas: dict[str, Any], django_capture_on_commit_callbacks: Capture
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        d = deviations.deviation_create(actor=personas["author"], site=a_site(),
                                        owner=personas["process_owner"], **draft_values())
    with time_machine.travel(T1, tick=False), django_capture_on_commit_callbacks(execute=True):
        deviations.deviation_update(d, actor=personas["author"],
                                    changes={"owner": personas["qa_manager"]})
    assert [(n.recipient.username, n.subject, n.resolved_at)
            for n in Notification.objects.order_by("pk")] == [
        ("process_owner", f"{d.number}: you own this new deviation", T1),
        ("qa_manager", f"{d.number}: you are now the owner of this deviation", None),
    ]


def test_a_capa_action_handover_resolves_the_former_owners_notice(
    personas: dict[str, Any], django_capture_on_commit_callbacks: Capture
) -> None:
    from cyberqms.quality.capa import services as capas
    from cyberqms.quality.capa.tests.factories import make_capa

    capa = make_capa(personas)
    with django_capture_on_commit_callbacks(execute=True):
        action = capas.capa_action_add(
            capa, actor=personas["author"], kind="corrective", description="Replace the seal",
            owner=personas["process_owner"], due_date=capa.due_date)
    with time_machine.travel(T1, tick=False), django_capture_on_commit_callbacks(execute=True):
        capas.capa_action_update(action, actor=personas["author"],
                                 changes={"owner": personas["qa_manager"]})
    assert _notices(kind="assignment", record_id=str(capa.pk)) == [
        ("process_owner", "assignment", T1), ("qa_manager", "assignment", None),
    ]


def test_an_alert_notice_is_resolved_when_the_alert_is_closed(
    personas: dict[str, Any], django_capture_on_commit_callbacks: Capture
) -> None:
    from cyberqms.security.monitoring.notices import alert_raised
    from cyberqms.security.monitoring.services import alert_transition

    from .producers import an_alert

    alert = an_alert()
    with django_capture_on_commit_callbacks(execute=True):
        alert_raised(alert)
    with time_machine.travel(T1, tick=False):
        alert_transition(alert, "false_positive", actor=personas["it_security"],
                         reason="Penetration test announced")
    assert _notices(record_type="monitoring.alert") == [
        ("it_security", "alert", T1), ("qa_manager", "alert", T1),
    ]


def test_a_capa_action_notice_is_resolved_when_the_action_is_cancelled(
    personas: dict[str, Any], django_capture_on_commit_callbacks: Capture
) -> None:
    from cyberqms.quality.capa import services as capas
    from cyberqms.quality.capa.tests.factories import make_capa

    capa = make_capa(personas)
    with django_capture_on_commit_callbacks(execute=True):
        action = capas.capa_action_add(
            capa, actor=personas["author"], kind="corrective", description="Replace the seal",
            owner=personas["process_owner"], due_date=capa.due_date)
    with time_machine.travel(T1, tick=False):
        capas.capa_action_cancel(action, actor=personas["author"], reason="Seal replaced under CC")
    assert _notices(kind="assignment", subject_key=f"capa.action:{action.pk}") == [
        ("process_owner", "assignment", T1)]


def test_reading_a_notice_that_asks_for_no_work_resolves_it(
    personas: dict[str, Any], django_capture_on_commit_callbacks: Capture
) -> None:
    from cyberqms.platform.notifications.services import notification_mark_read

    with django_capture_on_commit_callbacks(execute=True):
        notify([personas["author"]], kind="info", subject="The review meeting moved to Friday")
    with time_machine.travel(T1, tick=False):
        notification_mark_read(Notification.objects.get())
    assert _notices() == [("author", "info", T1)]


def test_reading_a_notice_that_awaits_work_leaves_it_open(
    personas: dict[str, Any], submitted: Any
) -> None:
    from cyberqms.platform.notifications.services import notifications_mark_all_read

    notifications_mark_all_read(personas["qa_manager"])
    assert _notices(recipient=personas["qa_manager"]) == [("qa_manager", "approval_due", None)]


def test_reassigning_an_alert_resolves_the_former_assignees_notice(
    personas: dict[str, Any], django_capture_on_commit_callbacks: Capture
) -> None:
    from cyberqms.security.monitoring.services import alert_assign

    from .producers import an_alert

    alert = an_alert()
    with django_capture_on_commit_callbacks(execute=True):
        alert_assign(alert, actor=personas["qa_manager"], assignee=personas["it_security"])
    with time_machine.travel(T1, tick=False), django_capture_on_commit_callbacks(execute=True):
        alert_assign(alert, actor=personas["it_security"], assignee=personas["qa_manager"])
    assert _notices(kind="assignment", record_type="monitoring.alert") == [
        ("it_security", "assignment", T1), ("qa_manager", "assignment", None)]
