"""States and choice lists of deviations."""

from __future__ import annotations

from django.db import models


class DeviationState(models.TextChoices):
    DRAFT = "draft", "Draft"
    OPEN = "open", "Open (QA triage)"
    INVESTIGATION = "investigation", "Investigation"
    QA_REVIEW = "qa_review", "QA review"
    APPROVED = "approved", "Approved"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


class Classification(models.TextChoices):
    MINOR = "minor", "Minor"
    MAJOR = "major", "Major"
    CRITICAL = "critical", "Critical"


class RootCauseCategory(models.TextChoices):
    HUMAN_ERROR = "human_error", "Human error"
    EQUIPMENT = "equipment", "Equipment"
    MATERIAL = "material", "Material"
    METHOD = "method", "Method / process"
    ENVIRONMENT = "environment", "Environment"
    CYBERSECURITY = "cybersecurity", "Cybersecurity"
    DATA_INTEGRITY = "data_integrity", "Data integrity"
    SUPPLIER = "supplier", "Supplier"
    OTHER = "other", "Unknown / other"
