"""`cyberqms demo` on a fresh database: 18 months of records with an honest history.

One test loads the full default demo once (about half a minute) and checks everything
on it, then runs the command a second time.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from cyberqms.platform.accounts.models import RoleAssignment, User
from cyberqms.platform.core.models import (
    Attachment,
    Comment,
    DueDateExtension,
    RecordLink,
    Signature,
)
from cyberqms.platform.kit.record_parts import links_of
from cyberqms.platform.notifications.models import Notification
from cyberqms.platform.notifications.tests.demo_inbox import (
    assert_the_qa_managers_inbox_is_open_grouped_and_in_words,
)
from cyberqms.platform.trail.integrity import check_trail
from cyberqms.platform.trail.models import AuditEntry
from cyberqms.quality.capa.models import Capa, CapaAction
from cyberqms.quality.changes.models import Change
from cyberqms.quality.deviations.models import Deviation

ORIGINAL_NOW = timezone.now


def _demo(*args: str) -> str:
    out = io.StringIO()
    call_command("demo", "--quiet-passwords", *args, stdout=out)
    return out.getvalue()


def _counts() -> tuple[int, ...]:
    return (Deviation.objects.count(), Capa.objects.count(), Change.objects.count(),
            CapaAction.objects.count(), Signature.objects.count())


# The demo's history ends when it is loaded: loading at one fixed moment makes its records,
# and so the figures below, exact.
LOADED_AT = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def loaded_at_a_fixed_moment() -> Iterator[None]:
    with time_machine.travel(LOADED_AT, tick=False):
        yield


# Fresh sequences: some demo fates follow a record's own number (a CAPA's pk), which must
# not depend on the tests that ran before in this process.
@pytest.mark.slow
@pytest.mark.django_db(transaction=True, reset_sequences=True)
@pytest.mark.usefixtures("loaded_at_a_fixed_moment")
def test_demo_loads_18_months_of_records_with_a_verifiable_history() -> None:
    output = _demo()
    now = timezone.now()
    today = timezone.localdate()

    # The clock is the real one again, and so are the model defaults.
    assert timezone.now is ORIGINAL_NOW
    assert Capa._meta.get_field("created_at").default is ORIGINAL_NOW
    assert "Demo records" in output
    assert "E-signatures" in output

    # The demo loaded at a fixed moment: the same records every time, on either database.
    from cyberqms.quality.complaints.models import Complaint

    deviations = Deviation.objects.filter(is_deleted=False)
    assert (Deviation.objects.count(), Capa.objects.count(), Change.objects.count(),
            Complaint.objects.count()) == (62, 32, 33, 12)  # a change approved access
    # The inventory: suppliers, systems and the periodic evaluations of the critical ones;
    # none under change at this moment, the two neglected SCADAs past their evaluation.
    from cyberqms.assets.evaluations.models import Evaluation
    from cyberqms.assets.risks.models import RiskAssessment
    from cyberqms.assets.suppliers.models import Supplier
    from cyberqms.assets.systems.models import System

    assert (Supplier.objects.count(), System.objects.count(), Evaluation.objects.count(),
            System.objects.filter(state="under_change").count(),
            System.objects.filter(due_date__lt=timezone.localdate()).count()) == (
        12, 25, 15, 0, 2)
    # Risk assessments: three accepted, one expired back in review, one awaiting its
    # approver, one draft.
    assert sorted(RiskAssessment.objects.values_list("state", flat=True)) == [
        "accepted", "accepted", "accepted", "draft", "in_review", "in_review"]
    # Access governance: what the scans of that history leave open, the Basel campaign
    # closed with its signed decisions, the Dublin one waiting for the QA head; the reviews
    # the role changes of two movers started (the supervisor's waiting for his manager).
    from cyberqms.security.findings.models import AccessFinding
    from cyberqms.security.governance.models import AccessReview

    assert sorted(AccessFinding.objects.filter(state="open", kind="account_orphan")
                  .values_list("title", flat=True)) == [
        "kfischer in LabWare LIMS: no person in cyberqms answers for it",
        "qclab in LabWare LIMS: no person in cyberqms answers for it"]
    assert sorted(AccessFinding.objects.filter(state="open").values_list(
        "kind", "subject__username")) == [
        ("account_orphan", None), ("account_orphan", None), ("auditor_timebox", "gmartin"), ("dormant", "kschmid"),
        ("grant_unapproved", "rfischer"), ("mfa_missing", "rfischer"),
        ("sod_conflict", "rfischer"), ("unused_rights", "lmoreau")]
    assert sorted(AccessFinding.objects.exclude(state="open").values_list(
        "kind", "subject__username", "state")) == [
        ("dormant", "slindqvist", "resolved"), ("no_manager", "hbrandt", "accepted"),
        ("unused_rights", "aokafor", "resolved"), ("unused_rights", "slindqvist", "resolved")]
    assert sorted(AccessReview.objects.values_list("title", "state")) == [
        ("Access of Ralf Fischer after a role change", "open"),
        ("Access of Tomás Reyes after a role change", "closed"),
        ("Access review Basel, autumn", "closed"),
        ("Access review Dublin, autumn", "open"),
        ("Accounts of LabWare LIMS, autumn", "open")]
    # 3,179 entries of the records' own steps and of access governance, and one per
    # signature (its content audited)
    assert (Signature.objects.count(), AuditEntry.objects.count()) == (621, 3179 + 621)
    cyber = deviations.filter(cyber_related=True)
    assert cyber.count() == 16  # a quarter of the 61 deviations not withdrawn
    assert all(d.security_reference for d in cyber)
    assert_security_references_are_true()
    assert_the_qa_managers_inbox_is_open_grouped_and_in_words()
    assert Change.objects.filter(cyber_impact=True, state="closed").exists()
    assert Signature.objects.filter(meaning="Approved (IT security)").exists()

    # The document library: each document in force once, one revision waiting for its
    # reviewers, one periodic review called early and due within the month.
    from cyberqms.quality.documents.models import DocumentVersion

    versions = DocumentVersion.objects.all()
    in_force = versions.filter(state="effective")
    assert (versions.count(), in_force.count(), versions.filter(state="in_review").count(),
            in_force.values("document").distinct().count()) == (38, 30, 1, 30)
    assert in_force.filter(due_date__lte=today + timezone.timedelta(days=30)).count() == 1
    # Content files as their departments made them, a minor revision QA released without
    # retraining, and the CAPA whose action revised the backup SOP, done once it took effect.
    assert sorted(versions.exclude(source=None).values_list("number", "source__filename")) == [
        ("FRM-QC-0001 v1.0", "Laboratory investigation form.pdf"),
        ("WI-PRD-0001 v1.0", "Operating the blister line BL-2.docx"),
        ("WI-PRD-0001 v1.1", "Operating the blister line BL-2.docx"),
        ("WI-QC-0001 v1.0", "HPLC system suitability.docx")]
    assert list(versions.filter(retraining_needed=False).values_list("number", flat=True)) == [
        "POL-QA-0001 v1.1"]
    assert list(CapaAction.objects.exclude(document_number="").values_list(
        "document_number", "state", "capa__state")) == [("SOP-IT-0002", "done", "closed")]

    # Training: curricula for every role, most of it done, some overdue; deviation
    # approval needs current training on the deviation SOP.
    from cyberqms.quality.training import queries as training
    from cyberqms.quality.training.models import Curriculum, TrainingRequirement

    assert (Curriculum.objects.count(), list(TrainingRequirement.objects.values_list(
        "step", flat=True))) == (5, ["deviations.deviation.approve"])
    # The joiners count too: the dormant QC analyst's readings are overdue, the leaver's
    # were cancelled when his account was disabled.
    assert training.kpis() == {
        "training_compliance": 64.4, "assignments_due": 233, "completed_on_time": 150,
        "overdue_trainings": 19, "documents_past_review": 0}
    # The data-integrity quiz: passed by every GxP user, the process owner after one fail.
    from cyberqms.quality.training.models import QuizAttempt

    assert (QuizAttempt.objects.filter(passed=True).count(), list(QuizAttempt.objects.filter(
        passed=False).values_list("person__username", "score"))) == (16, [("pnatarajan", 60)])

    # Spread over 18 months, every state represented, most old records closed.
    first = Deviation.objects.order_by("created_at").first()
    assert first is not None
    assert (now - first.created_at).days > 500
    for model, states in ((Deviation, {"draft", "open", "investigation", "closed",
                                       "cancelled"}),
                          (Capa, {"draft", "implementation", "closed", "cancelled"}),
                          (Change, {"draft", "implementation", "closed", "cancelled"})):
        present = set(model._default_manager.values_list("state", flat=True))
        assert states <= present, (model.__name__, present)
    old = deviations.filter(created_at__lt=now - timezone.timedelta(days=180))
    assert old.filter(state="closed").count() >= 0.75 * old.count()
    deleted = Deviation.objects.get(is_deleted=True)
    assert deleted.state == "draft"
    assert deleted.deleted_reason

    # Cyber-related deviations spawned CAPAs (linked both ways, relation "spawned").
    spawned = RecordLink.objects.filter(from_type="deviations.deviation", to_type="capa.capa",
                                        relation="spawned")
    cyber_ids = {str(pk) for pk in cyber.values_list("pk", flat=True)}
    assert sum(1 for link in spawned if link.from_id in cyber_ids) == 9
    assert Capa.objects.filter(source="deviation", cyber_related=True).exists()
    assert set(Capa.objects.values_list("source", flat=True)) >= {
        "deviation", "audit_finding", "security_incident", "complaint"}

    # Overdue work exists: open, past its due date.
    open_capas = Capa.objects.exclude(state__in=("closed", "cancelled"))
    overdue_capas = open_capas.filter(due_date__lt=today).count()
    overdue_actions = CapaAction.objects.filter(state="open", due_date__lt=today).count()
    assert (overdue_capas, overdue_actions) == (5, 12)
    assert deviations.exclude(state__in=("closed", "cancelled")).filter(
        due_date__lt=today).count() == 4

    # Closed CAPAs passed their effectiveness check and carry a "Closed" signature; their
    # closure times vary like real ones.
    closed = list(Capa.objects.filter(state="closed"))
    assert len(closed) == 20
    closing_days = []
    for capa in closed:
        assert capa.effectiveness_result == "passed"
        assert Signature.objects.filter(record_type="capa.capa", record_id=str(capa.pk),
                                        meaning="Closed").exists()
        assert capa.closed_at is not None
        closing_days.append((capa.closed_at - capa.created_at).days)
    assert min(closing_days) >= 20
    assert max(closing_days) <= 200
    assert max(closing_days) - min(closing_days) >= 40
    assert Signature.objects.filter(meaning="Verified", reason__contains="failed").exists()
    for d in deviations.filter(state="closed"):
        assert d.closed_at is not None
        assert d.closed_at > d.created_at

    # The shared parts: comments, attachments, extensions approved and pending.
    assert (Comment.objects.count(), Attachment.objects.count()) == (27, 12)
    assert set(DueDateExtension.objects.values_list("state", flat=True)) >= {
        "approved", "pending"}

    # One chronological, intact history.
    ats = list(AuditEntry.objects.order_by("seq").values_list("at", flat=True))
    assert ats[0] < now - timezone.timedelta(days=550)
    assert all(a <= b for a, b in itertools.pairwise(ats))
    report = check_trail()
    assert report.ok, [p.message for p in report.problems[:5]]
    for s in Signature.objects.all()[:50]:
        assert s.channel == "cli"
        assert s.signed_at < now

    # Logins work today: fresh one-time passwords, the inspector's access starts now.
    auditor = RoleAssignment.objects.get(user__username="cdubois", role="auditor")
    assert auditor.valid_until is not None
    assert auditor.valid_until > now
    assert auditor.granted_at > now - timezone.timedelta(minutes=5)
    # (The demo logins: the joiners of access governance chose theirs in the story.)
    from cyberqms.demo.management.commands.demo import ADMIN, PEOPLE

    logins = User.objects.filter(username__in=[ADMIN[0], *(p[0] for p in PEOPLE)])
    assert (logins.count(), all(u.must_change_password for u in logins)) == (8, True)

    # Notifications reached the inbox; no e-mail was sent while loading.
    assert Notification.objects.exists()
    assert mail.outbox == []

    # A second run adds no records and keeps the history as it is.
    before, entries = _counts(), AuditEntry.objects.count()
    again = _demo()
    assert "records already loaded" in again
    assert _counts() == before
    assert AuditEntry.objects.count() > entries  # the reissued passwords are audited
    assert check_trail().ok


def assert_security_references_are_true() -> None:
    """AL-10, CYB-05: every deviation's security reference names the incident the demo
    opened for the same event (same site, same event time, opened first, the number in the
    deviation's text), and the two are linked both ways. Part of the loaded demo's test,
    which loads it once."""
    from cyberqms.quality.deviations.queries import security_record
    from cyberqms.security.incidents.models import Incident

    named = Deviation.objects.exclude(security_reference="").order_by("number")
    assert named.count() == Deviation.objects.filter(cyber_related=True).count() \
        == Incident.objects.count()
    for d in named:
        found = security_record(d)
        assert found is not None, d.number
        incident = found.record
        assert isinstance(incident, Incident)
        assert (incident.site_id, incident.event_at) == (d.site_id, d.event_at), d.number
        assert incident.created_at <= d.created_at < incident.created_at + dt.timedelta(
            minutes=5), d.number
        assert incident.number in d.description, d.number
        assert [x["other_number"] for x in links_of(d)
                if x["other_type"] == "incidents.incident"] == [incident.number]
        assert [x["other_number"] for x in links_of(incident)
                if x["other_type"] == "deviations.deviation"] == [d.number]


@pytest.mark.django_db(transaction=True)
def test_demo_scale_zero_loads_only_the_organization() -> None:
    output = _demo("--scale", "0")
    assert "Demo records" not in output
    assert not Deviation.objects.exists()
    assert User.objects.filter(username="hbrandt").exists()
    rows: Any = RoleAssignment.objects.filter(role="auditor")
    assert rows.get().valid_until > timezone.now()


@pytest.mark.django_db(transaction=True)
def test_running_the_demo_again_after_the_inspection_renews_the_inspectors_access() -> None:
    """AL-09: the inspector's access is time-boxed to 14 days; a person who runs the demo
    again three weeks later gets a fresh 14-day grant (the lapsed one stays as history)."""
    _demo("--scale", "0")
    later = timezone.now() + dt.timedelta(days=21)
    with time_machine.travel(later, tick=False):
        _demo("--scale", "0")
        rows = RoleAssignment.objects.filter(user__username="cdubois", role="auditor")
        held = rows.held_on(timezone.now()).get()
        assert held.valid_until == later + dt.timedelta(days=14)
        assert held.grant_reason == "Demo organization: inspector access renewed"
        assert rows.count() == 2
