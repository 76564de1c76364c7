"""Training: curricula per role, the assignments they give each person, and the documents
whose current training a step of a workflow needs.

A curriculum names roles (or every GxP user) and items: a controlled document to read, a
classroom session, on-the-job training, a quiz. Assignments are made by `assignments_sync`
when a person gains a role, a curriculum changes, or a new version of a document takes
effect; a reading is completed by the person's own e-signature "Read and understood", bound
to the version's content; a session or on-the-job training by the trainer's signature; a
quiz by an attempt that reaches the pass mark, signed "Quiz passed" by the person (every
attempt is kept).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from cyberqms.platform.core.models import KeptForever

from .enums import AssignmentState, ItemKind

WAIVE_ACTION = "documents.document.waive_retraining"  # QA's "No retraining needed"

# A quiz passes at this score (percent) until QA sets its own mark.
DEFAULT_PASS_MARK = 80
MIN_CHOICES, MAX_CHOICES = 2, 6
CHOICE_LENGTH = 300


class Curriculum(models.Model):
    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(max_length=2000, blank=True)
    roles = models.JSONField(default=list, blank=True,
                             help_text="Role codes whose holders follow this curriculum.")
    for_everyone = models.BooleanField(
        "every GxP user", default=False,
        help_text="Followed by everyone who holds a GxP role (data integrity, cyber hygiene).")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CurrentItems(models.Manager["CurriculumItem"]):
    """The items curricula hold now: an item removed after people were assigned it stays,
    marked removed, for the training records that name it (training.curricula)."""

    def get_queryset(self) -> models.QuerySet[CurriculumItem]:
        return super().get_queryset().filter(removed_at__isnull=True)


class CurriculumItem(models.Model):
    curriculum = models.ForeignKey(Curriculum, on_delete=models.PROTECT, related_name="items")
    kind = models.CharField(max_length=12, choices=ItemKind.choices, default=ItemKind.READING)
    document = models.ForeignKey("documents.ControlledDocument", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=200, blank=True,
                             help_text="What a session or on-the-job training covers.")
    due_days = models.PositiveSmallIntegerField(
        "days to complete", default=14,
        help_text="From the day it is assigned (a new version: the day it takes effect).")
    retrain_months = models.PositiveSmallIntegerField(
        "retrain every (months)", null=True, blank=True,
        help_text="Sessions and on-the-job training repeated at this interval; empty: once.")
    pass_mark = models.PositiveSmallIntegerField(
        "pass mark (%)", null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="A quiz: the score (percent of its questions answered right) that passes.")
    removed_at = models.DateTimeField(null=True, blank=True, editable=False)

    # The default manager (and so `curriculum.items`) leaves removed items out; an
    # assignment's `item` still reaches its own (Django follows a foreign key with the base
    # manager), `every` reaches them all.
    every = models.Manager()
    objects = CurrentItems()

    class Meta:
        default_manager_name = "objects"
        ordering = ["curriculum", "id"]
        constraints = [
            models.UniqueConstraint(fields=["curriculum", "document"],
                                    condition=models.Q(document__isnull=False),
                                    name="curriculum_document_once"),
            models.CheckConstraint(
                condition=(models.Q(kind="reading", document__isnull=False)
                           | (~models.Q(kind="reading") & models.Q(document__isnull=True))),
                name="curriculum_item_reading_names_a_document"),
            models.CheckConstraint(
                condition=(models.Q(kind="quiz", pass_mark__gte=1, pass_mark__lte=100)
                           | (~models.Q(kind="quiz") & models.Q(pass_mark__isnull=True))),
                name="curriculum_item_quiz_has_a_pass_mark"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.title or str(self.document or "")

    def clean(self) -> None:
        if self.kind == ItemKind.READING and self.document_id is None:
            raise ValidationError({"document": ["Name the document to read."]})
        if self.kind != ItemKind.READING and not self.title.strip():
            raise ValidationError({"title": ["Say what the training covers."]})
        if self.kind == ItemKind.QUIZ and self.pass_mark is None:
            self.pass_mark = DEFAULT_PASS_MARK  # a new quiz, until QA sets its mark
        if self.kind != ItemKind.QUIZ and self.pass_mark is not None:
            raise ValidationError({"pass_mark": ["Only a quiz has a pass mark."]})


class TrainingAssignment(KeptForever):
    """One piece of training one person has to do: kept forever (the training record)."""

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="training_assignments")
    kind = models.CharField(max_length=12, choices=ItemKind.choices)
    document = models.ForeignKey("documents.ControlledDocument", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey("documents.DocumentVersion", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(CurriculumItem, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    title = models.CharField(max_length=240)
    reason = models.CharField(max_length=240)
    assigned_at = models.DateTimeField(default=timezone.now)
    due_date = models.DateField()
    state = models.CharField(max_length=10, choices=AssignmentState.choices,
                             default=AssignmentState.OPEN)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+",
                                     help_text="Who signed the completion (the trainer, or "
                                               "the person for a reading).")
    signature = models.ForeignKey("core.Signature", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    note = models.TextField(max_length=2000, blank=True)
    cancelled_reason = models.CharField(max_length=240, blank=True)

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [models.Index(fields=["person", "state", "due_date"],
                                name="training_person_state"),
                   models.Index(fields=["document", "state"], name="training_document_state"),
                   models.Index(fields=["state", "due_date"], name="training_state_due")]
        constraints = [
            # A version is read and understood once per person.
            models.UniqueConstraint(fields=["person", "version"],
                                    condition=models.Q(version__isnull=False),
                                    name="training_version_once"),
            models.CheckConstraint(condition=models.Q(state__in=AssignmentState.values),
                                   name="training_state_valid"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"{self.title} — {getattr(self.person, 'printed_name', self.person_id)}"[:200]

    @property
    def carried(self) -> bool:
        """A reading done by QA's "No retraining needed" (the person's reading of the
        version before holds), not read again."""
        return (self.kind == ItemKind.READING and self.signature_id is not None
                and getattr(self.signature, "action", "") == WAIVE_ACTION)

    def is_overdue(self, today: dt.date | None = None) -> bool:
        return self.state == AssignmentState.OPEN and self.due_date < (
            today or timezone.localdate())


class TrainingRequirement(models.Model):
    """A workflow step that needs current training on a document (P11-13): configured as
    data, each row added and removed under an approved change control, audited."""

    step = models.CharField(max_length=100,
                            help_text="The step: <record type>.<action>, e.g. "
                                      "deviations.deviation.approve.")
    document = models.ForeignKey("documents.ControlledDocument", on_delete=models.PROTECT,
                                 related_name="+")
    change_reference = models.CharField(
        "change control", max_length=40,
        help_text="The approved change control under which the requirement was added.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_reference = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["step", "id"]
        constraints = [models.UniqueConstraint(
            fields=["step", "document"], condition=models.Q(removed_at__isnull=True),
            name="training_requirement_once")]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"{self.step} needs {self.document}"


class QuizQuestion(models.Model):
    """One single-choice question of a quiz: 2 to 6 choices, exactly one of them correct.
    Kept by QA (audited); an attempt keeps the questions as they were asked, so a question
    changed or removed later leaves the attempts as they were."""

    item = models.ForeignKey(CurriculumItem, on_delete=models.PROTECT, related_name="questions")
    position = models.PositiveSmallIntegerField(default=1)
    text = models.TextField("question", max_length=1000)
    choices = models.JSONField(default=list,
                               help_text=f"The answers offered, {MIN_CHOICES} to {MAX_CHOICES}.")
    correct = models.PositiveSmallIntegerField(help_text="Which choice is right (from 0).")

    class Meta:
        ordering = ["item", "position", "id"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"Question {self.position}: {self.text}"[:200]

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if self.item_id is not None and self.item.kind != ItemKind.QUIZ:
            errors["item"] = ["Questions belong to a quiz."]
        if not self.text.strip():
            errors["text"] = ["Write the question."]
        choices = self.choices
        if not isinstance(choices, list) or not all(isinstance(c, str) and c.strip()
                                                   for c in choices):
            errors["choices"] = ["Each choice is a text that says something."]
        elif not MIN_CHOICES <= len(choices) <= MAX_CHOICES:
            errors["choices"] = [f"Offer {MIN_CHOICES} to {MAX_CHOICES} choices "
                                 f"({len(choices)} given)."]
        elif any(len(c) > CHOICE_LENGTH for c in choices):
            errors["choices"] = [f"A choice holds at most {CHOICE_LENGTH} characters."]
        elif len({c.strip().casefold() for c in choices}) != len(choices):
            errors["choices"] = ["Each choice says something different."]
        elif not 0 <= self.correct < len(choices):
            errors["correct"] = ["Mark one of the choices as the right one."]
        if errors:
            raise ValidationError(errors)


class QuizAttempt(KeptForever):
    """One attempt at a quiz, as submitted: kept forever, never changed (the training
    record). `answers` holds each question as it was asked: {"question": id, "text",
    "choices", "correct", "chosen"}; the score is the percent answered right, rounded down,
    and passes at the item's pass mark of the moment. A pass is signed "Quiz passed" by the
    person, the signature bound to the attempt's content."""

    assignment = models.ForeignKey(TrainingAssignment, on_delete=models.PROTECT,
                                   related_name="quiz_attempts")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="+")
    started_at = models.DateTimeField()
    submitted_at = models.DateTimeField()
    answers = models.JSONField(default=list)
    asked = models.PositiveSmallIntegerField("questions asked")
    right = models.PositiveSmallIntegerField("answered right")
    score = models.PositiveSmallIntegerField("score (%)")
    pass_mark = models.PositiveSmallIntegerField("pass mark (%)")
    passed = models.BooleanField()
    signature = models.ForeignKey("core.Signature", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["assignment", "submitted_at"],
                                name="quiz_attempt_assignment")]
        constraints = [
            # A pass completes the assignment: there is one.
            models.UniqueConstraint(fields=["assignment"], condition=models.Q(passed=True),
                                    name="quiz_attempt_passed_once"),
            models.CheckConstraint(condition=models.Q(score__lte=100, right__lte=models.F(
                "asked")), name="quiz_attempt_score_valid"),
            models.CheckConstraint(condition=models.Q(passed=False)
                                   | models.Q(signature__isnull=False),
                                   name="quiz_attempt_pass_is_signed"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        outcome = "passed" if self.passed else "failed"
        return f"Quiz attempt {self.pk}: {self.score} % ({outcome})"
