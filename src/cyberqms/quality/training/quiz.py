"""Quizzes: a curriculum item whose questions the person answers, passing at its mark.

QA (holders of `training.manage`) keep a quiz's questions and pass mark, each change
audited. The person answers every question and submits with their e-signature; every
attempt is kept (never changed or deleted) with the questions as they were asked, the
answers, the score and the outcome. A pass completes the person's assignment, signed by
them "Quiz passed", the signature bound to the attempt's content (P11-13, P11-20); a fail
leaves it open for another attempt.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from cyberqms.platform.core.access import Actor, require
from cyberqms.platform.kit.signatures import (
    SignatureRequest,
    mark_signing_session,
    record_signature,
    verify_signer,
)
from cyberqms.platform.trail.canonical import canonical_json
from cyberqms.platform.trail.record import audit_record, snapshot

from . import actions
from .enums import AssignmentState, ItemKind
from .models import CurriculumItem, QuizAttempt, QuizQuestion, TrainingAssignment

A = AssignmentState
SIGNED_ACTION = "training.quiz_attempt.pass"
SIGNED_MEANING = "Quiz passed"
NO_QUESTIONS = "This quiz has no questions yet: it can be taken once QA has written them."
# The most questions one quiz holds (a page of radio buttons, one attempt's record).
MAX_QUESTIONS = 50
_STARTED = "cyberqms.training.quiz.started"


# --- reading ---------------------------------------------------------------------------------


def questions_of(item_id: int | None) -> list[QuizQuestion]:
    """The quiz's questions in order (one query)."""
    return list(QuizQuestion.objects.filter(item_id=item_id).order_by("position", "id"))


def attempts_of_anyone() -> QuerySet[QuizAttempt]:
    """Attempts with what their pages show of them (the assignment, the signature)."""
    return QuizAttempt.objects.select_related("assignment", "signature")


def attempts_of(person_id: int, *, assignment_id: int | None = None) -> QuerySet[QuizAttempt]:
    """The person's attempts, newest first (of one assignment, when named)."""
    rows = attempts_of_anyone().filter(person_id=person_id)
    if assignment_id is not None:
        rows = rows.filter(assignment_id=assignment_id)
    return rows.order_by("-submitted_at", "-id")


def questions_digest(questions: Sequence[QuizQuestion]) -> str:
    """What the person is shown: each question's id, text and choices, in order."""
    shown = [[q.pk, q.text, list(q.choices)] for q in questions]
    return hashlib.sha256(canonical_json(shown)).hexdigest()[:32]


def start_token(assignment: TrainingAssignment, now: dt.datetime | None = None) -> str:
    """A token that says when the person opened the quiz and which questions they were shown
    (signed: they cannot change it)."""
    moment = int((now or timezone.now()).timestamp())
    digest = questions_digest(questions_of(assignment.item_id))
    return signing.Signer(salt=_STARTED).sign(f"{assignment.pk}:{moment}:{digest}")


def _token(assignment: TrainingAssignment, token: str) -> tuple[dt.datetime, str] | None:
    try:
        value = signing.Signer(salt=_STARTED).unsign(token or "")
        pk, moment, digest = value.split(":")
        if int(pk) != assignment.pk:
            return None
        return dt.datetime.fromtimestamp(int(moment), tz=dt.UTC), digest
    except (signing.BadSignature, ValueError, OverflowError, OSError):
        return None


def started_from(assignment: TrainingAssignment, token: str) -> dt.datetime | None:
    """When the person opened the quiz, from `start_token`; None for a token of another
    assignment, a forged one, or none."""
    found = _token(assignment, token)
    return None if found is None else found[0]


def shown_from(assignment: TrainingAssignment, token: str) -> str | None:
    """The digest of the questions the person was shown, from `start_token`, or None."""
    found = _token(assignment, token)
    return None if found is None else found[1]


def attempt_hash(attempt: QuizAttempt) -> str:
    """The hash of what a person signs when they pass: the assignment, the questions as
    asked with their answers, the score and the pass mark."""
    content = {"assignment_id": attempt.assignment_id, "person_id": attempt.person_id,
               "answers": attempt.answers, "asked": attempt.asked, "right": attempt.right,
               "score": attempt.score, "pass_mark": attempt.pass_mark}
    return hashlib.sha256(canonical_json(content)).hexdigest()


# --- QA keeps the questions ------------------------------------------------------------------


def _quiz(item: CurriculumItem) -> None:
    if item.kind != ItemKind.QUIZ:
        raise ValidationError({"item": [f"“{item.label}” is not a quiz."]})


def _reason(reason: str) -> str:
    if not reason.strip():
        raise ValidationError({"reason": ["Say why it changes."]})
    return reason.strip()


