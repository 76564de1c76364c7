"""How each person uses each right, counted from the access-decision log.

A right is an action at a site. `RightUse` keeps, per person, right and month, how often
the gate allowed it and when last: small enough to read for every person at once (2 000
people × 50 rights × the months kept), kept up to date incrementally from the decisions
written since the last count (`UsageMark`), never by reading the whole log again.
"""

from __future__ import annotations

from django.db import models

NO_SITE = 0  # a decision about nothing with a site (a list, a page of one's own)


class RightUse(models.Model):
    user_id = models.BigIntegerField()
    action = models.CharField(max_length=100)
    site_id = models.BigIntegerField(default=NO_SITE)  # NO_SITE: not about one site
    month = models.DateField()  # its first day
    uses = models.PositiveIntegerField(default=0)
    last_used_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user_id", "action", "site_id", "month"],
                                               name="right_use_unique")]
        indexes = [models.Index(fields=["action", "site_id", "month"], name="right_use_action")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.action}@{self.site_id} {self.month}: {self.uses}"


class UsageMark(models.Model):
    """How far the access-decision log has been counted: every decision with an id up to
    `last_id` is in `RightUse`."""

    name = models.CharField(max_length=40, primary_key=True)
    last_id = models.BigIntegerField(default=0)
    counted_at = models.DateTimeField(null=True, blank=True)
    decisions = models.BigIntegerField(default=0)  # counted in all

    def __str__(self) -> str:
        return f"{self.name}: up to {self.last_id}"
