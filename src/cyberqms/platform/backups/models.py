"""A backup taken: where its file is, what it holds (its manifest), and its hash."""

from __future__ import annotations

from django.db import models

from cyberqms.platform.core.models import KeptForever


class Backup(KeptForever):
    created_at = models.DateTimeField()
    file_name = models.CharField(max_length=200)
    folder = models.CharField(max_length=500)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)  # of the whole file
    engine = models.CharField(max_length=20)
    version = models.CharField(max_length=20)  # of cyberqms
    checkpoint_size = models.BigIntegerField(null=True, blank=True)
    rows = models.BigIntegerField()  # every table's rows, in all
    seconds = models.FloatField()
    manifest = models.JSONField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.file_name
