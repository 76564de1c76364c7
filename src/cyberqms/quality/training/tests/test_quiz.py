"""Quizzes (P11-13): a curriculum item whose questions a person answers; the score, the pass
mark, every attempt kept, a pass completing the training signed "Quiz passed"; QA keeping
the questions; the pages and the API."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cyberqms.conftest import PASSWORD
from cyberqms.platform.core.access import AccessDenied
from cyberqms.platform.core.models import DeletionRefused, Signature
from cyberqms.platform.kit.signatures import SignatureRequest, SigningError
from cyberqms.platform.kit.tests.kit import ready_to_sign, signature
from cyberqms.platform.trail.models import AuditEntry

from .. import quiz, services
from ..enums import AssignmentState, ItemKind
from ..models import CurriculumItem, QuizAttempt, QuizQuestion, TrainingAssignment

pytestmark = pytest.mark.django_db
A = AssignmentState

QUESTIONS = (
    ("In ALCOA+, what does “Attributable” ask of a record?",
     ["Who did it and when is known", "It is typed, not handwritten", "It is approved by QA"], 0),
    ("A reading is written down…", ["At the end of the shift", "When it is made",
                                    "When the batch is released"], 1),
    ("May a shared account be used to record GxP data?", ["Yes, within one team", "No"], 1),
    ("An error in a paper record is corrected by…",
     ["Correction fluid", "One line through, the new value, initials, date and reason",
      "Rewriting the page"], 1),
    ("Where is the original record kept?", ["Wherever it is convenient",
                                           "Where the procedure says, for its retention time",
                                           "In the author's mailbox"], 1),
)


def _quiz_curriculum(people: dict[str, Any], *, questions: bool = True) -> CurriculumItem:
    services.curriculum_save(actor=people["qa_manager"], name="Every GxP user", roles=[],
                             for_everyone=True, documents=[],
                             sessions=[(ItemKind.QUIZ, "Data integrity: knowledge check", None)])
    item = CurriculumItem.objects.get(kind=ItemKind.QUIZ)
    if questions:
        for text, choices, correct in QUESTIONS:
            quiz.quiz_question_save(item, actor=people["qa_manager"], text=text,
                                    choices=choices, correct=correct)
    return item


@pytest.fixture
def item(personas: dict[str, Any]) -> CurriculumItem:
    """A quiz of five questions for every GxP user, passing at 80 %."""
    return _quiz_curriculum(personas)


def _answers(item: CurriculumItem, right: int) -> dict[int, int]:
    """The first `right` questions answered right, the others wrong."""
    out = {}
    for n, q in enumerate(QuizQuestion.objects.filter(item=item).order_by("position")):
        out[q.pk] = q.correct if n < right else (q.correct + 1) % len(q.choices)
    return out


def _assignment(person: Any) -> TrainingAssignment:
    return TrainingAssignment.objects.filter(person=person, kind=ItemKind.QUIZ).latest("pk")


def _submit(people: dict[str, Any], item: CurriculumItem, right: int,
            who: str = "author") -> QuizAttempt:
    actor = ready_to_sign(people[who], people["admin"])
    return quiz.quiz_attempt_submit(_assignment(actor), actor=actor,
                                    answers=_answers(item, right), signature=signature(actor))


# --- assigned like a session ------------------------------------------------------------------


def test_a_quiz_is_assigned_to_the_people_its_curriculum_concerns(
        personas: dict[str, Any], item: CurriculumItem) -> None:
    assert TrainingAssignment.objects.filter(person=personas["author"]).values_list(
        "kind", "title", "state", "item_id").get() == (
        ItemKind.QUIZ, "Data integrity: knowledge check", A.OPEN, item.pk)


def test_a_new_quiz_passes_at_80_percent(item: CurriculumItem) -> None:
    assert item.pass_mark == 80


def test_syncing_again_assigns_no_second_quiz(item: CurriculumItem) -> None:
    assert services.assignments_sync() == 0


# --- the score and the pass mark --------------------------------------------------------------


def test_the_score_is_the_percent_answered_right_rounded_down(
        personas: dict[str, Any], item: CurriculumItem) -> None:
    quiz.quiz_question_remove(QuizQuestion.objects.filter(item=item).latest("position"),
                              actor=personas["qa_manager"], reason="Duplicate of question 1")
    quiz.quiz_question_remove(QuizQuestion.objects.filter(item=item).latest("position"),
                              actor=personas["qa_manager"], reason="Duplicate of question 2")
    attempt = _submit(personas, item, right=2)
    assert (attempt.asked, attempt.right, attempt.score) == (3, 2, 66)


def test_an_attempt_at_the_pass_mark_exactly_passes(personas: dict[str, Any],
                                                    item: CurriculumItem) -> None:
    attempt = _submit(personas, item, right=4)
    assert (attempt.score, attempt.pass_mark, attempt.passed) == (80, 80, True)


def test_an_attempt_below_the_pass_mark_fails_and_the_training_stays_open(
        personas: dict[str, Any], item: CurriculumItem) -> None:
    attempt = _submit(personas, item, right=3)
    assert (attempt.score, attempt.passed, attempt.signature_id,
            _assignment(personas["author"]).state) == (60, False, None, A.OPEN)


def test_a_pass_completes_the_assignment_by_the_person(personas: dict[str, Any],
                                                       item: CurriculumItem) -> None:
    attempt = _submit(personas, item, right=5)
    done = _assignment(personas["author"])
    assert (done.state, done.completed_by_id, done.completed_at, done.signature_id) == (
        A.DONE, personas["author"].pk, attempt.submitted_at, attempt.signature_id)


def test_a_pass_is_signed_quiz_passed_bound_to_the_attempt(personas: dict[str, Any],
                                                          item: CurriculumItem) -> None:
    attempt = _submit(personas, item, right=5)
    row = Signature.objects.get(pk=attempt.signature_id)
    assert (row.meaning, row.signer_id, row.record_type, row.record_id, row.record_hash) == (
        "Quiz passed", personas["author"].pk, "training.assignment",
        str(attempt.assignment_id), quiz.attempt_hash(attempt))


def test_the_signature_no_longer_matches_an_altered_attempt(personas: dict[str, Any],
                                                          item: CurriculumItem) -> None:
    attempt = _submit(personas, item, right=5)
    QuizAttempt.objects.filter(pk=attempt.pk).update(score=100, right=4)  # an attacker
    altered = QuizAttempt.objects.get(pk=attempt.pk)
    assert quiz.attempt_hash(altered) != Signature.objects.get(
        pk=attempt.signature_id).record_hash


def test_every_attempt_is_kept(personas: dict[str, Any], item: CurriculumItem) -> None:
    _submit(personas, item, right=2)
    _submit(personas, item, right=5)
    assert list(QuizAttempt.objects.order_by("pk").values_list("score", "passed")) == [
        (40, False), (100, True)]


def test_an_attempt_is_never_deleted(personas: dict[str, Any], item: CurriculumItem) -> None:
    attempt = _submit(personas, item, right=2)
    with pytest.raises(DeletionRefused):
        attempt.delete()


def test_every_attempt_is_audited_and_the_pass_completes(personas: dict[str, Any],
                                                        item: CurriculumItem) -> None:
    _submit(personas, item, right=1)
    _submit(personas, item, right=4)
    actions = list(AuditEntry.objects.filter(
        action__in=["training.quiz_attempt.submit", "training.assignment.complete"],
        actor_id=personas["author"].pk).order_by("seq").values_list("action", flat=True))
    assert actions == ["training.quiz_attempt.submit", "training.quiz_attempt.submit",
                       "training.assignment.complete"]


def test_the_attempt_keeps_the_question_as_it_was_asked(personas: dict[str, Any],
                                                       item: CurriculumItem) -> None:
    attempt = _submit(personas, item, right=2)
    first = QuizQuestion.objects.filter(item=item).earliest("position")
    quiz.quiz_question_save(item, actor=personas["qa_manager"], question=first,
                            text="Reworded", choices=["Yes", "No"], correct=0,
                            reason="Clearer wording")
    attempt.refresh_from_db()
    assert (attempt.answers[0]["text"], attempt.answers[0]["choices"]) == (
        QUESTIONS[0][0], QUESTIONS[0][1])


def test_a_new_pass_mark_counts_from_the_next_attempt(personas: dict[str, Any],
                                                      item: CurriculumItem) -> None:
    quiz.quiz_pass_mark_set(item, actor=personas["qa_manager"], pass_mark=60,
                            reason="Five questions: three right is enough")
    attempt = _submit(personas, item, right=3)
    assert (attempt.pass_mark, attempt.passed) == (60, True)


def test_the_attempt_keeps_when_the_quiz_was_opened(personas: dict[str, Any],
                                                    item: CurriculumItem) -> None:
    actor = ready_to_sign(personas["author"], personas["admin"])
    assignment = _assignment(actor)
    opened = timezone.now().replace(microsecond=0) + dt.timedelta(seconds=1)
    token = quiz.start_token(assignment, now=opened)
    with time_machine.travel(opened + dt.timedelta(minutes=12), tick=False):
        attempt = quiz.quiz_attempt_submit(assignment, actor=actor, answers=_answers(item, 5),
                                           signature=signature(actor),
                                           started_at=quiz.started_from(assignment, token))
    assert (attempt.started_at, attempt.submitted_at - attempt.started_at) == (
        opened, dt.timedelta(minutes=12))


def test_a_forged_opening_time_is_not_believed(personas: dict[str, Any],
                                               item: CurriculumItem) -> None:
    assignment = _assignment(personas["author"])
    token = quiz.start_token(assignment).replace(f"{assignment.pk}:", f"{assignment.pk}:1")
    assert quiz.started_from(assignment, token) is None


# --- refusals ---------------------------------------------------------------------------------


def test_nobody_takes_someone_elses_quiz(personas: dict[str, Any], item: CurriculumItem) -> None:
    actor = ready_to_sign(personas["qa_approver"], personas["admin"])
    with pytest.raises(PermissionDenied) as refused:
        quiz.quiz_attempt_submit(_assignment(personas["author"]), actor=actor,
                                 answers=_answers(item, 5), signature=signature(actor))
    assert str(refused.value) == "Only the person trained takes their quiz."


def test_a_quiz_without_questions_cannot_be_taken(personas: dict[str, Any]) -> None:
    _quiz_curriculum(personas, questions=False)
    actor = ready_to_sign(personas["author"], personas["admin"])
    with pytest.raises(ValidationError) as refused:
        quiz.quiz_attempt_submit(_assignment(actor), actor=actor, answers={},
                                 signature=signature(actor))
    assert refused.value.messages == [quiz.NO_QUESTIONS]


def test_an_unanswered_question_is_refused_naming_the_answers(
        personas: dict[str, Any], item: CurriculumItem) -> None:
    actor = ready_to_sign(personas["author"], personas["admin"])
    answers = _answers(item, 5)
    del answers[QuizQuestion.objects.get(item=item, position=2).pk]
    with pytest.raises(ValidationError) as refused:
        quiz.quiz_attempt_submit(_assignment(actor), actor=actor, answers=answers,
                                 signature=signature(actor))
    assert refused.value.message_dict == {"answers": [
        "Answer every question (not answered: 2)."]}


def test_a_choice_not_offered_is_refused_naming_the_answers(
        personas: dict[str, Any], item: CurriculumItem) -> None:
    actor = ready_to_sign(personas["author"], personas["admin"])
    answers = _answers(item, 5)
    answers[QuizQuestion.objects.get(item=item, position=3).pk] = 2  # it offers two
    with pytest.raises(ValidationError) as refused:
        quiz.quiz_attempt_submit(_assignment(actor), actor=actor, answers=answers,
                                 signature=signature(actor))
    assert refused.value.message_dict == {"answers": [
        "Choose one of the answers offered (question 3)."]}


def test_a_wrong_password_records_no_attempt(personas: dict[str, Any],
                                             item: CurriculumItem) -> None:
    actor = ready_to_sign(personas["author"], personas["admin"])
    wrong = SignatureRequest(password="wrong", request=signature(actor).request)
    with pytest.raises(SigningError):
        quiz.quiz_attempt_submit(_assignment(actor), actor=actor,
                                 answers=_answers(item, 5), signature=wrong)
    assert QuizAttempt.objects.count() == 0


def test_a_passed_quiz_is_not_taken_again(personas: dict[str, Any],
                                         item: CurriculumItem) -> None:
    _submit(personas, item, right=5)
    with pytest.raises(ValidationError) as refused:
        _submit(personas, item, right=5)
    assert refused.value.messages == ["This training is not an open quiz."]


def test_a_trainer_does_not_sign_off_a_quiz(personas: dict[str, Any],
                                            item: CurriculumItem) -> None:
    trainer = ready_to_sign(personas["process_owner"], personas["admin"])
    with pytest.raises(ValidationError) as refused:
        services.training_sign_off(_assignment(personas["author"]), actor=trainer,
                                   signature=signature(trainer))
    assert refused.value.messages == [
        "Only an open session or on-the-job training is signed off by a trainer."]


# --- QA keeps the questions -------------------------------------------------------------------


def test_blank_choices_are_left_out_and_the_right_one_follows(
        personas: dict[str, Any], item: CurriculumItem) -> None:
    row = quiz.quiz_question_save(item, actor=personas["qa_manager"], text="Backups are…",
                                  choices=["Tested by restoring", "", " Never tested "],
                                  correct=2)
    assert (row.position, row.choices, row.correct) == (
        6, ["Tested by restoring", "Never tested"], 1)


def test_the_right_choice_must_be_filled_in(personas: dict[str, Any],
                                            item: CurriculumItem) -> None:
    with pytest.raises(ValidationError) as refused:
        quiz.quiz_question_save(item, actor=personas["qa_manager"], text="Audit trails are…",
                                choices=["On", "Off", ""], correct=2)
    assert refused.value.message_dict == {"correct": [
        "Mark one of the filled-in choices as the right one."]}


def test_a_question_offers_two_to_six_choices(personas: dict[str, Any],
                                              item: CurriculumItem) -> None:
    with pytest.raises(ValidationError) as refused:
        quiz.quiz_question_save(item, actor=personas["qa_manager"], text="Only one?",
                                choices=["Yes"], correct=0)
    assert refused.value.message_dict == {"choices": ["Offer 2 to 6 choices (1 given)."]}


def test_changing_a_question_needs_a_reason(personas: dict[str, Any],
                                            item: CurriculumItem) -> None:
    first = QuizQuestion.objects.filter(item=item).earliest("position")
    with pytest.raises(ValidationError) as refused:
        quiz.quiz_question_save(item, actor=personas["qa_manager"], question=first,
                                text="Reworded", choices=["Yes", "No"], correct=0)
    assert refused.value.message_dict == {"reason": ["Say why it changes."]}


def test_changing_a_question_is_audited_with_its_reason(personas: dict[str, Any],
                                                        item: CurriculumItem) -> None:
    first = QuizQuestion.objects.filter(item=item).earliest("position")
    quiz.quiz_question_save(item, actor=personas["qa_manager"], question=first,
                            text="Reworded", choices=["Yes", "No"], correct=0,
                            reason="Clearer wording")
    entry = AuditEntry.objects.filter(action="training.quiz_question.update").get()
    body = json.loads(entry.body)
    assert (entry.object_id, body["reason"], body["changes"]["text"]) == (
        str(first.pk), "Clearer wording", [QUESTIONS[0][0], "Reworded"])


def test_only_training_managers_keep_the_questions(personas: dict[str, Any],
                                                   item: CurriculumItem) -> None:
    with pytest.raises(AccessDenied):
        quiz.quiz_question_save(item, actor=personas["author"], text="Mine?",
                                choices=["Yes", "No"], correct=0)


def test_a_pass_mark_above_100_is_refused_naming_it(personas: dict[str, Any],
                                                    item: CurriculumItem) -> None:
    with pytest.raises(ValidationError) as refused:
        quiz.quiz_pass_mark_set(item, actor=personas["qa_manager"], pass_mark=101,
                                reason="Typo")
    assert refused.value.message_dict == {"pass_mark": [
        "A pass mark is a percent from 1 to 100."]}


# --- pages ------------------------------------------------------------------------------------


def _posted(item: CurriculumItem, right: int) -> dict[str, str]:
    return {**{f"q{pk}": str(i) for pk, i in _answers(item, right).items()},
            "password": PASSWORD}


def test_my_training_offers_the_quiz(personas: dict[str, Any], item: CurriculumItem,
                                     login: Any) -> None:
    page = login(personas["author"]).get(reverse("training:mine")).content.decode()
    url = reverse("training:quiz", args=[_assignment(personas["author"]).pk])
    assert f'href="{url}" data-testid="quiz-' in page


def test_the_quiz_is_passed_from_its_page(personas: dict[str, Any], item: CurriculumItem,
                                          login: Any) -> None:
    person = ready_to_sign(personas["author"], personas["admin"])
    assignment = _assignment(person)
    response = login(person).post(reverse("training:quiz", args=[assignment.pk]),
                                  _posted(item, 5))
    attempt = QuizAttempt.objects.get()
    assignment.refresh_from_db()
    assert (response.status_code, response["Location"], assignment.state) == (
        302, reverse("training:quiz_attempt", args=[attempt.pk]), A.DONE)


def test_a_failed_attempt_shows_its_score_and_a_new_try(
        personas: dict[str, Any], item: CurriculumItem, login: Any) -> None:
    person = ready_to_sign(personas["author"], personas["admin"])
    attempt = _submit(personas, item, right=3)
    page = login(person).get(reverse("training:quiz_attempt", args=[attempt.pk]))
    # Its score only: which answers were wrong would let the next try pass by elimination.
    assert (page.context["may_retry"], [a["right"] for a in page.context["answers"]]) == (
        True, [None, None, None, None, None])


def test_a_missing_answer_on_the_page_is_422_naming_the_answers(
        personas: dict[str, Any], item: CurriculumItem, login: Any) -> None:
    person = ready_to_sign(personas["author"], personas["admin"])
    posted = _posted(item, 5)
    del posted[f"q{QuizQuestion.objects.get(item=item, position=1).pk}"]
    response = login(person).post(reverse("training:quiz", args=[_assignment(person).pk]),
                                  posted)
    assert (response.status_code, response.context["error"], QuizAttempt.objects.count()) == (
        422, {"field": "answers", "message": "Answer every question (not answered: 1)."}, 0)


def test_a_quiz_without_questions_says_so_on_its_page(personas: dict[str, Any],
                                                     login: Any) -> None:
    _quiz_curriculum(personas, questions=False)
    response = login(personas["author"]).get(
        reverse("training:quiz", args=[_assignment(personas["author"]).pk]))
    assert (response.status_code, quiz.NO_QUESTIONS in response.content.decode()) == (
        200, True)


def test_another_persons_attempt_is_not_found(personas: dict[str, Any],
                                              item: CurriculumItem, login: Any) -> None:
    attempt = _submit(personas, item, right=2)
    response = login(personas["system_owner"]).get(
        reverse("training:quiz_attempt", args=[attempt.pk]))
    assert response.status_code == 404


def test_the_quiz_page_costs_the_same_queries_for_more_attempts(
        personas: dict[str, Any], item: CurriculumItem, login: Any) -> None:
    person = ready_to_sign(personas["author"], personas["admin"])
    client = login(person)
    url = reverse("training:quiz", args=[_assignment(person).pk])
    _submit(personas, item, right=1)
    client.get(url)  # the session's first read of the user and the access profile
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    _submit(personas, item, right=2)
    _submit(personas, item, right=3)
    with CaptureQueriesContext(connection) as three:
        listed = client.get(url).context["attempts"]
    assert (len(listed), len(three.captured_queries)) == (3, len(one.captured_queries))


def test_the_questions_page_costs_the_same_queries_for_more_questions(
        personas: dict[str, Any], login: Any) -> None:
    item = _quiz_curriculum(personas, questions=False)
    client = login(personas["qa_manager"])
    url = reverse("training:quiz_edit", args=[item.pk])
    quiz.quiz_question_save(item, actor=personas["qa_manager"], text=QUESTIONS[0][0],
                            choices=QUESTIONS[0][1], correct=QUESTIONS[0][2])
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for text, choices, correct in QUESTIONS[1:]:
        quiz.quiz_question_save(item, actor=personas["qa_manager"], text=text,
                                choices=choices, correct=correct)
    with CaptureQueriesContext(connection) as five:
        shown = client.get(url).context["questions"]
    assert (len(shown), len(five.captured_queries)) == (5, len(one.captured_queries))


def test_a_question_is_added_from_the_quiz_page(personas: dict[str, Any],
                                                item: CurriculumItem, login: Any) -> None:
    response = login(personas["qa_manager"]).post(
        reverse("training:quiz_question", args=[item.pk]),
        {"text": "Who may change a released record?", "choice_0": "Anyone with access",
         "choice_1": "Nobody: it is corrected under change control", "correct": "1"})
    added = QuizQuestion.objects.filter(item=item).latest("position")
    assert (response.status_code, added.position, added.choices, added.correct) == (
        302, 6, ["Anyone with access", "Nobody: it is corrected under change control"], 1)


def test_a_bad_question_on_the_page_is_422_naming_the_field(
        personas: dict[str, Any], item: CurriculumItem, login: Any) -> None:
    response = login(personas["qa_manager"]).post(
        reverse("training:quiz_question", args=[item.pk]),
        {"text": "Which one?", "choice_0": "This", "choice_1": "That", "correct": "4"})
    assert (response.status_code, response.context["new_form"].errors) == (
        422, {"correct": ["Mark one of the filled-in choices as the right one."]})


def test_a_pass_mark_is_set_from_the_quiz_page(personas: dict[str, Any],
                                               item: CurriculumItem, login: Any) -> None:
    response = login(personas["qa_manager"]).post(
        reverse("training:quiz_edit", args=[item.pk]),
        {"pass_mark": "100", "reason": "Data integrity: every answer matters"})
    item.refresh_from_db()
    assert (response.status_code, item.pass_mark) == (302, 100)


def test_a_viewer_does_not_set_the_pass_mark(personas: dict[str, Any],
                                             item: CurriculumItem, login: Any) -> None:
    response = login(personas["auditor"]).post(
        reverse("training:quiz_edit", args=[item.pk]), {"pass_mark": "10", "reason": "x"})
    item.refresh_from_db()
    assert (response.status_code, item.pass_mark) == (403, 80)


def test_the_curricula_page_links_the_quiz_for_its_keepers(
        personas: dict[str, Any], item: CurriculumItem, login: Any) -> None:
    page = login(personas["qa_manager"]).get(reverse("training:curricula")).content.decode()
    assert f'href="{reverse("training:quiz_edit", args=[item.pk])}"' in page


def test_the_answer_key_is_not_linked_for_those_who_take_the_quiz(
        personas: dict[str, Any], item: CurriculumItem, login: Any) -> None:
    page = login(personas["qa_approver"]).get(reverse("training:curricula")).content.decode()
    assert f'href="{reverse("training:quiz_edit", args=[item.pk])}"' not in page


def test_a_quiz_changed_while_answered_is_answered_again(
        personas: dict[str, Any], item: CurriculumItem) -> None:
    person = ready_to_sign(personas["author"], personas["admin"])
    assignment = _assignment(person)
    token = quiz.start_token(assignment)
    QuizQuestion.objects.filter(item=item, position=1).update(text="Reworded meanwhile?")
    questions = quiz.questions_of(item.pk)
    with pytest.raises(ValidationError) as refused:
        quiz.quiz_attempt_submit(
            assignment, actor=person, signature=signature(person),
            answers={q.pk: q.correct for q in questions},
            shown=quiz.shown_from(assignment, token))
    assert (refused.value.message_dict, QuizAttempt.objects.count()) == ({"answers": [
        "QA changed the questions while you answered them: answer them again as they are "
        "now."]}, 0)


# --- API --------------------------------------------------------------------------------------


def _api(assignment: TrainingAssignment) -> str:
    return f"/api/v1/training/assignments/{assignment.pk}/quiz"


def test_the_api_gives_the_questions_without_the_right_answers(
        personas: dict[str, Any], item: CurriculumItem, login: Any) -> None:
    body = login(personas["author"]).get(_api(_assignment(personas["author"]))).json()
    assert (body["pass_mark"], len(body["questions"]), sorted(body["questions"][0])) == (
        80, 5, ["choices", "id", "text"])


def test_the_api_submits_an_attempt(personas: dict[str, Any], item: CurriculumItem,
                                    login: Any) -> None:
    person = ready_to_sign(personas["author"], personas["admin"])
    answers = [{"question": q, "choice": c} for q, c in _answers(item, 4).items()]
    response = login(person).post(_api(_assignment(person)),
                                  {"password": PASSWORD, "answers": answers},
                                  content_type="application/json")
    body = response.json()
    assert (response.status_code, body["score"], body["passed"], body["signed_by"]) == (
        200, 80, True, "author")


def test_the_api_refuses_a_choice_out_of_range_naming_the_field(
        personas: dict[str, Any], item: CurriculumItem, login: Any) -> None:
    person = ready_to_sign(personas["author"], personas["admin"])
    response = login(person).post(_api(_assignment(person)), {
        "password": PASSWORD, "answers": [{"question": 1, "choice": 9}]},
        content_type="application/json")
    assert (response.status_code, response["Content-Type"],
            [e["field"] for e in response.json()["errors"]]) == (
        422, "application/problem+json", ["answers.0.choice"])


def test_the_api_refuses_a_missing_answer_naming_the_field(
        personas: dict[str, Any], item: CurriculumItem, login: Any) -> None:
    person = ready_to_sign(personas["author"], personas["admin"])
    answers = [{"question": q, "choice": c} for q, c in _answers(item, 5).items()][1:]
    response = login(person).post(_api(_assignment(person)),
                                  {"password": PASSWORD, "answers": answers},
                                  content_type="application/json")
    assert (response.status_code, response.json()["errors"]) == (422, [
        {"field": "answers", "message": "Answer every question (not answered: 1)."}])


def test_the_api_lists_my_attempts(personas: dict[str, Any], item: CurriculumItem,
                                   login: Any) -> None:
    _submit(personas, item, right=3)
    _submit(personas, item, right=5)
    body = login(personas["author"]).get("/api/v1/training/quiz-attempts").json()
    assert [(a["score"], a["passed"], a["signed_by"]) for a in body] == [
        (100, True, "author"), (60, False, None)]
