"""A backup taken: where its file is, what it holds (its manifest), its hash, when its
restore was last tested, and when retention removed its file."""

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
    # The newest restore test of this backup (verify.py) and its result.
    verified_at = models.DateTimeField(null=True, blank=True)
    verify_passed = models.BooleanField(null=True, blank=True)
    # When retention removed the file (the row stays: what was kept, and until when).
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.file_name
