"""How each person uses each right, counted from the access-decision log.

A right is an action at a site. `RightUse` keeps, per person, right and month, how often
the gate allowed it and when last: small enough to read for every person at once (2 000
people × 50 rights × the months kept), kept up to date incrementally from the decisions
written since the last count (`UsageMark`), never by reading the whole log again.
"""

from __future__ import annotations

from django.db import models

from cyberqms.platform.core.models import KeptForever

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
        # Read by person only (`usage_for`): the unique constraint's index, whose first
        # column is the person, serves it; no other index to keep up on every fold.

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


class SystemAccount(KeptForever):
    """An account held in a computerized system of the inventory (a LIMS, a SCADA), as the
    system's own user list says: imported by its owner (`system_accounts.py`) and matched
    to the person who answers for it. A later list without it marks it removed; a
    per-system access review decides each (`governance`), and a revocation there asks the
    system's owner to remove it, which the next list shows done or not."""

    system = models.ForeignKey("systems.System", on_delete=models.PROTECT,
                               related_name="accounts")
    account = models.CharField(max_length=150)  # as the system names it
    person = models.ForeignKey("accounts.User", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="system_accounts")
    listed_name = models.CharField(max_length=200, blank=True)  # the list's own name column
    privilege = models.CharField(max_length=100)  # the role or group in the system
    privileged = models.BooleanField(default=False)  # administers the system
    last_login_at = models.DateTimeField(null=True, blank=True)  # as the list gives it
    first_listed_at = models.DateTimeField()
    listed_at = models.DateTimeField()  # the newest list that held it
    removed_at = models.DateTimeField(null=True, blank=True)  # absent from a later list
    # A review decided to revoke it: the owner removes it in the system.
    removal_asked_at = models.DateTimeField(null=True, blank=True)
    removal_ref = models.CharField(max_length=30, blank=True)

    class Meta:
        ordering = ["system", "account", "id"]
        constraints = [models.UniqueConstraint(fields=["system", "account"],
                                               name="system_account_unique")]
        indexes = [models.Index(fields=["person"], name="system_account_person")]

    def __str__(self) -> str:
        return f"{self.account} in {self.system_id}"

    @property
    def in_force(self) -> bool:
        return self.removed_at is None
