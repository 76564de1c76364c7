"""Access-governance figures, for the governance page, the API and the KPI work:

- review completion on time: of the decisions in campaigns closed in the period, the
  share signed by the campaign's due date;
- rights revoked per campaign: revocations and changes signed, per closed campaign;
- open segregation-of-duties conflicts and dormant accounts: open findings of those kinds;
- median leaver-to-disable time: from the leaver date to the account's deactivation, over
  the leavers of the period (the scheduler disables them within a minute).

Each is a handful of queries, whatever the number of people or campaigns.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from cyberqms.platform.accounts.models import User
from cyberqms.security.findings.enums import FindingKind, FindingSeverity, FindingState
from cyberqms.security.findings.models import AccessFinding

from .enums import ReviewState
from .models import AccessReview, ReviewItem

AGES = ((7, "up to a week"), (30, "up to a month"), (90, "up to 3 months"),
        (None, "older"))


@dataclass(frozen=True)
class GovernanceFigures:
    period_days: int
    review_decisions: int
    review_on_time: int
    campaigns_closed: int
    rights_revoked: int
    open_sod_conflicts: int
    dormant_accounts: int
    leavers: int
    median_leaver_to_disable_s: float | None
    open_findings: dict[str, int]

    @property
    def review_on_time_pct(self) -> float | None:
        if not self.review_decisions:
            return None
        return round(100 * self.review_on_time / self.review_decisions, 1)

    @property
    def revoked_per_campaign(self) -> float | None:
        if not self.campaigns_closed:
            return None
        return round(self.rights_revoked / self.campaigns_closed, 1)


def governance_figures(*, days: int = 365, now: dt.datetime | None = None) -> GovernanceFigures:
    now = now or timezone.now()
    since = now - dt.timedelta(days=days)
    closed = AccessReview.objects.filter(state=ReviewState.CLOSED, is_deleted=False,
                                         closed_at__gte=since)
    items = ReviewItem.objects.filter(review__in=closed, attestation__isnull=False)
    decided = items.aggregate(
        n=Count("pk"),
        on_time=Count("pk", filter=Q(attestation__signed_at__date__lte=F("review__due_date"))))
    revoked = closed.aggregate(n=Sum("attestations__revoked"))["n"] or 0
    open_findings = AccessFinding.objects.filter(state=FindingState.OPEN, is_deleted=False)
    by_kind = dict(open_findings.filter(kind__in=(FindingKind.SOD_CONFLICT, FindingKind.DORMANT))
                   .values_list("kind").annotate(n=Count("pk")).order_by())
    by_severity = dict(open_findings.values_list("severity").annotate(n=Count("pk"))
                       .order_by())
    leavers = list(User.objects.filter(leaver_at__isnull=False, deactivated_at__isnull=False,
                                       leaver_at__gte=since)
                   .values_list("leaver_at", "deactivated_at"))
    gaps = [max(0.0, (off - left).total_seconds()) for left, off in leavers
            if left is not None and off is not None]
    return GovernanceFigures(
        period_days=days, review_decisions=decided["n"], review_on_time=decided["on_time"],
        campaigns_closed=closed.count(), rights_revoked=revoked,
        open_sod_conflicts=by_kind.get(FindingKind.SOD_CONFLICT, 0),
        dormant_accounts=by_kind.get(FindingKind.DORMANT, 0),
        leavers=len(gaps), median_leaver_to_disable_s=(
            round(statistics.median(gaps), 1) if gaps else None),
        open_findings={s: by_severity.get(s, 0) for s in FindingSeverity.values})


def findings_by_age(now: dt.datetime | None = None) -> list[tuple[str, list[int]]]:
    """Open findings per severity (rows, highest first) and age band (columns)."""
    now = now or timezone.now()
    rows = AccessFinding.objects.filter(state=FindingState.OPEN, is_deleted=False) \
        .values_list("severity", "created_at")
    table = {s: [0] * len(AGES) for s in FindingSeverity.values}
    for severity, created in rows:
        age = (now - created).days
        band = next(i for i, (limit, _label) in enumerate(AGES) if limit is None or age <= limit)
        table.setdefault(severity, [0] * len(AGES))[band] += 1
    return [(s, table[s]) for s in reversed(FindingSeverity.values)]
