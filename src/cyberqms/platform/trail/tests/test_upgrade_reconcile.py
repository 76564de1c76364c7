"""An upgrade that adds a field to an audited record (A11-24: data stays intact after
upgrades): the rows it found hold the field's default, and reconciliation does not take
them for edits; a value written there outside cyberqms still is one."""

from __future__ import annotations

import pytest
from django.utils import timezone

from cyberqms.platform.backups.models import Backup
from cyberqms.platform.trail import registry
from cyberqms.platform.trail.integrity import check_trail
from cyberqms.platform.trail.record import audit_record

pytestmark = pytest.mark.django_db
ADDED = ("verified_at", "verify_passed", "removed_at")  # fields a later version added


@pytest.fixture
def written_by_an_older_version(monkeypatch: pytest.MonkeyPatch) -> Backup:
    """A backup recorded while its model had no ADDED fields, then the running version."""
    full = registry.audited(Backup)
    older = registry.AuditedModel(Backup, full.type_name,
                                  tuple(f for f in full.fields if f.attname not in ADDED),
                                  full.redact, full.label, full.view_action)
    monkeypatch.setitem(registry._REGISTRY, Backup, older)
    monkeypatch.setitem(registry._BY_NAME, full.type_name, older)
    backup = Backup.objects.create(
        created_at=timezone.now(), file_name="old.cqbackup", folder="/b", size=1,
        sha256="0" * 64, engine="sqlite", version="0.0.9", rows=1, seconds=0.1, manifest={})
    audit_record("backups.backup.create", backup, actor=None, created=True)
    monkeypatch.setitem(registry._REGISTRY, Backup, full)
    monkeypatch.setitem(registry._BY_NAME, full.type_name, full)
    return backup


def test_fields_added_by_an_upgrade_at_their_default_are_no_edit(
        written_by_an_older_version: Backup) -> None:
    report = check_trail()
    assert [p.message for p in report.problems] == []


def test_a_value_written_into_an_added_field_outside_cyberqms_is_found(
        written_by_an_older_version: Backup) -> None:
    Backup.objects.filter(pk=written_by_an_older_version.pk).update(verify_passed=True)
    report = check_trail()
    assert [(p.object_id, p.fields) for p in report.problems] == [
        (str(written_by_an_older_version.pk), ("verify_passed",))]


