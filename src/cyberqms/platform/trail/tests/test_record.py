"""`audit_record`: numbering, refusals and the exact content of an entry."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

import hypothesis
import pytest
import rfc8785
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from cyberqms.platform.accounts.bootstrap import bootstrap_administrator
from cyberqms.platform.accounts.models import Site, User
from cyberqms.platform.accounts.services import site_create, user_create, user_reset_password
from cyberqms.platform.core.context import RequestContext, acting_context
from cyberqms.platform.trail.integrity import check_trail
from cyberqms.platform.trail.merkle import leaf_hash
from cyberqms.platform.trail.models import AuditEntry
from cyberqms.platform.trail.record import AuditError, audit_record, snapshot
from cyberqms.platform.trail.registry import audited, state_hash
from cyberqms.platform.trail.tests.tampering import sql

pytestmark = pytest.mark.usefixtures("trail_key")


def _touch(**kwargs: Any) -> AuditEntry:
    return audit_record("test.thing.touch", object_type="test.thing", object_id=1, **kwargs)


def _stored(seq: int) -> tuple[str, bytes]:
    body, leaf = sql("SELECT body, leaf_hash FROM trail_auditentry WHERE seq = %s", [seq])[0]
    return str(body), bytes(leaf)


@pytest.fixture
def admin(db: Any) -> User:
    return bootstrap_administrator(
        username="ada", full_name="Ada Admin", email="ada@x.test"
    ).user


def test_seq_is_gap_free_when_a_transaction_rolls_back(db: Any) -> None:
    """AL-07, SQLite: a rolled-back entry's number is reused by the next entry, leaving no
    gap (its writers are serialized)."""
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL voids a rolled-back number instead (the test below)")
    with transaction.atomic():
        assert _touch().seq == 1

    def refused_change() -> None:
        with transaction.atomic():
            assert _touch().seq == 2
            assert _touch().seq == 3
            raise RuntimeError("change refused")

    with pytest.raises(RuntimeError, match=r"^change refused$"):
        refused_change()
    with transaction.atomic():
        assert _touch().seq == 2
    assert list(AuditEntry.objects.values_list("seq", flat=True)) == [1, 2]


def test_postgresql_voids_the_numbers_of_a_rolled_back_change(db: Any) -> None:
    """AL-07, PostgreSQL: writers draw numbers without waiting for each other's commit, so
    a rolled-back change's numbers are not reused; the seal fills each with a void entry
    saying so (and reports them), and the trail stays gap-free and verifies."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite reuses a rolled-back number (the test above)")
    from cyberqms.platform.core.models import SecurityEvent
    from cyberqms.platform.trail.integrity import check_trail
    from cyberqms.platform.trail.log import trail_seal

    with transaction.atomic():
        assert _touch().seq == 1

    def refused_change() -> None:
        with transaction.atomic():
            assert (_touch().seq, _touch().seq) == (2, 3)
            raise RuntimeError("change refused")

    with pytest.raises(RuntimeError, match=r"^change refused$"):
        refused_change()
    with transaction.atomic():
        assert _touch().seq == 4
    with transaction.atomic():
        sealed = trail_seal()
    assert (sealed.added, list(AuditEntry.objects.order_by("seq").values_list(
        "seq", "action", "object_id"))) == (4, [
            (1, "test.thing.touch", "1"), (2, "trail.seq.void", "2"),
            (3, "trail.seq.void", "3"), (4, "test.thing.touch", "1")])
    assert list(SecurityEvent.objects.filter(kind="trail.seq.voided").values_list(
        "severity", "data")) == [("low", {"numbers": [2, 3], "count": 2})]
    report = check_trail()
    assert (report.ok, report.entries) == (True, 4)


