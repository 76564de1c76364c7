"""The periodic evaluation of a computerized system (A11-18): what happened to it over a
period (incidents, changes, deviations that affect it, audit-trail reviews, its posture),
gathered when the evaluation is sent for review and kept with it, and the conclusion QA
signs: the system remains in a validated state, or it does not."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from cyberqms.platform.kit.records import QualityRecord, state_constraint

from .enums import Conclusion, EvaluationState


class Evaluation(QualityRecord):
    STATES = EvaluationState

    system = models.ForeignKey("systems.System", on_delete=models.PROTECT,
                               related_name="evaluations", verbose_name="system")
    period_start = models.DateField("period from")
    period_end = models.DateField("period to")
    findings = models.TextField(
        "evaluation", max_length=10000, blank=True,
        help_text="Use and performance, incidents, changes, deviations, audit-trail "
                  "reviews, security posture, supplier, training and procedures.")
    conclusion = models.CharField(max_length=20, choices=Conclusion.choices, blank=True)
    follow_up = models.TextField("follow-up", max_length=4000, blank=True,
                                 help_text="Actions that follow, with their record numbers.")
    # What the period held, gathered when the evaluation is sent for review: the signature
    # vouches for the evaluation of these records (A11-18), not of whatever is linked later.
    evidence = models.JSONField(default=dict, blank=True, editable=False)

    class Meta(QualityRecord.Meta):
        ordering = ["-created_at", "-id"]
        constraints = [state_constraint(EvaluationState, "evaluation_state_valid")]

    def clean(self) -> None:
        if self.period_start and self.period_end and self.period_end <= self.period_start:
            raise ValidationError({"period_end": [
                f"The period ends after it starts ({self.period_start.isoformat()})."]})
        if self.period_end and self.period_end > timezone.localdate():
            raise ValidationError({"period_end": ["The period cannot end in the future."]})

    def document_sections(self) -> list[Any]:
        """The evidence tables of the PDF and JSON copies (kit.record_export)."""
        from .evidence import evidence_sections

        return evidence_sections(self)
