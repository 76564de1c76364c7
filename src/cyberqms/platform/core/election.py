"""One holder of a role across every process and machine of an installation (a lease).

    lease = Lease("scheduler", ttl=15.0)
    while running:
        if lease.hold():        # renews, or takes over an expired lease; False: another holds it
            run_the_jobs()
        time.sleep(0.25)
    lease.release()             # the next process takes over at once, not after the expiry

The lease is a row (``core.models.Lease``) in the database every node already shares. Taking
and renewing it is one conditional UPDATE (the row is ours, or its time has passed), so two
processes can never both succeed; the time compared is the database's clock (``Now()``),
never a node's. The holder renews every third of ``ttl``; between renewals it trusts its
lease only until its own monotonic clock says ``ttl`` × ``TRUST`` has passed since the
renewal was asked for, so a holder cut off from the database (a network split, a long
pause) stops acting before any other process can take over: at most one holder acts at
any time, whatever the nodes' clocks say.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import time
from dataclasses import dataclass
from datetime import timedelta

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Now

from .models import Lease as LeaseRow

logger = logging.getLogger("cyberqms.election")

# The holder acts on a renewed lease for this share of its time to live at most: the rest is
# the margin for the database's answer to arrive and for clocks that run at slightly
# different rates.
TRUST = 0.8


def holder_name() -> str:
    """This process: host, process id and a random tag (a restarted process with a reused
    pid is a new holder)."""
    return f"{socket.gethostname()[:120]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass
class Lease:
    name: str
    ttl: float = 15.0
    holder: str = ""
    _trusted_until: float = 0.0  # monotonic
    _renew_at: float = 0.0  # monotonic

    def __post_init__(self) -> None:
        if not self.holder:
            self.holder = holder_name()

    @property
    def held(self) -> bool:
        """Whether this process may act now (without asking the database)."""
        return time.monotonic() < self._trusted_until

    def hold(self) -> bool:
        """Renew the lease when a third of its time has passed, or take it over once it
        has expired; whether this process may act now. Never raises: a database that does
        not answer leaves the lease to run out."""
        now = time.monotonic()
        if now < self._renew_at and now < self._trusted_until:
            return True
        try:
            taken = self._take()
        except DatabaseError:
            logger.warning("lease %s: the database did not answer", self.name, exc_info=True)
            return self.held
        was_held = self._trusted_until > now
        if taken:
            self._trusted_until = now + self.ttl * TRUST
            self._renew_at = now + self.ttl / 3
            if not was_held:
                logger.info("lease %s taken by %s", self.name, self.holder)
        else:
            self._trusted_until = self._renew_at = 0.0
            if was_held:
                logger.warning("lease %s lost by %s", self.name, self.holder)
        return taken

    def _take(self) -> bool:
        others = LeaseRow.objects.filter(name=self.name, expires_at__gte=Now())
        if others.exclude(holder=self.holder).exists():  # a standby's check: a read only
            return False
        expires = Now() + Value(timedelta(seconds=self.ttl))
        mine = Q(holder=self.holder)
        updated = LeaseRow.objects.filter(mine | Q(expires_at__lt=Now()), name=self.name).update(
            holder=self.holder,
            acquired_at=Case(When(mine, then=F("acquired_at")), default=Now()),
            renewed_at=Now(), expires_at=expires,
        )
        if updated:
            return True
        if LeaseRow.objects.filter(name=self.name).exists():
            return False
        try:
            with transaction.atomic():
                LeaseRow.objects.create(name=self.name, holder=self.holder, acquired_at=Now(),
                                        renewed_at=Now(), expires_at=expires)
        except IntegrityError:  # another process created it first
            return False
        return True

    def release(self) -> None:
        """Give the lease up (a clean stop): the next process takes it over at once."""
        self._trusted_until = self._renew_at = 0.0
        try:
            LeaseRow.objects.filter(name=self.name, holder=self.holder).delete()
        except DatabaseError:
            logger.warning("lease %s: not released, it runs out", self.name, exc_info=True)


def lease_holder(name: str) -> LeaseRow | None:
    """The lease's row if it has not expired (who acts now, since when)."""
    return LeaseRow.objects.filter(name=name, expires_at__gte=Now()).first()
