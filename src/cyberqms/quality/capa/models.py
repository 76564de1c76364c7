"""CAPA records and their corrective and preventive actions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from cyberqms.platform.core.models import KeptForever
from cyberqms.platform.kit.records import QualityRecord, filter_index, state_constraint

from .enums import ActionKind, ActionState, CapaSource, CapaState, EffectivenessResult


class Capa(QualityRecord):
    """A corrective and preventive action record (issue 4)."""

    STATES = CapaState

    source = models.CharField(max_length=30, choices=CapaSource.choices)
    source_reference = models.CharField(
        max_length=100, blank=True,
        help_text="The record or incident this CAPA answers, e.g. DEV-2026-0007.",
    )
    problem_statement = models.TextField(max_length=10000, blank=True)
    root_cause = models.TextField(max_length=10000, blank=True)
    cyber_related = models.BooleanField(default=False)
    effectiveness_criteria = models.TextField(
        max_length=5000, blank=True,
        help_text="What must be true for the actions to count as effective.",
    )
    effectiveness_due = models.DateField(null=True, blank=True)
    effectiveness_result = models.CharField(
        max_length=10, choices=EffectivenessResult.choices, default=EffectivenessResult.PENDING,
    )
    effectiveness_evidence = models.TextField(max_length=10000, blank=True)
    effectiveness_checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", verbose_name="effectiveness checker",
    )
    effectiveness_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta(QualityRecord.Meta):
        ordering = ["-created_at", "-id"]
        verbose_name = "CAPA"
        verbose_name_plural = "CAPAs"
        indexes = [*QualityRecord.Meta.indexes,
                   models.Index(fields=["state", "due_date"], name="capa_state_due"),
                   filter_index("source", "capa_source"),
                   filter_index("cyber_related", "capa_cyber")]
        constraints = [state_constraint(CapaState, "capa_state_valid")]

    @property
    def state_label(self) -> str:
        return CapaState(self.state).label if self.state in CapaState.values else self.state

    def document_sections(self) -> list[Any]:
        """The actions table of the PDF and JSON copies (kit.record_export)."""
        from cyberqms.platform.kit.record_export import Section

        rows = [
            [a.get_kind_display(), a.description, a.owner.printed_name,
             a.due_date.isoformat(), a.get_state_display(),
             a.completed_at.strftime("%Y-%m-%d") if a.completed_at else "",
             a.evidence or a.cancel_reason]
            for a in self.actions.select_related("owner").order_by("pk")
        ]
        return [Section("Corrective and preventive actions",
                        ["Kind", "Action", "Owner", "Due", "State", "Done", "Evidence / reason"],
                        rows)]

    def is_overdue(self, today: dt.date | None = None) -> bool:
        """The CAPA or one of its open actions is past due (list rows carry the
        `has_late_action` annotation; otherwise one query)."""
        if super().is_overdue(today):
            return True
        if self.is_deleted or self.state in (CapaState.CLOSED, CapaState.CANCELLED):
            return False
        late = getattr(self, "has_late_action", None)
        if late is None:
            late = self.actions.filter(state=ActionState.OPEN,
                                       due_date__lt=today or timezone.localdate()).exists()
        return bool(late)

    def get_state_display(self) -> str:
        """The state's label (the shared record header asks for it by this name)."""
        return self.state_label


class CapaAction(KeptForever):
    """One corrective or preventive action of a CAPA, with its owner and due date."""

    capa = models.ForeignKey(Capa, on_delete=models.PROTECT, related_name="actions")
    kind = models.CharField(max_length=12, choices=ActionKind.choices)
    description = models.TextField(max_length=5000)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name="action owner",
    )
    due_date = models.DateField()
    state = models.CharField(max_length=10, choices=ActionState.choices, default=ActionState.OPEN)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    completion_note = models.TextField(max_length=5000, blank=True)
    document_number = models.CharField(
        "document to revise", max_length=24, blank=True,
        help_text="A controlled document (SOP-QA-0007) this action revises: it is done only "
                  "once a new version of it is in force.")
    evidence = models.TextField(max_length=10000, blank=True)
    cancel_reason = models.TextField(max_length=2000, blank=True)

    class Meta:
        ordering = ["capa_id", "id"]
        indexes = [models.Index(fields=["state", "due_date"], name="capa_action_state_due")]

    def __str__(self) -> str:
        return f"{self.capa.number} {self.get_kind_display()} action #{self.pk}"

    @property
    def label(self) -> str:
        return f"{self.get_kind_display()} action of {self.capa.number}: {self.description}"[:200]

    def is_overdue(self, today: dt.date | None = None) -> bool:
        """Open past its due date, on a CAPA still in progress (not closed or cancelled)."""
        if self.state != ActionState.OPEN or self.capa.is_deleted:
            return False
        if self.capa.state in (CapaState.CLOSED, CapaState.CANCELLED):
            return False
        return self.due_date < (today or timezone.localdate())
