"""Least privilege from use: per role and site, the rights most of its holders never use.

"11 of 12 holders of QA reviewer at Dublin never used `deviations.approve` in 180 days":
for each role held at a site by at least `MIN_HOLDERS` people for longer than the window,
each right of the role whose share of holders who used it in the window is at most
`UNUSED_SHARE`. Read from the counts of use (one query) and the roles in force (one
query), whatever the number of people.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from cyberqms.platform.accounts.models import RoleAssignment

from .rights import HIGH, action_label, criticality, role_label, role_rights
from .usage import usage_for

MIN_HOLDERS = 3
UNUSED_SHARE = 0.1  # a right used by at most a tenth of the holders


@dataclass(frozen=True)
class Suggestion:
    role: str
    site: str  # a site's code, or "every site"
    action: str
    holders: int
    unused: int
    days: int
    site_id: int | None = None
    idle: tuple[int, ...] = ()  # the role assignments of the holders who never used it

    @property
    def role_label(self) -> str:
        return role_label(self.role)

    @property
    def text(self) -> str:
        return (f"{self.unused} of {self.holders} holders of {role_label(self.role)} at "
                f"{self.site} never used {self.action} ({action_label(self.action)}) in "
                f"{self.days} days")


def suggestions(now: dt.datetime | None = None) -> list[Suggestion]:
    """The deciding rights most holders of a role at a site leave unused, most unused
    first."""
    now = now or timezone.now()
    days = settings.CYBERQMS_ACCESS_UNUSED_HIGH_DAYS
    since = now - dt.timedelta(days=days)
    groups: dict[tuple[str, int | None, str], list[int]] = defaultdict(list)
    held: dict[tuple[str, int | None, int], int] = {}
    for pk, holder, role, site_id, code in (
            RoleAssignment.objects.held_on(now)
            .filter(valid_from__lte=since, user__is_active=True)
            .values_list("pk", "user_id", "role", "site_id", "site__code")):
        groups[(role, site_id, code or "every site")].append(int(holder))
        held[(role, site_id, int(holder))] = int(pk)
    usage = usage_for({u for ids in groups.values() for u in ids}, since=since.date())
    found = []
    for (role, where, code), holders in groups.items():
        if len(holders) < MIN_HOLDERS:
            continue
        for action in role_rights(role):
            if criticality(action) != HIGH:
                continue
            idle = [u for u in holders
                    if not ((use := usage.of(u, action, where)).last_used_at
                            and use.last_used_at >= since)]
            used = len(holders) - len(idle)
            if used <= UNUSED_SHARE * len(holders):
                found.append(Suggestion(role, code, action, len(holders), len(idle), days,
                                        where, tuple(sorted(held[(role, where, u)]
                                                            for u in idle))))
    return sorted(found, key=lambda s: (-s.unused / s.holders, -s.holders, s.role, s.site,
                                        s.action))
