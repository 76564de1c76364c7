"""Restore tests as records (issue 19, item 2; A11-13, A11-24): cyberqms's own, recorded
with each step's evidence and signed by IT; a failed one raises a critical alert; those of
other systems recorded by hand and reviewed by someone else than who performed them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from cyberqms.assets.restores.models import RestoreTest
from cyberqms.platform.accounts.services import site_create
from cyberqms.platform.backups.services import backup_create
from cyberqms.platform.backups.tests.keys import own_backup_keys
from cyberqms.platform.backups.verify import backup_verify
from cyberqms.platform.core.models import SecurityEvent
from cyberqms.platform.kit.records import kind_by_slug
from cyberqms.platform.kit.tests.kit import ready_to_sign, record_in_state, signature
from cyberqms.platform.kit.workflow import GuardFailed, SegregationOfDuties

RESTORE_TESTS = kind_by_slug("restore-tests")


@pytest.fixture(autouse=True)
def own_keys(settings: Any, tmp_path: Path) -> None:
    """Keys of this test's own (see platform/backups/tests/test_backups.own_keys)."""
    own_backup_keys(settings, tmp_path)


@pytest.fixture
def system(personas: dict[str, Any]) -> Any:
    """cyberqms's own entry in the inventory, with an RTO of 4 hours, at a site made
    through the service (audited: the restored copy's trail reconciles every record)."""
    site = site_create(actor=personas["admin"], code="MUC", name="Munich")
    return record_in_state(kind_by_slug("systems"), "validated", personas, site=site,
                           title="cyberqms eQMS", rto_hours=4,
                           security_contact=personas["it_security"])


def flip(path: Path, at: int = 100) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.django_db(transaction=True)
def test_a_passed_restore_test_is_recorded_for_cyberqms_in_it_review_a11_13(
        system: Any) -> None:
    backup_create()
    (test,) = backup_verify().records
    assert (test.number.startswith("RST-"), test.state, test.outcome, test.system_id,
            test.site_id, test.owner_id, test.performed_by_id) == (
        True, "review", "passed", system.pk, system.site_id, system.security_contact_id,
        None)


@pytest.mark.django_db(transaction=True)
def test_the_record_keeps_each_step_and_the_time_to_restore_within_the_rto_a11_24(
        system: Any) -> None:
    backup_create()
    result = backup_verify()
    (test,) = result.records
    assert ([s["step"] for s in test.evidence["steps"]], test.time_to_restore,
            test.rto_met) == (
        ["file", "restore", "rows", "migrate", "trail", "pdf"],
        dt.timedelta(seconds=result.time_to_restore), True)


@pytest.mark.django_db(transaction=True)
def test_a_failed_restore_test_raises_a_critical_event_naming_the_record(
        system: Any) -> None:
    backup = backup_create()
    flip(Path(backup.folder) / backup.file_name)
    (test,) = backup_verify().records
    event = SecurityEvent.objects.get(kind="backup.restore_test.failed")
    assert (test.outcome, event.severity, event.data["restore_test"], event.data["step"]) == (
        "failed", "critical", test.number, "file")


@pytest.mark.django_db(transaction=True)
def test_a_failed_restore_test_raises_a_critical_alert(system: Any, settings: Any) -> None:
    from cyberqms.security.monitoring import services
    from cyberqms.security.monitoring.models import Alert

    settings.CYBERQMS_MONITOR_OWN_EVENTS = True
    services.reload_rules()
    backup = backup_create()
    flip(Path(backup.folder) / backup.file_name)
    backup_verify()
    alert = Alert.objects.get(rule_id="a868e8e7-d787-44fd-a503-c6389b944a04")
    assert (alert.level, alert.title) == ("critical", "Restore test failed")


@pytest.mark.django_db(transaction=True)
def test_it_security_signs_the_restore_test_cyberqms_performed(
        system: Any, personas: dict[str, Any]) -> None:
    backup_create()
    (test,) = backup_verify().records
    it = ready_to_sign(personas["it_security"], personas["admin"])
    RESTORE_TESTS.workflow.run(test, "review", actor=it, signature=signature(it))
    test.refresh_from_db()
    assert (test.state, test.closed_at is not None) == ("reviewed", True)


@pytest.mark.django_db(transaction=True)
def test_a_failed_restore_is_signed_only_once_its_follow_up_is_written(
        system: Any, personas: dict[str, Any]) -> None:
    backup = backup_create()
    flip(Path(backup.folder) / backup.file_name)
    (test,) = backup_verify().records
    it = ready_to_sign(personas["it_security"], personas["admin"])
    with pytest.raises(GuardFailed) as refused:
        RESTORE_TESTS.workflow.run(test, "review", actor=it, signature=signature(it))
    assert (refused.value.field, refused.value.text) == ("follow_up", (
        "Write the follow-up of the failed restore first (the deviation or CAPA that "
        "makes it work)."))


