"""The use of rights, counted from the access-decision log incrementally (issue 17, item 1;
CYB-07): per person, action, site and month; never by reading the whole log again."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cyberqms.platform.accounts.tests.factories import SiteFactory
from cyberqms.platform.core.models import AccessDecision
from cyberqms.security.access.models import NO_SITE, RightUse, UsageMark
from cyberqms.security.access.usage import usage_fold, usage_for

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


def decide(user_id: int | None, action: str, *, site_id: int | None = None,
           at: dt.datetime = NOW, allowed: bool = True) -> AccessDecision:
    return AccessDecision.objects.create(
        created_at=at, actor_id=user_id, actor_username=f"u{user_id}", action=action,
        site_id=site_id, allowed=allowed, reason="granted" if allowed else "no role",
        channel="web")


def counts() -> set[tuple[int, str, int, dt.date, int]]:
    return {(r.user_id, r.action, r.site_id, r.month, r.uses)
            for r in RightUse.objects.all()}


def test_allowed_decisions_are_counted_per_person_action_site_and_month() -> None:
    site = SiteFactory.create(code="BSL")
    decide(7, "deviations.approve", site_id=site.pk)
    decide(7, "deviations.approve", site_id=site.pk, at=NOW + dt.timedelta(days=1))
    decide(7, "deviations.approve", site_id=site.pk, at=dt.datetime(2026, 10, 3, tzinfo=dt.UTC))
    decide(7, "deviations.view")
    usage_fold(lag=0)
    assert counts() == {
        (7, "deviations.approve", site.pk, dt.date(2026, 11, 1), 2),
        (7, "deviations.approve", site.pk, dt.date(2026, 10, 1), 1),
        (7, "deviations.view", NO_SITE, dt.date(2026, 11, 1), 1),
    }


def test_refusals_and_anonymous_decisions_are_not_use() -> None:
    decide(7, "deviations.approve", allowed=False)
    decide(None, "account.login")
    usage_fold(lag=0)
    assert counts() == set()


def test_a_second_fold_adds_only_the_new_decisions() -> None:
    decide(7, "capa.close")
    usage_fold(lag=0)
    decide(7, "capa.close", at=NOW + dt.timedelta(hours=2))
    folded = usage_fold(lag=0)
    row = RightUse.objects.get()
    assert (folded.decisions, row.uses, row.last_used_at) == (
        1, 2, NOW + dt.timedelta(hours=2))


def test_decisions_younger_than_the_lag_wait_for_the_next_fold() -> None:
    decide(7, "capa.close", at=timezone.now())
    first = usage_fold(lag=300)
    second = usage_fold(lag=0)
    assert (first.decisions, second.decisions, UsageMark.objects.get().decisions) == (0, 1, 1)


def test_a_long_log_is_counted_in_chunks_with_the_mark_after_each() -> None:
    for day in range(5):
        decide(7, "capa.close", at=NOW - dt.timedelta(days=day))
    folded = usage_fold(lag=0, chunk=2)
    mark = UsageMark.objects.get()
    assert (folded.decisions, mark.decisions, mark.last_id,
            RightUse.objects.get().uses) == (5, 5, AccessDecision.objects.latest("id").pk, 5)


def test_the_fold_costs_the_same_queries_for_1_and_200_decisions() -> None:
    usage_fold(lag=0)  # the mark exists

    def queries(n: int, first_user: int) -> int:
        for i in range(n):
            decide(first_user + i % 40, f"capa.{'close' if i % 2 else 'work'}",
                   at=NOW - dt.timedelta(days=i % 60))
        with CaptureQueriesContext(connection) as captured:
            usage_fold(lag=0)
        return len(captured)

    # PostgreSQL: one more, the chunk's memory for its grouping (SET LOCAL work_mem).
    each = 11 if connection.vendor == "postgresql" else 10
    assert (queries(1, 1000), queries(200, 2000)) == (each, each)


def test_usage_reads_the_last_use_and_the_uses_since_a_month() -> None:
    site = SiteFactory.create(code="DUB")
    decide(7, "capa.close", site_id=site.pk, at=dt.datetime(2026, 5, 2, tzinfo=dt.UTC))
    decide(7, "capa.close", site_id=site.pk, at=dt.datetime(2026, 11, 2, tzinfo=dt.UTC))
    decide(7, "capa.close", at=dt.datetime(2026, 11, 5, tzinfo=dt.UTC))  # a list: no site
    usage_fold(lag=0)
    usage = usage_for([7], since=dt.date(2026, 9, 15))
    at_site, anywhere = usage.of(7, "capa.close", site.pk), usage.of(7, "capa.close")
    assert (at_site.uses, at_site.last_used_at, anywhere.uses) == (
        2, dt.datetime(2026, 11, 5, tzinfo=dt.UTC), 2)


def test_a_right_never_used_reads_never() -> None:
    usage = usage_for([7], since=dt.date(2026, 1, 1))
    assert (usage.of(7, "capa.close", 3).last_used_at, usage.of(7, "capa.close").uses) == (
        None, 0)


def test_the_gate_records_the_site_of_the_resource_decided_on(personas: dict[str, Any]) -> None:
    from cyberqms.platform.core.access import authorize

    site = SiteFactory.create(code="ZRH")

    class OnSite:
        site_id = site.pk

    authorize(personas["qa_manager"], "deviations.approve", OnSite())
    decision = AccessDecision.objects.filter(action="deviations.approve").latest("id")
    assert (decision.site_id, decision.allowed) == (site.pk, True)
