"""No hard delete of GxP records (P11-04, 21 CFR 11.10(c)): a closed, e-signed record of
every family, its signatures and its parts refuse deletion through the row, the queryset
and SQL typed against the database; each such table carries its guard."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from cyberqms.platform.core.guards import kept_tables
from cyberqms.platform.core.models import DeletionRefused, Signature
from cyberqms.platform.kit.records import kind_by_slug

from .kit import kit_families, record_in_state

pytestmark = pytest.mark.django_db
FAMILIES = [kind.slug for kind in kit_families()]


def _sql_delete(table: str, pk: Any) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [pk])  # table names come from the models


def _closed(slug: str, personas: dict[str, Any]) -> Any:
    kind = kind_by_slug(slug)
    return kind, record_in_state(kind, kind.closed_states[0], personas)


@pytest.mark.parametrize("slug", FAMILIES)
def test_a_closed_signed_record_refuses_delete_on_the_row(slug: str,
                                                         personas: dict[str, Any]) -> None:
    kind, record = _closed(slug, personas)
    with pytest.raises(DeletionRefused) as refused:
        record.delete()
    assert str(refused.value) == (
        f"{kind.model._meta.verbose_name} {record.pk} is kept: GxP records, signatures and "
        "record parts are never deleted; withdraw it logically, with a reason.")
    assert kind.model._default_manager.filter(pk=record.pk).exists()


@pytest.mark.parametrize("slug", FAMILIES)
def test_a_closed_signed_record_refuses_delete_on_the_queryset(
        slug: str, personas: dict[str, Any]) -> None:
    kind, record = _closed(slug, personas)
    with pytest.raises(DeletionRefused):
        kind.model._default_manager.filter(pk=record.pk).delete()
    assert kind.model._default_manager.filter(pk=record.pk).exists()


@pytest.mark.parametrize("slug", FAMILIES)
def test_sql_delete_of_a_closed_signed_record_is_refused_by_the_database(
        slug: str, personas: dict[str, Any]) -> None:
    kind, record = _closed(slug, personas)
    with pytest.raises(DatabaseError, match="refused"):
        _sql_delete(kind.model._meta.db_table, record.pk)
    assert kind.model._default_manager.filter(pk=record.pk).exists()


def test_signatures_refuse_delete_by_orm_and_sql(personas: dict[str, Any]) -> None:
    kind, record = _closed("deviations", personas)
    signature = Signature.objects.filter(record_type=kind.type_name,
                                         record_id=str(record.pk)).first()
    assert signature is not None
    with pytest.raises(DeletionRefused):
        signature.delete()
    with pytest.raises(DeletionRefused):
        Signature.objects.filter(pk=signature.pk).delete()
    with pytest.raises(DatabaseError, match="refused"):
        _sql_delete("core_signature", signature.pk)
    assert Signature.objects.filter(pk=signature.pk).exists()


def test_every_kept_table_carries_its_guard() -> None:
    assert kept_tables() == [
        "access_systemaccount", "backups_backup", "capa_capa", "capa_capaaction", "changes_change", "changes_changetask",
        "complaints_complaint", "core_attachment", "core_comment", "core_duedateextension",
        "core_recordlink", "core_signature", "core_signaturecommitment",
        "deviations_deviation", "documents_controlleddocument", "documents_documentversion",
        "drills_drill",
        "evaluations_evaluation", "findings_accessfinding", "governance_accessreview",
        "governance_attestation", "governance_privilegechange", "governance_reviewitem",
        "incidents_incident",
        "notifications_sample_widget",  # the test suite's sample family (settings_test)
        "restores_restoretest", "risks_risk", "risks_riskassessment", "suppliers_supplier", "suppliers_supplieragreement", "suppliers_supplierassessment",
        "systems_postureentry", "systems_system", "systems_systeminterface",
        "systems_validationdeliverable",
        "training_quizattempt", "training_trainingassignment"]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE %s", ["%_kept"])
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                           "AND name LIKE %s", ["%_kept"])
        guarded = sorted(name.removesuffix("_kept") for (name,) in cursor.fetchall())
    assert guarded == kept_tables()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE exists on PostgreSQL only")
def test_truncate_of_a_kept_table_is_refused() -> None:
    with pytest.raises(DatabaseError, match="refused"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute("TRUNCATE core_signature CASCADE")
