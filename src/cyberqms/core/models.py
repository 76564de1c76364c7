"""Records the access gate and the security-event emitter write.

Both tables are append-only by convention and feed monitoring: access decisions for
drift detection and zero-trust reporting (CYB-01), security events for detection (CYB-03).
"""

from __future__ import annotations

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
