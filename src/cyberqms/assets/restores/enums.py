"""States and choice lists of restore tests (A11-13)."""

from __future__ import annotations

from django.db import models


class RestoreTestState(models.TextChoices):
    DRAFT = "draft", "Draft"
    REVIEW = "review", "IT review"
    REVIEWED = "reviewed", "Reviewed"
    CANCELLED = "cancelled", "Cancelled"


class Outcome(models.TextChoices):
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
