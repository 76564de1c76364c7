"""Keeping curricula from pages: a curriculum created and changed (name, roles, every GxP
user, followed or not), its items added, changed and removed; every change audited with its
reason, the followers assigned what is new, the open assignments only a removed item (or a
curriculum no longer followed) caused cancelled; bad input answered 422 naming the field;
only holders of `training.manage` reach the pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from cyberqms.platform.kit.records import kind_by_slug
from cyberqms.platform.kit.tests.kit import record_in_state
from cyberqms.platform.trail.models import AuditEntry
from cyberqms.quality.documents.models import DocumentVersion

from .. import services
from ..curricula import curriculum_item_save
from ..enums import AssignmentState, ItemKind
from ..models import Curriculum, CurriculumItem, TrainingAssignment

pytestmark = pytest.mark.django_db
A = AssignmentState


@pytest.fixture
def sop(personas: dict[str, Any]) -> DocumentVersion:
    """SOP-QA-0001 v1.0 in force (no curriculum holds it yet)."""
    version = record_in_state(kind_by_slug("documents"), "effective", personas,
                              title="Deviation management", doc_type="sop",
                              department="QA", cyber_relevant=False)
    assert isinstance(version, DocumentVersion)
    return version


@pytest.fixture
def review(personas: dict[str, Any]) -> Curriculum:
    """An empty curriculum followed by QA reviewers (the persona qa_approver)."""
    return services.curriculum_save(actor=personas["qa_manager"], name="QA review",
                                    roles=["qa_reviewer"], for_everyone=False, documents=[])


@pytest.fixture
def manager(personas: dict[str, Any], login: Any) -> Any:
    return login(personas["qa_manager"])


def _add(client: Any, curriculum: Curriculum, **fields: Any) -> Any:
    data = {"kind": ItemKind.READING, "document": "", "title": "", "due_days": 14,
            "retrain_months": "", "reason": "New SOP for reviewers", **fields}
    return client.post(reverse("training:curriculum_item_create", args=[curriculum.pk]), data)


def _open(person: Any) -> list[tuple[str, dt.date]]:
    return list(TrainingAssignment.objects.filter(person=person, state=A.OPEN).values_list(
        "title", "due_date"))


def _item(curriculum: Curriculum) -> CurriculumItem:
    return CurriculumItem.objects.get(curriculum=curriculum)


def _remove(client: Any, item: CurriculumItem, reason: str = "Replaced by a session") -> Any:
    return client.post(reverse("training:curriculum_item_remove", args=[item.pk]),
                       {"reason": reason})


# --- the curriculum -------------------------------------------------------------------------


def test_a_manager_creates_a_curriculum_from_the_page(personas: dict[str, Any],
                                                      manager: Any) -> None:
    response = manager.post(reverse("training:curriculum_create"), {
        "name": "Warehouse", "description": "Goods receipt and storage",
        "roles": ["process_owner", "author"], "is_active": "on"})
    created = Curriculum.objects.get(name="Warehouse")
    assert (response.status_code, response["Location"], created.roles, created.for_everyone,
            created.is_active, created.description) == (
        302, reverse("training:curriculum_edit", args=[created.pk]),
        ["author", "process_owner"], False, True, "Goods receipt and storage")


def test_creating_a_curriculum_is_audited(personas: dict[str, Any], manager: Any) -> None:
    manager.post(reverse("training:curriculum_create"), {"name": "Warehouse",
                                                         "for_everyone": "on"})
    entry = AuditEntry.objects.get(action="training.curriculum.create")
    assert (entry.data["actor"]["username"], entry.data["object"]["label"],
            entry.data["changes"]["for_everyone"]) == ("qa_manager", "Warehouse", [None, True])


def test_a_curriculum_without_a_name_is_422_naming_the_field(manager: Any) -> None:
    response = manager.post(reverse("training:curriculum_create"), {"name": " "})
    assert (response.status_code, response.context["form"].errors) == (
        422, {"name": ["This field is required."]})


def test_a_second_curriculum_of_the_same_name_is_422_naming_the_field(
        review: Curriculum, manager: Any) -> None:
    response = manager.post(reverse("training:curriculum_create"), {"name": "QA review"})
    assert (response.status_code, response.context["form"].errors) == (
        422, {"name": ["Curriculum with this Name already exists."]})


def test_an_unknown_role_is_422_naming_the_field(manager: Any) -> None:
    response = manager.post(reverse("training:curriculum_create"), {"name": "Kitchen",
                                                                    "roles": ["chef"]})
    assert (response.status_code, response.context["form"].errors) == (
        422, {"roles": ["Select a valid choice. chef is not one of the available choices."]})


def test_a_change_without_a_reason_is_422_naming_the_field(review: Curriculum,
                                                           manager: Any) -> None:
    response = manager.post(reverse("training:curriculum_edit", args=[review.pk]), {
        "name": "QA review", "roles": ["qa_reviewer"], "is_active": "on"})
    assert (response.status_code, response.context["form"].errors) == (
        422, {"reason": ["This field is required."]})


def test_a_change_is_audited_with_its_reason(review: Curriculum, manager: Any) -> None:
    manager.post(reverse("training:curriculum_edit", args=[review.pk]), {
        "name": "QA review and approval", "roles": ["qa_reviewer"], "is_active": "on",
        "reason": "Approvers too"})
    entry = AuditEntry.objects.get(action="training.curriculum.update")
    assert (entry.data["reason"], entry.data["changes"]["name"]) == (
        "Approvers too", ["QA review", "QA review and approval"])


def test_a_curriculum_no_longer_followed_cancels_the_open_training_it_caused(
        personas: dict[str, Any], sop: DocumentVersion, review: Curriculum,
        manager: Any) -> None:
    _add(manager, review, document="SOP-QA-0001")
    manager.post(reverse("training:curriculum_edit", args=[review.pk]), {
        "name": "QA review", "roles": ["qa_reviewer"], "reason": "Merged into QA basics"})
    review.refresh_from_db()
    cancelled = TrainingAssignment.objects.get(person=personas["qa_approver"])
    assert (review.is_active, cancelled.state, cancelled.cancelled_reason) == (
        False, A.CANCELLED, "No longer concerned by the curriculum “QA review”")


def test_a_role_taken_out_cancels_the_open_training_of_its_holders_only(
        personas: dict[str, Any], sop: DocumentVersion, manager: Any) -> None:
    both = services.curriculum_save(actor=personas["qa_manager"], name="QA",
                                    roles=["qa_reviewer", "author"], for_everyone=False,
                                    documents=[sop.document])
    manager.post(reverse("training:curriculum_edit", args=[both.pk]), {
        "name": "QA", "roles": ["qa_reviewer"], "is_active": "on",
        "reason": "Authors read it elsewhere"})
    assert (len(_open(personas["qa_approver"])), len(_open(personas["author"]))) == (1, 0)


# --- items ------------------------------------------------------------------------------------


def test_a_reading_added_is_assigned_to_the_followers(
        personas: dict[str, Any], sop: DocumentVersion, review: Curriculum,
        manager: Any) -> None:
    response = _add(manager, review, document="SOP-QA-0001", due_days=10)
    assert (response.status_code, _open(personas["qa_approver"]), _open(personas["author"])) == (
        302, [("Read SOP-QA-0001 v1.0: Deviation management",
               timezone.localdate() + dt.timedelta(days=10))], [])


def test_adding_an_item_is_audited_with_its_reason(
        sop: DocumentVersion, review: Curriculum, manager: Any) -> None:
    _add(manager, review, document="SOP-QA-0001")
    entry = AuditEntry.objects.get(action="training.item.create")
    assert (entry.data["object"]["label"], entry.data["reason"]) == (
        "QA review: SOP-QA-0001", "New SOP for reviewers")


def test_a_session_added_is_assigned_with_its_retraining(
        personas: dict[str, Any], review: Curriculum, manager: Any) -> None:
    _add(manager, review, kind=ItemKind.CLASSROOM, title="GMP basics", retrain_months=12)
    item = _item(review)
    assert ((item.kind, item.title, item.retrain_months), _open(personas["qa_approver"])) == (
        (ItemKind.CLASSROOM, "GMP basics", 12),
        [("GMP basics", timezone.localdate() + dt.timedelta(days=14))])


def test_a_reading_without_a_document_is_422_naming_the_field(review: Curriculum,
                                                              manager: Any) -> None:
    response = _add(manager, review)
    assert (response.status_code, response.context["form"].errors) == (
        422, {"document": ["Choose the document to read."]})


def test_an_unknown_document_is_422_naming_the_field(sop: DocumentVersion,
                                                     review: Curriculum,
                                                     manager: Any) -> None:
    response = _add(manager, review, document="SOP-QA-9999")
    assert (response.status_code, response.context["form"].errors) == (
        422, {"document": ["Select a valid choice. SOP-QA-9999 is not one of the available "
                           "choices."]})


def test_a_document_already_in_the_curriculum_is_422_naming_the_field(
        sop: DocumentVersion, review: Curriculum, manager: Any) -> None:
    _add(manager, review, document="SOP-QA-0001")
    response = _add(manager, review, document="SOP-QA-0001")
    assert (response.status_code, response.context["form"].errors) == (
        422, {"document": ["SOP-QA-0001 is already in this curriculum."]})


def test_a_session_without_a_title_is_422_naming_the_field(review: Curriculum,
                                                           manager: Any) -> None:
    response = _add(manager, review, kind=ItemKind.ON_THE_JOB)
    assert (response.status_code, response.context["form"].errors) == (
        422, {"title": ["Say what the training covers."]})


def test_a_reading_with_a_retraining_interval_is_422_naming_the_field(
        sop: DocumentVersion, review: Curriculum, manager: Any) -> None:
    response = _add(manager, review, document="SOP-QA-0001", retrain_months=12)
    assert (response.status_code, response.context["form"].errors) == (
        422, {"retrain_months": ["A reading is repeated when a new version takes effect, "
                                 "not at an interval: leave it empty."]})


@pytest.mark.parametrize("days", ["0", "366", "soon"])
def test_days_to_complete_out_of_range_are_422_naming_the_field(
        review: Curriculum, manager: Any, days: str) -> None:
    response = _add(manager, review, kind=ItemKind.CLASSROOM, title="GMP", due_days=days)
    assert (response.status_code, list(response.context["form"].errors)) == (
        422, ["due_days"])


def test_an_item_without_a_reason_is_422_naming_the_field(review: Curriculum,
                                                          manager: Any) -> None:
    response = _add(manager, review, kind=ItemKind.CLASSROOM, title="GMP", reason="")
    assert (response.status_code, response.context["form"].errors) == (
        422, {"reason": ["This field is required."]})


def test_an_item_changed_is_audited_with_what_changed(
        personas: dict[str, Any], review: Curriculum, manager: Any) -> None:
    _add(manager, review, kind=ItemKind.CLASSROOM, title="GMP basics")
    item = _item(review)
    response = manager.post(reverse("training:curriculum_item_edit", args=[item.pk]), {
        "kind": ItemKind.CLASSROOM, "title": "GMP basics", "due_days": 30,
        "retrain_months": 24, "reason": "Yearly is too often"})
    entry = AuditEntry.objects.get(action="training.item.update")
    assert (response.status_code, entry.data["reason"], entry.data["changes"]) == (
        302, "Yearly is too often", {"due_days": [14, 30], "retrain_months": [None, 24]})


def test_an_item_keeps_its_kind(personas: dict[str, Any], review: Curriculum,
                                manager: Any) -> None:
    _add(manager, review, kind=ItemKind.CLASSROOM, title="GMP basics")
    with pytest.raises(ValidationError) as refused:
        curriculum_item_save(review, actor=personas["qa_manager"], item=_item(review),
                             kind=ItemKind.ON_THE_JOB, title="GMP basics", reason="Practice")
    assert refused.value.message_dict == {
        "kind": ["An item keeps its kind: remove it and add another."]}


def test_the_edit_page_offers_only_the_items_kind(review: Curriculum, manager: Any) -> None:
    _add(manager, review, kind=ItemKind.CLASSROOM, title="GMP basics")
    page = manager.get(reverse("training:curriculum_item_edit", args=[_item(review).pk]))
    assert list(page.context["form"].fields["kind"].choices) == [
        (ItemKind.CLASSROOM.value, ItemKind.CLASSROOM.label)]


def test_a_reading_removed_cancels_the_open_readings_only_it_caused(
        personas: dict[str, Any], sop: DocumentVersion, review: Curriculum,
        manager: Any) -> None:
    _add(manager, review, document="SOP-QA-0001")
    response = _remove(manager, _item(review))
    reading = TrainingAssignment.objects.get(person=personas["qa_approver"])
    assert (response.status_code, reading.state, reading.cancelled_reason,
            CurriculumItem.every.filter(curriculum=review).count()) == (
        302, A.CANCELLED, "No longer in the curriculum “QA review”", 0)


def test_a_reading_another_curriculum_asks_for_stays_open(
        personas: dict[str, Any], sop: DocumentVersion, review: Curriculum,
        manager: Any) -> None:
    services.curriculum_save(actor=personas["qa_manager"], name="Deviations",
                             roles=["qa_reviewer"], for_everyone=False,
                             documents=[sop.document])
    _add(manager, review, document="SOP-QA-0001")
    _remove(manager, _item(review))
    assert [state for _t, state in TrainingAssignment.objects.filter(
        person=personas["qa_approver"]).values_list("title", "state")] == [A.OPEN]


def test_a_reading_a_workflow_step_needs_stays_open(
        personas: dict[str, Any], sop: DocumentVersion, review: Curriculum,
        manager: Any) -> None:
    _add(manager, review, document="SOP-QA-0001")
    change = record_in_state(kind_by_slug("changes"), "approved", personas, site=sop.site)
    services.requirement_add(actor=personas["qa_manager"],
                             step="deviations.deviation.approve",
                             document_number="SOP-QA-0001", change_number=change.number)
    _remove(manager, _item(review))
    assert TrainingAssignment.objects.get(person=personas["qa_approver"]).state == A.OPEN


def test_a_session_people_were_assigned_is_kept_marked_removed(
        personas: dict[str, Any], review: Curriculum, manager: Any) -> None:
    _add(manager, review, kind=ItemKind.CLASSROOM, title="GMP basics")
    item = _item(review)
    _remove(manager, item)
    kept = CurriculumItem.every.get(pk=item.pk)
    session = TrainingAssignment.objects.get(person=personas["qa_approver"])
    assert (kept.removed_at is not None, list(review.items.all()), session.item_id,
            session.state) == (True, [], item.pk, A.CANCELLED)


def test_a_removed_item_is_no_longer_assigned(personas: dict[str, Any], review: Curriculum,
                                              manager: Any) -> None:
    _add(manager, review, kind=ItemKind.CLASSROOM, title="GMP basics")
    _remove(manager, _item(review))
    made = services.assignments_sync()
    assert (made, _open(personas["qa_approver"])) == (0, [])


def test_removing_is_audited_with_its_reason(review: Curriculum, manager: Any) -> None:
    _add(manager, review, kind=ItemKind.CLASSROOM, title="GMP basics")
    _remove(manager, _item(review), reason="Covered by the induction")
    entry = AuditEntry.objects.get(action="training.item.remove")
    assert (entry.data["actor"]["username"], entry.data["object"]["label"],
            entry.data["reason"]) == (
        "qa_manager", "QA review: GMP basics", "Covered by the induction")


def test_removing_without_a_reason_is_422_and_keeps_the_item(review: Curriculum,
                                                             manager: Any) -> None:
    _add(manager, review, kind=ItemKind.CLASSROOM, title="GMP basics")
    item = _item(review)
    response = _remove(manager, item, reason=" ")
    assert (response.status_code, response.context["remove_error"],
            list(review.items.all())) == (
        422, (item.pk, "Reason: Say why the item is removed."), [item])


# --- pages and who reaches them -----------------------------------------------------------------


def test_the_edit_page_lists_the_items_in_words(sop: DocumentVersion, review: Curriculum,
                                                manager: Any) -> None:
    _add(manager, review, document="SOP-QA-0001")
    _add(manager, review, kind=ItemKind.ON_THE_JOB, title="Blister line")
    content = manager.get(reverse("training:curriculum_edit", args=[review.pk])
                          ).content.decode()
    assert ("SOP-QA-0001" in content, str(ItemKind.ON_THE_JOB.label) in content,
            "Blister line" in content) == (True, True, True)


def test_the_curricula_page_offers_editing_to_managers(review: Curriculum,
                                                       manager: Any) -> None:
    content = manager.get(reverse("training:curricula")).content.decode()
    assert (reverse("training:curriculum_create") in content,
            reverse("training:curriculum_edit", args=[review.pk]) in content) == (True, True)


def test_the_curricula_page_offers_no_editing_to_readers(personas: dict[str, Any],
                                                         review: Curriculum,
                                                         login: Any) -> None:
    content = login(personas["auditor"]).get(reverse("training:curricula")).content.decode()
    assert (reverse("training:curriculum_create") in content,
            reverse("training:curriculum_edit", args=[review.pk]) in content) == (False, False)


def test_a_reader_without_the_right_cannot_open_the_edit_page(
        personas: dict[str, Any], review: Curriculum, login: Any) -> None:
    response = login(personas["qa_approver"]).get(
        reverse("training:curriculum_edit", args=[review.pk]))
    assert response.status_code == 403


def test_a_reader_without_the_right_cannot_remove_an_item(
        personas: dict[str, Any], review: Curriculum, manager: Any, login: Any) -> None:
    _add(manager, review, kind=ItemKind.CLASSROOM, title="GMP basics")
    response = _remove(login(personas["auditor"]), _item(review))
    assert (response.status_code, list(review.items.values_list("title", flat=True))) == (
        403, ["GMP basics"])


def test_a_trainer_at_a_site_cannot_add_an_item(personas: dict[str, Any], review: Curriculum,
                                                login: Any) -> None:
    response = _add(login(personas["process_owner"]), review, kind=ItemKind.CLASSROOM,
                    title="GMP basics")
    assert (response.status_code, review.items.count()) == (403, 0)


def test_an_item_that_does_not_exist_is_404(manager: Any) -> None:
    response = manager.get(reverse("training:curriculum_item_edit", args=[999999]))
    assert response.status_code == 404
