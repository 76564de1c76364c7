"""States and choice lists of quality risk management (ICH Q9(R1), A11-01)."""

from __future__ import annotations

from django.db import models


class RiskState(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    ACCEPTED = "accepted", "Accepted"
    RETIRED = "retired", "Retired"


class Subject(models.TextChoices):
    SYSTEM = "system", "Computerized system"
    PROCESS = "process", "Process"
    CHANGE = "change", "Change"


class Method(models.TextChoices):
    FMEA = "fmea", "FMEA (severity × occurrence × detectability)"
    MATRIX = "matrix", "Risk matrix (severity × likelihood)"


class Category(models.TextChoices):
    QUALITY = "quality", "Product quality / patient safety"
    DATA_INTEGRITY = "data_integrity", "Data integrity"
    CYBER = "cyber", "Cybersecurity"


class Level(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
