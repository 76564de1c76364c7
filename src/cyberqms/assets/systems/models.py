"""The inventory of computerized systems (A11-05): what each does for GxP, who answers for
it, its validation state, continuity targets, interfaces, validation deliverables and the
security posture entered for it."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from cyberqms.platform.kit.record_rows import RecordRow
from cyberqms.platform.kit.records import QualityRecord, filter_index, state_constraint

from .enums import (
    Criticality,
    DeliverableKind,
    Direction,
    GampCategory,
    Hosting,
    PostureItem,
    SystemState,
)

# The four people a validated system names (A11-02): field → words.
PEOPLE: tuple[tuple[str, str], ...] = (
    ("owner", "system owner"),
    ("process_owner", "process owner"),
    ("qa_contact", "QA contact"),
    ("security_contact", "IT-security contact"),
)


class System(QualityRecord):
    """A computerized system. Its owner is the system owner; its due date is the next
    periodic evaluation (A11-18), set when it is validated and by each evaluation."""

    STATES = SystemState

    gxp_functions = models.TextField("GxP functions", max_length=4000, blank=True)
    records_held = models.TextField("GxP records held", max_length=4000, blank=True)
    gamp_category = models.CharField("GAMP 5 category", max_length=1,
                                     choices=GampCategory.choices)
    criticality = models.CharField(
        max_length=6, choices=Criticality.choices,
        help_text="High: direct impact on product quality, patient safety or GxP data; "
                  "medium: indirect; low: none beyond record keeping.")
    data_integrity_relevant = models.BooleanField(
        "data-integrity relevant", default=True,
        help_text="Creates, changes or holds GxP records or data.")
    hosting = models.CharField(max_length=12, choices=Hosting.choices)
    version = models.CharField("version in production", max_length=60, blank=True)
    supplier = models.ForeignKey("suppliers.Supplier", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="systems")
    process_owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+")
    qa_contact = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+",
                                   verbose_name="QA contact")
    security_contact = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                         on_delete=models.PROTECT, related_name="+",
                                         verbose_name="IT-security contact")
    rto_hours = models.PositiveIntegerField(
        "recovery time objective (hours)", null=True, blank=True,
        help_text="How long the process can be without the system.")
    rpo_hours = models.PositiveIntegerField(
        "recovery point objective (hours)", null=True, blank=True,
        help_text="How much data, in hours, may be lost.")
    continuity_plan = models.TextField(
        "continuity plan", max_length=2000, blank=True,
        help_text="The plan's document number and the manual fallback.")
    validated_version = models.CharField(max_length=60, blank=True, editable=False)
    validated_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_evaluated_on = models.DateField("last periodic evaluation", null=True, blank=True,
                                         editable=False)

    class Meta(QualityRecord.Meta):
        ordering = ["title", "id"]
        indexes = [*QualityRecord.Meta.indexes,
                   filter_index("gamp_category", "system_gamp"),
                   filter_index("criticality", "system_criticality"),
                   filter_index("supplier", "system_supplier")]
        constraints = [state_constraint(SystemState, "system_state_valid")]

    def people_missing(self) -> list[tuple[str, str]]:
        """(field, words) of the four people (A11-02) not named."""
        return [(name, words) for name, words in PEOPLE
                if getattr(self, f"{name}_id") is None]


class SystemInterface(RecordRow):
    """Data this system exchanges with another system of the inventory."""

    record = models.ForeignKey(System, on_delete=models.PROTECT, related_name="interfaces")
    direction = models.CharField(max_length=8, choices=Direction.choices)
    other = models.ForeignKey(System, on_delete=models.PROTECT, related_name="+",
                              verbose_name="system")
    data = models.CharField("data and protocol", max_length=300,
                            help_text="What flows, and how (e.g. batch records, OPC UA).")

    class Meta(RecordRow.Meta):
        verbose_name = "interface"

    def clean(self) -> None:
        if self.other_id is not None and self.other_id == self.record_id:
            raise ValidationError({"other": ["A system has no interface to itself."]})


class ValidationDeliverable(RecordRow):
    """A validation deliverable, tied to the system version it covers."""

    record = models.ForeignKey(System, on_delete=models.PROTECT, related_name="deliverables")
    kind = models.CharField("deliverable", max_length=8, choices=DeliverableKind.choices)
    system_version = models.CharField("for version", max_length=60)
    reference = models.CharField(
        max_length=200, help_text="The attached file's name or a controlled document's number.")
    approved_on = models.DateField("approved on")

    class Meta(RecordRow.Meta):
        verbose_name = "deliverable"

    def clean(self) -> None:
        if self.approved_on and self.approved_on > timezone.localdate():
            raise ValidationError({"approved_on": ["A deliverable cannot be approved in the "
                                                   "future."]})


class PostureEntry(RecordRow):
    """A security-posture fact cyberqms cannot compute (A11D-03), with its date and
    evidence; the newest of each item counts, and is due again after a while."""

    record = models.ForeignKey(System, on_delete=models.PROTECT, related_name="posture")
    item = models.CharField(max_length=20, choices=PostureItem.choices)
    value = models.CharField("finding", max_length=300,
                             help_text="Patch level, zone name, or the result in a line.")
    assessed_on = models.DateField("as of")
    evidence = models.CharField(max_length=300,
                                help_text="Report, ticket or attached file that shows it.")

    class Meta(RecordRow.Meta):
        verbose_name = "posture entry"
        verbose_name_plural = "posture entries"

    def clean(self) -> None:
        if self.assessed_on and self.assessed_on > timezone.localdate():
            raise ValidationError({"assessed_on": ["A finding cannot be dated in the future."]})
