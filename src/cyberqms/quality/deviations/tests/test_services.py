"""Creating and editing deviations: field validation, late entry (AL-03), editable fields
by state, audit actions and reasons, notifications, links to security records and CAPA."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cyberqms.platform.core.access import AccessDenied
from cyberqms.platform.core.models import RecordLink
from cyberqms.platform.kit.record_parts import RecordClosed, links_of
from cyberqms.platform.notifications.models import Notification
from cyberqms.platform.trail.models import AuditEntry
from cyberqms.quality.deviations import services
from cyberqms.quality.deviations.queries import linked_capas
from cyberqms.quality.deviations.workflow import DEVIATION_WORKFLOW

from .factories import a_site, deviation_in_state, draft_values, security_incident

pytestmark = pytest.mark.django_db


def _errors(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return dict(exc.value.message_dict)


def test_create_numbers_and_audits_a_draft(people: dict[str, Any], site: Any) -> None:
    author = people["author"]
    d = services.deviation_create(actor=author, site=site, owner=author, **draft_values())
    year = timezone.now().year
    assert (d.number, d.state, d.originator, d.late_entry) == (
        f"DEV-{year}-0001", "draft", author, False)
    second = services.deviation_create(actor=author, site=site, owner=author, **draft_values())
    assert second.number == f"DEV-{year}-0002"
    entry = AuditEntry.objects.get(object_type="deviations.deviation", object_id=str(d.pk))
    assert entry.action == "deviations.deviation.create"


def test_create_refuses_missing_and_invalid_fields(people: dict[str, Any], site: Any) -> None:
    author = people["author"]
    with pytest.raises(ValidationError) as exc:
        services.deviation_create(actor=author, site=site, owner=author,
                                  **draft_values(title="  ", classification="huge"))
    assert _errors(exc) == {
        "title": ["Give the deviation a title."],
        "classification": ["Choose one of minor, major, critical."],
    }
    with pytest.raises(ValidationError) as exc:
        services.deviation_create(actor=author, site=site, owner=None, **draft_values())
    assert _errors(exc) == {"owner": ["Name the owner of the deviation."]}
    with pytest.raises(ValidationError) as exc:
        services.deviation_create(actor=author, site=None, owner=author, **draft_values())
    assert _errors(exc) == {"site": ["Choose the site."]}


def test_owner_must_be_able_to_work_on_deviations(people: dict[str, Any], site: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        services.deviation_create(actor=people["author"], site=site, owner=people["auditor"],
                                  **draft_values())
    assert _errors(exc) == {"owner": [f"Auditor cannot work on deviations at {site.code}."]}


def test_due_date_before_today_is_refused(people: dict[str, Any], site: Any) -> None:
    author = people["author"]
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    with pytest.raises(ValidationError) as exc:
        services.deviation_create(actor=author, site=site, owner=author,
                                  **draft_values(due_date=yesterday))
    assert _errors(exc) == {
        "due_date": [f"The due date cannot be before {timezone.localdate().isoformat()}."]
    }


def test_late_entry_needs_a_reason_al_03(people: dict[str, Any], site: Any) -> None:
    author = people["author"]
    old = timezone.now() - dt.timedelta(days=5)
    with pytest.raises(ValidationError) as exc:
        services.deviation_create(actor=author, site=site, owner=author,
                                  **draft_values(event_at=old))
    assert _errors(exc) == {"late_entry_reason": [
        "The event is more than 72 hours old: say why it is recorded late."
    ]}
    d = services.deviation_create(actor=author, site=site, owner=author, **draft_values(
        event_at=old, late_entry_reason="Found during the monthly review"))
    assert (d.late_entry, d.late_entry_reason) == (True, "Found during the monthly review")
    with pytest.raises(ValidationError) as exc:
        services.deviation_create(actor=author, site=site, owner=author, **draft_values(
            event_at=timezone.now() + dt.timedelta(hours=2)))
    assert _errors(exc) == {"event_at": ["The event cannot be in the future."]}


def test_security_reference_needs_the_cyber_flag(people: dict[str, Any], site: Any) -> None:
    author = people["author"]
    with pytest.raises(ValidationError) as exc:
        services.deviation_create(actor=author, site=site, owner=author,
                                  **draft_values(security_reference="ALERT-2026-0042"))
    assert _errors(exc) == {"security_reference": [
        "A security alert or incident is named: mark the deviation cyber-related, or clear "
        "the reference."
    ]}


def test_department_must_belong_to_the_site(people: dict[str, Any], site: Any) -> None:
    from cyberqms.platform.accounts.models import Department

    elsewhere = Department.objects.create(site=a_site("BSL"), code="QC", name="QC Basel")
    with pytest.raises(ValidationError) as exc:
        services.deviation_create(actor=people["author"], site=site, owner=people["author"],
                                  department=elsewhere, **draft_values())
    assert _errors(exc) == {"department": ["The department belongs to another site."]}


def test_roles_that_may_not_create_are_refused(people: dict[str, Any], site: Any) -> None:
    for name in ("auditor", "outsider", "admin"):
        with pytest.raises(AccessDenied):
            services.deviation_create(actor=people[name], site=site, owner=people["author"],
                                      **draft_values())


def test_draft_edits_need_no_reason_later_updates_do(people: dict[str, Any]) -> None:
    author = people["author"]
    d = deviation_in_state(people, "draft")
    services.deviation_update(d, actor=author, changes={"title": "Cold room 3 excursion"})
    DEVIATION_WORKFLOW.run(d, "submit", actor=author)
    with pytest.raises(ValidationError) as exc:
        services.deviation_update(d, actor=author, changes={"immediate_actions": "Quarantine"})
    assert _errors(exc) == {"reason": ["Say why the deviation record is updated."]}
    services.deviation_update(d, actor=author, changes={"immediate_actions": "Quarantine"},
                              reason="Batch quarantined")
    entries = [(e.action, e.reason) for e in AuditEntry.objects.filter(
        object_type="deviations.deviation", object_id=str(d.pk)).order_by("seq")]
    assert entries == [
        ("deviations.deviation.create", ""), ("deviations.deviation.edit", ""),
        ("deviations.deviation.submit", ""),
        ("deviations.deviation.update", "Batch quarantined"),
    ]
    d.refresh_from_db()
    assert (d.title, d.immediate_actions) == ("Cold room 3 excursion", "Quarantine")


def test_only_fields_of_the_current_state_change(people: dict[str, Any]) -> None:
    author = people["author"]
    d = deviation_in_state(people, "open")
    with pytest.raises(ValidationError) as exc:
        services.deviation_update(d, actor=author, reason="x", changes={
            "title": "New", "root_cause": "Why"})
    assert _errors(exc) == {
        "root_cause": ["This field cannot be changed while the deviation is open (qa triage)."],
        "title": ["This field cannot be changed while the deviation is open (qa triage)."],
    }
    review = deviation_in_state(people, "qa_review")
    with pytest.raises(ValidationError) as exc:  # QA comments are QA's
        services.deviation_update(review, actor=author, reason="x",
                                  changes={"qa_comments": "fine"})
    assert list(_errors(exc)) == ["qa_comments"]
    services.deviation_update(review, actor=people["qa_approver"], reason="review",
                              changes={"qa_comments": "Root cause plausible."})
    closed = deviation_in_state(people, "closed")
    with pytest.raises(RecordClosed):
        services.deviation_update(closed, actor=people["qa_manager"], reason="x",
                                  changes={"qa_comments": "late"})


def test_unchanged_values_write_nothing(people: dict[str, Any]) -> None:
    d = deviation_in_state(people, "draft")
    before = AuditEntry.objects.count()
    services.deviation_update(d, actor=people["author"], changes={"title": d.title})
    assert AuditEntry.objects.count() == before


def test_late_entry_is_rechecked_when_the_event_time_changes_al_03(
    people: dict[str, Any]
) -> None:
    d = deviation_in_state(people, "draft")
    old = timezone.now() - dt.timedelta(days=4)
    with pytest.raises(ValidationError) as exc:
        services.deviation_update(d, actor=people["author"], changes={"event_at": old})
    assert list(_errors(exc)) == ["late_entry_reason"]
    services.deviation_update(d, actor=people["author"], changes={
        "event_at": old, "late_entry_reason": "Reported by the night shift on return"})
    d.refresh_from_db()
    assert (d.late_entry, d.late_entry_reason) == (True, "Reported by the night shift on return")


def test_owner_hears_of_assignment_and_qa_of_triage(
    people: dict[str, Any], site: Any, django_capture_on_commit_callbacks: Any
) -> None:
    author, po = people["author"], people["process_owner"]
    with django_capture_on_commit_callbacks(execute=True):
        d = services.deviation_create(actor=author, site=site, owner=po, **draft_values())
    assert list(Notification.objects.values_list("recipient__username", "kind", "subject")) == [
        ("process_owner", "assignment", f"{d.number}: you own this new deviation"),
    ]
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        DEVIATION_WORKFLOW.run(d, "submit", actor=author)
    got = sorted(Notification.objects.values_list("recipient__username", "kind", "subject"))
    assert got == [
        ("qa_approver", "approval_due", f"{d.number}: submitted for QA triage"),
        ("qa_manager", "approval_due", f"{d.number}: submitted for QA triage"),
    ]
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        services.deviation_update(d, actor=people["qa_manager"], changes={"owner": author},
                                  reason="Author investigates")
    assert list(Notification.objects.values_list("recipient__username", "kind")) == [
        ("author", "assignment"),
    ]


def test_security_reference_naming_an_incident_links_it(people: dict[str, Any]) -> None:
    incident = security_incident(people, a_site())
    d = deviation_in_state(people, "draft", cyber_related=True, originator="it_security",
                           security_reference=incident.number.lower())
    assert d.security_reference == incident.number
    links = [(x["relation"], x["other_number"], x["note"]) for x in links_of(d)]
    assert links == [("related", incident.number, "Security reference")]
    assert [x["direction"] for x in links_of(incident)] == ["incoming"]


def test_spawn_capa_links_both_ways_and_lets_close_pass(people: dict[str, Any]) -> None:
    manager = people["qa_manager"]
    incident = security_incident(people, a_site())
    d = deviation_in_state(people, "approved", capa_required=True, cyber_related=True,
                           originator="it_security", security_reference=incident.number)
    capa = services.deviation_spawn_capa(
        d, actor=people["author"], title="Replace door sensors", owner=people["process_owner"],
        due_date=timezone.localdate() + dt.timedelta(days=60))
    assert (capa.source, capa.source_reference, capa.state, capa.cyber_related) == (
        "deviation", d.number, "draft", True)
    assert linked_capas(d) == [capa]
    link = RecordLink.objects.get(relation="spawned")
    assert (link.from_type, link.from_id, link.to_type, link.to_id) == (
        "deviations.deviation", str(d.pk), "capa.capa", str(capa.pk))
    assert [(x["direction"], x["other_number"]) for x in links_of(capa)] == [
        ("incoming", d.number)]
    from .factories import signature

    closed = DEVIATION_WORKFLOW.run(d, "close", actor=manager, signature=signature(manager))
    assert closed.state == "closed"


def test_spawn_capa_only_from_investigation_onwards(people: dict[str, Any]) -> None:
    d = deviation_in_state(people, "open")
    with pytest.raises(ValidationError) as exc:
        services.deviation_spawn_capa(d, actor=people["author"], title="CAPA",
                                      owner=people["author"], due_date=None)
    assert _errors(exc) == {"__all__": [
        f"A CAPA is spawned once the deviation is under investigation, in QA review or "
        f"approved; {d.number} is open (qa triage)."
    ]}
