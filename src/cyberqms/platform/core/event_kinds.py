"""Security events in words: each kind an app emits, as a person reads it on a page.

The kind stays the stable key in the database, the API and SIEM exports; pages show the
label. A kind not listed here reads as its words ("monitoring.siem.test" → "Monitoring
siem test") until it is given a label."""

from __future__ import annotations

from django.utils.text import capfirst

EVENT_LABELS: dict[str, str] = {
    "access.denied": "Access refused",
    "account.created": "Account created",
    "account.deactivated": "Account deactivated",
    "account.reactivated": "Account reactivated",
    "account.mfa.added": "Two-factor method added",
    "account.mfa.removed": "Two-factor method removed",
    "account.password_changed": "Password changed",
    "account.password_reset": "Password reset by an administrator",
    "account.role_granted": "Role granted",
    "account.role_revoked": "Role revoked",
    "access.finding.raised": "Access finding raised",
    "account.token_created": "API token issued",
    "account.token_revoked": "API token revoked",
    "auth.lockout": "Account locked out",
    "auth.unlock": "Lockout lifted",
    "auth.login.success": "Signed in",
    "auth.login.failure": "Failed sign-in",
    "auth.login.rate_limited": "Sign-ins from one address slowed down",
    "auth.logout": "Signed out",
    "auth.mfa.failure": "Wrong two-factor code",
    "auth.session.idle_timeout": "Session ended after inactivity",
    "auth.token.rejected": "API token refused",
    "backup.restore_test.failed": "Restore test failed",
    "backup.restored": "Database restored from a backup",
    "esig.failure": "Failed e-signature",
    "monitoring.clock_skew": "Event sender's clock is off",
    "monitoring.quarantine": "Event quarantined",
    "monitoring.retention": "Security events removed by retention",
    "monitoring.siem.failed": "Forwarding to the SIEM failed",
    "monitoring.siem.test": "SIEM forwarding test",
    "monitoring.source.unknown": "Events from an unregistered sender",
    "request.oversized": "Oversized request refused",
    "trail.checkpoint.published": "Audit-trail checkpoint published",
    "trail.integrity.failure": "Audit-trail verification failed",
    "trail.integrity.failure.persisting": "Audit-trail failure still open",
    "trail.key.rotated": "Audit-trail keys rotated",
    "trail.review.discrepancy": "Trail review found a discrepancy",
    "trail.seal.refused": "Audit-trail sealing stopped",
    "trail.seq.voided": "Audit-trail numbers voided (changes rolled back)",
    "trail.witness.ahead": "Witness holds a longer trail",
    "trail.witness.failed": "Witness not reached",
}


def event_label(kind: str) -> str:
    """The words for a security event kind."""
    return EVENT_LABELS.get(kind) or str(capfirst(kind.replace(".", " ").replace("_", " ")))


__all__ = ["EVENT_LABELS", "event_label"]
