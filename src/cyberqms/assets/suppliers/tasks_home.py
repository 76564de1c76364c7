"""The tasks a supplier's responsible person finds on the home page: a re-assessment past
its date (A11-03), and agreements that expire within
CYBERQMS_SUPPLIER_AGREEMENT_WARNING_DAYS, or have expired, with nothing newer of the same
kind."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from cyberqms.platform.core.home import OpenTask

from .enums import SupplierState
from .models import Supplier, SupplierAgreement

IN_USE = (SupplierState.CANDIDATE, SupplierState.APPROVED, SupplierState.CONDITIONAL)


def expiring_agreements(suppliers: list[Supplier], *, today: dt.date | None = None
                        ) -> dict[int, list[SupplierAgreement]]:
    """For each supplier, its newest agreement of each kind when that one expires within
    the warning window (or has expired): one query for all of them."""
    today = today or timezone.localdate()
    horizon = today + dt.timedelta(days=settings.CYBERQMS_SUPPLIER_AGREEMENT_WARNING_DAYS)
    newest: dict[tuple[int, str], SupplierAgreement] = {}
    for agreement in (SupplierAgreement.objects
                      .filter(record_id__in=[s.pk for s in suppliers], removed_at__isnull=True)
                      .order_by("expires_on", "id")):
        newest[(agreement.record_id, agreement.kind)] = agreement  # the latest expiry wins
    out: dict[int, list[SupplierAgreement]] = {s.pk: [] for s in suppliers}
    for (supplier_id, _kind), agreement in sorted(newest.items(),
                                                   key=lambda item: item[1].expires_on):
        if agreement.expires_on <= horizon:
            out[supplier_id].append(agreement)
    return out


def supplier_tasks(user: Any) -> list[OpenTask]:
    suppliers = list(Supplier.objects.filter(owner_id=user.pk, is_deleted=False,
                                             state__in=IN_USE).order_by("title")[:200])
    if not suppliers:
        return []
    today = timezone.localdate()
    expiring = expiring_agreements(suppliers, today=today)
    tasks = []
    for supplier in suppliers:
        url = reverse("suppliers:detail", args=[supplier.pk])
        if supplier.due_date is not None and supplier.due_date < today:
            tasks.append(OpenTask(
                f"Re-assessment of {supplier.number} {supplier.title} is overdue",
                f"It was due on {supplier.due_date.isoformat()}: assess the supplier again "
                "and record the assessment.", f"{url}#rows-assessments", "high",
                supplier.due_date))
        for agreement in expiring[supplier.pk]:
            past = agreement.expires_on < today
            tasks.append(OpenTask(
                f"{agreement.get_kind_display()} with {supplier.title} "
                f"{'expired' if past else 'expires'} on {agreement.expires_on.isoformat()}",
                f"{agreement.reference}: renew it and record the new agreement on "
                f"{supplier.number}.",
                f"{url}#rows-agreements",
                "high" if past else "medium", agreement.expires_on))
    return tasks
