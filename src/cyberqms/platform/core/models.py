"""Records the access gate and the security-event emitter write.

Both tables are append-only by convention and feed monitoring: access decisions for
drift detection and zero-trust reporting (CYB-01), security events for detection (CYB-03).
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models


class DeletionRefused(Exception):
    """A GxP record, signature or record part was to be deleted: they are never deleted
    (21 CFR 11.10(c), 11.10(e); Annex 11 §7.1). Records are withdrawn logically, with a
    reason, and stay readable with their history."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} is kept: GxP records, signatures and record parts are never "
                         "deleted; withdraw it logically, with a reason.")


class KeptQuerySet(models.QuerySet[Any]):
    def delete(self) -> NoReturn:
        raise DeletionRefused(f"{self.model._meta.verbose_name_plural}")


class KeptForever(models.Model):
    """A row that is never deleted: `delete()` on the row and on its querysets refuse, and
    the database refuses DELETE on its table (`core.guards`, installed after every migrate
    for every model that inherits this)."""

    objects = KeptQuerySet.as_manager()

    class Meta:
        abstract = True

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise DeletionRefused(f"{self._meta.verbose_name} {self.pk}")


class Severity(models.TextChoices):
    INFO = "info", "Info"
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class AccessDecision(models.Model):
    """One decision of the policy decision point: who asked to do what, and the answer."""

    created_at = models.DateTimeField()
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=100)
    resource_type = models.CharField(max_length=100, blank=True)
    resource_id = models.CharField(max_length=64, blank=True)
    # The site of the resource decided on (None: no site, or every site): a right is an
    # action at a site, and access governance counts its use by both (security.access).
    site_id = models.BigIntegerField(null=True, blank=True)
    allowed = models.BooleanField()
    reason = models.CharField(max_length=200)
    channel = models.CharField(max_length=10)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    session_ref = models.CharField(max_length=16, blank=True)
    token_id = models.BigIntegerField(null=True, blank=True)
    correlation_id = models.CharField(max_length=32, blank=True)

    class Meta:
        indexes = [
            # The list's order, for its pages (keyset) and for pruning by age.
            models.Index(fields=["-created_at", "-id"], name="decision_time"),
            models.Index(fields=["actor_id", "created_at"], name="decision_actor_time"),
            models.Index(fields=["allowed", "created_at"], name="decision_allowed_time"),
        ]
        # By the moment of the decision: allowed reads are written in batches (decisions.py),
        # so a row's id can be later than that of a decision taken after it.
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        verdict = "allow" if self.allowed else "deny"
        return f"{verdict} {self.actor_username or 'anonymous'} {self.action}"


