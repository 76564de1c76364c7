"""Records the access gate and the security-event emitter write.

Both tables are append-only by convention and feed monitoring: access decisions for
drift detection and zero-trust reporting (CYB-01), security events for detection (CYB-03).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Severity(models.TextChoices):
    INFO = "info", "Info"
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class AccessDecision(models.Model):
    """One decision of the policy decision point: who asked to do what, and the answer."""

    created_at = models.DateTimeField(db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=100)
    resource_type = models.CharField(max_length=100, blank=True)
    resource_id = models.CharField(max_length=64, blank=True)
    allowed = models.BooleanField()
    reason = models.CharField(max_length=200)
    channel = models.CharField(max_length=10)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    session_ref = models.CharField(max_length=16, blank=True)
    token_id = models.BigIntegerField(null=True, blank=True)
    correlation_id = models.CharField(max_length=32, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["actor_id", "created_at"], name="decision_actor_time"),
            models.Index(fields=["allowed", "created_at"], name="decision_allowed_time"),
        ]
        ordering = ["-id"]

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

    def __str__(self) -> str:
        return f"{self.kind} ({self.severity}): {self.message}"


class SignatureCommitment(models.Model):
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


class Signature(models.Model):
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
