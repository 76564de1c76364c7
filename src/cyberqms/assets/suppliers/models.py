"""The approved supplier list (A11-03): suppliers, their assessments and agreements."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from cyberqms.platform.kit.record_rows import RecordRow
from cyberqms.platform.kit.records import QualityRecord, filter_index, state_constraint

from .enums import AgreementKind, AssessmentMethod, AssessmentOutcome, SupplierScope, SupplierState


class Supplier(QualityRecord):
    """A supplier of GxP goods or services. Its due date is the next re-assessment, set by
    its latest assessment."""

    STATES = SupplierState

    scope = models.CharField(max_length=12, choices=SupplierScope.choices)
    supplies = models.TextField("what it supplies", max_length=2000, blank=True)
    contact = models.CharField("contact", max_length=200, blank=True,
                               help_text="Name, role and e-mail of the supplier's contact.")
    gxp_critical = models.BooleanField(
        "GxP-critical", default=False,
        help_text="Its goods or services affect product quality or GxP data.")
    conditions = models.TextField("conditions of approval", max_length=2000, blank=True)

    class Meta(QualityRecord.Meta):
        ordering = ["title", "id"]
        indexes = [*QualityRecord.Meta.indexes, filter_index("scope", "supplier_scope")]
        constraints = [state_constraint(SupplierState, "supplier_state_valid")]


class SupplierAssessment(RecordRow):
    """One qualification or re-assessment of a supplier, with its verdict and when the
    next is due."""

    record = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="assessments")
    method = models.CharField(max_length=14, choices=AssessmentMethod.choices)
    assessed_on = models.DateField("assessed on")
    score = models.PositiveSmallIntegerField(
        "score (0-100)", validators=[MinValueValidator(0), MaxValueValidator(100)])
    outcome = models.CharField(max_length=12, choices=AssessmentOutcome.choices)
    next_due = models.DateField("next assessment due")
    summary = models.TextField("findings", max_length=4000, blank=True)
    reference = models.CharField("report", max_length=200, blank=True,
                                 help_text="Report number or attached file.")

    class Meta(RecordRow.Meta):
        verbose_name = "assessment"
        constraints = [models.CheckConstraint(condition=models.Q(score__lte=100),
                                              name="supplier_assessment_score_0_100")]

    def clean(self) -> None:
        if self.assessed_on and self.assessed_on > timezone.localdate():
            raise ValidationError({"assessed_on": ["An assessment cannot be in the future."]})
        if self.assessed_on and self.next_due and self.next_due <= self.assessed_on:
            raise ValidationError({"next_due": [
                "The next assessment is due after this one "
                f"({self.assessed_on.isoformat()})."]})


class SupplierAgreement(RecordRow):
    """A signed agreement with the supplier, in force between its dates."""

    record = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="agreements")
    kind = models.CharField("agreement", max_length=10, choices=AgreementKind.choices)
    reference = models.CharField(max_length=200, help_text="Contract or document number.")
    starts_on = models.DateField("in force from")
    expires_on = models.DateField("expires on")

    class Meta(RecordRow.Meta):
        verbose_name = "agreement"

    def clean(self) -> None:
        if self.starts_on and self.expires_on and self.expires_on <= self.starts_on:
            raise ValidationError({"expires_on": [
                f"An agreement expires after it starts ({self.starts_on.isoformat()})."]})
