"""An access-governance finding: drift between the access people hold and how the
organization works (CYB-07). cyberqms raises most of them itself (`drift.py`) with the
evidence behind them; a person may report one too. A finding is resolved when what it
found is gone (cyberqms closes it by itself then), or accepted with a reason and an
e-signature."""

from __future__ import annotations

from django.db import models

from cyberqms.platform.kit.records import QualityRecord, filter_index, state_constraint

from .enums import FindingKind, FindingSeverity, FindingState


class AccessFinding(QualityRecord):
    STATES = FindingState

    kind = models.CharField("finding", max_length=20, choices=FindingKind.choices,
                            default=FindingKind.REPORTED)
    severity = models.CharField(max_length=10, choices=FindingSeverity.choices,
                                default=FindingSeverity.MEDIUM)
    subject = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT,
        related_name="access_findings", verbose_name="person",
        help_text="The person whose access it is about.")
    assignment = models.ForeignKey(
        "accounts.RoleAssignment", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", verbose_name="role", editable=False)
    token = models.ForeignKey("accounts.ApiToken", null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+",
                              verbose_name="API token", editable=False)
    # What makes the same finding the same when it is found again: one open finding each.
    fingerprint = models.CharField(max_length=200, blank=True, editable=False)
    # The data behind the finding when it was raised, as cyberqms saw it.
    evidence = models.JSONField(default=dict, blank=True, editable=False)
    # When a scan last found it (not audited: a scan is not a change of the finding).
    last_seen_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution = models.TextField(max_length=4000, blank=True,
                                  help_text="What was done, or why the access stays.")

    class Meta(QualityRecord.Meta):
        indexes = [*QualityRecord.Meta.indexes,
                   filter_index("kind", "finding_kind"),
                   filter_index("severity", "finding_severity"),
                   models.Index(fields=["fingerprint", "state"], name="finding_fingerprint")]
        constraints = [state_constraint(FindingState, "accessfinding_state_valid")]

    def document_sections(self) -> list[object]:
        """The evidence tables of the PDF and JSON copies (kit.record_export)."""
        from .family import evidence_sections

        return evidence_sections(self)
