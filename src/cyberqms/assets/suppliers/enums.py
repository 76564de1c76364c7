"""States and choice lists of suppliers (A11-03)."""

from __future__ import annotations

from django.db import models


class SupplierState(models.TextChoices):
    CANDIDATE = "candidate", "Under qualification"
    APPROVED = "approved", "Approved"
    CONDITIONAL = "conditional", "Conditionally approved"
    DISQUALIFIED = "disqualified", "Disqualified"
    INACTIVE = "inactive", "No longer used"


class SupplierScope(models.TextChoices):
    SOFTWARE = "software", "Software vendor"
    SAAS = "saas", "SaaS or hosting provider"
    SERVICE = "service", "Service provider"
    MATERIAL = "material", "Material supplier"


class AssessmentMethod(models.TextChoices):
    QUESTIONNAIRE = "questionnaire", "Questionnaire"
    REMOTE_AUDIT = "remote_audit", "Remote audit"
    ONSITE_AUDIT = "onsite_audit", "On-site audit"
    CERTIFICATE = "certificate", "Certificate review (ISO 9001, ISO 27001, SOC 2)"


class AssessmentOutcome(models.TextChoices):
    APPROVED = "approved", "Approve"
    CONDITIONAL = "conditional", "Approve with conditions"
    REJECTED = "rejected", "Do not approve"


class AgreementKind(models.TextChoices):
    QUALITY = "quality", "Quality agreement"
    SECURITY = "security", "Security agreement (incl. data processing)"
    SERVICE_LEVEL = "sla", "Service-level agreement"
    CONFIDENTIALITY = "nda", "Confidentiality agreement"
