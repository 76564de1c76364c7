"""One scheduler runs the periodic jobs, whichever processes and machines run one (issue 14,
item 7): a lease in the database that every node shares, taken and renewed by one
conditional update on the database's clock."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.utils import timezone

from cyberqms.platform.core import scheduler
from cyberqms.platform.core.election import Lease, lease_holder
from cyberqms.platform.core.models import Lease as LeaseRow

pytestmark = pytest.mark.django_db


def expire(name: str) -> None:
    """The holder stopped renewing long enough ago (as if its process had died)."""
    LeaseRow.objects.filter(name=name).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1))


def test_the_first_process_takes_the_lease() -> None:
    first = Lease("jobs", ttl=60, holder="node-a:1")
    assert first.hold() is True
    assert LeaseRow.objects.values_list("name", "holder").get() == ("jobs", "node-a:1")


def test_a_second_process_is_refused_while_the_lease_is_held() -> None:
    Lease("jobs", ttl=60, holder="node-a:1").hold()
    second = Lease("jobs", ttl=60, holder="node-b:7")
    assert (second.hold(), second.held) == (False, False)
    assert LeaseRow.objects.get().holder == "node-a:1"


def test_the_holder_renews_its_own_lease_and_keeps_its_start() -> None:
    first = Lease("jobs", ttl=60, holder="node-a:1")
    first.hold()
    started = LeaseRow.objects.get().acquired_at
    again = Lease("jobs", ttl=60, holder="node-a:1")  # asks the database: nothing cached
    assert again.hold() is True
    row = LeaseRow.objects.get()
    assert (row.holder, row.acquired_at) == ("node-a:1", started)
    assert row.renewed_at >= started


def test_an_expired_lease_is_taken_over() -> None:
    Lease("jobs", ttl=60, holder="node-a:1").hold()
    expire("jobs")
    assert Lease("jobs", ttl=60, holder="node-b:7").hold() is True
    assert LeaseRow.objects.get().holder == "node-b:7"


def test_a_holder_whose_lease_was_taken_over_stops_acting() -> None:
    first = Lease("jobs", ttl=60, holder="node-a:1")
    first.hold()
    expire("jobs")
    Lease("jobs", ttl=60, holder="node-b:7").hold()
    first._renew_at = 0.0  # its next renewal is due (a third of ttl passed)
    assert (first.hold(), first.held) == (False, False)


def test_a_released_lease_is_taken_at_once() -> None:
    first = Lease("jobs", ttl=60, holder="node-a:1")
    first.hold()
    first.release()
    assert first.held is False
    assert Lease("jobs", ttl=60, holder="node-b:7").hold() is True


def test_release_leaves_another_holders_lease_alone() -> None:
    Lease("jobs", ttl=60, holder="node-a:1").hold()
    Lease("jobs", ttl=60, holder="node-b:7").release()
    assert LeaseRow.objects.get().holder == "node-a:1"


def test_leases_of_different_roles_are_independent() -> None:
    Lease("jobs", ttl=60, holder="node-a:1").hold()
    assert Lease("detector", ttl=60, holder="node-b:7").hold() is True


def test_an_expired_lease_names_no_holder() -> None:
    Lease("jobs", ttl=60, holder="node-a:1").hold()
    assert lease_holder("jobs").holder == "node-a:1"
    expire("jobs")
    assert lease_holder("jobs") is None


@pytest.fixture
def counted_job() -> Iterator[list[int]]:
    runs: list[int] = []
    saved = dict(scheduler.JOBS)
    scheduler.JOBS.clear()
    scheduler.every("count", lambda: 3600.0, lambda: runs.append(1))
    yield runs
    scheduler.JOBS.clear()
    scheduler.JOBS.update(saved)


def ticks(n: int) -> object:
    left = [n]

    def stop() -> bool:
        left[0] -= 1
        return left[0] < 0

    return stop


def test_the_lease_holder_runs_the_jobs_and_gives_the_lease_up_when_it_stops(
    counted_job: list[int],
) -> None:
    scheduler.loop(ticks(2), tick=0, lease=Lease(scheduler.LEASE, ttl=60, holder="node-a:1"))
    assert (counted_job, LeaseRow.objects.count()) == ([1], 0)


def test_a_standby_scheduler_runs_no_job(counted_job: list[int]) -> None:
    Lease(scheduler.LEASE, ttl=60, holder="node-a:1").hold()
    scheduler.loop(ticks(3), tick=0, lease=Lease(scheduler.LEASE, ttl=60, holder="node-b:7"))
    assert counted_job == []
    assert LeaseRow.objects.get().holder == "node-a:1"


def test_the_status_names_the_scheduler_that_runs_the_jobs() -> None:
    Lease(scheduler.LEASE, ttl=60, holder="node-a:1").hold()
    out = io.StringIO()
    call_command("scheduler", "--status", stdout=out)
    assert out.getvalue().startswith("jobs run by node-a:1 since ")


def test_the_status_says_when_no_scheduler_runs() -> None:
    out = io.StringIO()
    call_command("scheduler", "--status", stdout=out)
    assert out.getvalue() == "no scheduler runs the jobs now\n"