def quiz_question_save(item: CurriculumItem, *, actor: Actor, text: str,
                       choices: Sequence[str], correct: int | None,
                       question: QuizQuestion | None = None, reason: str = "") -> QuizQuestion:
    """Add a question at the end of a quiz, or change one of its questions (with a reason).
    Blank choices are left out; `correct` counts the choices as given, from 0.

    Side effects: audit entry `training.quiz_question.create` or `.update`.
    :raises ValidationError: naming the field (text, choices, correct, reason); not a quiz.
    """
    require(actor, actions.MANAGE)
    _quiz(item)
    if question is not None and question.item_id != item.pk:
        raise ValidationError({"question": ["This question belongs to another quiz."]})
    if question is not None:
        reason = _reason(reason)
    filled = [(i, c.strip()) for i, c in enumerate(choices) if isinstance(c, str) and c.strip()]
    right = [n for n, (i, _c) in enumerate(filled) if i == correct]
    if correct is None or not right:
        raise ValidationError({"correct": ["Mark one of the filled-in choices as the right "
                                           "one."]})
    with transaction.atomic():
        # The quiz's row is the lock under which positions are handed out.
        locked_item = CurriculumItem.objects.select_for_update().get(pk=item.pk)
        if question is None:
            if QuizQuestion.objects.filter(item=locked_item).count() >= MAX_QUESTIONS:
                raise ValidationError({"text": [f"A quiz holds at most {MAX_QUESTIONS} "
                                                "questions."]})
            last = QuizQuestion.objects.filter(item=locked_item).order_by(
                "-position").values_list("position", flat=True).first()
            row = QuizQuestion(item=locked_item, position=(last or 0) + 1)
            before = None
        else:
            row = QuizQuestion.objects.select_for_update().get(pk=question.pk)
            before = snapshot(row)
        row.text, row.choices, row.correct = text.strip(), [c for _i, c in filled], right[0]
        row.full_clean()
        row.save()
        audit_record(f"training.quiz_question.{'create' if before is None else 'update'}",
                     row, actor=actor, before=before, created=before is None,
                     reason=reason.strip() or None)
    return row


def quiz_question_remove(question: QuizQuestion, *, actor: Actor, reason: str) -> None:
    """Take a question out of its quiz (the attempts keep it as it was asked).

    Side effects: audit entry `training.quiz_question.remove` with the question's content
    and the reason.
    :raises ValidationError: no reason.
    """
    require(actor, actions.MANAGE)
    reason = _reason(reason)
    with transaction.atomic():
        row = QuizQuestion.objects.select_for_update().filter(pk=question.pk).first()
        if row is None:
            return
        before, label = snapshot(row), row.label
        row.delete()
        audit_record("training.quiz_question.remove", row, actor=actor, before=before,
                     deleted=True, reason=reason, label=label)


def quiz_pass_mark_set(item: CurriculumItem, *, actor: Actor, pass_mark: int,
                       reason: str) -> CurriculumItem:
    """Set the score (percent) at which the quiz passes, from the next attempt on.

    Side effects: audit entry `training.item.update` with the reason.
    :raises ValidationError: naming the field (pass_mark, reason); not a quiz.
    """
    require(actor, actions.MANAGE)
    _quiz(item)
    if not 1 <= pass_mark <= 100:
        raise ValidationError({"pass_mark": ["A pass mark is a percent from 1 to 100."]})
    reason = _reason(reason)
    with transaction.atomic():
        locked = CurriculumItem.objects.select_for_update().get(pk=item.pk)
        if locked.pass_mark == pass_mark:
            return locked
        before = snapshot(locked)
        locked.pass_mark = pass_mark
        locked.save(update_fields=["pass_mark"])
        audit_record("training.item.update", locked, actor=actor, before=before, reason=reason)
    return locked


# --- the person takes the quiz ---------------------------------------------------------------


def _answered(questions: list[QuizQuestion], answers: Mapping[int, int]) -> dict[int, int]:
    """The choice made for each question; every question answered once, with one of its
    choices, and nothing else."""
    known = {q.pk: q for q in questions}
    unknown = sorted(set(answers) - set(known))
    if unknown:
        raise ValidationError({"answers": [
            "Some answers are to questions this quiz no longer asks: answer the questions "
            "shown."]})
    missing = [n for n, q in enumerate(questions, 1) if q.pk not in answers]
    if missing:
        numbers = ", ".join(str(n) for n in missing)
        raise ValidationError({"answers": [
            f"Answer every question (not answered: {numbers})."]})
    wrong = [n for n, q in enumerate(questions, 1)
             if not (isinstance(answers[q.pk], int) and 0 <= answers[q.pk] < len(q.choices))]
    if wrong:
        raise ValidationError({"answers": [
            f"Choose one of the answers offered (question {', '.join(map(str, wrong))})."]})
    return {q.pk: answers[q.pk] for q in questions}


