"""The words of document control: states, types, departments, review outcomes."""

from __future__ import annotations

from django.db import models


class DocumentState(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    EFFECTIVE = "effective", "Effective"
    SUPERSEDED = "superseded", "Superseded"
    OBSOLETE = "obsolete", "Obsolete"
    CANCELLED = "cancelled", "Cancelled"


class DocumentType(models.TextChoices):
    """The types, each with its number prefix (the value, upper-cased)."""

    POLICY = "pol", "Policy"
    SOP = "sop", "Standard operating procedure"
    WORK_INSTRUCTION = "wi", "Work instruction"
    FORM = "frm", "Form"
    SPECIFICATION = "spec", "Specification"
    VALIDATION = "val", "Validation deliverable"


class Department(models.TextChoices):
    """The departments in a document's number (`SOP-QA-0007`)."""

    QA = "QA", "Quality assurance"
    QC = "QC", "Quality control"
    PRODUCTION = "PRD", "Production"
    ENGINEERING = "ENG", "Engineering"
    IT = "IT", "IT and information security"
    VALIDATION = "VAL", "Validation"
    REGULATORY = "RA", "Regulatory affairs"
    SUPPLY = "SC", "Supply chain"
    HR = "HR", "Human resources"


class ChangeSize(models.TextChoices):
    """How much a revision changes: a major one is retrained, a minor one may not be."""

    MAJOR = "major", "Major (x.0)"
    MINOR = "minor", "Minor (x.y)"
