"""The writes the benchmark times: one service per (model, verb), each one transaction.

The audited pair follows the cyberqms pattern (change and audit entry commit together);
the plain pair is the same write with no history; the simple-history pair is the same
write with simple-history's post_save signal recording who and why.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from benchapp.models import Audited, Historied, Plain
from cyberqms.platform.trail.record import audit_record, snapshot


def plain_create(**values: Any) -> Plain:
    with transaction.atomic():
        return Plain.objects.create(**values)


def plain_update(record: Plain, **values: Any) -> Plain:
    with transaction.atomic():
        for name, value in values.items():
            setattr(record, name, value)
        record.save(update_fields=list(values))
    return record


def audited_create(*, actor: Any, **values: Any) -> Audited:
    """Side effects: audit entry `bench.audited.create`."""
    with transaction.atomic():
        record = Audited.objects.create(**values)
        audit_record("bench.audited.create", record, actor=actor, created=True)
    return record


def audited_update(record: Audited, *, actor: Any, reason: str, **values: Any) -> Audited:
    """Side effects: audit entry `bench.audited.update` with the changed fields."""
    with transaction.atomic():
        before = snapshot(record)
        for name, value in values.items():
            setattr(record, name, value)
        record.save(update_fields=list(values))
        audit_record("bench.audited.update", record, actor=actor, before=before, reason=reason)
    return record


def historied_create(*, actor: Any, **values: Any) -> Historied:
    """Side effects: one historical row (simple-history)."""
    with transaction.atomic():
        record = Historied(**values)
        record._history_user = actor  # type: ignore[attr-defined]  # simple-history's hook
        record.save()
    return record


def historied_update(record: Historied, *, actor: Any, reason: str, **values: Any) -> Historied:
    """Side effects: one historical row (simple-history) naming the user and reason."""
    with transaction.atomic():
        for name, value in values.items():
            setattr(record, name, value)
        record._history_user = actor  # type: ignore[attr-defined]  # simple-history's hook
        record._change_reason = reason  # type: ignore[attr-defined]  # simple-history's hook
        record.save(update_fields=list(values))
    return record
