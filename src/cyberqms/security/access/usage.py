"""Counting the use of rights from the access-decision log, incrementally.

`usage_fold` reads the allowed decisions written since the last count (by id: a decision
written late, in a batch, has a later id and is counted by the next fold) and adds them to
`RightUse`, grouped by the database per person, action, site and month. A decision is
counted once it is `CYBERQMS_ACCESS_USAGE_LAG_SECONDS` old: on PostgreSQL a transaction
still open may hold an id lower than rows already committed, and a fold that passed it
would never see it.

`usage_for` answers, for many people at once, when each right was last used and how often
in a period: one query whatever the number of people.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Q, Sum
from django.utils import timezone

from cyberqms.platform.core.models import AccessDecision

from .models import NO_SITE, RightUse, UsageMark

MARK = "decisions"
CHUNK = 200_000  # decisions per transaction: a first count of a long log in steps


@dataclass(frozen=True)
class Folded:
    decisions: int  # decisions read
    rows: int  # RightUse rows written (new or added to)
    last_id: int


def fold_interval() -> float:
    return 15 * 60.0


def usage_fold(*, lag: float | None = None, chunk: int = CHUNK) -> Folded:
    """Count every allowed decision not counted yet (up to the lag), in chunks of ids, each
    in one transaction with the mark that says how far it went."""
    lag = settings.CYBERQMS_ACCESS_USAGE_LAG_SECONDS if lag is None else lag
    horizon = timezone.now() - dt.timedelta(seconds=lag)
    upto = (AccessDecision.objects.filter(created_at__lte=horizon)
            .aggregate(m=Max("id"))["m"] or 0)
    read = written = 0
    last = 0
    while True:
        with transaction.atomic():
            mark, _ = UsageMark.objects.select_for_update().get_or_create(name=MARK)
            last = mark.last_id
            if last >= upto:
                break
            end = min(upto, last + chunk)
            count, rows = _fold_range(last, end)
            mark.last_id, mark.counted_at = end, timezone.now()
            mark.decisions += count
            mark.save()
            read, written, last = read + count, written + rows, end
    return Folded(read, written, last)


def _fold_range(after: int, upto: int) -> tuple[int, int]:
    """Add decisions with `after < id <= upto` to the counts; returns (decisions, rows).

    One INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE: the database groups the
    decisions by person, action, site and month and adds them to the rows there are, so no
    decision and no count travels through Python (the ORM cost 45 s for a year's 288 000
    rows; this statement a few seconds). SQLite (3.24+) and PostgreSQL both speak it; only
    the month's truncation and the larger of two moments are spelled differently.
    """
    decisions = AccessDecision.objects.filter(
        id__gt=after, id__lte=upto, allowed=True, actor_id__isnull=False).count()
    if not decisions:
        return 0, 0
    use, log = RightUse._meta.db_table, AccessDecision._meta.db_table
    if connection.vendor == "postgresql":
        month = "(date_trunc('month', created_at AT TIME ZONE 'UTC'))::date"
        later = f"GREATEST({use}.last_used_at, excluded.last_used_at)"
    else:
        month = "date(created_at, 'start of month')"
        later = f"max({use}.last_used_at, excluded.last_used_at)"
    site = f"COALESCE(site_id, {NO_SITE})"
    # Table names come from the models and values are parameters: nothing typed by anyone
    # reaches the text of the statement.
    sql = (f"INSERT INTO {use} (user_id, action, site_id, month, uses, last_used_at) "  # noqa: S608
           f"SELECT actor_id, action, {site}, {month}, COUNT(*), MAX(created_at) "
           f"FROM {log} WHERE id > %s AND id <= %s AND allowed AND actor_id IS NOT NULL "
           f"GROUP BY actor_id, action, {site}, {month} "
           f"ON CONFLICT (user_id, action, site_id, month) DO UPDATE SET "
           f"uses = {use}.uses + excluded.uses, last_used_at = {later}")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The grouping of a chunk fits in memory rather than spilling to disk (this
            # transaction only).
            cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(sql, [after, upto])
        rows = cursor.rowcount
    return decisions, max(rows, 0)


@dataclass(frozen=True)
class Use:
    """One right of one person: when last used and how often since a date."""

    last_used_at: dt.datetime | None
    uses: int

    def __add__(self, other: Use) -> Use:
        stamps = [s for s in (self.last_used_at, other.last_used_at) if s is not None]
        return Use(max(stamps) if stamps else None, self.uses + other.uses)


NEVER = Use(None, 0)


class Usage:
    """The use of rights by a set of people, read in one query (`usage_for`)."""

    def __init__(self) -> None:
        self._at: dict[tuple[int, str, int], Use] = {}
        self._anywhere: dict[tuple[int, str], Use] = {}
        self._last: dict[int, dt.datetime] = {}

    def add(self, user_id: int, action: str, site_id: int, use: Use) -> None:
        self._at[(user_id, action, site_id)] = use
        key = (user_id, action)
        self._anywhere[key] = self._anywhere.get(key, NEVER) + use
        self.seen(user_id, use.last_used_at)

    def seen(self, user_id: int, moment: dt.datetime | None) -> None:
        """The person used some right at `moment` (their last use of any)."""
        last = self._last.get(user_id)
        if moment is not None and (last is None or moment > last):
            self._last[user_id] = moment

    def last_activity(self, user_id: int) -> dt.datetime | None:
        """When the person last used any right."""
        return self._last.get(user_id)

    def of(self, user_id: int, action: str, site_id: int | None = None) -> Use:
        """The use of `action` by `user_id` at `site_id`, decisions about no one site
        included; `site_id` None: at any site (a right held at every site)."""
        if site_id is None:
            return self._anywhere.get((user_id, action), NEVER)
        return (self._at.get((user_id, action, site_id), NEVER)
                + self._at.get((user_id, action, NO_SITE), NEVER))


def usage_for(user_ids: Iterable[int], *, since: dt.date,
              actions: Iterable[str] | None = None) -> Usage:
    """The use of every right (or of `actions`) by `user_ids`: the last use ever and the
    uses in the months from `since`'s month; one query (with `actions`, a second one for
    each person's last use of any right, `Usage.last_activity`)."""
    people = list(user_ids)
    rows = RightUse.objects.filter(user_id__in=people)
    usage = Usage()
    if actions is not None:
        for row in rows.values("user_id").annotate(last=Max("last_used_at")).order_by():
            usage.seen(row["user_id"], row["last"])
        rows = rows.filter(action__in=list(actions))
    recent = Q(month__gte=since.replace(day=1))
    for row in rows.values("user_id", "action", "site_id").annotate(
            last=Max("last_used_at"), uses=Sum("uses", filter=recent)).order_by():
        usage.add(row["user_id"], row["action"], row["site_id"],
                  Use(row["last"], row["uses"] or 0))
    return usage
