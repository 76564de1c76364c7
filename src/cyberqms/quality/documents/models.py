"""Controlled documents: a document (`SOP-QA-0007`) and its versions (`SOP-QA-0007 v2.0`).

The record the kit serves is the version: each goes through the declared lifecycle (draft,
review, approval, effective, superseded or obsolete) with its own signatures, so that the
effective version stays in force while the next one is reviewed. The document holds what
all its versions share: its number, type and department, and it is the row that
serializes the versions' changes of state. The database holds at most one effective
version per document (`document_one_effective`), whatever the services do.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from cyberqms.platform.core.models import KeptForever
from cyberqms.platform.kit.records import QualityRecord, filter_index, state_constraint

from .enums import Department, DocumentState, DocumentType


class ControlledDocument(KeptForever):
    """A controlled document: its number, type and department, kept for every version."""

    number = models.CharField(max_length=24, unique=True, editable=False)
    doc_type = models.CharField("type", max_length=8, choices=DocumentType.choices)
    department = models.CharField(max_length=8, choices=Department.choices)
    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return self.number

    @property
    def label(self) -> str:
        return self.number


class DocumentVersion(QualityRecord):
    STATES = DocumentState

    document = models.ForeignKey(ControlledDocument, on_delete=models.PROTECT,
                                 related_name="versions", editable=False)
    doc_type = models.CharField("type", max_length=8, choices=DocumentType.choices)
    department = models.CharField(max_length=8, choices=Department.choices)
    major = models.PositiveSmallIntegerField(default=1, editable=False)
    minor = models.PositiveSmallIntegerField(default=0, editable=False)
    cyber_relevant = models.BooleanField(
        "cyber-relevant", default=False,
        help_text="Security policies and procedures: IT security approves them too.")
    body = models.TextField(
        "content", max_length=200_000, blank=True,
        help_text="Markdown: # headings, lists, **bold**, tables. Or attach the DOCX or PDF.")
    source = models.ForeignKey(
        "core.Attachment", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        editable=False, verbose_name="content file",
        help_text="The DOCX or PDF that is the content, instead of text written here.")
    source_text = models.TextField("text of the content file", blank=True, editable=False)
    retraining_needed = models.BooleanField(
        "retraining needed", default=True, editable=False,
        help_text="False: QA signed that readers of the previous version need not read this "
                  "minor revision again.")
    change_summary = models.TextField("what changed", max_length=5000, blank=True)
    effective_date = models.DateField(
        "effective date", null=True, blank=True,
        help_text="The day the approved version comes into force.")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", verbose_name="reviewer")
    second_reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", verbose_name="second reviewer")
    reviewed_at = models.DateTimeField("reviewed", null=True, blank=True, editable=False)
    second_reviewed_at = models.DateTimeField("second review", null=True, blank=True,
                                              editable=False)
    security_approved_at = models.DateTimeField("IT security approval", null=True,
                                                blank=True, editable=False)
    effective_at = models.DateTimeField("in force since", null=True, blank=True,
                                        editable=False)

    class Meta(QualityRecord.Meta):
        ordering = ["-created_at", "-id"]
        indexes = [*QualityRecord.Meta.indexes,
                   filter_index("doc_type", "document_type"),
                   filter_index("department", "document_department"),
                   filter_index("cyber_relevant", "document_cyber")]
        constraints = [
            state_constraint(DocumentState, "document_state_valid"),
            models.UniqueConstraint(fields=["document", "major", "minor"],
                                    name="document_version_unique"),
            # Never two effective versions of one document, even with two approvals racing.
            models.UniqueConstraint(fields=["document"],
                                    condition=models.Q(state="effective"),
                                    name="document_one_effective"),
        ]

    @property
    def version(self) -> str:
        return f"{self.major}.{self.minor}"

    @property
    def document_number(self) -> str:
        return self.number.rsplit(" v", 1)[0]

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        authors = {getattr(self, "owner_id", None), getattr(self, "originator_id", None)}
        if self.reviewer_id is not None and self.reviewer_id in authors:
            errors["reviewer"] = ["The author cannot review their own document."]
        if self.second_reviewer_id is not None and self.second_reviewer_id in authors:
            errors["second_reviewer"] = ["The author cannot review their own document."]
        if (self.second_reviewer_id is not None
                and self.second_reviewer_id == self.reviewer_id):
            errors["second_reviewer"] = ["Name someone else than the first reviewer."]
        if errors:
            raise ValidationError(errors)

    def text(self) -> str:
        """The content as text: the Markdown written here, or the content file's text."""
        return self.source_text if self.source_id is not None else self.body

    def reviewers(self) -> list[int]:
        return [pk for pk in (self.reviewer_id, self.second_reviewer_id) if pk is not None]

    def awaiting_review(self) -> list[int]:
        """The named reviewers who have not signed yet."""
        out = []
        if self.reviewer_id is not None and self.reviewed_at is None:
            out.append(self.reviewer_id)
        if self.second_reviewer_id is not None and self.second_reviewed_at is None:
            out.append(self.second_reviewer_id)
        return out

    def needs_change_control(self) -> bool:
        """A revision of a type that is revised only under an approved change control."""
        return (self.major, self.minor) != (1, 0) and (
            self.doc_type in settings.CYBERQMS_DOCUMENT_CHANGE_CONTROL)

    def review_months(self) -> int:
        months: int = settings.CYBERQMS_DOCUMENT_REVIEW_MONTHS.get(self.doc_type, 24)
        return months
