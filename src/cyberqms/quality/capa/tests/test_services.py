"""CAPA services: creation rules (AL-03 late entry, due dates, source links), edits by
state, actions with owners and evidence, overdue tracking, notifications, KPI figures."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from cyberqms.platform.core.models import RecordLink
from cyberqms.platform.kit.family_pages import visible_records
from cyberqms.platform.kit.workflow import GuardFailed, SegregationOfDuties
from cyberqms.platform.notifications.models import Notification
from cyberqms.platform.trail.queries import record_history
from cyberqms.quality.capa import services
from cyberqms.quality.capa.enums import ActionState, CapaState
from cyberqms.quality.capa.family import CAPA, CapaFilter
from cyberqms.quality.capa.queries import closure_days, overdue_actions
from cyberqms.quality.capa.workflow import CAPA_WORKFLOW

from .factories import capa_in_state, make_capa, prepare_signers, site

pytestmark = pytest.mark.django_db

S = CapaState
TODAY = timezone.localdate


@pytest.fixture
def people(personas: dict[str, Any]) -> dict[str, Any]:
    return prepare_signers(personas)


def _errors(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return exc.value.message_dict


# --- create ----------------------------------------------------------------------------------


def test_create_numbers_and_audits(people: dict[str, Any]) -> None:
    first = make_capa(people)
    second = make_capa(people)
    year = timezone.now().year
    assert (first.number, second.number) == (f"CAPA-{year}-0001", f"CAPA-{year}-0002")
    assert (first.state, first.originator, first.source) == (S.DRAFT, people["author"],
                                                             "deviation")
    entry = record_history("capa.capa", str(first.pk)).get()
    assert entry.action == "capa.capa.create"


def test_create_refuses_a_due_date_before_today(people: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as refused:
        make_capa(people, due_date=TODAY() - dt.timedelta(days=1))
    assert list(_errors(refused)) == ["due_date"]


def test_late_entry_needs_a_reason_al_03(people: dict[str, Any]) -> None:
    old = timezone.now() - dt.timedelta(days=10)
    with pytest.raises(ValidationError) as refused:
        make_capa(people, event_at=old)
    assert list(_errors(refused)) == ["late_entry_reason"]
    capa = make_capa(people, event_at=old, late_entry_reason="Found in the audit")
    assert (capa.late_entry, capa.late_entry_reason) == (True, "Found in the audit")


def test_create_refuses_unknown_source_and_owner_without_rights(people: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as refused:
        make_capa(people, source="rumour")
    assert list(_errors(refused)) == ["source"]
    with pytest.raises(ValidationError) as refused:
        make_capa(people, owner=people["auditor"])
    assert list(_errors(refused)) == ["owner"]


def test_source_record_number_is_linked_as_spawned(people: dict[str, Any]) -> None:
    origin = make_capa(people, source="other")
    capa = make_capa(people, source="other", source_reference=origin.number.lower())
    assert capa.source_reference == origin.number
    link = RecordLink.objects.get()
    assert (link.from_id, link.to_id, link.relation) == (str(origin.pk), str(capa.pk),
                                                         "spawned")
    assert [e.action for e in record_history("capa.capa", str(capa.pk))] == [
        "core.link.add", "capa.capa.create"]


def test_unknown_record_number_is_refused_other_identifiers_kept(people: dict[str, Any]) -> None:
    year = timezone.now().year
    with pytest.raises(ValidationError) as refused:
        make_capa(people, source_reference=f"CAPA-{year}-9999")
    assert _errors(refused) == {"source_reference": [f"No record CAPA-{year}-9999 that you can see."]}
    capa = make_capa(people, source="security_incident", source_reference="INC-42")
    assert capa.source_reference == "INC-42"
    assert RecordLink.objects.count() == 0


# --- update ----------------------------------------------------------------------------------


def test_draft_edits_need_no_reason_later_ones_do(people: dict[str, Any]) -> None:
    capa = make_capa(people)
    services.capa_update(capa, actor=people["author"], changes={"root_cause": "Worn seal"})
    capa = CAPA_WORKFLOW.run(capa, "submit", actor=people["author"])
    with pytest.raises(ValidationError) as refused:
        services.capa_update(capa, actor=people["author"], changes={"root_cause": "Seal"})
    assert list(_errors(refused)) == ["reason"]
    services.capa_update(capa, actor=people["author"], changes={"root_cause": "Seal"},
                         reason="QA asked")
    with pytest.raises(ValidationError) as refused:
        services.capa_update(capa, actor=people["author"], changes={"due_date": TODAY()},
                             reason="x")
    assert _errors(refused) == {"due_date": [
        "This field cannot be changed while the CAPA is plan review."]}
    actions = [e.action for e in record_history("capa.capa", str(capa.pk))]
    assert actions == ["capa.capa.update", "capa.capa.submit", "capa.capa.edit",
                       "capa.capa.create"]


def test_effectiveness_check_cannot_be_due_before_the_capa(people: dict[str, Any]) -> None:
    capa = make_capa(people, due_date=TODAY() + dt.timedelta(days=30))
    with pytest.raises(ValidationError) as refused:
        services.capa_effectiveness_plan(capa, actor=people["author"], criteria="No recurrence",
                                         due=TODAY() + dt.timedelta(days=10))
    assert list(_errors(refused)) == ["effectiveness_due"]


# --- actions ---------------------------------------------------------------------------------


def test_action_owner_is_notified_and_actions_show_in_the_history(
    people: dict[str, Any], django_capture_on_commit_callbacks: Any,
) -> None:
    capa = make_capa(people)
    with django_capture_on_commit_callbacks(execute=True):
        action = services.capa_action_add(
            capa, actor=people["author"], kind="corrective", description="Replace seal",
            owner=people["process_owner"], due_date=TODAY() + dt.timedelta(days=3))
    note = Notification.objects.get()
    assert (note.recipient, note.kind, note.record_number) == (
        people["process_owner"], "assignment", capa.number)
    history = [(e.object_type, e.action) for e in record_history("capa.capa", str(capa.pk))]
    assert history == [("capa.action", "capa.action.add"), ("capa.capa", "capa.capa.create")]
    assert action.state == ActionState.OPEN


def test_submitting_tells_qa_approvers(
    people: dict[str, Any], django_capture_on_commit_callbacks: Any,
) -> None:
    capa = make_capa(people)
    with django_capture_on_commit_callbacks(execute=True):
        CAPA_WORKFLOW.run(capa, "submit", actor=people["author"])
    told = sorted(Notification.objects.filter(kind="approval_due")
                  .values_list("recipient__username", flat=True))
    assert told == ["qa_approver", "qa_manager"]


def test_action_completion_rules(people: dict[str, Any]) -> None:
    capa = capa_in_state(S.IMPLEMENTATION, people)
    action = capa.actions.first()
    assert action is not None
    with pytest.raises(SegregationOfDuties):
        services.capa_action_complete(action, actor=people["process_owner"], evidence="x")
    with pytest.raises(ValidationError) as refused:
        services.capa_action_complete(action, actor=people["author"], evidence="  ")
    assert list(_errors(refused)) == ["evidence"]
    done = services.capa_action_complete(action, actor=people["author"], evidence="WO-9",
                                         note="on time")
    assert (done.state, done.completed_by, done.evidence) == (ActionState.DONE,
                                                              people["author"], "WO-9")
    with pytest.raises(GuardFailed):
        services.capa_action_complete(action, actor=people["author"], evidence="again")


def test_actions_are_completed_only_during_implementation(people: dict[str, Any]) -> None:
    capa = capa_in_state(S.OPEN, people)
    action = capa.actions.first()
    assert action is not None
    with pytest.raises(GuardFailed) as refused:
        services.capa_action_complete(action, actor=people["author"], evidence="WO")
    assert refused.value.text == "Actions are completed during the implementation."


def test_action_cancel_needs_a_reason_and_an_owner_may_be_reassigned(
    people: dict[str, Any],
) -> None:
    capa = capa_in_state(S.IMPLEMENTATION, people)
    action = capa.actions.first()
    assert action is not None
    with pytest.raises(ValidationError) as refused:
        services.capa_action_cancel(action, actor=people["author"], reason="")
    assert list(_errors(refused)) == ["reason"]
    with pytest.raises(ValidationError) as refused:
        services.capa_action_update(action, actor=people["author"],
                                    changes={"owner": people["process_owner"]})
    assert list(_errors(refused)) == ["reason"]
    moved = services.capa_action_update(action, actor=people["author"],
                                        changes={"owner": people["process_owner"]},
                                        reason="Engineering owns seals")
    assert moved.owner == people["process_owner"]
    cancelled = services.capa_action_cancel(moved, actor=people["author"], reason="Obsolete")
    assert (cancelled.state, cancelled.cancel_reason) == (ActionState.CANCELLED, "Obsolete")


def test_action_due_date_cannot_be_in_the_past(people: dict[str, Any]) -> None:
    capa = make_capa(people)
    with pytest.raises(ValidationError) as refused:
        services.capa_action_add(capa, actor=people["author"], kind="preventive",
                                 description="x", owner=people["author"],
                                 due_date=TODAY() - dt.timedelta(days=1))
    assert list(_errors(refused)) == ["due_date"]


# --- overdue and KPI ---------------------------------------------------------------------------


def listed(actor: Any, **filters: str) -> list[int]:
    """The CAPA list's rows as `actor` sees them with `filters` (the page's and API's
    filters: the family's FilterSet on the kit's visible records)."""
    found = CapaFilter(filters, visible_records(CAPA, actor), request=SimpleNamespace(user=actor))
    assert not found.errors
    return [c.pk for c in found.qs]


def test_overdue_actions_and_capas(people: dict[str, Any]) -> None:
    capa = capa_in_state(S.IMPLEMENTATION, people)
    later = TODAY() + dt.timedelta(days=21)  # past the actions' due date (20 days)
    assert [a.capa_id for a in overdue_actions(today=later)] == [capa.pk, capa.pk]
    assert list(overdue_actions()) == []
    assert [a.is_overdue(later) for a in capa.actions.all()] == [True, True]
    first = capa.actions.first()
    assert first is not None
    services.capa_action_complete(first, actor=people["author"], evidence="WO")
    assert len(overdue_actions(today=later)) == 1
    assert listed(people["qa_manager"], overdue="true") == []
    with time_machine.travel(later, tick=False):
        assert listed(people["qa_manager"], overdue="true") == [capa.pk]
    closed = capa_in_state(S.CLOSED, people)
    assert closed.pk not in {a.capa_id for a in overdue_actions(today=later)}


def test_list_filters(people: dict[str, Any]) -> None:
    cyber = make_capa(people, cyber_related=True, source="security_incident",
                      title="Ransomware on LIMS", owner=people["process_owner"])
    plain = make_capa(people, source="complaint")
    qa = people["qa_manager"]
    assert listed(qa, cyber_related="true") == [cyber.pk]
    assert listed(qa, source="complaint") == [plain.pk]
    assert listed(qa, q="ransom") == [cyber.pk]
    assert listed(people["process_owner"], mine="true") == [cyber.pk]
    assert listed(qa, sort="number") == [cyber.pk, plain.pk]
    assert listed(qa, state="open") == []
    assert listed(qa, state="active", sort="number") == [cyber.pk, plain.pk]


def test_closure_days(people: dict[str, Any]) -> None:
    capa = capa_in_state(S.CLOSED, people)
    assert closure_days() == [(capa.number, 0.0)]
    assert closure_days(site=site()) == [(capa.number, 0.0)]
