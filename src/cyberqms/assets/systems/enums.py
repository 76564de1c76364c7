"""States and choice lists of computerized systems (A11-05)."""

from __future__ import annotations

from django.db import models


class SystemState(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_VALIDATION = "in_validation", "In validation"
    VALIDATED = "validated", "Validated"
    UNDER_CHANGE = "under_change", "Under change"
    RETIRED = "retired", "Retired"


class GampCategory(models.TextChoices):
    INFRASTRUCTURE = "1", "1: Infrastructure software"
    NON_CONFIGURED = "3", "3: Non-configured product"
    CONFIGURED = "4", "4: Configured product"
    CUSTOM = "5", "5: Custom application"


class Criticality(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class Hosting(models.TextChoices):
    ON_PREMISES = "on_premises", "On premises"
    CLOUD = "cloud", "Cloud (IaaS or PaaS)"
    SAAS = "saas", "SaaS"


class Direction(models.TextChoices):
    SENDS = "sends", "Sends to"
    RECEIVES = "receives", "Receives from"
    BOTH = "both", "Exchanges with"


class DeliverableKind(models.TextChoices):
    PLAN = "plan", "Validation plan"
    URS = "urs", "User requirements specification"
    SPEC = "spec", "Functional or configuration specification"
    RISK = "risk", "Risk assessment"
    IQ = "iq", "Installation qualification"
    OQ = "oq", "Operational qualification"
    PQ = "pq", "Performance qualification"
    TRACE = "trace", "Traceability matrix"
    REPORT = "report", "Validation summary report"


class PostureItem(models.TextChoices):
    """What cyberqms cannot know of a system's security by itself (A11D-03): entered with
    a date and evidence, and due again after a while."""

    PATCH_LEVEL = "patch_level", "Patch level"
    VULNERABILITY_SCAN = "vulnerability_scan", "Vulnerability scan"
    PENETRATION_TEST = "penetration_test", "Penetration test"
    NETWORK_ZONE = "network_zone", "Network zone"
    # Until cyberqms runs the access reviews and the restore tests itself (access
    # governance, backups), their results are entered like the rest.
    ACCESS_REVIEW = "access_review", "Access review"
    RESTORE_TEST = "restore_test", "Backup restore test"
