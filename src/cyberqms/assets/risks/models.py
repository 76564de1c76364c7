"""Quality risk management (ICH Q9(R1), A11-01): a risk assessment of a system, a process or
a change, its risks (failure modes, or threats to an asset through a vulnerability for
cyber risks) scored before and after their controls, and its acceptance by a named
approver, with a rationale and an expiry."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from cyberqms.platform.kit.record_rows import RecordRow
from cyberqms.platform.kit.records import QualityRecord, filter_index, state_constraint

from .enums import Category, Level, Method, RiskState, Subject

_SCALE = [MinValueValidator(1), MaxValueValidator(5)]


def level_of(score: int | None, method: str) -> str:
    """Low, medium or high: an FMEA's RPN (1 to 125) below 20, to 59, from 60; a matrix's
    severity × likelihood (1 to 25) below 6, to 14, from 15."""
    if score is None:
        return ""
    low, high = (20, 60) if method == Method.FMEA else (6, 15)
    return Level.LOW if score < low else Level.MEDIUM if score < high else Level.HIGH


class RiskAssessment(QualityRecord):
    """Its owner is the assessor; the approver, named, accepts the remaining risk."""

    STATES = RiskState

    subject = models.CharField("assessed", max_length=8, choices=Subject.choices)
    system = models.ForeignKey("systems.System", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="risk_assessments",
                               verbose_name="system")
    process = models.CharField("process or change", max_length=200, blank=True)
    method = models.CharField(max_length=8, choices=Method.choices, default=Method.FMEA)
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+",
                                 verbose_name="approver (accepts the risk)")
    acceptance_rationale = models.TextField(
        "why the remaining risk is acceptable", max_length=4000, blank=True)
    acceptance_expires = models.DateField(
        "acceptance expires", null=True, blank=True,
        help_text="The assessment returns to review on this date.")
    accepted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Derived from the current risks: the highest level before and after controls.
    highest = models.CharField("highest risk", max_length=6, choices=Level.choices,
                               blank=True, editable=False)
    highest_residual = models.CharField("highest residual risk", max_length=6,
                                        choices=Level.choices, blank=True, editable=False)

    class Meta(QualityRecord.Meta):
        ordering = ["-created_at", "-id"]
        indexes = [*QualityRecord.Meta.indexes,
                   filter_index("subject", "risk_subject"),
                   filter_index("highest_residual", "risk_residual"),
                   filter_index("system", "risk_system")]
        constraints = [state_constraint(RiskState, "risk_assessment_state_valid")]

    def clean(self) -> None:
        if self.subject == Subject.SYSTEM and self.system_id is None:
            raise ValidationError({"system": ["Name the system assessed."]})
        if self.subject != Subject.SYSTEM and not self.process.strip():
            raise ValidationError({"process": ["Name the process or change assessed."]})
        if self.approver_id is not None and self.approver_id in (self.owner_id,
                                                                  self.originator_id):
            raise ValidationError({"approver": [
                "The assessor does not accept their own risks: name another approver."]})


class Risk(RecordRow):
    """One risk: what may go wrong (for a cyber risk the threat, the vulnerability and the
    asset), why and with what effect, scored 1 to 5 before and after the controls."""

    record = models.ForeignKey(RiskAssessment, on_delete=models.PROTECT, related_name="risks")
    category = models.CharField(max_length=16, choices=Category.choices)
    hazard = models.CharField("failure mode or threat", max_length=300)
    cause = models.CharField("cause or vulnerability", max_length=300)
    asset = models.CharField("asset (cyber risks)", max_length=200, blank=True)
    effect = models.CharField(max_length=300)
    severity = models.PositiveSmallIntegerField(validators=_SCALE)
    occurrence = models.PositiveSmallIntegerField("occurrence or likelihood",
                                                  validators=_SCALE)
    detectability = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=_SCALE, help_text="FMEA only: 5 = hard to detect.")
    controls = models.CharField("existing controls", max_length=500, blank=True)
    actions = models.CharField("actions", max_length=500, blank=True)
    residual_severity = models.PositiveSmallIntegerField(validators=_SCALE)
    residual_occurrence = models.PositiveSmallIntegerField("residual occurrence",
                                                           validators=_SCALE)
    residual_detectability = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=_SCALE)

    class Meta(RecordRow.Meta):
        verbose_name = "risk"
        constraints = [models.CheckConstraint(
            condition=models.Q(severity__gte=1, severity__lte=5, occurrence__gte=1,
                               occurrence__lte=5, residual_severity__gte=1,
                               residual_severity__lte=5, residual_occurrence__gte=1,
                               residual_occurrence__lte=5),
            name="risk_scores_1_5")]

    @property
    def fmea(self) -> bool:
        return bool(self.record.method == "fmea")

    def score(self) -> int:
        s, o = self.severity, self.occurrence
        return s * o * (self.detectability or 1) if self.fmea else s * o

    def residual_score(self) -> int:
        s, o = self.residual_severity, self.residual_occurrence
        return s * o * (self.residual_detectability or 1) if self.fmea else s * o

    @property
    def level(self) -> str:
        return level_of(self.score(), self.record.method)

    @property
    def residual_level(self) -> str:
        return level_of(self.residual_score(), self.record.method)

    def clean(self) -> None:
        record = self.record
        if record.method == Method.FMEA:
            for name in ("detectability", "residual_detectability"):
                if getattr(self, name) is None:
                    raise ValidationError({name: ["An FMEA scores detectability (1 to 5)."]})
        if self.category == Category.CYBER and not self.asset.strip():
            raise ValidationError({"asset": ["A cyber risk names the asset at risk."]})
        if self.residual_severity and self.severity and (
                self.residual_severity > self.severity):
            raise ValidationError({"residual_severity": [
                "Controls do not make the harm worse: the residual severity is at most "
                f"{self.severity}."]})
