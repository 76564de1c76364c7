"""What is document control's own: numbers per type and department, revisions, named
reviewers, IT security for cyber-relevant documents, taking effect on the date with the
previous version superseded, one effective version per document, change control for
revisions, the periodic review, and the API's own operations (the kit's invariants run
in kit.tests.test_families)."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cyberqms.platform.accounts.tests.factories import SiteFactory
from cyberqms.platform.kit.record_services import record_create, record_update
from cyberqms.platform.kit.records import find_by_number, kind_by_slug
from cyberqms.platform.kit.tests.files import pdf_file
from cyberqms.platform.kit.tests.kit import ready_to_sign, record_in_state, signature
from cyberqms.platform.kit.workflow import GuardFailed, SegregationOfDuties, StepClosed

from ..enums import DocumentState
from ..models import DocumentVersion
from ..services import document_revise, make_due_effective
from ..workflow import add_months
from .kit import CREATE

pytestmark = pytest.mark.django_db
S = DocumentState


@pytest.fixture
def kind() -> Any:
    return kind_by_slug("documents")


@pytest.fixture
def site() -> Any:
    return SiteFactory.create(code="MUC", name="Site MUC")


def _new(kind: Any, people: dict[str, Any], site: Any, **values: Any) -> DocumentVersion:
    created = record_create(kind, actor=people["author"], site=site,
                            values={**CREATE, "cyber_relevant": False, **values})
    assert isinstance(created, DocumentVersion)
    return created


def _sign(kind: Any, version: DocumentVersion, action: str, person: Any, admin: Any,
          **kwargs: Any) -> DocumentVersion:
    actor = ready_to_sign(person, admin)
    result: DocumentVersion = kind.workflow.run(version, action, actor=actor,
                                                signature=signature(actor), **kwargs)
    return result


def _approved(kind: Any, people: dict[str, Any], version: DocumentVersion) -> DocumentVersion:
    """Reviewed by the process owner and approved by QA (IT security first when needed)."""
    admin = people["admin"]
    record_update(version, actor=version.owner, changes={
        "reviewer": people["process_owner"],
        "effective_date": version.effective_date or timezone.localdate()})
    kind.workflow.run(version, "submit", actor=version.owner)
    _sign(kind, version, "review", people["process_owner"], admin)
    if version.cyber_relevant:
        _sign(kind, version, "security_approve", people["it_security"], admin)
    return _sign(kind, version, "approve", people["qa_approver"], admin)


# --- numbers ---------------------------------------------------------------------------------


def test_numbers_run_per_type_and_department(kind: Any, personas: dict[str, Any],
                                             site: Any) -> None:
    numbers = [_new(kind, personas, site, doc_type=t, department=d).number
               for t, d in (("sop", "QA"), ("sop", "QA"), ("wi", "QA"), ("sop", "IT"))]
    assert numbers == ["SOP-QA-0001 v1.0", "SOP-QA-0002 v1.0", "WI-QA-0001 v1.0",
                       "SOP-IT-0001 v1.0"]


def test_a_version_is_found_by_its_number_in_any_case(kind: Any, personas: dict[str, Any],
                                                      site: Any) -> None:
    version = _new(kind, personas, site, doc_type="pol", department="IT")
    assert find_by_number("pol-it-0001 V1.0") == version


# --- review and approval ---------------------------------------------------------------------


def test_sending_for_review_needs_a_reviewer_and_a_date(kind: Any, personas: dict[str, Any],
                                                        site: Any) -> None:
    version = _new(kind, personas, site, effective_date=None)
    with pytest.raises(GuardFailed) as refused:
        kind.workflow.run(version, "submit", actor=personas["author"])
    assert refused.value.messages == ["Name a reviewer and the effective date first."]


def test_the_author_cannot_review_their_own_document(kind: Any, personas: dict[str, Any],
                                                     site: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        _new(kind, personas, site, reviewer=personas["author"])
    assert refused.value.message_dict == {
        "reviewer": ["The author cannot review their own document."]}


def test_only_a_named_reviewer_reviews(kind: Any, personas: dict[str, Any], site: Any) -> None:
    version = _new(kind, personas, site, reviewer=personas["process_owner"])
    kind.workflow.run(version, "submit", actor=personas["author"])
    actor = ready_to_sign(personas["qa_approver"], personas["admin"])
    with pytest.raises(StepClosed) as refused:
        kind.workflow.run(version, "review", actor=actor, signature=signature(actor))
    assert refused.value.text == "You are not a named reviewer of this version."


def test_qa_approves_only_once_both_reviewers_have_signed(
        kind: Any, personas: dict[str, Any], site: Any) -> None:
    version = _new(kind, personas, site, reviewer=personas["process_owner"],
                   second_reviewer=personas["system_owner"])
    kind.workflow.run(version, "submit", actor=personas["author"])
    _sign(kind, version, "review", personas["process_owner"], personas["admin"])
    with pytest.raises(GuardFailed) as refused:
        _sign(kind, version, "approve", personas["qa_approver"], personas["admin"])
    assert refused.value.messages == ["Wait for the review first."]


def test_a_reviewer_cannot_also_approve(kind: Any, personas: dict[str, Any], site: Any) -> None:
    version = _new(kind, personas, site, reviewer=personas["qa_approver"])
    kind.workflow.run(version, "submit", actor=personas["author"])
    _sign(kind, version, "review", personas["qa_approver"], personas["admin"])
    with pytest.raises(SegregationOfDuties) as refused:
        _sign(kind, version, "approve", personas["qa_approver"], personas["admin"])
    assert refused.value.text == ("You are the reviewer of this record: someone else must "
                                  "take the step “Approve”.")


def test_a_cyber_relevant_document_needs_it_security_before_qa(
        kind: Any, personas: dict[str, Any], site: Any) -> None:
    version = _new(kind, personas, site, cyber_relevant=True,
                   reviewer=personas["process_owner"])
    kind.workflow.run(version, "submit", actor=personas["author"])
    _sign(kind, version, "review", personas["process_owner"], personas["admin"])
    with pytest.raises(GuardFailed) as refused:
        _sign(kind, version, "approve", personas["qa_approver"], personas["admin"])
    assert refused.value.messages == [
        "This document is cyber-relevant: IT security approves it first."]


def test_a_reviewers_signature_stays_valid_when_the_next_one_signs(
        kind: Any, personas: dict[str, Any], site: Any) -> None:
    """The steps' timestamps are not signed content: the first review is not superseded by
    the second (P11-20)."""
    from cyberqms.platform.kit.record_pages import record_json

    version = _new(kind, personas, site, reviewer=personas["process_owner"],
                   second_reviewer=personas["system_owner"])
    kind.workflow.run(version, "submit", actor=personas["author"])
    _sign(kind, version, "review", personas["process_owner"], personas["admin"])
    _sign(kind, version, "review", personas["system_owner"], personas["admin"])
    signatures = record_json(version, personas["qa_manager"])["signatures"]
    assert [(s["meaning"], s["superseded"]) for s in signatures] == [
        ("Reviewed", False), ("Reviewed", False)]


# --- taking effect ----------------------------------------------------------------------------


def test_approved_on_its_effective_date_it_takes_effect_on_commit(
        kind: Any, personas: dict[str, Any], site: Any,
        django_capture_on_commit_callbacks: Any) -> None:
    version = _new(kind, personas, site)
    with django_capture_on_commit_callbacks(execute=True):
        _approved(kind, personas, version)
    version.refresh_from_db()
    assert (version.state, version.due_date) == (
        S.EFFECTIVE, add_months(timezone.localdate(), 24))


def test_a_future_date_waits_for_the_scheduler(kind: Any, personas: dict[str, Any],
                                              site: Any) -> None:
    day = timezone.localdate() + dt.timedelta(days=10)
    version = _approved(kind, personas, _new(kind, personas, site, effective_date=day))
    assert make_due_effective() == 0
    assert make_due_effective(day) == 0  # the date the job sees is the engine's today
    with time_machine.travel(dt.datetime.combine(day, dt.time(6), tzinfo=dt.UTC)):
        assert make_due_effective() == 1
    version.refresh_from_db()
    assert (version.state, version.effective_at.date()) == (S.EFFECTIVE, day)


def test_the_new_version_supersedes_the_one_in_force(kind: Any, personas: dict[str, Any],
                                                     site: Any) -> None:
    first = record_in_state(kind, S.EFFECTIVE, personas, site=site, doc_type="wi")
    second = document_revise(first, actor=personas["author"], size="minor",
                             change_summary="Clarify step 2.")
    second = _approved(kind, personas, second)
    kind.workflow.run(second, "make_effective", actor=None)
    first.refresh_from_db()
    assert [(v.number, v.state) for v in DocumentVersion.objects.order_by("minor")] == [
        (first.number, S.SUPERSEDED), (second.number, S.EFFECTIVE)]


def test_a_person_cannot_take_the_step_cyberqms_takes(kind: Any, personas: dict[str, Any],
                                                      site: Any) -> None:
    version = _approved(kind, personas, _new(kind, personas, site))
    with pytest.raises(StepClosed) as refused:
        kind.workflow.run(version, "make_effective", actor=personas["qa_manager"])
    assert refused.value.text == "cyberqms takes this step by itself."


def test_the_database_refuses_a_second_effective_version(
        kind: Any, personas: dict[str, Any], site: Any) -> None:
    """An attacker (or a bug) writing around the services: the partial unique index."""
    first = record_in_state(kind, S.EFFECTIVE, personas, site=site, cyber_relevant=False)
    second = document_revise(first, actor=personas["author"], size="major",
                             change_summary="New layout.")
    with pytest.raises(IntegrityError), transaction.atomic():
        DocumentVersion.objects.filter(pk=second.pk).update(state=S.EFFECTIVE)


@pytest.mark.django_db(transaction=True)
def test_two_processes_making_a_version_effective_at_once_leave_one_in_force(
        kind: Any, personas: dict[str, Any]) -> None:
    """PostgreSQL, two connections: the scheduler and the approval's own follow-up make the
    same version effective at the same moment; one does, the other finds it done, and the
    version in force before is superseded once."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one write transaction at a time")
    site = SiteFactory.create(code="MUC", name="Site MUC")
    first = _approved(kind, personas, _new(kind, personas, site, doc_type="wi"))
    first.refresh_from_db()  # in force already: the approval's follow-up ran on commit
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    revision = document_revise(first, actor=personas["author"], size="minor",
                               change_summary="Typo.")
    record_update(revision, actor=personas["author"], changes={"effective_date": tomorrow})
    second = _approved(kind, personas, revision)
    ready = threading.Barrier(2)
    failures: list[Exception] = []

    def take(pk: int) -> None:
        try:
            ready.wait()
            kind.workflow.run(DocumentVersion.objects.get(pk=pk), "make_effective",
                              actor=None)
        except Exception as exc:  # asserted below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(pk,)) for pk in (second.pk, second.pk)]
    with time_machine.travel(dt.datetime.combine(tomorrow, dt.time(8), tzinfo=dt.UTC)):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    states = list(DocumentVersion.objects.order_by("minor").values_list("number", "state"))
    assert (first.state, states, [type(f).__name__ for f in failures]) == (
        S.EFFECTIVE, [(first.number, S.SUPERSEDED), (second.number, S.EFFECTIVE)],
        ["TransitionNotAllowed"])


