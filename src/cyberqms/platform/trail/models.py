"""Tables of the verifiable audit log.

`AuditEntry`, `Checkpoint` and `TreeNode` are append-only: database triggers reject
UPDATE and DELETE (and TRUNCATE on PostgreSQL), see migration 0002. `AuditEntry.body`
holds the exact canonical JSON whose RFC 9162 leaf hash is `leaf_hash`; the other columns
are copies of body fields for filtering, and verification checks that they agree.
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

from django.conf import settings
from django.db import models


class SequenceField(models.BigIntegerField):
    """A 64-bit primary key that SQLite stores as the table's rowid.

    SQLite makes a column named ``INTEGER PRIMARY KEY`` an alias of the rowid, so the
    entries table is one B-tree instead of two (table plus primary-key index): one fewer
    tree to update on every audited write, and ``MAX(seq)`` is a single page read.
    PostgreSQL gets ``bigint``. Values are always given explicitly (no autoincrement).
    """

    def db_type(self, connection: Any) -> str | None:
        if connection.vendor == "sqlite":
            return "integer"
        return super().db_type(connection)


class AuditEntry(models.Model):
    """One audited change. Written only by `cyberqms.platform.trail.record.audit_record`."""

    seq = SequenceField(primary_key=True)
    at = models.DateTimeField()
    actor_id = models.BigIntegerField(null=True, blank=True)
    action = models.CharField(max_length=100)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    state_hash = models.CharField(max_length=64, blank=True)
    correlation_id = models.CharField(max_length=32)
    leaf_hash = models.BinaryField(max_length=32)
    body = models.TextField()
    # key id + HMAC of the leaf hash, made with a key outside the database (trail/mac.py).
    # Nullable only so that adding it did not rebuild the table on SQLite; always written.
    mac = models.BinaryField(max_length=36, null=True)

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "seq"], name="trail_entry_object"),
            models.Index(fields=["actor_id", "seq"], name="trail_entry_actor"),
            models.Index(fields=["at"], name="trail_entry_at"),
            # No index on `action`: searches combine it with a record, actor or date, and
            # each index costs every audited write (benchmarks/trail.py).
        ]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"

    @cached_property
    def data(self) -> dict[str, Any]:
        """The hashed entry, parsed: pages and the API display this, not the columns."""
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed

    @property
    def actor_name(self) -> str:
        return str((self.data.get("actor") or {}).get("name", ""))

    @property
    def object_label(self) -> str:
        return str((self.data.get("object") or {}).get("label", ""))

    @property
    def reason(self) -> str:
        return str(self.data.get("reason") or "")

    @property
    def changes(self) -> dict[str, list[Any]]:
        changes: dict[str, list[Any]] = self.data.get("changes") or {}
        return changes

    @property
    def context(self) -> dict[str, Any]:
        context: dict[str, Any] = self.data.get("context") or {}
        return context

    @property
    def signature_id(self) -> str:
        return str(self.data.get("signature") or "")


class Checkpoint(models.Model):
    """A signed C2SP checkpoint: the tree of the first `size` entries has root `root`."""

    size = models.BigIntegerField(primary_key=True)
    root = models.BinaryField(max_length=32)
    note = models.TextField()
    key_ids = models.CharField(max_length=200)
    signed_at = models.DateTimeField()

    class Meta:
        ordering = ["size"]

    def __str__(self) -> str:
        return f"checkpoint {self.size} {bytes(self.root).hex()[:16]}"


class TreeNode(models.Model):
    """Hash of a perfect Merkle subtree (`2**level` leaves from `index * 2**level`).

    Written while sealing, for levels >= 8, so proofs at 10**6 entries read a few
    hundred leaf hashes and a dozen nodes instead of rehashing the tree.
    """

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["level", "index"], name="trail_node_position"),
        ]

    def __str__(self) -> str:
        return f"node {self.level}/{self.index}"


class LeafBlock(models.Model):
    """The 256 leaf hashes of one complete, sealed block of entries, as one 8 KiB value.

    Written by the sealer; a proof reads one row per block instead of 256 entry rows.
    Proof data only: a proof built from a tampered block fails against the signed root.
    """

    index = models.BigIntegerField(primary_key=True)
    hashes = models.BinaryField()

    def __str__(self) -> str:
        return f"leaf block {self.index}"


class LogHead(models.Model):
    """The one row naming the latest checkpoint; advanced by compare-and-swap on `size`."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    size = models.BigIntegerField(default=0)
    root = models.BinaryField(max_length=32, default=b"")
    nodes = models.JSONField(default=list)
    updated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"log head at {self.size}"


