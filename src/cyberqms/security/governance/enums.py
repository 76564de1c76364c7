from django.db import models


class ReviewState(models.TextChoices):
    DRAFT = "draft", "Draft"
    OPEN = "open", "Open for decisions"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


class ReviewKind(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    AD_HOC = "ad_hoc", "Ad hoc"
    MOVER = "mover", "Role change (mover)"


class Decision(models.TextChoices):
    KEEP = "keep", "Keep"
    REVOKE = "revoke", "Revoke"
    CHANGE = "change", "Change to another role"