# --- revisions ----------------------------------------------------------------------------------


def test_a_revision_starts_from_the_version_in_force(kind: Any, personas: dict[str, Any],
                                                     site: Any) -> None:
    first = record_in_state(kind, S.EFFECTIVE, personas, site=site)
    revision = document_revise(first, actor=personas["author"], size="major",
                               change_summary="Adds the quarterly review.")
    assert (revision.number, revision.state, revision.body, revision.document_id) == (
        "SOP-IT-0001 v2.0", S.DRAFT, first.body, first.document_id)


def test_one_revision_at_a_time(kind: Any, personas: dict[str, Any], site: Any) -> None:
    first = record_in_state(kind, S.EFFECTIVE, personas, site=site)
    document_revise(first, actor=personas["author"], size="minor", change_summary="A.")
    with pytest.raises(ValidationError) as refused:
        document_revise(first, actor=personas["author"], size="minor", change_summary="B.")
    assert refused.value.message_dict == {"__all__": [
        "SOP-IT-0001 v1.1 is already under way: finish or cancel it first."]}


def test_a_revised_sop_is_sent_for_review_only_under_an_approved_change(
        kind: Any, personas: dict[str, Any], site: Any) -> None:
    first = record_in_state(kind, S.EFFECTIVE, personas, site=site)
    revision = document_revise(first, actor=personas["author"], size="minor",
                               change_summary="New approver.")
    record_update(revision, actor=personas["author"],
                  changes={"reviewer": personas["process_owner"],
                           "effective_date": timezone.localdate()})
    with pytest.raises(GuardFailed) as refused:
        kind.workflow.run(revision, "submit", actor=personas["author"])
    assert refused.value.messages == [
        "A revision of this type implements an approved change control: link the change "
        "(relation “Implements”) first."]


