"""Training: assignments made by curricula when a version takes effect or a role is
granted, readings signed "Read and understood", sign-off by a trainer, requirements that
gate workflow steps (P11-13), the matrix and the KPIs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cyberqms.platform.accounts.tests.factories import SiteFactory
from cyberqms.platform.core.models import Signature
from cyberqms.platform.kit.records import kind_by_slug
from cyberqms.platform.kit.tests.kit import ready_to_sign, record_in_state, signature
from cyberqms.platform.kit.workflow import GuardFailed
from cyberqms.quality.documents.models import DocumentVersion
from cyberqms.quality.documents.services import document_revise

from .. import queries, services
from ..enums import AssignmentState, ItemKind
from ..models import TrainingAssignment

pytestmark = pytest.mark.django_db
A = AssignmentState


@pytest.fixture
def site() -> Any:
    return SiteFactory.create(code="MUC", name="Site MUC")


@pytest.fixture
def sop(personas: dict[str, Any], site: Any) -> DocumentVersion:
    """SOP-QA-0001 v1.0 in force: deviation management."""
    version = record_in_state(kind_by_slug("documents"), "effective", personas, site=site,
                              title="Deviation management", doc_type="sop",
                              department="QA", cyber_relevant=False)
    assert isinstance(version, DocumentVersion)
    return version


def _curriculum(people: dict[str, Any], sop: DocumentVersion, roles: list[str]) -> Any:
    return services.curriculum_save(actor=people["qa_manager"], name="QA review",
                                    roles=roles, for_everyone=False, documents=[sop.document])


def _open(person: Any) -> list[str]:
    return list(TrainingAssignment.objects.filter(person=person, state=A.OPEN)
                .values_list("title", flat=True))


def _read(person: Any, admin: Any) -> TrainingAssignment:
    assignment = TrainingAssignment.objects.get(person=person, state=A.OPEN,
                                                kind=ItemKind.READING)
    actor = ready_to_sign(person, admin)
    return services.reading_acknowledge(assignment, actor=actor, signature=signature(actor))


# --- assignments ---------------------------------------------------------------------------------


def test_a_curriculum_assigns_the_version_in_force_to_its_roles(
        personas: dict[str, Any], sop: DocumentVersion) -> None:
    _curriculum(personas, sop, ["qa_reviewer"])
    assert (_open(personas["qa_approver"]), _open(personas["author"])) == (
        ["Read SOP-QA-0001 v1.0: Deviation management"], [])


def test_a_new_version_in_force_is_assigned_and_the_old_reading_is_no_longer_needed(
        personas: dict[str, Any], sop: DocumentVersion) -> None:
    _curriculum(personas, sop, ["qa_reviewer"])
    kind = kind_by_slug("documents")
    draft = document_revise(sop, actor=personas["author"], size="minor",
                            change_summary="Classification within one day.")
    from cyberqms.quality.documents.tests.test_documents import _approved

    with_change = record_in_state(kind_by_slug("changes"), "approved", personas, site=sop.site)
    from cyberqms.platform.kit.record_parts import link_add

    link_add(draft, actor=personas["author"], target_number=with_change.number,
             relation="implements")
    kind.workflow.run(_approved(kind, personas, draft), "make_effective", actor=None)
    rows = list(TrainingAssignment.objects.filter(person=personas["qa_approver"]).order_by(
        "pk").values_list("title", "state", "cancelled_reason"))
    assert rows == [
        ("Read SOP-QA-0001 v1.0: Deviation management", A.CANCELLED,
         "SOP-QA-0001 v1.0 is superseded"),
        ("Read SOP-QA-0001 v1.1: Deviation management", A.OPEN, "")]


def test_gaining_a_role_assigns_its_curriculum(personas: dict[str, Any],
                                               sop: DocumentVersion, make_user: Any) -> None:
    _curriculum(personas, sop, ["qa_reviewer"])
    newcomer = make_user("newcomer", "qa_reviewer")
    assert TrainingAssignment.objects.filter(person=newcomer).values_list(
        "title", "reason").get() == ("Read SOP-QA-0001 v1.0: Deviation management",
                                     "New role: its curriculum")


def test_syncing_twice_assigns_nothing_more(personas: dict[str, Any],
                                            sop: DocumentVersion) -> None:
    _curriculum(personas, sop, ["qa_reviewer", "qa_manager"])
    assert services.assignments_sync() == 0


# --- read and understood --------------------------------------------------------------------------


def test_read_and_understood_is_a_signature_bound_to_the_version(
        personas: dict[str, Any], sop: DocumentVersion) -> None:
    _curriculum(personas, sop, ["qa_reviewer"])
    done = _read(personas["qa_approver"], personas["admin"])
    row = Signature.objects.get(pk=done.signature_id)
    documents = kind_by_slug("documents")
    assert (done.state, row.meaning, row.record_type, row.record_id, row.record_hash) == (
        A.DONE, "Read and understood", "documents.document", str(sop.pk),
        documents.workflow.content_hash(sop))


def test_nobody_signs_someone_elses_reading(personas: dict[str, Any],
                                           sop: DocumentVersion) -> None:
    _curriculum(personas, sop, ["qa_reviewer"])
    assignment = TrainingAssignment.objects.get(person=personas["qa_approver"])
    actor = ready_to_sign(personas["qa_manager"], personas["admin"])
    with pytest.raises(PermissionDenied):
        services.reading_acknowledge(assignment, actor=actor, signature=signature(actor))


def test_the_manifestation_of_a_document_leaves_out_the_readings(
        personas: dict[str, Any], sop: DocumentVersion, login: Any) -> None:
    import io

    from pypdf import PdfReader

    _curriculum(personas, sop, ["qa_reviewer"])
    _read(personas["qa_approver"], personas["admin"])
    pdf = login(personas["auditor"]).get(f"/documents/{sop.pk}/controlled-copy.pdf")
    text = " ".join(PdfReader(io.BytesIO(pdf.content)).pages[-1].extract_text().split())
    assert ("Approved" in text, "Read and understood" in text) == (True, False)


# --- training gates signatures ------------------------------------------------------------------


def _qa_review(personas: dict[str, Any], site: Any) -> Any:
    return record_in_state(kind_by_slug("deviations"), "qa_review", personas, site=site)


def _needs(personas: dict[str, Any], sop: DocumentVersion, site: Any) -> None:
    change = record_in_state(kind_by_slug("changes"), "approved", personas, site=site)
    services.requirement_add(actor=personas["qa_manager"],
                             step="deviations.deviation.approve",
                             document_number=sop.document.number, change_number=change.number)


def test_an_approval_is_refused_to_whoever_has_not_read_the_sop(
        personas: dict[str, Any], sop: DocumentVersion, site: Any) -> None:
    """P11-13: the message names the missing training."""
    deviation = _qa_review(personas, site)
    _curriculum(personas, sop, ["qa_reviewer"])
    _needs(personas, sop, site)
    actor = ready_to_sign(personas["qa_approver"], personas["admin"])
    with pytest.raises(GuardFailed) as refused:
        kind_by_slug("deviations").workflow.run(deviation, "approve", actor=actor,
                                                signature=signature(actor))
    assert refused.value.text == (
        "Your training on SOP-QA-0001 (Deviation management) is not current: read and sign "
        "it first (My training).")


def test_after_reading_the_approval_goes_through(personas: dict[str, Any],
                                                 sop: DocumentVersion, site: Any) -> None:
    deviation = _qa_review(personas, site)
    _curriculum(personas, sop, ["qa_reviewer"])
    _needs(personas, sop, site)
    actor = ready_to_sign(personas["qa_approver"], personas["admin"])
    _read(actor, personas["admin"])
    kind_by_slug("deviations").workflow.run(deviation, "approve", actor=actor,
                                            signature=signature(actor))
    assert deviation.state == "approved"


def test_the_page_shows_the_step_disabled_with_the_missing_sop(
        personas: dict[str, Any], sop: DocumentVersion, site: Any, login: Any) -> None:
    deviation = _qa_review(personas, site)
    _curriculum(personas, sop, ["qa_reviewer"])
    _needs(personas, sop, site)
    actions = login(personas["qa_approver"]).get(
        f"/deviations/{deviation.pk}/").context["actions"]
    assert [(a["action"], a["refusal"]) for a in actions if a["action"] == "approve"] == [
        ("approve", "Your training on SOP-QA-0001 (Deviation management) is not current: "
                    "read and sign it first (My training).")]


def test_a_requirement_is_added_only_under_an_approved_change(
        personas: dict[str, Any], sop: DocumentVersion, site: Any) -> None:
    draft_change = record_in_state(kind_by_slug("changes"), "draft", personas, site=site)
    with pytest.raises(ValidationError) as refused:
        services.requirement_add(actor=personas["qa_manager"],
                                 step="deviations.deviation.approve",
                                 document_number=sop.document.number,
                                 change_number=draft_change.number)
    assert refused.value.message_dict == {"change": [
        f"{draft_change.number} is not approved: requirements change only under an approved "
        "change control."]}


def test_an_unknown_step_is_refused_naming_the_field(personas: dict[str, Any],
                                                     sop: DocumentVersion) -> None:
    with pytest.raises(ValidationError) as refused:
        services.requirement_add(actor=personas["qa_manager"], step="deviations.nope",
                                 document_number=sop.document.number, change_number="CC-1")
    assert refused.value.message_dict == {"step": ["Choose a step of a workflow."]}


# --- sessions signed off by a trainer -------------------------------------------------------------


def test_a_trainer_signs_off_a_session(personas: dict[str, Any], sop: DocumentVersion) -> None:
    services.curriculum_save(actor=personas["qa_manager"], name="Every GxP user", roles=[],
                             for_everyone=True, documents=[],
                             sessions=[(ItemKind.CLASSROOM, "Data integrity and ALCOA+", 12)])
    assignment = TrainingAssignment.objects.get(person=personas["author"])
    trainer = ready_to_sign(personas["process_owner"], personas["admin"])
    done = services.training_sign_off(assignment, actor=trainer, signature=signature(trainer),
                                      note="Attended the March session.")
    assert (done.state, done.completed_by_id, Signature.objects.get(
        pk=done.signature_id).meaning) == (A.DONE, trainer.pk, "Trained")


def test_a_trainer_does_not_sign_off_their_own_training(personas: dict[str, Any]) -> None:
    services.curriculum_save(actor=personas["qa_manager"], name="Every GxP user", roles=[],
                             for_everyone=True, documents=[],
                             sessions=[(ItemKind.CLASSROOM, "Phishing awareness", None)])
    own = TrainingAssignment.objects.get(person=personas["process_owner"])
    trainer = ready_to_sign(personas["process_owner"], personas["admin"])
    with pytest.raises(ValidationError) as refused:
        services.training_sign_off(own, actor=trainer, signature=signature(trainer))
    assert refused.value.messages == ["A trainer does not sign off their own training."]


# --- matrix and KPIs ------------------------------------------------------------------------------


def test_the_matrix_shows_each_persons_state(personas: dict[str, Any],
                                             sop: DocumentVersion) -> None:
    _curriculum(personas, sop, ["qa_reviewer", "qa_manager"])
    _read(personas["qa_approver"], personas["admin"])
    found = queries.matrix()
    cells = {row.person.username: row.cells for row in found.rows}
    assert ([c.label for c in found.columns], cells["qa_approver"], cells["qa_manager"],
            cells["author"]) == (["SOP-QA-0001"], ["ok"], ["open"], [""])


def test_an_overdue_reading_is_overdue_in_the_matrix(personas: dict[str, Any],
                                                     sop: DocumentVersion) -> None:
    _curriculum(personas, sop, ["qa_reviewer"])
    later = timezone.localdate() + dt.timedelta(days=15)
    cells = {row.person.username: row.cells for row in queries.matrix(today=later).rows}
    assert cells["qa_approver"] == ["overdue"]


def test_the_matrix_costs_the_same_queries_for_more_people(
        personas: dict[str, Any], sop: DocumentVersion, make_user: Any) -> None:
    _curriculum(personas, sop, ["qa_reviewer"])
    with CaptureQueriesContext(connection) as few:
        queries.matrix()
    for i in range(5):
        make_user(f"reviewer{i}", "qa_reviewer")
    with CaptureQueriesContext(connection) as many:
        rows = queries.matrix().rows
    assert (len(few), len(many), len(rows)) == (7, 7, 11)


def test_the_kpis_count_on_time_completions_and_overdue_training(
        personas: dict[str, Any], sop: DocumentVersion) -> None:
    _curriculum(personas, sop, ["qa_reviewer", "qa_manager"])
    _read(personas["qa_approver"], personas["admin"])
    later = timezone.localdate() + dt.timedelta(days=15)
    assert queries.kpis(later) == {
        "training_compliance": 50.0, "assignments_due": 2, "completed_on_time": 1,
        "overdue_trainings": 1, "documents_past_review": 0}


# --- the sites people work at --------------------------------------------------------------------


def _worker_at_munich(make_user: Any, site: Any, people: dict[str, Any]) -> Any:
    worker = make_user("muc_author", "author", site=site)
    services.curriculum_save(actor=people["qa_manager"], name="Every GxP user", roles=[],
                             for_everyone=True, documents=[],
                             sessions=[(ItemKind.CLASSROOM, "Data integrity basics", 12)])
    return worker


def test_a_trainer_signs_off_only_where_they_train(personas: dict[str, Any], site: Any,
                                                  make_user: Any) -> None:
    worker = _worker_at_munich(make_user, site, personas)
    zurich = SiteFactory.create(code="ZRH", name="Site ZRH")
    trainer = ready_to_sign(make_user("zrh_trainer", "process_owner", site=zurich),
                            personas["admin"])
    assignment = TrainingAssignment.objects.get(person=worker)
    with pytest.raises(PermissionDenied) as refused:
        services.training_sign_off(assignment, actor=trainer, signature=signature(trainer))
    assert str(refused.value) == "You sign off training only at the sites where you train."


def test_a_training_record_is_seen_by_viewers_of_the_persons_sites(
        personas: dict[str, Any], site: Any, make_user: Any, login: Any) -> None:
    worker = _worker_at_munich(make_user, site, personas)
    zurich = SiteFactory.create(code="ZRH", name="Site ZRH")
    elsewhere = make_user("zrh_viewer", "qa_reviewer", site=zurich)
    here = make_user("muc_viewer", "qa_reviewer", site=site)
    url = f"/training/people/{worker.pk}/"
    assert (login(elsewhere).get(url).status_code, login(here).get(url).status_code) == (
        404, 200)


def test_a_requirement_assigns_the_reading_to_whoever_may_take_the_step(
        personas: dict[str, Any], sop: DocumentVersion, site: Any) -> None:
    """No curriculum holds the SOP: the step's holders are assigned it with the requirement,
    so nobody is refused for training that nothing asks them to do."""
    _needs(personas, sop, site)
    assigned = dict(TrainingAssignment.objects.filter(state=A.OPEN).values_list(
        "person__username", "reason"))
    assert assigned == {"qa_approver": "Needed for the step deviations.deviation.approve",
                        "qa_manager": "Needed for the step deviations.deviation.approve"}
