"""A person's training record as PDF (A11-14 printouts, P11-18 manifestations): the header
on every page, the summary, the assignments with who signed and what it meant, the
signatures' manifestation; the same people may download it as may see the page; each
download is audited; the same queries for one assignment and for many."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from cyberqms.platform.accounts.tests.factories import SiteFactory
from cyberqms.platform.kit.records import kind_by_slug
from cyberqms.platform.kit.tests.kit import ready_to_sign, record_in_state, signature
from cyberqms.platform.trail.models import AuditEntry
from cyberqms.quality.documents.models import DocumentVersion

from .. import services
from ..enums import AssignmentState, ItemKind
from ..models import TrainingAssignment
from ..record_pdf import Line, Manifestation, Summary, training_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def site() -> Any:
    return SiteFactory.create(code="MUC", name="Site MUC")


@pytest.fixture
def worker(make_user: Any, site: Any) -> Any:
    return make_user("muc_reviewer", "qa_reviewer", site=site)


@pytest.fixture
def sop(personas: dict[str, Any], site: Any) -> DocumentVersion:
    """SOP-QA-0001 v1.0 in force, read by QA reviewers (the worker among them)."""
    version = record_in_state(kind_by_slug("documents"), "effective", personas, site=site,
                              title="Deviation management", doc_type="sop",
                              department="QA", cyber_relevant=False)
    services.curriculum_save(actor=personas["qa_manager"], name="QA review",
                             roles=["qa_reviewer"], for_everyone=False,
                             documents=[version.document])
    assert isinstance(version, DocumentVersion)
    return version


def _sessions(personas: dict[str, Any], count: int, name: str = "Sessions") -> None:
    services.curriculum_save(
        actor=personas["qa_manager"], name=name, roles=["qa_reviewer"], for_everyone=False,
        documents=[], sessions=[(ItemKind.CLASSROOM, f"Session {i:02d}", None)
                                for i in range(count)])


def _signed_reading(worker: Any, admin: Any) -> TrainingAssignment:
    assignment = TrainingAssignment.objects.get(person=worker, kind=ItemKind.READING)
    signer = ready_to_sign(worker, admin)
    return services.reading_acknowledge(assignment, actor=signer, signature=signature(signer))


def _pages(response: Any) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages]


def _url(person: Any) -> str:
    return reverse("training:person_pdf", args=[person.pk])


def test_every_page_names_the_person_their_roles_site_and_the_printer(
        personas: dict[str, Any], sop: DocumentVersion, worker: Any, login: Any) -> None:
    _sessions(personas, 60)
    pages = _pages(login(personas["qa_manager"]).get(_url(worker)))
    headers = {("Training record: Muc Reviewer" in p, "Roles: QA reviewer (MUC)" in p,
                "Site: MUC — Site MUC" in p, "Printed by Qa Manager" in p) for p in pages}
    assert (len(pages) > 1, headers) == (True, {(True, True, True, True)})


def test_the_download_is_a_pdf_named_after_the_person(
        personas: dict[str, Any], sop: DocumentVersion, worker: Any, login: Any) -> None:
    response = login(personas["qa_manager"]).get(_url(worker))
    assert (response.status_code, response["Content-Type"], response["Content-Disposition"],
            response.content[:5]) == (
        200, "application/pdf", 'attachment; filename="training-record-muc_reviewer.pdf"',
        b"%PDF-")


def test_the_summary_counts_completed_on_time_and_overdue(
        personas: dict[str, Any], sop: DocumentVersion, worker: Any) -> None:
    _sessions(personas, 1)
    _signed_reading(worker, personas["admin"])
    later = timezone.localdate() + dt.timedelta(days=15)
    record = training_record(worker.pk, today=later)
    assert record is not None
    assert (record.summary, record.summary.compliance) == (
        Summary(assigned=2, completed=1, on_time=1, overdue=1, due_so_far=2), "50.0 %")


def test_a_record_with_nothing_due_yet_has_no_compliance_figure(
        personas: dict[str, Any], sop: DocumentVersion, worker: Any) -> None:
    record = training_record(worker.pk)
    assert record is not None
    assert (record.summary, record.summary.compliance) == (
        Summary(assigned=1, completed=0, on_time=0, overdue=0, due_so_far=0), "—")


def test_a_signed_reading_says_who_signed_and_what_it_meant(
        personas: dict[str, Any], sop: DocumentVersion, worker: Any) -> None:
    done = _signed_reading(worker, personas["admin"])
    record = training_record(worker.pk)
    assert record is not None
    assert done.completed_at is not None
    assert record.lines == [Line(
        title="Read SOP-QA-0001 v1.0: Deviation management", kind="Document reading",
        version="1.0", assigned=done.assigned_at.astimezone(dt.UTC).date().isoformat(),
        due=done.due_date.isoformat(),
        completed=done.completed_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M"),
        signed_by="Muc Reviewer (muc_reviewer)", meaning="Read and understood",
        state="Completed", note="")]


def test_an_open_assignment_past_its_due_date_is_overdue(
        personas: dict[str, Any], sop: DocumentVersion, worker: Any) -> None:
    later = timezone.localdate() + dt.timedelta(days=15)
    record = training_record(worker.pk, today=later)
    assert record is not None
    assert [(line.state, line.signed_by, line.meaning) for line in record.lines] == [
        ("Overdue", "—", "—")]


def test_the_manifestation_lists_each_signature(
        personas: dict[str, Any], sop: DocumentVersion, worker: Any) -> None:
    done = _signed_reading(worker, personas["admin"])
    record = training_record(worker.pk)
    assert record is not None
    assert done.signature is not None
    assert record.signatures == [Manifestation(
        meaning="Read and understood", printed_name="Muc Reviewer", username="muc_reviewer",
        signed_at=done.signature.signed_at.astimezone(dt.UTC).strftime(
            "%Y-%m-%d %H:%M:%S UTC"),
        what="SOP-QA-0001 v1.0 Deviation management", components="password")]


def test_the_pdf_holds_the_manifestation(personas: dict[str, Any], sop: DocumentVersion,
                                         worker: Any, login: Any) -> None:
    _signed_reading(worker, personas["admin"])
    text = " ".join(_pages(login(personas["qa_manager"]).get(_url(worker))))
    assert ("Signature manifestation" in text, "Read and understood" in text,
            "Muc Reviewer (muc_reviewer)" in text) == (True, True, True)


def test_the_download_is_audited(personas: dict[str, Any], sop: DocumentVersion,
                                 worker: Any, login: Any) -> None:
    login(personas["qa_manager"]).get(_url(worker))
    entry = AuditEntry.objects.get(action="training.record.export")
    assert (entry.data["actor"]["username"], entry.data["object"], entry.data["changes"]) == (
        "qa_manager",
        {"type": "training.record", "id": str(worker.pk),
         "label": "Training record of Muc Reviewer"},
        {"format": [None, "pdf"], "assignments": [None, 1]})


def test_a_viewer_at_another_site_is_refused(personas: dict[str, Any], sop: DocumentVersion,
                                             worker: Any, make_user: Any,
                                             login: Any) -> None:
    zurich = SiteFactory.create(code="ZRH", name="Site ZRH")
    elsewhere = make_user("zrh_viewer", "qa_reviewer", site=zurich)
    response = login(elsewhere).get(_url(worker))
    assert (response.status_code,
            AuditEntry.objects.filter(action="training.record.export").count()) == (404, 0)


def test_a_viewer_at_the_persons_site_downloads_it(
        personas: dict[str, Any], sop: DocumentVersion, worker: Any, make_user: Any,
        site: Any, login: Any) -> None:
    here = make_user("muc_viewer", "qa_reviewer", site=site)
    assert login(here).get(_url(worker)).status_code == 200


def test_a_person_without_the_view_right_gets_only_their_own(
        personas: dict[str, Any], sop: DocumentVersion, worker: Any, login: Any) -> None:
    client = login(personas["author"])
    own = client.get(_url(personas["author"]))
    other = client.get(_url(worker))
    assert (own.status_code, other.status_code) == (200, 404)


def test_the_record_page_offers_the_pdf(personas: dict[str, Any], sop: DocumentVersion,
                                        worker: Any, login: Any) -> None:
    page = login(personas["qa_manager"]).get(reverse("training:person", args=[worker.pk]))
    assert f'href="{_url(worker)}"' in page.content.decode()


def test_the_pdf_costs_the_same_queries_for_one_assignment_and_many(
        personas: dict[str, Any], sop: DocumentVersion, worker: Any, login: Any) -> None:
    client = login(personas["qa_manager"])
    client.get(_url(worker))  # the first request of a session reads more (its access)
    with CaptureQueriesContext(connection) as one:
        client.get(_url(worker))
    _sessions(personas, 30)
    _signed_reading(worker, personas["admin"])
    with CaptureQueriesContext(connection) as many:
        response = client.get(_url(worker))
    assigned = TrainingAssignment.objects.filter(person=worker).exclude(
        state=AssignmentState.CANCELLED).count()
    assert (len(one), len(many), assigned, response.status_code) == (
        13, 13, 31, 200)
