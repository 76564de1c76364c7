"""Choices of the CAPA family: states, sources, action kinds and states, check results."""

from __future__ import annotations

from django.db import models


class CapaState(models.TextChoices):
    DRAFT = "draft", "Draft"
    OPEN = "open", "Plan review"
    IMPLEMENTATION = "implementation", "Implementation"
    EFFECTIVENESS_CHECK = "effectiveness_check", "Effectiveness check"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


class CapaSource(models.TextChoices):
    DEVIATION = "deviation", "Deviation"
    AUDIT_FINDING = "audit_finding", "Audit finding"
    SECURITY_INCIDENT = "security_incident", "Security incident"
    COMPLAINT = "complaint", "Complaint"
    OTHER = "other", "Other"


class ActionKind(models.TextChoices):
    CORRECTIVE = "corrective", "Corrective"
    PREVENTIVE = "preventive", "Preventive"


class ActionState(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class EffectivenessResult(models.TextChoices):
    PENDING = "pending", "Pending"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