def test_a_number_in_flight_stops_the_seal_before_it(db: Any) -> None:
    """PostgreSQL: a number drawn by a transaction that has not ended is in flight; the
    seal signs the entries before it, and the rest once that transaction has ended."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite writers are serialized: no number is ever in flight")
    from django.db import connections

    from cyberqms.platform.trail.log import trail_seal
    from cyberqms.platform.trail.record import _DRAW, NUMBER_LOCK_CLASS

    with transaction.atomic():
        _touch()
        _touch()
    writer = connections.create_connection("default")  # another session, mid-change
    try:
        with writer.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(_DRAW, [NUMBER_LOCK_CLASS])
            assert cursor.fetchone()[0] == 3
        with transaction.atomic():
            assert _touch().seq == 4
        with transaction.atomic():
            assert trail_seal().added == 2  # 1 and 2; 3 is in flight
        with writer.cursor() as cursor:
            cursor.execute("ROLLBACK")
    finally:
        writer.close()
    with transaction.atomic():
        assert trail_seal().added == 2  # 3 (void) and 4
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", "action")) == [
        (1, "test.thing.touch"), (2, "test.thing.touch"), (3, "trail.seq.void"),
        (4, "test.thing.touch")]


def test_a_sequence_left_behind_the_entries_catches_up(db: Any) -> None:
    """PostgreSQL: a sequence that lags the entries (a restore without it, or someone
    resetting it) costs one retry, not one per entry it lags, and no number twice."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite numbers entries MAX + 1")
    with transaction.atomic():
        for _ in range(5):
            _touch()
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval('trail_entry_seq', 1, false)")
    with transaction.atomic():
        assert (_touch().seq, _touch().seq) == (6, 7)


def test_a_refused_entry_rolls_back_the_change_it_describes(admin: User) -> None:
    """P11-06: the record change and its entry commit or roll back together."""
    entries_before = AuditEntry.objects.count()

    def delete_without_reason() -> None:
        with transaction.atomic():
            site = Site.objects.create(code="TMP", name="Temporary")
            audit_record("accounts.site.delete", site, actor=admin, deleted=True)

    with pytest.raises(AuditError, match=r"^A reason is required for accounts\.site\.delete\.$"):
        delete_without_reason()
    assert Site.objects.filter(code="TMP").exists() is False
    assert AuditEntry.objects.count() == entries_before


@pytest.mark.django_db(transaction=True)
def test_refused_outside_a_transaction() -> None:
    """P11-06: an entry written outside the change's transaction could outlive a rollback."""
    with pytest.raises(AuditError) as refused:
        _touch()
    assert str(refused.value) == "audit_record must run inside the transaction of the change"
    assert refused.value.field == "__all__"
    assert AuditEntry.objects.count() == 0


def test_reason_required_for_configured_action_patterns(db: Any, settings: Any) -> None:
    """AL-05: actions matching CYBERQMS_TRAIL_REASON_REQUIRED need a non-blank reason."""
    settings.CYBERQMS_TRAIL_REASON_REQUIRED = ["*.update", "qa.override"]
    with transaction.atomic():
        for action in ("test.thing.update", "qa.override"):
            for reason in (None, "", "   \n"):
                with pytest.raises(AuditError) as refused:
                    audit_record(action, object_type="test.thing", object_id=1, reason=reason)
                assert str(refused.value) == f"A reason is required for {action}."
                assert refused.value.field == "reason"
        assert AuditEntry.objects.count() == 0

        updated = audit_record(
            "test.thing.update", object_type="test.thing", object_id=1, reason="  Typo fixed \n"
        )
        unmatched = [
            audit_record(action, object_type="test.thing", object_id=1)
            for action in ("test.thing.create", "qa.override.extra", "test.update.thing")
        ]
    assert AuditEntry.objects.get(seq=updated.seq).reason == "Typo fixed"
    assert [AuditEntry.objects.get(seq=e.seq).data["reason"] for e in unmatched] == [None] * 3


def test_default_reason_patterns_cover_destructive_actions(db: Any) -> None:
    """AL-05, AL-06: deletions, revocations and rotations carry their reason by default."""
    with transaction.atomic():
        for action in ("accounts.user.deactivate", "capa.capa.delete", "trail.key.rotate",
                       "trail.flag.resolve", "accounts.role.revoke"):
            with pytest.raises(AuditError, match=r"^A reason is required for "):
                audit_record(action, object_type="test.thing", object_id=1)


