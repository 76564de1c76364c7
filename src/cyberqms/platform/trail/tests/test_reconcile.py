"""Reconciliation of live records with the trail, and what a failed verification sets off.

All data here is made through the services, so the trail describes every row exactly;
the edits under test are then made with raw SQL, as someone bypassing cyberqms would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from cyberqms.platform.accounts.bootstrap import bootstrap_administrator
from cyberqms.platform.accounts.models import Site, User
from cyberqms.platform.accounts.services import (
    role_grant,
    site_create,
    user_create,
    user_deactivate,
)
from cyberqms.platform.core.context import RequestContext, acting_context
from cyberqms.platform.core.models import SecurityEvent
from cyberqms.platform.trail.integrity import Problem, check_trail
from cyberqms.platform.trail.log import trail_seal
from cyberqms.platform.trail.models import AuditEntry, IntegrityFlag, Verification
from cyberqms.platform.trail.record import replay
from cyberqms.platform.trail.registry import audited, state_hash
from cyberqms.platform.trail.services import TrailError, flag_resolve, open_flags, trail_verify
from cyberqms.platform.trail.tests.tampering import body, set_body, sql


@dataclass
class Records:
    admin: User
    basel: Site
    geneva: Site
    bob: User


@pytest.fixture
def records(db: Any, trail_key: Any) -> Records:
    admin = bootstrap_administrator(
        username="ada", full_name="Ada Admin", email="ada@x.test"
    ).user
    basel = site_create(actor=admin, code="bsl", name="Basel")
    geneva = site_create(actor=admin, code="gva", name="Geneva")
    bob = user_create(actor=admin, username="bob", full_name="Bob Baker", email="bob@x.test",
                      reason="New QA hire", site=basel).user
    trail_seal()
    report = check_trail()
    assert report.problems == []
    return Records(admin, basel, geneva, bob)


def _fingerprint(obj: Any) -> str:
    live = type(obj)._default_manager.get(pk=obj.pk)
    return state_hash(audited(live).state(live))[:16]


def _changed(obj: Any, type_name: str, label: str, fields: tuple[str, ...]) -> Problem:
    return Problem(
        "record",
        f"{type_name} {obj.pk} ({label}) was changed outside cyberqms: {', '.join(fields)} "
        f"{'differs' if len(fields) == 1 else 'differ'} from the audit trail",
        object_type=type_name,
        object_id=str(obj.pk),
        fields=fields,
        fingerprint=_fingerprint(obj),
    )


def test_services_keep_every_live_record_reconciled(records: Records) -> None:
    """P11-06: every record made through the services matches its latest entry."""
    report = check_trail()
    assert report.ok is True
    assert report.records == 5  # 2 users, 1 role assignment, 2 sites


def test_direct_update_of_a_user_names_record_and_field(records: Records) -> None:
    """P11-02: a field edited in the database is named with its record."""
    sql("UPDATE accounts_user SET full_name = 'Mallory Moe' WHERE id = %s", [records.bob.pk])
    assert check_trail().problems == [
        _changed(records.bob, "accounts.user", "bob", ("full_name",))
    ]


def test_direct_update_of_several_fields_names_each(records: Records) -> None:
    sql("UPDATE accounts_user SET email = 'x@evil.test', is_superuser = %s WHERE id = %s",
        [True, records.bob.pk])
    assert check_trail().problems == [
        _changed(records.bob, "accounts.user", "bob", ("email", "is_superuser"))
    ]


def test_direct_update_of_a_site_names_record_and_field(records: Records) -> None:
    sql("UPDATE accounts_site SET name = 'Basle' WHERE id = %s", [records.basel.pk])
    assert check_trail().problems == [
        _changed(records.basel, "accounts.site", "BSL", ("name",))
    ]


def test_direct_password_change_is_named_without_revealing_hashes(records: Records) -> None:
    """P11-02, P11-28: a password hash swapped in the database is detected."""
    sql("UPDATE accounts_user SET password = 'md5$planted$0123' WHERE id = %s",
        [records.bob.pk])
    problems = check_trail().problems
    assert problems == [_changed(records.bob, "accounts.user", "bob", ("password",))]
    assert "planted" not in problems[0].message


def test_fields_are_named_against_the_replayed_history(records: Records) -> None:
    """A direct edit after audited changes names only the field changed outside cyberqms."""
    user_deactivate(records.bob, actor=records.admin, reason="Left the company")
    assert check_trail().ok is True
    sql("UPDATE accounts_user SET title = 'Director' WHERE id = %s", [records.bob.pk])
    assert check_trail().problems == [_changed(records.bob, "accounts.user", "bob", ("title",))]
    replayed = replay("accounts.user", str(records.bob.pk))
    assert replayed["is_active"] is False
    assert replayed["deactivation_reason"] == "Left the company"


def test_row_inserted_directly_is_reported(records: Records) -> None:
    """P11-02: a record with no creation entry was created outside cyberqms."""
    sql("INSERT INTO accounts_site (code, name, country, time_zone, is_active, created_at) "
        "VALUES ('ZRH', 'Zurich', 'CH', 'UTC', %s, %s)", [True, "2025-01-01 00:00:00"])
    zurich = Site.objects.get(code="ZRH")
    assert check_trail().problems == [
        Problem(
            "record",
            f"accounts.site {zurich.pk} (ZRH) has no audit entry: created outside cyberqms",
            object_type="accounts.site",
            object_id=str(zurich.pk),
            fingerprint=_fingerprint(zurich),
        )
    ]


def test_row_deleted_directly_is_reported(records: Records) -> None:
    """AL-06, P11-04: a record deleted in the database is missing against its trail."""
    sql("DELETE FROM accounts_site WHERE id = %s", [records.geneva.pk])
    assert check_trail().problems == [
        Problem(
            "record",
            f"accounts.site {records.geneva.pk} is in the audit trail but missing from the "
            "database: deleted outside cyberqms",
            object_type="accounts.site",
            object_id=str(records.geneva.pk),
            fingerprint="deleted",
        )
    ]


def test_passed_verification_is_recorded_and_audited(records: Records) -> None:
    """CYB-02: every run leaves a Verification row and an audit entry; no alarm."""
    entries = AuditEntry.objects.count()
    verification, report = trail_verify()
    assert report.ok is True
    assert (verification.result, verification.mode, verification.from_seq,
            verification.to_seq, verification.entries_checked, verification.records_checked,
            verification.checkpoint_size, verification.first_problem,
            verification.problems) == ("passed", "full", 1, entries, entries, 5, entries, "",
                                       [])
    entry = AuditEntry.objects.get(action="trail.verification.run")
    assert (entry.seq, entry.object_type, entry.object_id, entry.actor_id) == (
        entries + 1, "trail.verification", str(verification.pk), None
    )
    assert entry.changes == {
        "result": [None, "passed"],
        "entries_checked": [None, entries],
        "records_checked": [None, 5],
        "problems": [None, 0],
        "witnessed_size": [None, None],
    }
    assert IntegrityFlag.objects.count() == 0
    assert SecurityEvent.objects.filter(kind__startswith="trail.").count() == 0


def test_failed_verification_flags_audits_and_alerts_once(records: Records) -> None:
    """P11-02: a failure raises a flag on the record, an audit entry and a critical
    security event; a second run with the same finding does not duplicate the flag and
    reports it as persisting at medium severity."""
    sql("UPDATE accounts_user SET full_name = 'Mallory Moe' WHERE id = %s", [records.bob.pk])
    problem = _changed(records.bob, "accounts.user", "bob", ("full_name",))

    verification, report = trail_verify()
    assert report.problems == [problem]
    assert (verification.result, verification.first_problem, verification.problems) == (
        "failed", problem.message, [problem.as_dict()]
    )
    flag = IntegrityFlag.objects.get()
    assert (flag.problem_key, flag.kind, flag.object_type, flag.object_id, flag.seq,
            flag.fields, flag.message, flag.verification_id, flag.is_open) == (
        problem.key, "record", "accounts.user", str(records.bob.pk), None, ["full_name"],
        problem.message, verification.pk, True,
    )
    assert open_flags("accounts.user", records.bob.pk) == [flag]
    raised = AuditEntry.objects.get(action="trail.flag.raise")
    assert (raised.object_type, raised.object_id) == ("trail.flag", str(flag.pk))
    run = AuditEntry.objects.get(action="trail.verification.run")
    assert run.changes["result"] == [None, "failed"]
    assert run.changes["problems"] == [None, 1]
    assert raised.seq < run.seq
    event = SecurityEvent.objects.get(kind="trail.integrity.failure")
    assert (event.severity, event.message, event.data) == (
        "critical",
        f"Audit-trail verification failed: {problem.message}",
        {"verification": verification.pk, "problems": 1, "new_flags": 1,
         "first": problem.as_dict()},
    )

    again, report = trail_verify()
    assert report.problems == [problem]
    assert IntegrityFlag.objects.count() == 1
    assert AuditEntry.objects.filter(action="trail.flag.raise").count() == 1
    assert AuditEntry.objects.filter(action="trail.verification.run").count() == 2
    assert SecurityEvent.objects.filter(kind="trail.integrity.failure").count() == 1
    persisting = SecurityEvent.objects.get(kind="trail.integrity.failure.persisting")
    assert (persisting.severity, persisting.data["new_flags"], persisting.data["verification"]) == (
        "medium", 0, again.pk
    )


@pytest.mark.usefixtures("unguarded")
def test_altered_entry_flags_the_record_it_describes(records: Records) -> None:
    """P11-02: an edited audit entry shows as a flag on the record whose history it is."""
    created = AuditEntry.objects.get(action="accounts.site.create", object_id=str(records.basel.pk))
    set_body(created.seq, body(created.seq).replace('"Basel"', '"Basle"'))
    _, report = trail_verify(reconcile=False)
    assert report.first == Problem(
        "entry", f"entry {created.seq}: content altered (hash does not match)", seq=created.seq
    )
    flags = list(IntegrityFlag.objects.order_by("id").values_list(
        "problem_key", "kind", "object_type", "object_id", "seq"))
    assert flags[0] == (f"entry:{created.seq}", "entry", "accounts.site", str(records.basel.pk),
                        created.seq)
    assert open_flags("accounts.site", records.basel.pk)[0].seq == created.seq


def test_resolving_a_flag_keeps_the_finding_and_is_audited(records: Records) -> None:
    """P11-02: a flag is closed by IT security with a reason; it never disappears."""
    security = user_create(actor=records.admin, username="ivy", full_name="Ivy Sec",
                           email="ivy@x.test", reason="Security officer").user
    role_grant(security, "it_security", actor=records.admin, reason="Security officer")
    sql("UPDATE accounts_site SET name = 'Basle' WHERE id = %s", [records.basel.pk])
    trail_verify()
    flag = IntegrityFlag.objects.get()
    with pytest.raises(TrailError) as refused:
        flag_resolve(flag, actor=security, reason="  ")
    assert refused.value.text == "A reason is required."

    resolved = flag_resolve(flag, actor=security, reason="Typo fixed by DBA, ticket 4711")
    assert (resolved.is_open, resolved.resolved_by_id, resolved.resolution) == (
        False, security.pk, "Typo fixed by DBA, ticket 4711"
    )
    entry = AuditEntry.objects.get(action="trail.flag.resolve")
    assert (entry.actor_id, entry.reason, entry.object_id) == (
        security.pk, "Typo fixed by DBA, ticket 4711", str(flag.pk)
    )
    assert sorted(entry.changes) == ["resolution", "resolved_at", "resolved_by_id"]
    assert open_flags("accounts.site", records.basel.pk) == []
    with pytest.raises(TrailError) as again:
        flag_resolve(flag, actor=security, reason="twice")
    assert again.value.text == "This flag is already resolved."
    # The finding itself persists: the record still differs from its trail.
    assert [p.object_id for p in check_trail().problems] == [str(records.basel.pk)]


def test_incremental_verification_starts_after_the_last_passed_checkpoint(
    records: Records,
) -> None:
    """CYB-02: hourly runs re-check only what is new since the last passed checkpoint, and
    reconcile only the records its new entries name (issue 14: here the new site, not all
    six)."""
    first, report = trail_verify()
    covered = first.checkpoint_size
    assert (report.ok, covered) == (True, first.to_seq)
    site_create(actor=records.admin, code="zrh", name="Zurich")
    sealed = trail_seal().checkpoint
    assert sealed is not None

    second, report = trail_verify(since_checkpoint=True)
    assert (report.ok, report.mode, report.from_seq, report.to_seq, report.entries,
            report.checkpoints, report.records) == (
        True, "incremental", covered + 1, sealed.size, sealed.size - covered, 1, 1
    )
    assert (second.mode, second.from_seq, second.checkpoint_size) == (
        "incremental", covered + 1, sealed.size
    )


def test_an_untouched_record_changed_outside_cyberqms_is_left_to_the_full_run(
    records: Records,
) -> None:
    """The trade-off of incremental reconciliation: a record that no new entry names and
    whose row says it did not change (sites keep no `updated_at`) waits for the daily full
    run, which finds it."""
    trail_verify()
    Site.objects.filter(pk=records.basel.pk).update(name="Basle")
    site_create(actor=records.admin, code="zrh", name="Zurich")
    trail_seal()
    _, incremental = trail_verify(since_checkpoint=True)
    _, full = trail_verify()
    assert (incremental.ok, incremental.records) == (True, 1)
    assert [(p.object_id, p.fields) for p in full.problems] == [
        (str(records.basel.pk), ("name",))]


def test_incremental_reconciliation_reads_the_records_updated_since_its_start(
    personas: dict[str, Any], trail_key: Any,
) -> None:
    """A quality record changed outside cyberqms with its `updated_at` moved is found by the
    next hourly run, though no entry names it."""
    from django.utils import timezone

    from cyberqms.quality.deviations.models import Deviation
    from cyberqms.quality.deviations.tests.factories import deviation_in_state

    site = site_create(actor=personas["admin"], code="muc", name="Munich")
    deviation = deviation_in_state(personas, "draft", site=site)
    trail_seal()
    trail_verify()
    Deviation.objects.filter(pk=deviation.pk).update(
        title="Quietly renamed", updated_at=timezone.now())
    _, report = trail_verify(since_checkpoint=True)
    assert (report.mode, report.records) == ("incremental", 1)
    assert [(p.object_type, p.object_id, p.fields) for p in report.problems] == [
        ("deviations.deviation", str(deviation.pk), ("title", "updated_at"))]


@pytest.mark.usefixtures("unguarded")
def test_incremental_verification_finds_tampering_after_its_start(records: Records) -> None:
    first, _ = trail_verify()
    covered = first.checkpoint_size
    site = site_create(actor=records.admin, code="zrh", name="Zurich")
    sealed = trail_seal().checkpoint
    assert sealed is not None
    created = AuditEntry.objects.get(action="accounts.site.create", object_id=str(site.pk))
    set_body(created.seq, body(created.seq).replace('"Zurich"', '"Zürich"'), rehash=True)
    _, report = trail_verify(since_checkpoint=True, reconcile=False)
    assert (report.mode, report.from_seq) == ("incremental", covered + 1)
    assert report.problems == [
        Problem(
            "entry",
            f"entry {created.seq}: not written by cyberqms (authenticator does not match)",
            seq=created.seq,
        ),
        Problem(
            "checkpoint",
            f"checkpoint {sealed.size}: entries {covered + 1}..{sealed.size} do not hash to "
            "the signed root (altered, inserted, removed or reordered)",
            size=sealed.size,
            seq=covered + 1,
        )
    ]
    assert covered + 1 <= created.seq <= sealed.size


def test_incremental_falls_back_to_full_when_its_saved_start_is_altered(
    records: Records,
) -> None:
    """A start state that no longer matches its signed checkpoint is not trusted."""
    first, _ = trail_verify()
    nodes = list(first.checkpoint_nodes)
    nodes[0] = "00" * 32
    Verification.objects.filter(pk=first.pk).update(checkpoint_nodes=nodes)
    _, report = trail_verify(since_checkpoint=True)
    assert (report.ok, report.mode, report.from_seq) == (True, "full", 1)


def test_incremental_without_a_passed_run_checks_everything(records: Records) -> None:
    _, report = trail_verify(since_checkpoint=True)
    assert (report.ok, report.mode, report.from_seq) == (True, "full", 1)


def test_verification_on_the_web_needs_a_person(records: Records) -> None:
    """CYB-01: the system actor is for the scheduler and the CLI, never for web or API."""
    with acting_context(RequestContext(channel="web")), pytest.raises(TrailError) as refused:
        trail_verify()
    assert refused.value.text == "An authenticated user is required."
    assert Verification.objects.count() == 0

