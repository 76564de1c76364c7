"""E-signatures are inside the trail's proof (Part 11 §11.70): each one is an audited row
of its own, so verification reconciles it and names a signature that was edited, added
or deleted outside cyberqms, with the record it signs."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from cyberqms.platform.core import guards
from cyberqms.platform.core.models import Signature
from cyberqms.platform.kit.records import kind_by_slug
from cyberqms.platform.trail.integrity import check_trail
from cyberqms.platform.trail.models import AuditEntry

from .kit import record_in_state

pytestmark = pytest.mark.django_db


def _signed(personas: dict[str, Any]) -> Signature:
    """The QA approval signature of an approved deviation."""
    kind = kind_by_slug("deviations")
    record = record_in_state(kind, "approved", personas)
    return Signature.objects.get(record_type=kind.type_name, record_id=str(record.pk))


def _signature_problems() -> list[tuple[str, str, tuple[str, ...]]]:
    report = check_trail(reconcile=True)
    return [(p.object_id, p.message, p.fields) for p in report.problems
            if p.object_type == "core.signature"]


def test_each_signature_has_its_audit_entry_with_its_content(personas: dict[str, Any]) -> None:
    signature = _signed(personas)
    entry = AuditEntry.objects.get(object_type="core.signature", object_id=str(signature.pk))
    assert (entry.action, entry.changes["meaning"], entry.changes["record_hash"],
            entry.changes["username"]) == (
        "core.signature.create", [None, "Approved"], [None, signature.record_hash],
        [None, signature.username])
    assert _signature_problems() == []


def test_an_edited_signature_row_is_named_with_its_record(personas: dict[str, Any]) -> None:
    signature = _signed(personas)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_signature SET meaning = %s WHERE id = %s",
                       ["Rejected", signature.pk])
    assert _signature_problems() == [(
        str(signature.pk),
        f"core.signature {signature.pk} (Signature “Rejected” by {signature.username} on "
        f"{signature.record_label}) was changed outside cyberqms: meaning differs from the "
        "audit trail", ("meaning",))]


def test_a_signature_row_added_in_sql_is_named(personas: dict[str, Any]) -> None:
    signature = _signed(personas)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO core_signature (record_type, record_id, record_label, record_hash, "
            "action, meaning, reason, signer_id, printed_name, username, signed_at, "
            "components, channel, correlation_id) SELECT record_type, record_id, record_label, "
            "record_hash, action, 'Closed', reason, signer_id, printed_name, username, "
            "signed_at, components, channel, correlation_id FROM core_signature WHERE id = %s",
            [signature.pk])
    forged = Signature.objects.exclude(pk=signature.pk).get()
    assert _signature_problems() == [(
        str(forged.pk),
        f"core.signature {forged.pk} (Signature “Closed” by {signature.username} on "
        f"{signature.record_label}) has no audit entry: created outside cyberqms", ())]


def test_a_signature_row_deleted_past_the_guards_is_named(personas: dict[str, Any]) -> None:
    """Someone who owns the database can drop the deletion guard; the proof still tells."""
    signature = _signed(personas)
    guards.remove(connection)
    try:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM core_signature WHERE id = %s", [signature.pk])
    finally:
        guards.install(connection)
    assert _signature_problems() == [(
        str(signature.pk),
        f"core.signature {signature.pk} is in the audit trail but missing from the "
        "database: deleted outside cyberqms", ())]
