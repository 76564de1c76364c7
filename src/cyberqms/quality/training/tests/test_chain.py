"""The chain change → document version → training (AL-10): the versions a change control
revises and how far their reading has come, on a page of its own linked from the change."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cyberqms.platform.accounts.tests.factories import SiteFactory
from cyberqms.platform.kit.record_parts import link_add
from cyberqms.platform.kit.records import kind_by_slug
from cyberqms.platform.kit.tests.kit import ready_to_sign, record_in_state, signature
from cyberqms.quality.documents.models import DocumentVersion
from cyberqms.quality.documents.services import document_revise
from cyberqms.quality.documents.tests.test_documents import _approved

from .. import services
from ..chain import change_training
from ..enums import AssignmentState, ItemKind
from ..models import TrainingAssignment

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(personas: dict[str, Any]) -> tuple[Any, DocumentVersion]:
    """CC in force behind SOP-QA-0001 v1.1, which QA reviewers and process owners read."""
    site = SiteFactory.create(code="MUC", name="Site MUC")
    first = record_in_state(kind_by_slug("documents"), "effective", personas, site=site,
                            title="Deviation management", doc_type="sop", department="QA",
                            cyber_relevant=False)
    services.curriculum_save(actor=personas["qa_manager"], name="QA review",
                             roles=["qa_reviewer", "process_owner"], for_everyone=False,
                             documents=[first.document])
    draft = document_revise(first, actor=personas["author"], size="minor",
                            change_summary="Triage within one day.")
    change = record_in_state(kind_by_slug("changes"), "approved", personas, site=site)
    link_add(draft, actor=personas["author"], target_number=change.number,
             relation="implements")
    documents = kind_by_slug("documents")
    version = documents.workflow.run(_approved(documents, personas, draft), "make_effective",
                                     actor=None)
    return change, version


def _read(person: Any, admin: Any, version: DocumentVersion) -> None:
    assignment = TrainingAssignment.objects.get(person=person, version=version,
                                                kind=ItemKind.READING)
    actor = ready_to_sign(person, admin)
    services.reading_acknowledge(assignment, actor=actor, signature=signature(actor))


def test_the_chain_counts_who_has_read_the_new_version(
        personas: dict[str, Any], chain: tuple[Any, DocumentVersion]) -> None:
    change, version = chain
    _read(personas["qa_approver"], personas["admin"], version)
    [row] = change_training(change, personas["qa_manager"], within=None)
    assert (row.version.number, row.assigned, row.done, row.open, row.percent,
            [p.username for p, _due, _late in row.waiting]) == (
        "SOP-QA-0001 v1.1", 2, 1, 1, 50.0, ["process_owner"])


def test_the_chain_counts_only_people_at_the_viewers_sites(
        personas: dict[str, Any], chain: tuple[Any, DocumentVersion]) -> None:
    change, _version = chain
    elsewhere = SiteFactory.create(code="BER", name="Site BER")
    [row] = change_training(change, personas["qa_manager"], within={elsewhere.pk})
    assert (row.assigned, row.percent) == (0, None)


def test_the_chain_reads_the_same_queries_for_one_reader_and_many(
        personas: dict[str, Any], chain: tuple[Any, DocumentVersion], make_user: Any) -> None:
    change, version = chain
    with CaptureQueriesContext(connection) as one:
        change_training(change, personas["qa_manager"], within=None)
    for n in range(4):
        make_user(f"reviewer{n}", "qa_reviewer")
    assert TrainingAssignment.objects.filter(version=version,
                                             state=AssignmentState.OPEN).count() == 6
    with CaptureQueriesContext(connection) as many:
        change_training(change, personas["qa_manager"], within=None)
    assert len(many) == len(one)


def test_the_change_page_links_to_its_chain(
        personas: dict[str, Any], chain: tuple[Any, DocumentVersion], login: Any) -> None:
    change, _version = chain
    html = login(personas["qa_manager"]).get(f"/changes/{change.pk}/").content.decode()
    assert f'href="/training/changes/{change.pk}/"' in html


def test_the_chain_page_shows_each_version_and_its_reading(
        personas: dict[str, Any], chain: tuple[Any, DocumentVersion], login: Any) -> None:
    change, _version = chain
    response = login(personas["qa_manager"]).get(f"/training/changes/{change.pk}/")
    html = response.content.decode()
    assert (response.status_code, "SOP-QA-0001 v1.1" in html,
            '<dd data-testid="chain-done">0 of 2 (0 %)</dd>' in html) == (200, True, True)
