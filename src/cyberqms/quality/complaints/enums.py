"""States and choice lists of complaints."""

from __future__ import annotations

from django.db import models


class ComplaintState(models.TextChoices):
    DRAFT = "draft", "Draft"
    OPEN = "open", "Open (QA assessment)"
    INVESTIGATION = "investigation", "Investigation"
    QA_REVIEW = "qa_review", "QA review"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


class Complainant(models.TextChoices):
    PATIENT = "patient", "Patient or consumer"
    HEALTHCARE = "healthcare", "Healthcare professional"
    CUSTOMER = "customer", "Customer or distributor"
    REGULATOR = "regulator", "Regulator"
    INTERNAL = "internal", "Internal"


class Channel(models.TextChoices):
    PHONE = "phone", "Phone"
    EMAIL = "email", "E-mail"
    LETTER = "letter", "Letter"
    WEB = "web", "Web form"
    FIELD = "field", "Sales or field representative"


class Category(models.TextChoices):
    QUALITY_DEFECT = "quality_defect", "Quality defect"
    PACKAGING = "packaging", "Packaging or labelling"
    COUNTERFEIT = "counterfeit", "Suspected counterfeit or tampering"
    ADVERSE_EVENT = "adverse_event", "Adverse event"
    DEVICE = "device", "Device malfunction"
    SUPPLY = "supply", "Supply or distribution"
    OTHER = "other", "Other"


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High (possible health risk)"
