"""Change-control services: numbering, risk score, validation naming fields, edits by
state with reasons, tasks in the change's history, notifications, list filters (CYB-06,
P11-06, P11-08, AL-03)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cyberqms.platform.accounts.tests.factories import SiteFactory
from cyberqms.platform.core.access import AccessDenied
from cyberqms.platform.kit.family_pages import visible_records
from cyberqms.platform.notifications.models import Notification
from cyberqms.platform.trail.models import AuditEntry
from cyberqms.platform.trail.queries import record_history

from .. import services
from ..enums import ChangeState, RiskLevel, TaskState, risk_level_of
from ..family import CHANGES, ChangeFilter
from ..workflow import CHANGE_WORKFLOW
from .factories import change_draft, change_in, site

pytestmark = pytest.mark.django_db
S = ChangeState
TODAY = timezone.localdate


def _errors(call: Any, *args: Any, **kwargs: Any) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as refused:
        call(*args, **kwargs)
    return refused.value.message_dict


def test_create_numbers_and_audits(personas: dict[str, Any]) -> None:
    first = change_draft(personas["author"])
    second = change_draft(personas["author"])
    year = timezone.now().year
    assert (first.number, second.number) == (f"CC-{year}-0001", f"CC-{year}-0002")
    assert (first.state, first.owner, first.originator) == (
        S.DRAFT, personas["author"], personas["author"])
    entry = AuditEntry.objects.get(object_type="changes.change", object_id=str(first.pk))
    assert entry.action == "changes.change.create"
    assert entry.changes["risk_score"] == [None, 12]


@pytest.mark.parametrize(("ratings", "score", "level"), [
    ((1, 1, 1), 1, RiskLevel.LOW),
    ((3, 2, 3), 18, RiskLevel.LOW),
    ((4, 5, 1), 20, RiskLevel.MEDIUM),
    ((3, 4, 4), 48, RiskLevel.MEDIUM),
    ((5, 4, 3), 60, RiskLevel.HIGH),
    ((5, 5, 5), 125, RiskLevel.HIGH),
])
def test_risk_score_is_s_times_p_times_d(
    ratings: tuple[int, int, int], score: int, level: str, personas: dict[str, Any]
) -> None:
    s, p, d = ratings
    change = change_draft(personas["author"], severity=s, probability=p, detectability=d)
    change.refresh_from_db()
    assert (change.risk_score, change.risk_level) == (score, level)


def test_risk_level_thresholds() -> None:
    assert [risk_level_of(n) for n in (None, 19, 20, 59, 60)] == [
        "", "low", "medium", "medium", "high"]


def test_partial_ratings_leave_risk_unscored(personas: dict[str, Any]) -> None:
    change = change_draft(personas["author"], assessed=False, severity=5)
    assert (change.risk_score, change.risk_level) == (None, "")


def test_validation_names_the_fields(personas: dict[str, Any]) -> None:
    author = personas["author"]
    where = site()
    base = {"actor": author, "site": where, "title": "T", "change_type": "process",
            "justification": "J"}
    assert _errors(services.change_create, **{**base, "title": "  "}) == {
        "title": ["Give the change a title."]}
    assert _errors(services.change_create, **{**base, "justification": ""}) == {
        "justification": ["Say why the change is needed."]}
    assert _errors(services.change_create, **{**base, "change_type": "magic"}) == {
        "change_type": ["Choose one of equipment, process, facility, computerized_system, "
                        "software, supplier, document, other."]}
    assert _errors(services.change_create, **base, severity=6, probability=0,
                   detectability="x") == {
        "severity": ["Ensure this value is less than or equal to 5."],
        "probability": ["Ensure this value is greater than or equal to 1."],
        "detectability": ["“x” value must be an integer."]}
    yesterday = TODAY() - dt.timedelta(days=1)
    assert _errors(services.change_create, **base, due_date=yesterday) == {
        "due_date": [f"The due date cannot be before {TODAY().isoformat()}."]}
    planned = TODAY() + dt.timedelta(days=10)
    assert _errors(services.change_create, **base, planned_implementation_date=planned,
                   due_date=planned - dt.timedelta(days=1)) == {
        "due_date": ["The due date cannot be before the planned implementation date "
                     f"({planned.isoformat()})."]}
    assert _errors(services.change_create, **base, new_accounts="maybe") == {
        "new_accounts": ["“maybe” value must be either True or False."]}
    assert _errors(services.change_create, **base, state="closed") == {
        "state": ["Not a field entered at creation."]}
    assert _errors(services.change_create, **base, owner=personas["auditor"]) == {
        "owner": ["Auditor cannot work on changes at BSL."]}


def test_late_entry_needs_a_reason_al_03(personas: dict[str, Any]) -> None:
    old = timezone.now() - dt.timedelta(days=10)
    errors = _errors(services.change_create, actor=personas["author"], site=site(),
                     title="T", change_type="process", justification="J", event_at=old)
    assert list(errors) == ["late_entry_reason"]
    change = services.change_create(
        actor=personas["author"], site=site(), title="T", change_type="process",
        justification="J", event_at=old, late_entry_reason="Found in the archive",
    )
    assert (change.late_entry, change.late_entry_reason) == (True, "Found in the archive")


def test_who_may_create(personas: dict[str, Any]) -> None:
    for name in ("auditor", "outsider", "admin"):
        with pytest.raises(AccessDenied):
            change_draft(personas[name])


def test_draft_edits_need_no_reason_later_updates_do_p11_08(personas: dict[str, Any]) -> None:
    change = change_draft(personas["author"])
    services.change_update(change, actor=personas["author"], changes={"severity": 5})
    assert (change.risk_score, change.risk_level) == (20, RiskLevel.MEDIUM)
    CHANGE_WORKFLOW.run(change, "submit", actor=personas["author"])
    assert _errors(services.change_update, change, actor=personas["qa_approver"],
                   changes={"probability": 4}) == {
        "reason": ["Say why the change record is updated."]}
    services.change_update(change, actor=personas["qa_approver"], changes={"probability": 4},
                           reason="Vendor history of field failures")
    assert change.risk_score == 40
    entries = AuditEntry.objects.filter(
        object_type="changes.change", object_id=str(change.pk)).order_by("seq")
    assert [e.action for e in entries] == [
        "changes.change.create", "changes.change.edit", "changes.change.submit",
        "changes.change.update"]
    last = entries.last()
    assert last is not None
    assert last.changes["probability"] == [2, 4]
    assert last.reason == "Vendor history of field failures"
    assert _errors(services.change_update, change, actor=personas["qa_approver"],
                   changes={"title": "New"}, reason="r") == {
        "title": ["This field cannot be changed while the change is impact assessment."]}


def test_closed_change_cannot_be_edited(personas: dict[str, Any]) -> None:
    change = change_in(S.CANCELLED, personas)
    year = timezone.now().year
    assert _errors(services.change_update, change, actor=personas["author"],
                   changes={"title": "x"}) == {
        "__all__": [f"CC-{year}-0001 is cancelled: it cannot be changed."]}


def test_tasks_are_audited_and_shown_in_the_change_history_p11_06(
    personas: dict[str, Any],
) -> None:
    change = change_in(S.IMPLEMENTATION, personas)
    task = services.change_task_add(change, actor=personas["author"], description="Patch PLC",
                                    owner=personas["process_owner"],
                                    due_date=TODAY() + dt.timedelta(days=3))
    services.change_task_complete(task, actor=personas["process_owner"], note="Done at 14:00")
    assert (task.state, task.note) == (TaskState.DONE, "Done at 14:00")
    assert task.completed_at is not None
    history = record_history("changes.change", str(change.pk))
    assert [(e.object_type, e.action) for e in history][:2] == [
        ("changes.task", "changes.task.complete"), ("changes.task", "changes.task.add")]
    assert _errors(services.change_task_complete, task, actor=personas["author"]) == {
        "__all__": ["This task is already done."]}


def test_task_validation_and_timing(personas: dict[str, Any]) -> None:
    change = change_in(S.APPROVED, personas)
    assert _errors(services.change_task_add, change, actor=personas["author"],
                   description=" ", owner=personas["auditor"],
                   due_date=TODAY() - dt.timedelta(days=1)) == {
        "description": ["Describe the task."],
        "owner": ["The owner must be someone who works on changes at this site."],
        "due_date": [f"The due date cannot be before {TODAY().isoformat()}."]}
    task = services.change_task_add(change, actor=personas["author"], description="Backup",
                                    owner=personas["author"])
    assert _errors(services.change_task_complete, task, actor=personas["author"]) == {
        "__all__": ["Tasks are completed during implementation; this change is approved."]}
    assert _errors(services.change_task_cancel, task, actor=personas["author"],
                   reason="") == {"reason": ["Say why the task is cancelled."]}
    with pytest.raises(AccessDenied):
        services.change_task_add(change, actor=personas["auditor"], description="x",
                                 owner=personas["author"])
    review = change_in(S.REVIEW, personas)
    year = timezone.now().year
    assert _errors(services.change_task_add, review, actor=personas["author"],
                   description="late", owner=personas["author"]) == {
        "__all__": [f"{review.number} is post-implementation review: it cannot be changed."]}
    assert review.number.startswith(f"CC-{year}-")


def test_notifications_qa_security_and_task_owner(
    personas: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        change = change_in(S.QA_APPROVED, personas, cyber=True)
        services.change_task_add(change, actor=personas["author"], description="Firewall rule",
                                 owner=personas["system_owner"])
    rows = Notification.objects.filter(record_type="changes.change", record_id=str(change.pk))
    got = sorted((n.recipient.username, n.kind) for n in rows)
    assert got == [
        ("it_security", "approval_due"),
        ("qa_approver", "approval_due"),
        ("qa_manager", "approval_due"),
        ("system_owner", "assignment"),
    ]
    security = rows.get(recipient=personas["it_security"])
    assert security.subject == f"{change.number}: needs IT security approval"
    assert security.url == f"/changes/{change.pk}/"


def test_no_security_notification_without_cyber_impact(
    personas: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        change = change_in(S.QA_APPROVED, personas, cyber=False)
    rows = Notification.objects.filter(record_type="changes.change", record_id=str(change.pk))
    assert sorted(n.recipient.username for n in rows) == ["qa_approver", "qa_manager"]


def test_list_filters_and_site_scope(personas: dict[str, Any], make_user: Any) -> None:
    author, qa = personas["author"], personas["qa_manager"]
    basel = site()
    zurich = SiteFactory.create(code="ZRH", name="Zurich")
    cyber = change_draft(author, cyber=True, title="Firewall for line 3")
    plain = change_draft(author, where=zurich, title="SOP update", change_type="document",
                         severity=5, probability=5, detectability=5,
                         due_date=TODAY() + dt.timedelta(days=1))
    cancelled = change_in(S.CANCELLED, personas)
    theirs = change_draft(personas["process_owner"], title="Mixer motor")

    def filtered(actor: Any, **filters: str) -> list[str]:
        found = ChangeFilter({"sort": "number", **filters}, visible_records(CHANGES, actor),
                             request=SimpleNamespace(user=actor))
        assert not found.errors
        return [c.number for c in found.qs]

    def numbers(**filters: str) -> list[str]:
        return filtered(qa, **filters)

    everything = sorted(c.number for c in (cyber, plain, cancelled, theirs))
    assert numbers() == everything
    assert numbers(cyber_impact="true") == [cyber.number]
    assert numbers(risk_level="high") == [plain.number]
    assert numbers(change_type="document") == [plain.number]
    assert numbers(site="ZRH") == [plain.number]
    assert numbers(state="cancelled") == [cancelled.number]
    assert numbers(state="active") == sorted([cyber.number, plain.number, theirs.number])
    assert numbers(q="firewall") == [cyber.number]
    assert numbers(q=plain.number) == [plain.number]
    assert filtered(personas["process_owner"], mine="true") == [theirs.number]
    from ..models import Change

    Change.objects.filter(pk=plain.pk).update(due_date=TODAY() - dt.timedelta(days=1))
    assert numbers(overdue="true") == [plain.number]
    assert numbers(sort="-risk")[0] == plain.number
    # a reviewer granted at Basel only sees Basel's changes
    local = make_user("basel_qa", "qa_reviewer", site=basel)
    assert filtered(local) == sorted([cyber.number, cancelled.number, theirs.number])
    assert filtered(personas["outsider"]) == []
