"""Event sources, the raw events they send (accepted or quarantined), and alerts.

Every raw event is kept with its SHA-256 and receive time, whether it parsed or not
(A11-10: nothing is dropped silently). Alerts group the matches of one rule on one key
(user, address …) while they are open, and move through a declared, audited lifecycle.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from cyberqms.platform.accounts.enums import IntegrationKind

from .enums import AlertState, EventFormat, EventTiming, RawStatus


class EventSource(models.Model):
    """A registered sender of security events (P11-12): a plant system, a firewall, a
    directory, or cyberqms itself. HTTP senders authenticate with their integration's API
    token; syslog senders are recognised by address."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=12, choices=IntegrationKind.choices)
    site = models.ForeignKey("accounts.Site", null=True, blank=True, on_delete=models.PROTECT)
    system = models.CharField(max_length=200)
    # The system of the inventory it reports on (A11-05): its alerts and incidents land there.
    gxp_system = models.ForeignKey(
        "systems.System", null=True, blank=True, on_delete=models.PROTECT,
        related_name="event_sources", verbose_name="computerized system")
    format = models.CharField(max_length=10, choices=EventFormat.choices)
    integration = models.OneToOneField(
        "accounts.Integration", null=True, blank=True, on_delete=models.PROTECT,
        related_name="event_source",
    )
    addresses = models.JSONField(
        default=list, blank=True, help_text="Syslog sender addresses or CIDR ranges."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RawEvent(models.Model):
    """One received message, as received, with what became of it."""

    source = models.ForeignKey(EventSource, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField()
    channel = models.CharField(max_length=10)  # http, syslog-udp, syslog-tcp, file, qms
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    payload = models.BinaryField()
    status = models.CharField(max_length=12, choices=RawStatus.choices)
    reason = models.CharField(max_length=40, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    # The normalized (OCSF) event and a few columns to search it by.
    event = models.JSONField(null=True, blank=True)
    event_time = models.DateTimeField(null=True, blank=True)
    class_uid = models.PositiveIntegerField(null=True, blank=True)
    actor = models.CharField(max_length=150, blank=True)
    src_ip = models.CharField(max_length=45, blank=True)
    # Whether detection used the claimed event time: late and ahead events were processed
    # on `received_at` (docs/monitoring.md, "Event time").
    timing = models.CharField(max_length=8, blank=True, default="", choices=EventTiming.choices)
    # Held beyond its source's retention because an alert names it (`retention.py`): set
    # when the retention run reaches the row. On PostgreSQL the table is partitioned by it,
    # then the others by month (`partitions.py`), so that expired months are dropped whole.
    kept = models.BooleanField(default=False, db_default=False)

    class Meta:
        ordering = ["-received_at", "-id"]
        # Every row pays for each index at ingest: one on time (lists in their order,
        # periods, metrics) and one on the quarantine alone (a small fraction of the rows).
        indexes = [
            models.Index(fields=["-received_at", "-id"], name="rawevent_time"),
            models.Index(fields=["received_at"], name="rawevent_quarantined",
                         condition=models.Q(status="quarantined")),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.received_at:%Y-%m-%d %H:%M:%S} {self.status}"


class DetectionBacklog(models.Model):
    """A stored batch of accepted events that detection has not seen yet.

    Where several processes and nodes receive events (web workers, syslog listeners), they
    keep and parse what they receive and leave detection to the one detector (the scheduler
    that holds the lease), so that the correlation windows and behaviour baselines are one
    for the installation (``detector``). The row is written with the batch and deleted with
    the alerts detection raised from it, in one transaction each."""

    created_at = models.DateTimeField()
    # The batch's accepted rows as runs of consecutive ids: [[first, last], ...].
    runs = models.JSONField()
    events = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.events} events received {self.created_at.isoformat()}"


class EventRollup(models.Model):
    """The events a source sent in one UTC minute, counted by ingest in the batch's
    transaction (`rollups.record`): what the metrics read instead of the raw events, so
    their figures survive the raw rows' retention. Quarantined events are counted per
    reason (one row each); `reason` is empty on the row of the accepted ones."""

    # The key, minute first: its one index serves the upsert and the metrics' period scans.
    pk = models.CompositePrimaryKey("minute", "source", "reason")
    minute = models.DateTimeField()  # received in [minute, minute + 1 min), UTC
    # No index of its own: every upsert would pay for it, and nothing reads by source alone.
    source = models.ForeignKey(EventSource, on_delete=models.PROTECT, related_name="+",
                               db_index=False)
    reason = models.CharField(max_length=40, blank=True)
    accepted = models.PositiveIntegerField(default=0)
    quarantined = models.PositiveIntegerField(default=0)
    # Accepted events whose claimed time detection did not use as it was (RawEvent.timing).
    delayed = models.PositiveIntegerField(default=0)
    late = models.PositiveIntegerField(default=0)
    ahead = models.PositiveIntegerField(default=0)

    class Meta:
        # The few rows the metrics list apart (quarantine reasons, timing per source), so
        # those figures do not read every row of the period; the other rows pay nothing.
        indexes = [
            models.Index(fields=["minute"], name="eventrollup_quarantined",
                         condition=models.Q(quarantined__gt=0)),
            models.Index(fields=["minute"], name="eventrollup_timing",
                         condition=models.Q(delayed__gt=0) | models.Q(late__gt=0)
                         | models.Q(ahead__gt=0)),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} {self.minute:%Y-%m-%d %H:%M} {self.reason}"


class SourceTotals(models.Model):
    """Everything a source has sent, kept by the same upkeep as `EventRollup`: the sources
    page reads one row per source."""

    source = models.OneToOneField(EventSource, primary_key=True, on_delete=models.CASCADE,
                                  related_name="totals")
    accepted = models.PositiveBigIntegerField(default=0)
    quarantined = models.PositiveBigIntegerField(default=0)
    delayed = models.PositiveBigIntegerField(default=0)
    late = models.PositiveBigIntegerField(default=0)
    ahead = models.PositiveBigIntegerField(default=0)
    last_received_at = models.DateTimeField()
    # The source's events received before this were removed by the retention policy
    # (`retention.py`), except the evidence of alerts; null while none was.
    expired_before = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.source_id}: {self.accepted} accepted, {self.quarantined} quarantined"


class Alert(models.Model):
    """The matches of one detection rule on one key while the alert is open (A11D-04)."""

    number = models.CharField(max_length=32, unique=True)
    rule_id = models.CharField(max_length=64)
    title = models.CharField(max_length=300)
    level = models.CharField(max_length=15)
    techniques = models.JSONField(default=list, blank=True)
    requirements = models.JSONField(default=list, blank=True)
    group_key = models.CharField(max_length=300, blank=True)
    site = models.ForeignKey("accounts.Site", null=True, blank=True, on_delete=models.PROTECT)
    source = models.ForeignKey(EventSource, null=True, blank=True, on_delete=models.PROTECT)
    state = models.CharField(max_length=15, choices=AlertState.choices, default=AlertState.NEW)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    count = models.PositiveIntegerField(default=1)
    summary = models.CharField(max_length=500, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    resolution = models.TextField(max_length=2000, blank=True)
    # Why it fired beyond the rule: correlation window, anomaly features (top contributors).
    context = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()  # when it was detected (time to detect ends here)
    acknowledged_at = models.DateTimeField(null=True, blank=True)  # first human response
    closed_at = models.DateTimeField(null=True, blank=True)  # resolved or false positive
    updated_at = models.DateTimeField(auto_now=True)
    events = models.ManyToManyField(RawEvent, related_name="alerts", blank=True)
    # The drill whose injected events raised it (marker.py); empty for a real alert.
    drill = models.CharField(max_length=32, blank=True, default="", db_default="")
    # Whether its page shows that it is a drill's (an unannounced one's: once scored).
    drill_disclosed = models.BooleanField(default=True, db_default=True)

    class Meta:
        ordering = ["-last_seen", "-id"]
        indexes = [
            models.Index(fields=["rule_id", "group_key", "state"], name="alert_dedupe"),
            models.Index(fields=["state", "last_seen"], name="alert_state_seen"),
            # The list's order, alone (any state) and with its level filter.
            models.Index(fields=["-last_seen", "-id"], name="alert_seen"),
            models.Index(fields=["level", "-last_seen", "-id"], name="alert_level_seen"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"
