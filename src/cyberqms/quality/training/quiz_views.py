"""Quiz pages: the person takes a quiz from My training and sees each attempt's result and
their attempts; QA keeps a quiz's questions and pass mark (linked from the curricula)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cyberqms.platform.core.access import AccessDenied, can
from cyberqms.platform.core.pages import gated, page_actor
from cyberqms.platform.kit.signatures import (
    SigningError,
    manifestation,
    signature_from_post,
    signing_state,
)
from cyberqms.platform.kit.words import problem_text

from . import actions, quiz, services
from .enums import AssignmentState, ItemKind
from .models import CHOICE_LENGTH, MAX_CHOICES, CurriculumItem, QuizQuestion, TrainingAssignment

# The signing fields are read as on the reading's page: one parser of them.

_ANSWER = re.compile(r"q(\d{1,18})")


# --- the person takes the quiz -----------------------------------------------------------------


def _answers(posted: Any) -> dict[int, int]:
    """The choices posted (`q<question id>` → index); an index that is no number is kept as
    -1, so the service names the question."""
    out: dict[int, int] = {}
    for key in posted:
        match = _ANSWER.fullmatch(key)
        if match:
            raw = posted.get(key, "")
            out[int(match[1])] = (int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 4
                                  else -1)
    return out


@gated(actions.SELF)
@require_http_methods(["GET", "POST"])
def take(request: HttpRequest, pk: int) -> HttpResponse:
    """The quiz's questions and the signature under them; the attempts made so far."""
    actor = page_actor(request)
    assignment = TrainingAssignment.objects.select_related("item").filter(
        pk=pk, person_id=actor.pk, kind=ItemKind.QUIZ).first()
    if assignment is None or assignment.item is None:
        raise Http404
    error: dict[str, str] = {}
    chosen: dict[int, int] = {}
    if request.method == "POST":
        chosen = _answers(request.POST)
        try:
            attempt = quiz.quiz_attempt_submit(
                assignment, actor=actor, answers=chosen, signature=signature_from_post(request),
                started_at=quiz.started_from(assignment, request.POST.get("started", "")),
                shown=quiz.shown_from(assignment, request.POST.get("started", "")))
        except SigningError as exc:
            error = {"field": exc.field or "", "message": str(exc)}
        except ValidationError as exc:
            error = {"field": next(iter(exc.message_dict), ""), "message": " ".join(
                exc.messages)}
        except PermissionDenied as exc:
            error = {"field": "", "message": problem_text(exc)}
        else:
            if attempt.passed:
                messages.success(request, f"{assignment.title}: passed with {attempt.score} %, "
                                          "signed.")
            else:
                messages.warning(request, f"{assignment.title}: {attempt.score} %, below the "
                                          f"pass mark of {attempt.pass_mark} %. Try again.")
            return redirect("training:quiz_attempt", attempt.pk)
    questions = quiz.questions_of(assignment.item_id)
    return render(request, "training/quiz.html", {
        "assignment": assignment, "item": assignment.item,
        "questions": [(q, [(i, c, chosen.get(q.pk) == i) for i, c in enumerate(q.choices)])
                      for q in questions],
        "attempts": list(quiz.attempts_of(actor.pk, assignment_id=assignment.pk)),
        "is_open": assignment.state == AssignmentState.OPEN,
        "no_questions": quiz.NO_QUESTIONS, "started": quiz.start_token(assignment),
        "signing": signing_state(request, actor), "error": error,
    }, status=422 if error else 200)


@gated(actions.SELF)
@require_GET
def attempt(request: HttpRequest, pk: int) -> HttpResponse:
    """One attempt's result: the person's own, or of a person whose training one sees."""
    actor = page_actor(request)
    row = quiz.attempts_of_anyone().filter(pk=pk).first()
    if row is None or (row.person_id != actor.pk
                       and not services.covers(actor, actions.VIEW, row.person_id)):
        raise Http404
    return render(request, "training/quiz_attempt.html", {
        "attempt": row, "assignment": row.assignment, "answers": quiz.attempt_view(row),
        "signature": (manifestation(row.signature, current_hash=quiz.attempt_hash(row))
                      if row.signature else None),
        "own": row.person_id == actor.pk,
        "may_retry": row.person_id == actor.pk and not row.passed
        and row.assignment.state == AssignmentState.OPEN,
    })


# --- QA keeps the questions ------------------------------------------------------------------


class PassMarkForm(forms.Form):
    pass_mark = forms.IntegerField(label="Pass mark (%)", min_value=1, max_value=100)
    reason = forms.CharField(label="Why it changes", max_length=500)


