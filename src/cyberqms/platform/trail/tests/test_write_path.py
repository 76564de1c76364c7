"""The fast paths of the audit write path give exactly what the general code gives.

`AuditedModel.state` converts common types by exact type, `diff` has a one-pass case,
`audit_record` sends its two statements straight to sqlite3 when nothing observes queries
and builds the returned `AuditEntry` without `Model.__init__` when no init signal has a
receiver (see benchmarks/trail.py and docs/audit-trail.md, Performance).
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import hashlib
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import hypothesis
import pytest
from django.db import connection, transaction
from django.db.models.signals import pre_init
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from cyberqms.platform.accounts.bootstrap import bootstrap_administrator
from cyberqms.platform.accounts.models import Site, User
from cyberqms.platform.accounts.services import site_create
from cyberqms.platform.trail.integrity import check_trail
from cyberqms.platform.trail.models import AuditEntry
from cyberqms.platform.trail.record import audit_record, snapshot
from cyberqms.platform.trail.registry import REDACTED_PREFIX, AuditedModel, diff, to_json_value

pytestmark = pytest.mark.usefixtures("trail_key")


class Level(enum.IntEnum):
    LOW = 1


class Kind(enum.StrEnum):
    DEVIATION = "deviation"


class Day(dt.date):
    pass


# hypothesis takes naive bounds for aware datetimes (its API), a day inside Python's range.
NAIVE_MIN = dt.datetime(1, 1, 2)  # noqa: DTZ001  (a naive bound, as hypothesis requires)
NAIVE_MAX = dt.datetime(9999, 12, 30)  # noqa: DTZ001  (a naive bound, as hypothesis requires)
_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=8),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.dates(),
    st.datetimes(),
    # Aware times a day inside the range: converting 0001-01-01 00:00 Zurich time to UTC
    # falls before year 1, which no clock produces and Python cannot represent.
    st.datetimes(min_value=NAIVE_MIN, max_value=NAIVE_MAX,
                 timezones=st.sampled_from([dt.UTC, ZoneInfo("Europe/Zurich")])),
    st.times(),
    st.timedeltas(),
    st.uuids(),
    st.floats(allow_nan=False),
    st.binary(max_size=4),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.sampled_from([Level.LOW, Kind.DEVIATION, Day(2026, 3, 1), True]),
)


def _reference_state(spec: AuditedModel, obj: object) -> dict[str, Any]:
    """`AuditedModel.state` as it was written before its fast path."""
    out: dict[str, Any] = {}
    for f in spec.fields:
        value = to_json_value(getattr(obj, f.attname))
        if f.attname in spec.redact and value is not None and value != "":
            value = REDACTED_PREFIX + hashlib.sha256(str(value).encode()).hexdigest()
        out[f.attname] = value
    return out


def _reference_diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> Any:
    before = before or {}
    after = after or {}
    keys = list(after) + [k for k in before if k not in after]
    return {
        k: [before.get(k), after.get(k)]
        for k in keys
        if k not in before or k not in after or before[k] != after[k]
    }


def _spec(names: list[str], redact: frozenset[str]) -> AuditedModel:
    fields: Any = tuple(SimpleNamespace(attname=name) for name in names)
    return AuditedModel(Site, "test.thing", fields, redact, str, "test.view")


@hypothesis.settings(max_examples=300, deadline=None, database=None)
@given(values=st.lists(_VALUES, min_size=1, max_size=6), data=st.data())
def test_state_equals_the_field_by_field_conversion(values: list[Any], data: Any) -> None:
    names = [f"f{i}" for i in range(len(values))]
    redact = frozenset(data.draw(st.sets(st.sampled_from(names))))
    spec = _spec(names, redact)
    obj = SimpleNamespace(**dict(zip(names, values, strict=True)))
    state = spec.state(obj)  # type: ignore[arg-type]  # a model stand-in
    assert state == _reference_state(spec, obj)
    assert list(state) == names
    assert [type(v) for v in state.values()] == [
        type(v) for v in _reference_state(spec, obj).values()
    ]


def test_state_of_no_field_and_of_one_field() -> None:
    empty = SimpleNamespace()
    assert _spec([], frozenset()).state(empty) == {}  # type: ignore[arg-type]  # a model stand-in
    one = SimpleNamespace(code=decimal.Decimal("1.50"))
    state = _spec(["code"], frozenset()).state(one)  # type: ignore[arg-type]  # a model stand-in
    assert state == {"code": "1.50"}


_STATE = st.dictionaries(
    st.sampled_from("abcdef"),
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(["", "x", "1"]),
)


@hypothesis.settings(max_examples=300, deadline=None, database=None)
@given(before=st.none() | _STATE, after=st.none() | _STATE, same_keys=st.booleans())
def test_diff_equals_the_general_comparison(
    before: dict[str, Any] | None, after: dict[str, Any] | None, same_keys: bool
) -> None:
    if same_keys and before is not None and after is not None:
        after = {k: after.get(k, before[k]) for k in before}
    assert diff(before, after) == _reference_diff(before, after)
    assert list(diff(before, after)) == list(_reference_diff(before, after))


@pytest.fixture
def admin(db: Any) -> User:
    return bootstrap_administrator(
        username="ada", full_name="Ada Admin", email="ada@x.test"
    ).user


def _update(site: Site, admin: User, name: str) -> AuditEntry:
    before = snapshot(site)
    with transaction.atomic():
        site.name = name
        site.save()
        return audit_record("accounts.site.update", site, actor=admin, before=before,
                            reason="Renamed")


# The number (SQLite: MAX + 1; PostgreSQL: drawn from the sequence with its lock), the row.
_ENTRY_STATEMENTS = {"sqlite": ["SELECT", "INSERT"], "postgresql": ["WITH", "INSERT"]}


def _entry_statement(sql: str) -> bool:
    return "trail_auditentry" in sql or "trail_entry_seq" in sql


def test_observed_queries_go_through_django_and_write_the_same_entry(admin: User) -> None:
    """Query logging and execute wrappers see both statements of an entry; entries written
    with and without them are alike and verify."""
    site = site_create(actor=admin, code="bsl", name="Basel")
    direct = _update(site, admin, "Basel 1")
    with CaptureQueriesContext(connection) as captured:
        logged = _update(site, admin, "Basel 2")
    statements = [q["sql"] for q in captured.captured_queries]
    assert [s.split()[0] for s in statements if _entry_statement(s)] == _ENTRY_STATEMENTS[
        connection.vendor]

    seen: list[str] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        wrapped = _update(site, admin, "Basel 3")
    assert [s.split()[0] for s in seen if _entry_statement(s)] == _ENTRY_STATEMENTS[
        connection.vendor]

    assert [e.seq for e in (direct, logged, wrapped)] == [direct.seq, direct.seq + 1,
                                                          direct.seq + 2]
    for entry in (direct, logged, wrapped):
        stored = AuditEntry.objects.get(seq=entry.seq)
        assert {f.attname: getattr(entry, f.attname) for f in AuditEntry._meta.fields} == {
            f.attname: getattr(stored, f.attname) for f in AuditEntry._meta.fields
        }
        assert entry.data == stored.data
        assert entry._state.adding is False
    assert [AuditEntry.objects.get(seq=e.seq).changes["name"] for e in (direct, logged, wrapped)
            ] == [["Basel", "Basel 1"], ["Basel 1", "Basel 2"], ["Basel 2", "Basel 3"]]
    report = check_trail()
    assert (report.ok, report.problems) == (True, [])


def test_init_signal_receivers_get_the_returned_entry(admin: User) -> None:
    """With a pre_init receiver connected anywhere, the entry is built by `Model.__init__`."""
    site = site_create(actor=admin, code="bsl", name="Basel")
    calls: list[type] = []

    def receiver(sender: type, **kwargs: Any) -> None:
        calls.append(sender)

    pre_init.connect(receiver, sender=AuditEntry)
    try:
        entry = _update(site, admin, "Basel 1")
    finally:
        pre_init.disconnect(receiver, sender=AuditEntry)
    assert calls == [AuditEntry]
    stored = AuditEntry.objects.get(seq=entry.seq)
    assert (entry.seq, entry.at, entry.body, bytes(entry.leaf_hash), entry._state.adding) == (
        stored.seq, stored.at, stored.body, bytes(stored.leaf_hash), False
    )


def test_a_broken_transaction_refuses_the_entry(admin: User) -> None:
    """As a Django cursor would: no statement runs in a transaction marked for rollback."""
    site = site_create(actor=admin, code="bsl", name="Basel")
    count = AuditEntry.objects.count()
    with transaction.atomic():
        transaction.set_rollback(True)
        with pytest.raises(TransactionManagementError):
            audit_record("accounts.site.update", site, actor=admin, before=snapshot(site),
                         reason="Renamed")
    assert AuditEntry.objects.count() == count
