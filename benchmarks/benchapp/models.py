"""One record shape, three ways of writing it: plain, cyberqms audit trail, simple-history.

No foreign keys, so the comparison measures the history mechanism and nothing else. The
benchmark creates the tables with `migrate --run-syncdb` (this app has no migrations).
"""

from __future__ import annotations

from django.db import models
from simple_history.models import HistoricalRecords


class Record(models.Model):
    title = models.CharField(max_length=200)
    state = models.CharField(max_length=20)
    description = models.TextField()
    owner = models.CharField(max_length=150)
    quantity = models.IntegerField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    due = models.DateField()
    occurred_at = models.DateTimeField()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.title


class Plain(Record):
    """Unaudited."""


class Audited(Record):
    """Registered with `cyberqms.platform.trail.registry`; written through `benchapp.services`."""


class Historied(Record):
    """django-simple-history: one historical row per save, from a post_save signal."""

    history = HistoricalRecords()