class QuestionForm(forms.Form):
    """A question with up to six choices; blank choices are left out."""

    text = forms.CharField(label="Question", max_length=1000,
                           widget=forms.Textarea(attrs={"rows": 2}))
    correct = forms.TypedChoiceField(
        label="The right choice", coerce=int, widget=forms.RadioSelect,
        choices=[(i, f"Choice {i + 1}") for i in range(MAX_CHOICES)])
    reason = forms.CharField(label="Why it changes", max_length=500, required=False,
                             help_text="Needed when changing a question.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in range(MAX_CHOICES):
            self.fields[f"choice_{i}"] = forms.CharField(
                label=f"Choice {i + 1}", max_length=CHOICE_LENGTH, required=False)
        self.order_fields(["text", *(f"choice_{i}" for i in range(MAX_CHOICES)), "correct",
                           "reason"])

    def choices(self) -> list[str]:
        return [self.cleaned_data.get(f"choice_{i}", "") for i in range(MAX_CHOICES)]


def _question_form(question: QuizQuestion) -> QuestionForm:
    initial: dict[str, Any] = {"text": question.text, "correct": question.correct}
    initial |= {f"choice_{i}": c for i, c in enumerate(question.choices)}
    return QuestionForm(prefix=f"q{question.pk}", initial=initial)


def _service_errors(form: forms.Form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        target = field if field in form.fields else None
        for error in errors:
            form.add_error(target, error)


def _quiz_item(pk: int) -> CurriculumItem:
    item = CurriculumItem.objects.select_related("curriculum").filter(
        pk=pk, kind=ItemKind.QUIZ).first()
    if item is None:
        raise Http404
    return item


def _edit_page(request: HttpRequest, item: CurriculumItem, *,
               pass_mark_form: PassMarkForm | None = None, new_form: QuestionForm | None = None,
               failed: tuple[int, QuestionForm] | None = None, status: int = 200
               ) -> HttpResponse:
    questions = quiz.questions_of(item.pk)
    return render(request, "training/quiz_edit.html", {
        "item": item,
        "questions": [(q, failed[1] if failed and failed[0] == q.pk else _question_form(q),
                       bool(failed and failed[0] == q.pk)) for q in questions],
        "pass_mark_form": pass_mark_form or PassMarkForm(initial={"pass_mark": item.pass_mark}),
        "new_form": new_form or QuestionForm(),
        "can_manage": can(page_actor(request), actions.MANAGE),
    }, status=status)


@gated(actions.MANAGE)
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    """A quiz's questions, their right answers and its pass mark, for those who keep the
    quizzes (the people who take them never see the key); the pass mark is set here."""
    item = _quiz_item(pk)
    if request.method != "POST":
        return _edit_page(request, item)
    form = PassMarkForm(request.POST)
    if form.is_valid():
        try:
            quiz.quiz_pass_mark_set(item, actor=page_actor(request),
                                    pass_mark=form.cleaned_data["pass_mark"],
                                    reason=form.cleaned_data["reason"])
        except AccessDenied:
            raise PermissionDenied from None
        except ValidationError as exc:
            _service_errors(form, exc)
        else:
            messages.success(request, f"{item.title}: passes at {form.cleaned_data['pass_mark']} "
                                      "% from the next attempt on.")
            return redirect("training:quiz_edit", item.pk)
    return _edit_page(request, item, pass_mark_form=form, status=422)


@gated(actions.MANAGE)
@require_POST
def question_save(request: HttpRequest, pk: int) -> HttpResponse:
    """A new question (no `question` posted) or a change to the question posted."""
    item = _quiz_item(pk)
    question = None
    raw = request.POST.get("question", "")
    if raw:
        question = QuizQuestion.objects.filter(
            pk=int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else 0,
            item=item).first()
        if question is None:
            raise Http404
    form = QuestionForm(request.POST, prefix=f"q{question.pk}" if question else None)
    if form.is_valid():
        try:
            quiz.quiz_question_save(item, actor=page_actor(request),
                                    text=form.cleaned_data["text"], choices=form.choices(),
                                    correct=form.cleaned_data["correct"], question=question,
                                    reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            _service_errors(form, exc)
        else:
            messages.success(request, "Question changed." if question else "Question added.")
            return redirect("training:quiz_edit", item.pk)
    if question is None:
        return _edit_page(request, item, new_form=form, status=422)
    return _edit_page(request, item, failed=(question.pk, form), status=422)


@gated(actions.MANAGE)
@require_POST
def question_remove(request: HttpRequest, pk: int) -> HttpResponse:
    question = QuizQuestion.objects.filter(pk=pk).first()
    if question is None:
        raise Http404
    try:
        quiz.quiz_question_remove(question, actor=page_actor(request),
                                  reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        messages.error(request, problem_text(exc))
    else:
        messages.success(request, f"Question {question.position} removed.")
    return redirect("training:quiz_edit", question.item_id)
