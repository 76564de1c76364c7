"""An attack drill (CYB-09): a labelled attack scenario injected into the live monitoring
pipeline, or ransomware played on a restored copy of the database, and what the people
and the pipeline did about it: detected or not and by which rule, in how long, who
acknowledged, whether an incident, a deviation and a CAPA were opened and when. The
scorecard is read live while the drill runs and kept when it is scored."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from cyberqms.platform.kit.records import QualityRecord, filter_index, state_constraint

from .enums import DrillKind, DrillState
from .scenarios import scenario_choices


class Drill(QualityRecord):
    STATES = DrillState

    kind = models.CharField("drill", max_length=12, choices=DrillKind.choices,
                            default=DrillKind.ATTACK)
    scenario = models.CharField(
        max_length=80, choices=scenario_choices,
        help_text="The attack scenario played (the drill catalogue).")
    announced = models.BooleanField(
        default=True, help_text="Responders are told before it runs. An unannounced "
                                "drill's alerts show no drill mark until it is scored.")
    planned_for = models.DateTimeField(
        "runs at", null=True, blank=True,
        help_text="When cyberqms runs it by itself; empty: run by hand.")
    lessons = models.TextField(
        "lessons learned", max_length=6000, blank=True,
        help_text="What went well, what did not, and the CAPA or change that follows.")
    # Set when it runs: when the scenario's events were injected, how many, and (kept when
    # scored) the scorecard; a ransomware drill's measurements on the copy.
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    events = models.PositiveIntegerField(default=0, editable=False)
    scorecard = models.JSONField(default=dict, blank=True, editable=False)

    class Meta(QualityRecord.Meta):
        indexes = [*QualityRecord.Meta.indexes, filter_index("kind", "drill_kind"),
                   models.Index(fields=["state", "planned_for"], name="drill_runs_at")]
        constraints = [state_constraint(DrillState, "drill_state_valid")]

    def clean(self) -> None:
        from .scenarios import scenario_of

        found = scenario_of(self.scenario) if self.scenario else None
        if found is not None and found.kind != self.kind:
            raise ValidationError({"scenario": [
                f"{found.title} is a {DrillKind(found.kind).label.lower()} drill."]})

    def document_sections(self) -> list[Any]:
        """The scorecard of the PDF and JSON copies (kit.record_export)."""
        from .scoring import scorecard_sections

        return scorecard_sections(self)
