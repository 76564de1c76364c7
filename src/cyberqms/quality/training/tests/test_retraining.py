"""A minor revision QA releases "No retraining needed" (signed, with a reason): whoever read
the version before has current training on the new one without reading it again; whoever
had not, reads the new one. A major version is always read again."""

from __future__ import annotations

from typing import Any

import pytest

from cyberqms.platform.accounts.tests.factories import SiteFactory
from cyberqms.platform.core.models import Signature
from cyberqms.platform.kit.record_parts import link_add
from cyberqms.platform.kit.records import kind_by_slug
from cyberqms.platform.kit.tests.kit import ready_to_sign, record_in_state, signature
from cyberqms.platform.kit.workflow import SegregationOfDuties, StepClosed
from cyberqms.quality.documents.models import DocumentVersion
from cyberqms.quality.documents.services import document_revise
from cyberqms.quality.documents.tests.test_documents import _approved

from .. import services
from ..enums import AssignmentState, ItemKind
from ..gate import missing_training
from ..models import TrainingAssignment

pytestmark = pytest.mark.django_db
A = AssignmentState
REASON = "Only the form number in section 7 changed."


@pytest.fixture
def sop(personas: dict[str, Any]) -> DocumentVersion:
    version = record_in_state(kind_by_slug("documents"), "effective", personas,
                              site=SiteFactory.create(code="MUC", name="Site MUC"),
                              title="Deviation management", doc_type="sop",
                              department="QA", cyber_relevant=False)
    assert isinstance(version, DocumentVersion)
    services.curriculum_save(actor=personas["qa_manager"], name="QA review",
                             roles=["qa_reviewer", "process_owner"], for_everyone=False,
                             documents=[version.document])
    return version


def _revision(personas: dict[str, Any], sop: DocumentVersion, size: str = "minor") -> Any:
    draft = document_revise(sop, actor=personas["author"], size=size,
                            change_summary="Form number corrected.")
    change = record_in_state(kind_by_slug("changes"), "approved", personas, site=sop.site)
    link_add(draft, actor=personas["author"], target_number=change.number,
             relation="implements")
    return _approved(kind_by_slug("documents"), personas, draft)


def _waive(personas: dict[str, Any], version: Any, who: str = "qa_manager") -> Any:
    actor = ready_to_sign(personas[who], personas["admin"])
    return kind_by_slug("documents").workflow.run(version, "waive_retraining", actor=actor,
                                                  signature=signature(actor), reason=REASON)


def _read(person: Any, admin: Any) -> None:
    assignment = TrainingAssignment.objects.get(person=person, state=A.OPEN,
                                                kind=ItemKind.READING)
    actor = ready_to_sign(person, admin)
    services.reading_acknowledge(assignment, actor=actor, signature=signature(actor))


def _in_force(personas: dict[str, Any], sop: DocumentVersion) -> DocumentVersion:
    """v1.1 released without retraining and in force; the QA approver had read v1.0."""
    _read(personas["qa_approver"], personas["admin"])
    version = _waive(personas, _revision(personas, sop))
    result: DocumentVersion = kind_by_slug("documents").workflow.run(
        version, "make_effective", actor=None)
    return result


def test_qa_signs_no_retraining_needed_with_its_reason(personas: dict[str, Any],
                                                       sop: DocumentVersion) -> None:
    version = _waive(personas, _revision(personas, sop))
    row = Signature.objects.filter(action="documents.document.waive_retraining").get()
    assert (version.retraining_needed, row.meaning, row.reason, row.signer_id) == (
        False, "No retraining needed", REASON, personas["qa_manager"].pk)


def test_waiving_retraining_leaves_the_approval_valid(personas: dict[str, Any],
                                                      sop: DocumentVersion) -> None:
    version = _waive(personas, _revision(personas, sop))
    workflow = kind_by_slug("documents").workflow
    approval = Signature.objects.get(action="documents.document.approve",
                                     record_id=str(version.pk))
    assert approval.record_hash == workflow.content_hash(version)


def test_a_major_version_is_always_read_again(personas: dict[str, Any],
                                              sop: DocumentVersion) -> None:
    with pytest.raises(StepClosed) as refused:
        _waive(personas, _revision(personas, sop, size="major"))
    assert refused.value.text == (
        "A major version is always read again: only a minor one can be released without "
        "retraining.")


def test_the_author_does_not_waive_their_own_retraining(personas: dict[str, Any],
                                                        sop: DocumentVersion) -> None:
    version = _revision(personas, sop)
    version.owner = personas["qa_manager"]
    DocumentVersion.objects.filter(pk=version.pk).update(owner=personas["qa_manager"])
    with pytest.raises(SegregationOfDuties):
        _waive(personas, version)


def test_a_reader_of_the_previous_version_is_done_by_qas_signature(
        personas: dict[str, Any], sop: DocumentVersion) -> None:
    version = _in_force(personas, sop)
    row = TrainingAssignment.objects.get(person=personas["qa_approver"], version=version)
    waiver = Signature.objects.get(action="documents.document.waive_retraining")
    assert (row.state, row.completed_by_id, row.signature_id, row.reason, row.note) == (
        A.DONE, personas["qa_manager"].pk, waiver.pk,
        "SOP-QA-0001 v1.1 in force: no retraining needed",
        f"Qa Manager signed that no retraining is needed: {REASON}")


def test_whoever_had_not_read_the_previous_version_reads_the_new_one(
        personas: dict[str, Any], sop: DocumentVersion) -> None:
    version = _in_force(personas, sop)
    assert TrainingAssignment.objects.filter(
        person=personas["process_owner"], version=version).values_list("state").get() == (
        A.OPEN,)


def test_the_carried_reading_is_current_training_for_a_step(
        personas: dict[str, Any], sop: DocumentVersion) -> None:
    _in_force(personas, sop)
    services.requirement_add(
        actor=personas["qa_manager"], step="deviations.deviation.approve",
        document_number="SOP-QA-0001",
        change_number=record_in_state(kind_by_slug("changes"), "approved", personas,
                                         site=sop.site).number)
    assert missing_training(personas["qa_approver"], "deviations.deviation.approve") == []


def test_a_waiver_does_not_survive_a_return_to_the_author(
        personas: dict[str, Any], sop: DocumentVersion) -> None:
    from cyberqms.platform.kit.record_services import record_update

    _read(personas["qa_approver"], personas["admin"])
    draft = document_revise(sop, actor=personas["author"], size="minor",
                            change_summary="Form number corrected.")
    documents = kind_by_slug("documents")
    record_update(draft, actor=personas["author"], changes={
        "reviewer": personas["process_owner"], "effective_date": sop.effective_date})
    change = record_in_state(kind_by_slug("changes"), "approved", personas, site=sop.site)
    link_add(draft, actor=personas["author"], target_number=change.number,
             relation="implements")
    documents.workflow.run(draft, "submit", actor=personas["author"])
    waived = _waive(personas, draft)
    returned = documents.workflow.run(waived, "return", actor=personas["qa_manager"],
                                      reason="Section 7 needs more than a new number.")
    assert returned.retraining_needed is True


def test_the_training_record_says_the_reading_was_not_needed(
        personas: dict[str, Any], sop: DocumentVersion, login: Any) -> None:
    _in_force(personas, sop)
    person = personas["qa_approver"]
    html = login(person).get(f"/training/people/{person.pk}/").content.decode()
    assert "Qa Manager (no retraining needed)" in html