class SecurityEvent(models.Model):
    """A security-relevant event raised by cyberqms itself (login failure, lockout, ...)."""

    created_at = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=80, db_index=True)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    actor_id = models.BigIntegerField(null=True, blank=True)
    username = models.CharField(max_length=150, blank=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    channel = models.CharField(max_length=10, blank=True)
    message = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        # The list's severity filter (this level and above), with the list's order.
        indexes = [models.Index(fields=["severity", "-id"], name="security_event_severity")]

    def __str__(self) -> str:
        return f"{self.kind} ({self.severity}): {self.message}"

    @property
    def kind_label(self) -> str:
        """The kind in words, for pages ("Failed sign-in")."""
        from .event_kinds import event_label

        return event_label(self.kind)


class SignatureCommitment(KeptForever):
    """A user's acknowledgement of the signature-accountability statement (P11-14).

    21 CFR 11.100(c): before a first electronic signature the signer certifies that it is
    the legally binding equivalent of their handwritten signature. The exact statement
    text is kept by its hash and version, so a later rewording needs a new acknowledgement.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signature_commitments"
    )
    version = models.PositiveSmallIntegerField()
    statement_sha256 = models.CharField(max_length=64)
    accepted_at = models.DateTimeField()
    source_ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "version"], name="commitment_once_per_version")
        ]

    def __str__(self) -> str:
        return f"signature commitment v{self.version} of user {self.user_id}"


class Signature(KeptForever):
    """One electronic signature: who signed which exact record version, when, meaning what.

    Append-only. `record_hash` is the hash of the record's signed content; when the record's
    content changes later the signature is shown as superseded (P11-20). The manifestation
    (printed name, date and time with zone, meaning) is derived from this row only.
    """

    record_type = models.CharField(max_length=64)
    record_id = models.CharField(max_length=64)
    record_label = models.CharField(max_length=200)
    record_hash = models.CharField(max_length=64)
    action = models.CharField(max_length=100)
    meaning = models.CharField(max_length=50)
    reason = models.CharField(max_length=1000, blank=True)
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    printed_name = models.CharField(max_length=200)
    username = models.CharField(max_length=150)
    signed_at = models.DateTimeField()
    components = models.CharField(max_length=30)  # "password+totp" or "password"
    channel = models.CharField(max_length=10)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    correlation_id = models.CharField(max_length=32)

    class Meta:
        ordering = ["signed_at", "id"]
        indexes = [
            models.Index(fields=["record_type", "record_id"], name="signature_record"),
        ]

    def __str__(self) -> str:
        return f"{self.meaning} by {self.printed_name} at {self.signed_at.isoformat()}"


# --- parts every quality record shares ---------------------------------------------------
# Children of a record name it by its audit type and primary key (``deviations.deviation``,
# ``17``), so core needs no knowledge of the record families. Each child is itself an
# audited model; a record's history tab shows its children's entries too.


class NumberSequence(models.Model):
    """The last number issued per prefix and year (DEV-2026-0001); gap-free per transaction."""

    prefix = models.CharField(max_length=10)
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prefix", "year"], name="number_sequence_per_year")
        ]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last}"


class Attachment(KeptForever):
    """A file attached to a record: hashed at upload, stored encrypted (AES-256-GCM).

    Never deleted: removal is logical, with a reason (AL-06). `sha256` is the digest of the
    plaintext as uploaded; reading decrypts, authenticates and re-checks it.
    """

    record_type = models.CharField(max_length=64)
    record_id = models.CharField(max_length=64)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    key_id = models.CharField(max_length=16)
    nonce = models.BinaryField(max_length=12)
    ciphertext = models.BinaryField()
    description = models.CharField(max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    removed_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        indexes = [models.Index(fields=["record_type", "record_id"], name="attachment_record")]

    def __str__(self) -> str:
        return self.filename


class Comment(KeptForever):
    """A remark on a record. Append-only: a correction is a new comment."""

    record_type = models.CharField(max_length=64)
    record_id = models.CharField(max_length=64)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(max_length=5000)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["record_type", "record_id"], name="comment_record")]

    def __str__(self) -> str:
        return f"Comment {self.pk} on {self.record_type}:{self.record_id}"


class RecordLink(KeptForever):
    """A link between two records, seen from both ends (AL-10). Removal is logical."""

    from_type = models.CharField(max_length=64)
    from_id = models.CharField(max_length=64)
    from_label = models.CharField(max_length=200)
    to_type = models.CharField(max_length=64)
    to_id = models.CharField(max_length=64)
    to_label = models.CharField(max_length=200)
    relation = models.CharField(max_length=30, default="related")
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["from_type", "from_id"], name="link_from"),
            models.Index(fields=["to_type", "to_id"], name="link_to"),
        ]

    def __str__(self) -> str:
        return f"{self.from_label} → {self.to_label}"


class ExtensionState(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class DueDateExtension(KeptForever):
    """A request to move a record's due date; takes effect only when someone else approves."""

    record_type = models.CharField(max_length=64)
    record_id = models.CharField(max_length=64)
    record_label = models.CharField(max_length=200)
    current_due = models.DateField(null=True, blank=True)
    requested_due = models.DateField()
    justification = models.TextField(max_length=2000)
    state = models.CharField(
        max_length=10, choices=ExtensionState.choices, default=ExtensionState.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name="requester",
    )
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["requested_at", "id"]
        indexes = [models.Index(fields=["record_type", "record_id"], name="extension_record")]

    def __str__(self) -> str:
        return f"{self.record_label}: due {self.requested_due} ({self.state})"


class Lease(models.Model):
    """A role that one process of the whole installation holds at a time (the scheduler),
    whichever machine it runs on: the holder renews it before it expires; another process
    takes it over once it has expired (``core.election``). Times are the database's clock,
    the one clock every node shares."""

    name = models.CharField(max_length=50, primary_key=True)
    holder = models.CharField(max_length=200)  # host, process id and a random tag
    acquired_at = models.DateTimeField()
    renewed_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} held by {self.holder} until {self.expires_at.isoformat()}"
