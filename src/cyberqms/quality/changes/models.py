"""Change control records (CYB-06) and their implementation tasks."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from cyberqms.platform.core.models import KeptForever
from cyberqms.platform.kit.records import QualityRecord, filter_index, state_constraint

from .enums import ChangeState, ChangeType, PirOutcome, RiskLevel, TaskState, risk_level_of

_RATING = [MinValueValidator(1), MaxValueValidator(5)]

# The four yes/no questions of the cybersecurity impact assessment; any "yes" flags the
# change as cyber-relevant, which then needs IT security's signed approval (CYB-06).
CYBER_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("new_interfaces", "New or changed interfaces to other systems"),
    ("new_accounts", "New user, service or vendor accounts"),
    ("network_exposure", "Changed network exposure (ports, remote access, zones)"),
    ("data_flow_change", "Changed GxP data flows (new stores, transfers, formats)"),
)


class Change(QualityRecord):
    STATES = ChangeState

    change_type = models.CharField("type of change", max_length=30, choices=ChangeType.choices)
    justification = models.TextField(max_length=5000, blank=True)
    scope = models.TextField(
        max_length=5000, blank=True, help_text="Affected products, equipment, systems, sites."
    )
    # impact assessment
    product_quality_impact = models.TextField("product quality impact", max_length=5000,
                                              blank=True)
    validation_impact = models.TextField(max_length=5000, blank=True)
    revalidation_required = models.BooleanField(default=False)
    regulatory_impact = models.TextField(max_length=5000, blank=True)
    regulatory_filing_required = models.BooleanField(default=False)
    cyber_impact = models.BooleanField(
        default=False, help_text="Derived: yes when any cybersecurity question is yes."
    )
    new_interfaces = models.BooleanField(CYBER_QUESTIONS[0][1], default=False)
    new_accounts = models.BooleanField(CYBER_QUESTIONS[1][1], default=False)
    network_exposure = models.BooleanField(CYBER_QUESTIONS[2][1], default=False)
    data_flow_change = models.BooleanField(CYBER_QUESTIONS[3][1], default=False)
    cyber_assessment = models.TextField("cybersecurity assessment", max_length=5000,
                                        blank=True)
    # risk (FMEA-style ratings, 1..5 each)
    severity = models.PositiveSmallIntegerField(null=True, blank=True, validators=_RATING)
    probability = models.PositiveSmallIntegerField(null=True, blank=True, validators=_RATING)
    detectability = models.PositiveSmallIntegerField(null=True, blank=True, validators=_RATING)
    risk_score = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Derived: severity × probability × detectability."
    )
    risk_level = models.CharField(max_length=10, choices=RiskLevel.choices, blank=True)
    planned_implementation_date = models.DateField(null=True, blank=True)
    post_implementation_review = models.TextField(max_length=5000, blank=True)
    pir_outcome = models.CharField("review outcome", max_length=20, choices=PirOutcome.choices,
                                   blank=True)

    def document_sections(self) -> list[Any]:
        """The tasks table of the PDF and JSON copies (kit.record_export)."""
        from cyberqms.platform.kit.record_export import Section

        rows = [
            [t.description, t.owner.printed_name,
             t.due_date.isoformat() if t.due_date else "", t.get_state_display(),
             t.completed_at.strftime("%Y-%m-%d") if t.completed_at else "", t.note]
            for t in self.tasks.select_related("owner").order_by("pk")
        ]
        return [Section("Implementation tasks",
                        ["Task", "Owner", "Due", "State", "Done", "Note"], rows)]

    class Meta(QualityRecord.Meta):
        ordering = ["-created_at", "-id"]
        constraints = [
            state_constraint(ChangeState, "change_state_valid"),
            models.CheckConstraint(
                condition=(
                    models.Q(severity__isnull=True)
                    | models.Q(severity__gte=1, severity__lte=5)
                ),
                name="change_severity_1_5",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(probability__isnull=True)
                    | models.Q(probability__gte=1, probability__lte=5)
                ),
                name="change_probability_1_5",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(detectability__isnull=True)
                    | models.Q(detectability__gte=1, detectability__lte=5)
                ),
                name="change_detectability_1_5",
            ),
        ]
        indexes = [*QualityRecord.Meta.indexes,
                   filter_index("change_type", "change_type"),
                   filter_index("risk_level", "change_risk"),
                   filter_index("cyber_impact", "change_cyber")]

    def clean(self) -> None:
        """The derived fields follow the answers; the change is due no earlier than it is
        planned to be implemented."""
        self.derive()
        planned, due = self.planned_implementation_date, self.due_date
        if planned and due and due < planned:
            raise ValidationError({"due_date": [
                "The due date cannot be before the planned implementation date "
                f"({planned.isoformat()})."]})

    def derive(self) -> None:
        """Set the derived fields (cyber flag, RPN, risk level) from the answers."""
        self.cyber_impact = any(getattr(self, name) for name, _label in CYBER_QUESTIONS)
        ratings = (self.severity, self.probability, self.detectability)
        if all(isinstance(r, int) and 1 <= r <= 5 for r in ratings):
            s, p, d = (int(r) for r in ratings if r is not None)
            self.risk_score = s * p * d
        else:  # unscored, or a rating that field validation refuses
            self.risk_score = None
        self.risk_level = risk_level_of(self.risk_score)

    def cyber_answers(self) -> list[tuple[str, str, bool]]:
        return [(name, label, bool(getattr(self, name))) for name, label in CYBER_QUESTIONS]


class ChangeTask(KeptForever):
    change = models.ForeignKey(Change, on_delete=models.PROTECT, related_name="tasks")
    description = models.TextField(max_length=2000)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    due_date = models.DateField(null=True, blank=True)
    state = models.CharField(max_length=20, choices=TaskState.choices, default=TaskState.OPEN)
    completed_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(max_length=2000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Task {self.pk} of {self.change.number}"

    @property
    def label(self) -> str:
        return f"Task {self.pk} of {self.change.number}: {self.description[:60]}"
