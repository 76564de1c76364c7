"""Training pages and API: my training, the reading signed from its page, the matrix and
its CSV, a person's record, the requirements page, and the API's assignments,
acknowledgement, matrix and KPIs."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from cyberqms.conftest import PASSWORD
from cyberqms.platform.accounts.tests.factories import SiteFactory
from cyberqms.platform.kit.records import kind_by_slug
from cyberqms.platform.kit.signatures import commitment_accept
from cyberqms.platform.kit.tests.kit import ready_to_sign, record_in_state
from cyberqms.quality.documents.models import DocumentVersion

from .. import services
from ..enums import AssignmentState
from ..models import TrainingAssignment

pytestmark = pytest.mark.django_db


@pytest.fixture
def sop(personas: dict[str, Any]) -> DocumentVersion:
    site = SiteFactory.create(code="MUC", name="Site MUC")
    version = record_in_state(kind_by_slug("documents"), "effective", personas, site=site,
                              title="Deviation management", doc_type="sop",
                              department="QA", cyber_relevant=False)
    services.curriculum_save(actor=personas["qa_manager"], name="QA review",
                             roles=["qa_reviewer"], for_everyone=False,
                             documents=[version.document])
    assert isinstance(version, DocumentVersion)
    return version


def _reading(person: Any) -> TrainingAssignment:
    return TrainingAssignment.objects.get(person=person, kind="reading")


def test_my_training_lists_the_reading_to_sign(sop: DocumentVersion, personas: dict[str, Any],
                                               login: Any) -> None:
    response = login(personas["qa_approver"]).get(reverse("training:mine"))
    assert [a.title for a in response.context["open"]] == [
        "Read SOP-QA-0001 v1.0: Deviation management"]


def test_the_reading_is_signed_from_its_page(sop: DocumentVersion, personas: dict[str, Any],
                                            login: Any) -> None:
    person = ready_to_sign(personas["qa_approver"], personas["admin"])
    reading = _reading(person)
    response = login(person).post(reverse("training:read", args=[reading.pk]),
                                  {"password": PASSWORD})
    reading.refresh_from_db()
    assert (response.status_code, response["Location"], reading.state) == (
        302, reverse("training:mine"), AssignmentState.DONE)


def test_a_wrong_password_is_refused_on_the_reading_page(
        sop: DocumentVersion, personas: dict[str, Any], login: Any) -> None:
    person = ready_to_sign(personas["qa_approver"], personas["admin"])
    reading = _reading(person)
    response = login(person).post(reverse("training:read", args=[reading.pk]),
                                  {"password": "wrong"})
    reading.refresh_from_db()
    assert (response.status_code, response.context["error"]["field"], reading.state) == (
        422, "password", AssignmentState.OPEN)


def test_someone_elses_reading_is_not_found(sop: DocumentVersion, personas: dict[str, Any],
                                           login: Any) -> None:
    reading = _reading(personas["qa_approver"])
    response = login(personas["qa_manager"]).get(reverse("training:read", args=[reading.pk]))
    assert response.status_code == 404


def test_the_matrix_page_and_its_csv_say_the_same(sop: DocumentVersion,
                                                  personas: dict[str, Any],
                                                  login: Any) -> None:
    client = login(personas["qa_manager"])
    page = client.get(reverse("training:matrix"))
    csv = b"".join(client.get(reverse("training:matrix"), {"format": "csv"})
                   .streaming_content).decode("utf-8-sig").splitlines()
    rows = {r.person.username: r.cells for r in page.context["matrix"].rows}
    assert ((rows["qa_approver"], rows["author"]), csv[0], [line for line in csv[1:]
                                                       if "qa_approver" in line]) == (
        (["open"], [""]), "Person,Username,Roles,SOP-QA-0001 Deviation management",
        ["Qa Approver,qa_approver,qa_reviewer,Open"])


def test_a_person_sees_their_own_record_but_not_anothers(
        sop: DocumentVersion, personas: dict[str, Any], login: Any) -> None:
    client = login(personas["author"])
    own = client.get(reverse("training:person", args=[personas["author"].pk]))
    other = client.get(reverse("training:person", args=[personas["qa_approver"].pk]))
    assert (own.status_code, other.status_code) == (200, 404)


def test_a_requirement_is_added_from_its_page(sop: DocumentVersion, personas: dict[str, Any],
                                              login: Any) -> None:
    change = record_in_state(kind_by_slug("changes"), "approved", personas, site=sop.site)
    response = login(personas["qa_manager"]).post(reverse("training:requirements"), {
        "step": "deviations.deviation.approve", "document": "SOP-QA-0001",
        "change": change.number})
    listed = login(personas["auditor"]).get(reverse("training:requirements"))
    assert (response.status_code, [(r.step, r.change_reference)
                                   for r, _words in listed.context["rows"]]) == (
        302, [("deviations.deviation.approve", change.number)])


def test_a_requirement_without_a_change_says_why(sop: DocumentVersion,
                                                personas: dict[str, Any], login: Any) -> None:
    response = login(personas["qa_manager"]).post(reverse("training:requirements"), {
        "step": "deviations.deviation.approve", "document": "SOP-QA-0001", "change": "CC-9"})
    assert (response.status_code, response.context["error"]) == (
        422, "Change: No change control 'CC-9'.")


# --- API -------------------------------------------------------------------------------------


def test_the_api_lists_my_assignments(sop: DocumentVersion, personas: dict[str, Any],
                                      login: Any) -> None:
    body = login(personas["qa_approver"]).get("/api/v1/training/assignments").json()
    assert [(a["version"], a["state"], a["overdue"]) for a in body] == [
        ("SOP-QA-0001 v1.0", "open", False)]


def test_the_api_acknowledges_a_reading_with_a_signature(
        sop: DocumentVersion, personas: dict[str, Any], login: Any) -> None:
    person = ready_to_sign(personas["qa_approver"], personas["admin"])
    commitment_accept(person)
    reading = _reading(person)
    response = login(person).post(f"/api/v1/training/assignments/{reading.pk}/acknowledge",
                                  {"password": PASSWORD}, content_type="application/json")
    assert (response.status_code, response.json()["state"]) == (200, "done")


def test_the_api_refuses_a_wrong_password_as_a_problem(
        sop: DocumentVersion, personas: dict[str, Any], login: Any) -> None:
    person = ready_to_sign(personas["qa_approver"], personas["admin"])
    reading = _reading(person)
    response = login(person).post(f"/api/v1/training/assignments/{reading.pk}/acknowledge",
                                  {"password": "wrong"}, content_type="application/json")
    assert (response.status_code, response["Content-Type"]) == (
        403, "application/problem+json")


def test_an_unknown_role_in_the_matrix_is_422_naming_it(
        sop: DocumentVersion, personas: dict[str, Any], login: Any) -> None:
    response = login(personas["qa_manager"]).get("/api/v1/training/matrix", {"role": "chef"})
    assert (response.status_code, [e["field"] for e in response.json()["errors"]]) == (
        422, ["role"])


def test_the_api_gives_the_kpis(sop: DocumentVersion, personas: dict[str, Any],
                                login: Any) -> None:
    body = login(personas["auditor"]).get("/api/v1/training/kpis").json()
    assert body == {"training_compliance": None, "assignments_due": 0,
                    "completed_on_time": 0, "overdue_trainings": 0,
                    "documents_past_review": 0}


def test_the_reading_page_shows_a_docx_content_converted(
        personas: dict[str, Any], login: Any) -> None:
    from cyberqms.platform.kit.tests.files import docx_file
    from cyberqms.quality.documents.services import document_content_upload

    site = SiteFactory.create(code="MUC", name="Site MUC")
    draft = record_in_state(kind_by_slug("documents"), "draft", personas, site=site,
                            title="Line clearance", doc_type="wi", department="PRD",
                            cyber_relevant=False, body="")
    assert isinstance(draft, DocumentVersion)
    document_content_upload(draft, actor=draft.owner, filename="wi.docx",
                            data=docx_file("Remove every material of the batch before.",
                                           heading="Line clearance"))
    DocumentVersion.objects.filter(pk=draft.pk).update(state="effective")
    services.curriculum_save(actor=personas["qa_manager"], name="Production",
                             roles=["qa_reviewer"], for_everyone=False,
                             documents=[draft.document])
    html = login(personas["qa_approver"]).get(
        reverse("training:read", args=[_reading(personas["qa_approver"]).pk])).content.decode()
    assert "<h1>Line clearance</h1><p>Remove every material of the batch before.</p>" in html
