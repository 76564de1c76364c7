"""Security incidents: the quality record a security alert with GxP impact becomes (CYB-05).

An incident carries the data-integrity impact assessment (affected systems, records,
batches, time window) that decides whether it opens a deviation; its lineage then runs
alert → incident → deviation → CAPA → change.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from cyberqms.platform.kit.records import QualityRecord, filter_index, state_constraint

from .enums import IncidentState


class Incident(QualityRecord):
    STATES = IncidentState

    alerts = models.ManyToManyField("monitoring.Alert", related_name="incidents", blank=True)
    # The system of the inventory it lands on (its alert's source's system): the impact
    # assessment starts from its validation state, GAMP category and owner.
    system = models.ForeignKey("systems.System", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="incidents",
                               verbose_name="GxP system")
    affected_systems = models.TextField(max_length=2000, blank=True)
    affected_records = models.TextField(
        max_length=4000, blank=True, help_text="GxP records possibly touched (numbers, types)."
    )
    affected_batches = models.TextField(max_length=2000, blank=True)
    involved_accounts = models.TextField(
        max_length=2000, blank=True,
        help_text="Accounts and source addresses seen in the events behind the incident.",
    )
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    gxp_impact = models.BooleanField(default=False)
    data_integrity_impact = models.BooleanField(default=False)
    impact_assessment = models.TextField(max_length=10000, blank=True)
    containment = models.TextField(max_length=5000, blank=True)
    # Opened by the system because the alert's level reached CYBERQMS_AUTO_ESCALATE_LEVEL;
    # the originator is then the IT security officer it was assigned to, not its author.
    auto_escalated = models.BooleanField(default=False)

    class Meta(QualityRecord.Meta):
        indexes = [*QualityRecord.Meta.indexes,
                   models.Index(fields=["state", "due_date"], name="incident_state_due"),
                   filter_index("gxp_impact", "incident_gxp"),
                   filter_index("data_integrity_impact", "incident_integrity"),
                   filter_index("auto_escalated", "incident_auto")]
        constraints = [state_constraint(IncidentState, "incident_state_valid")]

    def clean(self) -> None:
        """The time window does not end before it starts."""
        if self.window_start and self.window_end and self.window_end < self.window_start:
            raise ValidationError({"window_end": ["The window ends before it starts."]})
