"""The complaint record: a report from outside (or inside) that a released product may not
meet its quality, safety or efficacy."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from cyberqms.platform.kit.records import QualityRecord, filter_index, state_constraint

from .enums import Category, Channel, Complainant, ComplaintState, Severity


class Complaint(QualityRecord):
    STATES = ComplaintState

    complainant = models.CharField(
        "complainant", max_length=20, choices=Complainant.choices, blank=True)
    complainant_contact = models.CharField(
        "complainant contact", max_length=200, blank=True,
        help_text="Name, organization or reference; no health data.")
    channel = models.CharField("received by", max_length=10, choices=Channel.choices,
                               blank=True)
    product_reference = models.CharField("product / batch", max_length=200, blank=True)
    category = models.CharField(max_length=20, choices=Category.choices, blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices, blank=True)
    reportable = models.BooleanField(
        "reportable", default=False,
        help_text="To a regulator (adverse event, field alert, vigilance report).")
    reportable_reason = models.TextField("reporting decision", max_length=2000, blank=True)
    cyber_related = models.BooleanField(
        "cyber-related", default=False,
        help_text="E.g. serialization data tampered with, a falsified e-leaflet.")
    investigation_summary = models.TextField(max_length=10000, blank=True)
    root_cause = models.TextField(max_length=10000, blank=True)
    response = models.TextField("response to the complainant", max_length=5000, blank=True)
    qa_comments = models.TextField("QA comments", max_length=10000, blank=True)

    class Meta(QualityRecord.Meta):
        ordering = ["-created_at", "-id"]
        indexes = [*QualityRecord.Meta.indexes,
                   filter_index("category", "complaint_category"),
                   filter_index("severity", "complaint_severity"),
                   filter_index("reportable", "complaint_reportable"),
                   filter_index("cyber_related", "complaint_cyber")]
        constraints = [state_constraint(ComplaintState, "complaint_state_valid")]

    def clean(self) -> None:
        if self.reportable and not self.reportable_reason.strip():
            raise ValidationError({"reportable_reason": [
                "A reportable complaint records the reporting decision (what, to whom, when)."
            ]})
