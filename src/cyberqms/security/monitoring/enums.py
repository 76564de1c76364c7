from django.db import models


class EventFormat(models.TextChoices):
    SYSLOG = "syslog", "Syslog (RFC 5424 / RFC 3164)"
    CEF = "cef", "CEF"
    LEEF = "leef", "LEEF"
    JSONL = "jsonl", "JSON lines (OCSF or cyberqms events)"


class RawStatus(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    QUARANTINED = "quarantined", "Quarantined"


class EventTiming(models.TextChoices):
    """How an event's claimed time compared with its receipt (values of
    ``security.detect.detection.timing``)."""

    ON_TIME = "", "On time"
    DELAYED = "delayed", "Delayed (own time windows)"
    LATE = "late", "Late (processed on receive time)"
    AHEAD = "ahead", "Clock ahead (processed on receive time)"


class AlertState(models.TextChoices):
    NEW = "new", "New"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    INVESTIGATING = "investigating", "Investigating"
    RESOLVED = "resolved", "Resolved"
    FALSE_POSITIVE = "false_positive", "False positive"


OPEN_ALERT_STATES = (AlertState.NEW, AlertState.ACKNOWLEDGED, AlertState.INVESTIGATING)

LEVEL_ORDER = {"informational": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
