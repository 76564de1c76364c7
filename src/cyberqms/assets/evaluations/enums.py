"""States and choice lists of periodic evaluations (A11-18)."""

from __future__ import annotations

from django.db import models


class EvaluationState(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "QA review"
    APPROVED = "approved", "Approved"
    CANCELLED = "cancelled", "Cancelled"


class Conclusion(models.TextChoices):
    REMAINS_VALIDATED = "remains_validated", "Remains in a validated state"
    REVALIDATE = "revalidate", "No longer validated: revalidation needed"