def test_a_linked_approved_change_lets_the_revision_go_to_review(
        kind: Any, personas: dict[str, Any], site: Any) -> None:
    change = record_in_state(kind_by_slug("changes"), "approved", personas, site=site)
    first = record_in_state(kind, S.EFFECTIVE, personas, site=site)
    revision = document_revise(first, actor=personas["author"], size="minor",
                               change_summary="New approver.", change_number=change.number)
    record_update(revision, actor=personas["author"],
                  changes={"reviewer": personas["process_owner"],
                           "effective_date": timezone.localdate()})
    kind.workflow.run(revision, "submit", actor=personas["author"])
    assert revision.state == S.IN_REVIEW


def test_a_work_instruction_is_revised_without_a_change(kind: Any, personas: dict[str, Any],
                                                        site: Any) -> None:
    first = record_in_state(kind, S.EFFECTIVE, personas, site=site, doc_type="wi")
    revision = document_revise(first, actor=personas["author"], size="minor",
                               change_summary="Photo of the panel.")
    record_update(revision, actor=personas["author"],
                  changes={"reviewer": personas["process_owner"],
                           "effective_date": timezone.localdate()})
    kind.workflow.run(revision, "submit", actor=personas["author"])
    assert revision.state == S.IN_REVIEW


def test_an_unknown_change_number_is_refused_naming_the_field(
        kind: Any, personas: dict[str, Any], site: Any) -> None:
    first = record_in_state(kind, S.EFFECTIVE, personas, site=site)
    with pytest.raises(ValidationError) as refused:
        document_revise(first, actor=personas["author"], size="minor", change_summary="X.",
                        change_number="CC-2026-9999")
    assert refused.value.message_dict == {
        "change_number": ["No record 'CC-2026-9999' that you can see."]}
    assert DocumentVersion.objects.count() == 1


