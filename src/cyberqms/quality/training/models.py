"""Training: curricula per role, the assignments they give each person, and the documents
whose current training a step of a workflow needs.

A curriculum names roles (or every GxP user) and items: a controlled document to read, a
classroom session, on-the-job training. Assignments are made by `assignments_sync` when a
person gains a role, a curriculum changes, or a new version of a document takes effect; a
reading is completed by the person's own e-signature "Read and understood", bound to the
version's content; a session or on-the-job training by the trainer's signature.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from cyberqms.platform.core.models import KeptForever

from .enums import AssignmentState, ItemKind


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

    class Meta:
        ordering = ["curriculum", "id"]
        constraints = [
            models.UniqueConstraint(fields=["curriculum", "document"],
                                    condition=models.Q(document__isnull=False),
                                    name="curriculum_document_once"),
            models.CheckConstraint(
                condition=(models.Q(kind="reading", document__isnull=False)
                           | (~models.Q(kind="reading") & models.Q(document__isnull=True))),
                name="curriculum_item_reading_names_a_document"),
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
