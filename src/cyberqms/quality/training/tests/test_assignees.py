"""Training gates the assignment of a task too (P11-13): a person is not named for a step
(a document's reviewer, a deviation's investigator) without current training on what the
step needs; the field is refused with a sentence naming the missing document."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from cyberqms.platform.accounts.tests.factories import SiteFactory
from cyberqms.platform.kit.record_services import record_create, record_update
from cyberqms.platform.kit.records import kind_by_slug
from cyberqms.platform.kit.tests.kit import ready_to_sign, record_in_state, signature
from cyberqms.quality.documents.models import DocumentVersion
from cyberqms.quality.documents.tests.kit import CREATE

from .. import services
from ..enums import AssignmentState, ItemKind
from ..models import TrainingAssignment

pytestmark = pytest.mark.django_db


@pytest.fixture
def sop(personas: dict[str, Any]) -> DocumentVersion:
    """SOP-QA-0001 in force; reviewing documents and investigating deviations need it."""
    site = SiteFactory.create(code="MUC", name="Site MUC")
    version = record_in_state(kind_by_slug("documents"), "effective", personas, site=site,
                              title="Document review", doc_type="sop", department="QA",
                              cyber_relevant=False)
    assert isinstance(version, DocumentVersion)
    for step in ("documents.document.review", "deviations.deviation.complete_investigation"):
        services.requirement_add(
            actor=personas["qa_manager"], step=step, document_number="SOP-QA-0001",
            change_number=record_in_state(kind_by_slug("changes"), "approved", personas,
                                          site=site).number)
    return version


def _trained(person: Any, admin: Any, version: DocumentVersion) -> None:
    assignment = TrainingAssignment.objects.get(person=person, version=version,
                                                kind=ItemKind.READING,
                                                state=AssignmentState.OPEN)
    actor = ready_to_sign(person, admin)
    services.reading_acknowledge(assignment, actor=actor, signature=signature(actor))


def test_an_untrained_reviewer_is_not_named(personas: dict[str, Any],
                                            sop: DocumentVersion) -> None:
    with pytest.raises(ValidationError) as refused:
        record_create(kind_by_slug("documents"), actor=personas["author"], site=sop.site,
                      values={**CREATE, "reviewer": personas["process_owner"]})
    assert refused.value.message_dict == {"reviewer": [
        "Process Owner has no current training on SOP-QA-0001 (Document review), which "
        "this step needs: name someone else, or wait until they have read and signed it."]}


def test_a_trained_reviewer_is_named(personas: dict[str, Any], sop: DocumentVersion) -> None:
    _trained(personas["process_owner"], personas["admin"], sop)
    created = record_create(kind_by_slug("documents"), actor=personas["author"],
                            site=sop.site,
                            values={**CREATE, "reviewer": personas["process_owner"]})
    assert created.reviewer_id == personas["process_owner"].pk


def test_an_untrained_investigator_is_not_given_a_deviation(
        personas: dict[str, Any], sop: DocumentVersion) -> None:
    _trained(personas["process_owner"], personas["admin"], sop)
    deviation = record_in_state(kind_by_slug("deviations"), "draft", personas,
                                site=sop.site, owner=personas["process_owner"])
    with pytest.raises(ValidationError) as refused:
        record_update(deviation, actor=personas["process_owner"],
                      changes={"owner": personas["qa_approver"]})
    assert list(refused.value.message_dict) == ["owner"]