@pytest.mark.django_db(transaction=True)
def test_the_command_fails_naming_the_step_and_the_record(system: Any, capsys: Any) -> None:
    backup = backup_create()
    flip(Path(backup.folder) / backup.file_name)
    with pytest.raises(CommandError) as failed:
        call_command("backup", "verify", str(Path(backup.folder) / backup.file_name))
    out = capsys.readouterr().out
    test = RestoreTest.objects.get()
    assert (failed.value.returncode, str(failed.value).split(":")[0],
            f"Restore test recorded: {test.number}" in out) == (
        1, 'Restore test failed at "Backup file authenticated"', True)


@pytest.mark.django_db
def test_who_performed_a_restore_does_not_review_it(personas: dict[str, Any]) -> None:
    it = ready_to_sign(personas["it_security"], personas["admin"])
    test = record_in_state(RESTORE_TESTS, "review", personas, performed_by=it)
    with pytest.raises(SegregationOfDuties):
        RESTORE_TESTS.workflow.run(test, "review", actor=it, signature=signature(it))
    assert RestoreTest.objects.get(pk=test.pk).state == "review"


@pytest.mark.django_db
def test_a_restore_over_the_systems_rto_needs_its_follow_up(personas: dict[str, Any]) -> None:
    test = record_in_state(RESTORE_TESTS, "review", personas,
                           time_to_restore=dt.timedelta(hours=30))
    qa = ready_to_sign(personas["qa_manager"], personas["admin"])
    with pytest.raises(GuardFailed) as refused:
        RESTORE_TESTS.workflow.run(test, "review", actor=qa, signature=signature(qa))
    assert (refused.value.field, refused.value.text) == ("follow_up", (
        f"The restore took longer than the system's RTO of {test.system.rto_hours} hours: "
        "write the follow-up first."))


@pytest.mark.django_db
def test_a_negative_time_to_restore_is_refused(personas: dict[str, Any]) -> None:
    test = record_in_state(RESTORE_TESTS, "draft", personas)
    test.time_to_restore = dt.timedelta(minutes=-5)
    with pytest.raises(ValidationError) as refused:
        test.full_clean()
    assert refused.value.message_dict["time_to_restore"] == [
        "A time to restore is not negative."]


@pytest.mark.django_db(transaction=True)
def test_a_failed_restore_test_shows_on_the_home_page_of_qa(
        system: Any, personas: dict[str, Any], login: Any) -> None:
    backup = backup_create()
    flip(Path(backup.folder) / backup.file_name)
    (test,) = backup_verify().records
    page = login(personas["qa_manager"]).get("/")
    panel = page.text.split('data-testid="last-restore-test"')[1].split("</p>")[0]
    assert ('<span class="badge bad">Failed</span>' in panel, test.number in panel) == (
        True, True)


def _api_body(site: Any, **fields: Any) -> dict[str, Any]:
    return {"site": site.code, "title": "Restore of the LIMS from tape",
            "backup_name": "LIMS full, 2026-11-30", "outcome": "passed",
            "owner": "it_security", **fields}


@pytest.mark.django_db
@pytest.mark.parametrize(("value", "message"), [
    ("two hours", "A duration (PT2H30M, or 02:30:00)."),
    ("999999999999 days", "A duration (PT2H30M, or 02:30:00)."),
    ("P100D", "At most 90 days: a longer outage is a failed restore."),
])
def test_a_time_to_restore_that_is_no_duration_is_refused_naming_it(
        personas: dict[str, Any], login: Any, value: str, message: str) -> None:
    site = site_create(actor=personas["admin"], code="MUC", name="Munich")
    response = login(personas["it_security"]).post(
        "/api/v1/restore-tests", _api_body(site, time_to_restore=value),
        content_type="application/json")
    assert (response.status_code, response.json()["errors"]) == (
        422, [{"field": "time_to_restore", "message": message}])


@pytest.mark.django_db
def test_a_restore_test_recorded_over_the_api_reads_back_its_duration(
        personas: dict[str, Any], login: Any) -> None:
    site = site_create(actor=personas["admin"], code="MUC", name="Munich")
    client = login(personas["it_security"])
    made = client.post("/api/v1/restore-tests", _api_body(site, time_to_restore="PT2H30M"),
                       content_type="application/json").json()
    found = client.get(f"/api/v1/restore-tests/{made['id']}").json()
    assert (found["time_to_restore"], RestoreTest.objects.get().time_to_restore) == (
        "P0DT02H30M00S", dt.timedelta(hours=2, minutes=30))


@pytest.mark.django_db(transaction=True)
def test_a_lims_test_recorded_later_does_not_hide_a_failed_one_of_cyberqms(
        system: Any, personas: dict[str, Any], login: Any) -> None:
    backup = backup_create()
    flip(Path(backup.folder) / backup.file_name)
    (failed,) = backup_verify().records
    from django.utils import timezone

    record_in_state(RESTORE_TESTS, "review", personas, site=system.site,
                    event_at=timezone.now())  # a LIMS, passed, performed after
    page = login(personas["it_security"]).get("/")
    panel = page.text.split('data-testid="last-restore-test"')[1].split("</p>")[0]
    assert (failed.number in panel, "Failed" in panel) == (True, True)
