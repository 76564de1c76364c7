"""A CAPA action that revises a controlled document (AL-10: CAPA → document): it names
the document, and it is done only once a new version of the document is in force."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cyberqms.platform.kit.record_parts import link_add
from cyberqms.platform.kit.records import kind_by_slug
from cyberqms.platform.kit.tests.kit import record_in_state
from cyberqms.platform.kit.workflow import GuardFailed
from cyberqms.quality.capa import services
from cyberqms.quality.capa.enums import ActionState, CapaState
from cyberqms.quality.documents.services import document_revise
from cyberqms.quality.documents.tests.test_documents import _approved

from .factories import capa_in_state, prepare_signers

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(personas: dict[str, Any]) -> dict[str, Any]:
    return prepare_signers(personas)


@pytest.fixture
def sop(people: dict[str, Any]) -> Any:
    return record_in_state(kind_by_slug("documents"), "effective", people,
                           title="Cleaning of filling line 4", doc_type="sop",
                           department="QA", cyber_relevant=False)


def _action(people: dict[str, Any], number: str = "sop-qa-0001") -> Any:
    capa = capa_in_state(CapaState.IMPLEMENTATION, people)
    return services.capa_action_add(
        capa, actor=people["author"], kind="corrective",
        description="Revise the cleaning SOP: hold time after cleaning.",
        owner=people["author"], due_date=timezone.localdate() + dt.timedelta(days=30),
        document_number=number)


def _revised(people: dict[str, Any], sop: Any) -> Any:
    draft = document_revise(sop, actor=people["author"], size="minor",
                            change_summary="Hold time after cleaning.")
    change = record_in_state(kind_by_slug("changes"), "approved", people, site=sop.site)
    link_add(draft, actor=people["author"], target_number=change.number,
             relation="implements")
    documents = kind_by_slug("documents")
    return documents.workflow.run(_approved(documents, people, draft), "make_effective",
                                  actor=None)


def test_the_action_names_the_document_it_revises(people: dict[str, Any], sop: Any) -> None:
    assert _action(people).document_number == "SOP-QA-0001"


def test_a_document_not_in_force_is_refused_naming_the_field(
        people: dict[str, Any], sop: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        _action(people, "SOP-QA-0099")
    assert refused.value.message_dict == {"document_number": [
        "No controlled document SOP-QA-0099 is in force to be revised."]}


def test_the_action_is_not_done_before_the_revision_is_in_force(
        people: dict[str, Any], sop: Any) -> None:
    action = _action(people)
    with pytest.raises(GuardFailed) as refused:
        services.capa_action_complete(action, actor=people["author"], evidence="Draft ready.")
    assert refused.value.text == (
        "This action revises SOP-QA-0001: it is done when a new version of it is in force, "
        "and none has taken effect since the action was added.")


def test_the_action_is_done_once_the_revision_is_in_force(
        people: dict[str, Any], sop: Any) -> None:
    action = _action(people)
    revision = _revised(people, sop)
    done = services.capa_action_complete(action, actor=people["author"],
                                         evidence=f"{revision.number} in force.")
    assert (done.state, services.revision_in_force(done).number) == (
        ActionState.DONE, "SOP-QA-0001 v1.1")


def test_the_capa_page_says_the_action_waits_for_the_revision(
        people: dict[str, Any], sop: Any, login: Any) -> None:
    action = _action(people)
    html = login(people["author"]).get(f"/capa/{action.capa_id}/").content.decode()
    assert ("Revises SOP-QA-0001:" in html,
            "waiting for the new version to take effect" in html) == (True, True)


def test_the_api_adds_an_action_that_revises_a_document(
        people: dict[str, Any], sop: Any, login: Any) -> None:
    capa = capa_in_state(CapaState.IMPLEMENTATION, people)
    response = login(people["author"]).post(
        f"/api/v1/capa/{capa.pk}/actions",
        {"kind": "corrective", "description": "Revise the SOP.", "owner": "author",
         "due_date": str(timezone.localdate() + dt.timedelta(days=10)),
         "document_number": "SOP-QA-0001"}, content_type="application/json")
    assert (response.status_code, response.json()["document_number"]) == (201, "SOP-QA-0001")
