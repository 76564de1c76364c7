"""A restore test (A11-13, A11-24): a backup of a computerized system restored and checked,
how long the restore took against the system's recovery time objective, and IT's signed
review. cyberqms records its own restore tests (`cyberqms backup verify`) with each step's
evidence; those of other systems (a LIMS, a SCADA) are recorded by the people who ran
them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from cyberqms.platform.kit.records import QualityRecord, filter_index, state_constraint

from .enums import Outcome, RestoreTestState

MAX_TIME_TO_RESTORE = dt.timedelta(days=90)


class RestoreTest(QualityRecord):
    STATES = RestoreTestState

    system = models.ForeignKey(
        "systems.System", null=True, blank=True, on_delete=models.PROTECT,
        related_name="restore_tests", verbose_name="system",
        help_text="The computerized system whose backup was restored.")
    backup_name = models.CharField(
        "backup", max_length=200, blank=True,
        help_text="The backup restored: its file, set or job, and when it was taken.")
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", verbose_name="performed by",
        help_text="Who restored it (empty: cyberqms restored its own backup by itself).")
    outcome = models.CharField("result", max_length=10, choices=Outcome.choices, blank=True)
    time_to_restore = models.DurationField(
        null=True, blank=True,
        help_text="From the start of the restore until the system could be used again.")
    follow_up = models.TextField(
        "follow-up", max_length=4000, blank=True,
        help_text="What follows a failed test or a missed RTO: the deviation, CAPA or "
                  "change, with its number.")
    # cyberqms's own restore tests: the backup file and each step's result, as measured.
    backup = models.ForeignKey("backups.Backup", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="restore_tests",
                               editable=False)
    evidence = models.JSONField(default=dict, blank=True, editable=False)

    class Meta(QualityRecord.Meta):
        indexes = [*QualityRecord.Meta.indexes, filter_index("outcome", "restoretest_outcome")]
        constraints = [state_constraint(RestoreTestState, "restoretest_state_valid")]

    def clean(self) -> None:
        took = self.time_to_restore
        if not isinstance(took, dt.timedelta):
            return  # none, or not a duration: its field says so
        if took < dt.timedelta(0):
            raise ValidationError({"time_to_restore": ["A time to restore is not negative."]})
        if took > MAX_TIME_TO_RESTORE:
            raise ValidationError({"time_to_restore": [
                f"At most {MAX_TIME_TO_RESTORE.days} days: a longer outage is a failed "
                "restore."]})

    @property
    def rto(self) -> dt.timedelta | None:
        """The system's recovery time objective (Annex 11 §16), when it states one."""
        system = self.system if self.system_id else None
        if system is None or system.rto_hours is None:
            return None
        return dt.timedelta(hours=system.rto_hours)

    @property
    def rto_met(self) -> bool | None:
        rto = self.rto
        if rto is None or self.time_to_restore is None:
            return None
        return self.time_to_restore <= rto

    def document_sections(self) -> list[Any]:
        """The steps of the PDF and JSON copies (kit.record_export)."""
        from .evidence import evidence_sections

        return evidence_sections(self)
