from django.db import models


class FindingState(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"
    ACCEPTED = "accepted", "Accepted"


class FindingKind(models.TextChoices):
    UNUSED_RIGHTS = "unused_rights", "Rights unused"
    DORMANT = "dormant", "Dormant account"
    NO_MANAGER = "no_manager", "No responsible manager"
    LEAVER_ACTIVE = "leaver_active", "Leaver still active"
    GRANT_UNAPPROVED = "grant_unapproved", "Role granted without approval"
    SOD_CONFLICT = "sod_conflict", "Segregation-of-duties conflict"
    MFA_MISSING = "mfa_missing", "Privileged account without MFA"
    TOKEN_UNUSED = "token_unused", "API token unused"
    TOKEN_ROTATION = "token_rotation", "API token past rotation"
    AUDITOR_TIMEBOX = "auditor_timebox", "Auditor access past its time box"
    ACCOUNT_ORPHAN = "account_orphan", "System account without an active person"
    ACCOUNT_KEPT = "account_kept", "Revoked account still in the system"
    REPORTED = "reported", "Reported by a person"


class FindingSeverity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