def test_a_draft_is_not_revised(kind: Any, personas: dict[str, Any], site: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        document_revise(_new(kind, personas, site), actor=personas["author"], size="minor",
                        change_summary="X.")
    assert refused.value.message_dict == {"__all__": ["Only the version in force is revised."]}


# --- periodic review ----------------------------------------------------------------------------


def test_the_owner_confirms_the_periodic_review_when_it_is_near(
        kind: Any, personas: dict[str, Any], site: Any) -> None:
    version = record_in_state(kind, S.EFFECTIVE, personas, site=site)
    owner = ready_to_sign(version.owner, personas["admin"])
    with pytest.raises(StepClosed) as early:
        kind.workflow.run(version, "confirm_review", actor=owner, signature=signature(owner))
    assert early.value.text == f"The periodic review is due on {version.due_date}."


def test_a_confirmed_review_falls_due_again_one_interval_later(
        kind: Any, personas: dict[str, Any], site: Any) -> None:
    version = record_in_state(kind, S.EFFECTIVE, personas, site=site)
    later = version.due_date - dt.timedelta(days=20)
    owner = ready_to_sign(version.owner, personas["admin"])
    with time_machine.travel(dt.datetime.combine(later, dt.time(9), tzinfo=dt.UTC)):
        kind.workflow.run(version, "confirm_review", actor=owner, signature=signature(owner))
    assert version.due_date == later.replace(year=later.year + 2)


# --- the API's own operations ------------------------------------------------------------------


def test_a_revision_is_started_over_the_api(kind: Any, personas: dict[str, Any], site: Any,
                                            login: Any) -> None:
    first = record_in_state(kind, S.EFFECTIVE, personas, site=site)
    response = login(personas["author"]).post(
        f"/api/v1/documents/{first.pk}/revise",
        {"size": "major", "change_summary": "Quarterly review added."},
        content_type="application/json")
    body = response.json()
    assert (response.status_code, body["number"], body["state"], body["change_summary"]) == (
        201, "SOP-IT-0001 v2.0", "draft", "Quarterly review added.")


def test_an_unknown_revision_size_is_422_naming_the_field(
        kind: Any, personas: dict[str, Any], site: Any, login: Any) -> None:
    first = record_in_state(kind, S.EFFECTIVE, personas, site=site)
    response = login(personas["author"]).post(
        f"/api/v1/documents/{first.pk}/revise", {"size": "huge", "change_summary": "X."},
        content_type="application/json")
    assert (response.status_code, response["Content-Type"],
            [e["field"] for e in response.json()["errors"]]) == (
        422, "application/problem+json", ["size"])


def test_two_versions_compare_line_by_line_over_the_api(
        kind: Any, personas: dict[str, Any], site: Any, login: Any) -> None:
    first = record_in_state(kind, S.EFFECTIVE, personas, site=site,
                            body="# Purpose\nOne\nTwo\n")
    revision = document_revise(first, actor=personas["author"], size="minor",
                               change_summary="Two is three.")
    record_update(revision, actor=personas["author"], changes={"body": "# Purpose\nOne\nThree\n"})
    body = login(personas["auditor"]).get(
        f"/api/v1/documents/{revision.pk}/compare/{first.pk}").json()
    assert [(r["kind"], r["old"], r["new"]) for r in body["rows"]] == [
        ("same", "# Purpose", "# Purpose"), ("same", "One", "One"), ("changed", "Two", "Three")]


def test_versions_of_two_documents_do_not_compare(kind: Any, personas: dict[str, Any],
                                                  site: Any, login: Any) -> None:
    one, other = _new(kind, personas, site), _new(kind, personas, site)
    response = login(personas["auditor"]).get(f"/api/v1/documents/{one.pk}/compare/{other.pk}")
    assert response.status_code == 404


# --- what the reviewers signed stays what they saw ----------------------------------------------


def test_a_file_is_not_attached_once_the_version_is_in_review(
        kind: Any, personas: dict[str, Any], site: Any) -> None:
    from cyberqms.platform.kit.record_parts import attachment_add

    version = _new(kind, personas, site, reviewer=personas["process_owner"])
    kind.workflow.run(version, "submit", actor=personas["author"])
    with pytest.raises(ValidationError) as refused:
        attachment_add(version, actor=personas["author"], filename="sop.pdf",
                       data=pdf_file("SOP"))
    assert refused.value.messages == [
        "SOP-IT-0001 v1.0 is in review: it cannot be given new attachments."]


def test_the_originator_cannot_review_after_handing_over_ownership(
        kind: Any, personas: dict[str, Any], site: Any) -> None:
    version = _new(kind, personas, site, owner=personas["process_owner"])
    with pytest.raises(ValidationError) as refused:
        record_update(version, actor=personas["process_owner"],
                      changes={"reviewer": personas["author"]})
    assert refused.value.message_dict == {
        "reviewer": ["The author cannot review their own document."]}


def test_a_document_is_not_retired_while_its_revision_is_under_way(
        kind: Any, personas: dict[str, Any], site: Any) -> None:
    first = record_in_state(kind, S.EFFECTIVE, personas, site=site, doc_type="wi")
    document_revise(first, actor=personas["author"], size="minor", change_summary="X.")
    with pytest.raises(GuardFailed) as refused:
        _sign(kind, first, "retire", personas["qa_manager"], personas["admin"],
              reason="Replaced by the new work instruction")
    assert refused.value.messages == [
        "WI-IT-0001 v1.1 is under way: cancel it before retiring the document."]


def test_a_revision_of_a_cyber_relevant_document_stays_cyber_relevant(
        kind: Any, personas: dict[str, Any], site: Any) -> None:
    first = record_in_state(kind, S.EFFECTIVE, personas, site=site)  # cyber-relevant
    draft = document_revise(first, actor=personas["author"], size="minor",
                            change_summary="X.")
    with pytest.raises(ValidationError) as refused:
        record_update(draft, actor=personas["author"], changes={"cyber_relevant": False})
    assert refused.value.message_dict == {"cyber_relevant": [
        "Only IT security decides that a revision of a cyber-relevant document is not."]}
