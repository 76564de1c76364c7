"""States and choice lists of attack drills (CYB-09)."""

from __future__ import annotations

from django.db import models


class DrillState(models.TextChoices):
    PLANNED = "planned", "Planned"
    RUNNING = "running", "Running"
    SCORED = "scored", "Scored"
    CANCELLED = "cancelled", "Cancelled"


class DrillKind(models.TextChoices):
    ATTACK = "attack", "Attack scenario in the live pipeline"
    RANSOMWARE = "ransomware", "Ransomware on a restored copy"