def test_entry_without_a_record_must_name_its_subject(db: Any) -> None:
    with transaction.atomic():
        for kwargs in ({}, {"object_type": "test.thing"}, {"object_id": 4}):
            with pytest.raises(AuditError) as refused:
                audit_record("test.thing.touch", **kwargs)
            assert str(refused.value) == (
                "an entry without a record needs object_type and object_id"
            )


def test_update_entry_body_holds_prior_values_context_and_state(admin: User) -> None:
    """P11-07, P11-08, AL-01, AL-03: who (printed name), when (server UTC), old → new, why,
    from where, and the hash of the record's state after the change."""
    site = site_create(actor=admin, code="bsl", name="Basel")
    context = RequestContext(channel="web", source_ip="10.0.0.7", session_ref="5e55",
                             correlation_id="c0ffee00c0ffee00c0ffee00c0ffee00")
    before = snapshot(site)
    site.name = "Basel Stücki"
    site.country = "ch"
    started = timezone.now()
    with acting_context(context), transaction.atomic():
        site.save()
        entry = audit_record("accounts.site.update", site, actor=admin, before=before,
                             reason="Moved to the new campus", signature_id=42)
    finished = timezone.now()

    stored = AuditEntry.objects.get(seq=entry.seq)
    data = json.loads(stored.body)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", data["at"])
    at = datetime.strptime(data["at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert started <= at <= finished
    assert data == {
        "v": 1,
        "seq": entry.seq,
        "at": data["at"],
        "actor": {"id": admin.pk, "name": "Ada Admin", "username": "ada"},
        "action": "accounts.site.update",
        "object": {"type": "accounts.site", "id": str(site.pk), "label": "BSL"},
        "changes": {"name": ["Basel", "Basel Stücki"], "country": ["", "ch"]},
        "reason": "Moved to the new campus",
        "correlation": "c0ffee00c0ffee00c0ffee00c0ffee00",
        "signature": "42",
        "context": {"channel": "web", "source": "10.0.0.7", "session": "5e55", "token": None},
        "state": state_hash(audited(Site).state(Site.objects.get(pk=site.pk))),
    }
    assert (stored.at, stored.actor_id, stored.action, stored.object_type, stored.object_id,
            stored.state_hash, stored.correlation_id) == (
        at, admin.pk, "accounts.site.update", "accounts.site", str(site.pk), data["state"],
        "c0ffee00c0ffee00c0ffee00c0ffee00",
    )
    assert (entry.seq, entry.body, bytes(entry.leaf_hash)) == (
        stored.seq, stored.body, bytes(stored.leaf_hash)
    )


def test_actor_printed_name_is_a_snapshot(admin: User) -> None:
    """AL-01, P11-18: a later change of the person's name does not rewrite history."""
    site = site_create(actor=admin, code="bsl", name="Basel")
    entry = AuditEntry.objects.filter(object_type="accounts.site", object_id=str(site.pk)).get()
    User.objects.filter(pk=admin.pk).update(full_name="Ada Lovelace")
    assert AuditEntry.objects.get(seq=entry.seq).actor_name == "Ada Admin"
    assert AuditEntry.objects.get(seq=entry.seq).data["actor"] == {
        "id": admin.pk, "name": "Ada Admin", "username": "ada"
    }


def test_system_actor_when_nobody_acts(db: Any) -> None:
    with transaction.atomic():
        entry = _touch()
    assert AuditEntry.objects.get(seq=entry.seq).data["actor"] == {
        "id": None, "name": "cyberqms (system)", "username": ""
    }
    assert AuditEntry.objects.get(seq=entry.seq).actor_id is None


def test_password_hash_is_redacted_in_creation_and_change(admin: User) -> None:
    """P11-08 without leaking secrets: the password hash shows only as sha256 of itself."""
    issued = user_create(actor=admin, username="bob", full_name="Bob Baker",
                         email="bob@x.test", reason="New QA hire")
    bob = User.objects.get(pk=issued.user.pk)
    created = AuditEntry.objects.get(action="accounts.user.create", object_id=str(bob.pk))
    first_hash = bob.password
    redacted_first = "sha256:" + hashlib.sha256(first_hash.encode()).hexdigest()
    assert created.changes["password"] == [None, redacted_first]
    assert created.changes["full_name"] == [None, "Bob Baker"]
    assert created.changes["must_change_password"] == [None, True]
    assert created.reason == "New QA hire"
    assert first_hash not in created.body
    assert issued.password not in created.body

    reset = user_reset_password(bob, actor=admin, reason="Forgot it")
    bob.refresh_from_db()
    entry = AuditEntry.objects.get(action="accounts.user.reset_password")
    assert entry.changes == {
        "password": [redacted_first,
                     "sha256:" + hashlib.sha256(bob.password.encode()).hexdigest()],
    }
    assert bob.password not in entry.body
    assert reset.password not in entry.body
    assert entry.state_hash == state_hash(audited(User).state(bob))


def test_creation_lists_every_audited_field_and_state_matches_live_row(admin: User) -> None:
    """P11-06: creation entries carry the full initial state; its hash is the live row's."""
    site = site_create(actor=admin, code="gva", name="Geneva", country="ch")
    live = Site.objects.get(pk=site.pk)
    entry = AuditEntry.objects.get(action="accounts.site.create")
    state = audited(Site).state(live)
    assert entry.changes == {name: [None, value] for name, value in state.items()}
    assert entry.state_hash == state_hash(state)
    assert entry.data["state"] == entry.state_hash
    assert sorted(state) == ["code", "country", "created_at", "id", "is_active", "name",
                             "time_zone"]


def test_deletion_entry_records_the_last_state_and_reconciles(admin: User) -> None:
    """AL-06: a deletion through the application is in the trail with every prior value."""
    site = site_create(actor=admin, code="tmp", name="Temporary")
    before = snapshot(site)
    pk = site.pk
    with transaction.atomic():
        site.delete()
        entry = audit_record("accounts.site.delete", site, actor=admin, before=before,
                             deleted=True, reason="Created by mistake")
    stored = AuditEntry.objects.get(seq=entry.seq)
    assert stored.state_hash == "deleted"
    assert stored.data["state"] == "deleted"
    assert stored.object_id == str(pk)
    assert stored.changes == {name: [value, None] for name, value in before.items()}
    report = check_trail()
    assert report.problems == []
    assert report.ok is True

    other = site_create(actor=admin, code="tmp2", name="Temporary too")

    def delete_without_snapshot() -> None:
        with transaction.atomic():
            other.delete()
            audit_record("accounts.site.delete", other, actor=admin, deleted=True,
                         reason="Created by mistake")

    with pytest.raises(AuditError) as refused:
        delete_without_snapshot()
    assert str(refused.value) == "a deleted record needs before=snapshot(obj) or object_id"


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=3),
    max_leaves=8,
)


def test_body_is_rfc8785_canonical_and_leaf_hash_is_rfc9162(db: Any) -> None:
    """CYB-02: the stored body is exactly the JCS serialisation of the entry and its leaf
    hash is SHA-256(0x00 || body), for any label, reason and change values."""

    @hypothesis.settings(max_examples=40, deadline=None, database=None)
    @given(
        label=st.text(max_size=250),
        reason=st.text(min_size=1, max_size=40).filter(str.strip),
        changes=st.dictionaries(st.text(max_size=10), st.tuples(_JSON, _JSON).map(list),
                                max_size=4),
    )
    def check(label: str, reason: str, changes: dict[str, list[Any]]) -> None:
        with transaction.atomic():
            entry = _touch(label=label, reason=reason, changes=changes)
        body, leaf = _stored(entry.seq)
        assert rfc8785.dumps(json.loads(body)) == body.encode("utf-8")
        assert leaf == hashlib.sha256(b"\x00" + body.encode("utf-8")).digest()
        assert leaf == leaf_hash(body.encode("utf-8"))
        data = json.loads(body)
        assert (data["seq"], data["object"]["label"], data["reason"], data["changes"]) == (
            entry.seq, label[:200], reason.strip(), changes
        )

    check()