def quiz_attempt_submit(assignment: TrainingAssignment, *, actor: Actor,
                        answers: Mapping[int, int], signature: SignatureRequest | None,
                        started_at: dt.datetime | None = None,
                        shown: str | None = None) -> QuizAttempt:
    """The person submits their answers (question id → the index of the choice made) with
    their e-signature; `shown` is the digest of the questions they were shown (refused when
    QA changed them since). The attempt is kept whatever its outcome; reaching the pass mark
    completes the assignment, signed "Quiz passed" (the signature binds the attempt's
    content); below it, the assignment stays open for another attempt.

    Side effects: audit entry `training.quiz_attempt.submit`; on a pass, the signature row
    and its audit entry and `training.assignment.complete`.
    :raises PermissionDenied: not the person's own assignment.
    :raises ValidationError: not an open quiz; no questions; answers missing or not among
        the choices (field `answers`).
    :raises SigningError: the signature was refused (nothing is recorded).
    """
    require(actor, actions.SELF, assignment)
    if assignment.person_id != actor.pk:
        raise PermissionDenied("Only the person trained takes their quiz.")
    if assignment.kind != ItemKind.QUIZ or assignment.state != A.OPEN:
        raise ValidationError({"__all__": ["This training is not an open quiz."]})
    questions = questions_of(assignment.item_id)
    if not questions:
        raise ValidationError({"__all__": [NO_QUESTIONS]})
    _answered(questions, answers)  # before the signature: bad input costs no attempt
    verified = verify_signer(actor, signature)
    with transaction.atomic():
        # `of`: the item is an outer join, which PostgreSQL does not lock (nor need to).
        locked = TrainingAssignment.objects.select_for_update(of=("self",)).select_related(
            "item").get(pk=assignment.pk)
        if locked.state != A.OPEN or locked.item is None:
            raise ValidationError({"__all__": ["This training is not open any more."]})
        # What QA changed meanwhile counts: the questions and the mark as they are now; a
        # person shown other questions answers again (what is signed is what was seen).
        questions = questions_of(locked.item_id)
        if not questions:
            raise ValidationError({"__all__": [NO_QUESTIONS]})
        if shown is not None and shown != questions_digest(questions):
            raise ValidationError({"answers": [
                "QA changed the questions while you answered them: answer them again as "
                "they are now."]})
        chosen = _answered(questions, answers)
        asked = [{"question": q.pk, "text": q.text, "choices": list(q.choices),
                  "correct": q.correct, "chosen": chosen[q.pk]} for q in questions]
        right = sum(1 for a in asked if a["chosen"] == a["correct"])
        score = 100 * right // len(asked)  # rounded down: passes only at the mark or above
        pass_mark = locked.item.pass_mark or 100
        now = timezone.now()
        started = now if started_at is None else min(max(started_at, locked.assigned_at), now)
        attempt = QuizAttempt(
            assignment=locked, person_id=actor.pk, started_at=started, submitted_at=now,
            answers=asked, asked=len(asked), right=right, score=score, pass_mark=pass_mark,
            passed=score >= pass_mark)
        if attempt.passed:
            attempt.signature = record_signature(
                verified, record_type="training.assignment", record_id=locked.pk,
                record_label=locked.label, record_hash=attempt_hash(attempt),
                action=SIGNED_ACTION, meaning=SIGNED_MEANING)
        attempt.save()
        audit_record("training.quiz_attempt.submit", attempt, actor=actor, created=True,
                     signature_id=attempt.signature_id)
        if attempt.passed:
            before = snapshot(locked)
            locked.state, locked.completed_at = A.DONE, now
            locked.completed_by_id, locked.signature = actor.pk, attempt.signature
            locked.save(update_fields=["state", "completed_at", "completed_by", "signature"])
            audit_record("training.assignment.complete", locked, actor=actor, before=before,
                         signature_id=attempt.signature_id)
            if signature is not None:
                transaction.on_commit(lambda: mark_signing_session(signature))
    return attempt


def attempt_view(attempt: QuizAttempt) -> list[dict[str, Any]]:
    """Each question of an attempt as asked, for its result: the text, the choice made,
    and, for a pass, whether it was right. A failed attempt says only its score: which
    answers were wrong would let the next attempt pass by elimination, not by knowing."""
    return [{"number": n, "text": a["text"], "chosen": a["choices"][a["chosen"]],
             "right": (a["chosen"] == a["correct"]) if attempt.passed else None}
            for n, a in enumerate(attempt.answers, 1)]
