"""States and choices of change control."""

from __future__ import annotations

from django.db import models


class ChangeState(models.TextChoices):
    DRAFT = "draft", "Draft"
    ASSESSMENT = "assessment", "Impact assessment"
    QA_APPROVED = "qa_approved", "QA approved"
    APPROVED = "approved", "Approved"
    IMPLEMENTATION = "implementation", "Implementation"
    REVIEW = "review", "Post-implementation review"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


class ChangeType(models.TextChoices):
    EQUIPMENT = "equipment", "Equipment"
    PROCESS = "process", "Process"
    FACILITY = "facility", "Facility"
    COMPUTERIZED_SYSTEM = "computerized_system", "Computerized system"
    SOFTWARE = "software", "Software / configuration"
    SUPPLIER = "supplier", "Supplier / material"
    DOCUMENT = "document", "Document"
    OTHER = "other", "Other"


class RiskLevel(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class PirOutcome(models.TextChoices):
    EFFECTIVE = "effective", "Effective"
    NOT_EFFECTIVE = "not_effective", "Not effective"


class TaskState(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


# Risk priority number (RPN = severity × probability × detectability, 1..125) thresholds:
# below MEDIUM_FROM is low, from HIGH_FROM on is high (docs/changes.md).
RISK_MEDIUM_FROM = 20
RISK_HIGH_FROM = 60


def risk_level_of(score: int | None) -> str:
    if score is None:
        return ""
    if score >= RISK_HIGH_FROM:
        return RiskLevel.HIGH
    if score >= RISK_MEDIUM_FROM:
        return RiskLevel.MEDIUM
    return RiskLevel.LOW
