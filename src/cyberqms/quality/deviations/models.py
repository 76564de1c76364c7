"""The deviation record: an unplanned departure from an approved procedure or standard."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from cyberqms.platform.kit.records import QualityRecord, filter_index, state_constraint

from .enums import Classification, DeviationState, RootCauseCategory


class SecurityReferenceField(models.CharField):
    """The number of a security alert or incident; its form input suggests those the
    person may see at the deviation's site (the kit builds the forms from the model)."""

    def formfield(self, **kwargs: Any) -> Any:
        from .widgets import SecurityReferenceInput

        return super().formfield(**{"widget": SecurityReferenceInput, **kwargs})


class Deviation(QualityRecord):
    STATES = DeviationState

    classification = models.CharField(
        max_length=10, choices=Classification.choices, blank=True,
        help_text="Set at the latest when QA triages the deviation.",
    )
    department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", verbose_name="department",
    )
    area = models.CharField("area / process", max_length=200, blank=True)
    product_reference = models.CharField("product / batch", max_length=200, blank=True)
    gxp_impact = models.BooleanField("GxP impact", default=False)
    gxp_impact_text = models.TextField("GxP impact assessment", max_length=5000, blank=True)
    data_integrity_impact = models.BooleanField("data-integrity impact", default=False)
    data_integrity_impact_text = models.TextField(
        "data-integrity impact assessment", max_length=5000, blank=True
    )
    cyber_related = models.BooleanField("cyber-related", default=False)
    security_reference = SecurityReferenceField(
        "security alert / incident", max_length=100, blank=True,
        help_text="The security alert (ALERT-YYYY-NNNN) or incident (SEC-YYYY-NNNN) at the "
                  "deviation's site: type its number or words of its title and choose one "
                  "you may see.",
    )
    immediate_actions = models.TextField(max_length=10000, blank=True)
    investigation_summary = models.TextField(max_length=10000, blank=True)
    root_cause_category = models.CharField(
        max_length=20, choices=RootCauseCategory.choices, blank=True
    )
    root_cause = models.TextField(max_length=10000, blank=True)
    capa_required = models.BooleanField("CAPA required", default=False)
    qa_comments = models.TextField("QA comments", max_length=10000, blank=True)

    class Meta(QualityRecord.Meta):
        ordering = ["-created_at", "-id"]
        indexes = [*QualityRecord.Meta.indexes,
                   filter_index("classification", "deviation_classification"),
                   filter_index("cyber_related", "deviation_cyber")]
        constraints = [state_constraint(DeviationState, "deviation_state_valid")]

    def clean(self) -> None:
        """Rules across fields (run by the kit's `full_clean()` on every write)."""
        self.security_reference = (self.security_reference or "").strip().upper()
        if self.security_reference and not self.cyber_related:
            raise ValidationError({"security_reference": [
                "A security alert or incident is named: mark the deviation cyber-related, or "
                "clear the reference."
            ]})
        if self.department_id is not None and self.department is not None \
                and self.department.site_id != self.site_id:
            raise ValidationError({"department": ["The department belongs to another site."]})

    @property
    def classification_label(self) -> str:
        return self.get_classification_display() if self.classification else "Unclassified"