class VerificationResult(models.TextChoices):
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"


class Verification(models.Model):
    """One run of `trail verify` (scheduled, on demand, or from the CLI). Append-only."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    mode = models.CharField(max_length=12)  # "full" or "incremental"
    result = models.CharField(max_length=10, choices=VerificationResult.choices)
    from_seq = models.BigIntegerField()
    to_seq = models.BigIntegerField()
    entries_checked = models.BigIntegerField()
    checkpoints_checked = models.IntegerField()
    records_checked = models.IntegerField()
    checkpoint_size = models.BigIntegerField()
    checkpoint_nodes = models.JSONField(default=list)
    first_problem = models.CharField(max_length=500, blank=True)
    problems = models.JSONField(default=list)
    triggered_by = models.CharField(max_length=150, blank=True)
    channel = models.CharField(max_length=10)
    # The newest checkpoint read outside the database and compared (None: there was none,
    # so a database restored from an older copy could not have been noticed).
    witness_size = models.BigIntegerField(null=True, blank=True)
    witness_source = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"verification {self.pk} {self.result}"

    @property
    def passed(self) -> bool:
        return self.result == VerificationResult.PASSED

    @property
    def duration_ms(self) -> int:
        return int((self.finished_at - self.started_at).total_seconds() * 1000)


class IntegrityFlag(models.Model):
    """A record (or audit entry) found altered outside the application.

    Raised by verification; shown on the record in pages and the API until someone from
    IT security or QA resolves it with a recorded reason (the resolution is audited).
    """

    problem_key = models.CharField(max_length=200)
    kind = models.CharField(max_length=20)  # "entry", "checkpoint", "record"
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    seq = models.BigIntegerField(null=True, blank=True)
    fields = models.JSONField(default=list)
    message = models.CharField(max_length=500)
    verification = models.ForeignKey(Verification, on_delete=models.PROTECT, related_name="flags")
    raised_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    resolution = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["-raised_at"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="trail_flag_object")]
        constraints = [
            models.UniqueConstraint(fields=["problem_key"], name="trail_flag_problem_unique"),
        ]

    def __str__(self) -> str:
        return f"integrity failure {self.problem_key}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class ReviewScope(models.TextChoices):
    RECORD = "record", "One record's trail"
    RANGE = "range", "All entries in a date range"


class ReviewOutcome(models.TextChoices):
    NO_FINDINGS = "no_findings", "Reviewed, no discrepancies"
    DISCREPANCIES = "discrepancies", "Discrepancies found"


class TrailReview(models.Model):
    """A documented review of audit-trail entries by someone who made none of them.

    A11-16, A11D-02, DI-03: covers entries `seq_from..seq_to` of one record or of a
    date range; `entries` counts them at review time.
    """

    scope = models.CharField(max_length=10, choices=ReviewScope.choices)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_label = models.CharField(max_length=200, blank=True)
    date_from = models.DateField(null=True, blank=True)
    date_to = models.DateField(null=True, blank=True)
    seq_from = models.BigIntegerField()
    seq_to = models.BigIntegerField()
    entries = models.IntegerField()
    outcome = models.CharField(max_length=20, choices=ReviewOutcome.choices)
    comment = models.TextField(blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="trail_reviews"
    )
    reviewed_at = models.DateTimeField()
    escalation = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-reviewed_at"]

    def __str__(self) -> str:
        target = f"{self.object_type}:{self.object_id}" if self.scope == "record" else (
            f"{self.date_from}..{self.date_to}"
        )
        return f"trail review {target} by {self.reviewer_id}"
