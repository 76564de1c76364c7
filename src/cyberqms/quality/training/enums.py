"""The words of training: what an item is, where an assignment stands."""

from __future__ import annotations

from django.db import models


class ItemKind(models.TextChoices):
    READING = "reading", "Document reading (read and understood)"
    CLASSROOM = "classroom", "Classroom session (attendance signed by the trainer)"
    ON_THE_JOB = "on_the_job", "On-the-job training (signed off by a qualified trainer)"
    QUIZ = "quiz", "Quiz (pass mark, attempts kept)"


class AssignmentState(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Completed"
    CANCELLED = "cancelled", "No longer needed"
