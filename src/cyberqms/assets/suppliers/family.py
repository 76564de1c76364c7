"""Suppliers, declared for the record kit: the approved supplier list (A11-03). Their own
parts are the assessments and agreements (row tables) and the systems they provide."""

from __future__ import annotations

from typing import Any

import django_filters
from django.http import HttpRequest
from django.utils import timezone

from cyberqms.platform.accounts.queries import holders_of
from cyberqms.platform.kit.record_filters import RecordFilterSet, YesNoFilter
from cyberqms.platform.kit.record_rows import Rows
from cyberqms.platform.kit.records import Column, RecordKind, running_number
from cyberqms.platform.notifications.services import notify_record
from cyberqms.platform.trail.record import audit_record, snapshot

from .enums import SupplierScope, SupplierState
from .models import Supplier, SupplierAgreement, SupplierAssessment
from .workflow import SUPPLIER_WORKFLOW

S = SupplierState

_ENTERED = ("title", "scope", "supplies", "gxp_critical", "contact", "description", "owner")


class SupplierFilter(RecordFilterSet):
    search_fields = ("supplies", "contact")
    scope = django_filters.ChoiceFilter(choices=SupplierScope.choices, empty_label="Any")
    gxp_critical = YesNoFilter(label="GxP-critical")
    sort_fields = (*RecordFilterSet.sort_fields, ("title", "name"))

    class Meta:
        model = Supplier
        fields: list[str] = []


def reassessment_due(row: SupplierAssessment, actor: Any) -> None:
    """The supplier's due date is its latest assessment's next date; the approvers hear
    that a supplier under qualification has been assessed."""
    supplier = Supplier.objects.select_for_update().get(pk=row.record_id)
    latest = (SupplierAssessment.objects.filter(record_id=supplier.pk, removed_at__isnull=True)
              .order_by("-assessed_on", "-id").first())
    due = latest.next_due if latest is not None else None
    if supplier.state in (S.DISQUALIFIED, S.INACTIVE):
        due = None  # nothing scheduled: an assessment to requalify is recorded when made
    if supplier.due_date != due:
        before = snapshot(supplier)
        supplier.due_date = due
        supplier.save(update_fields=["due_date", "updated_at"])
        audit_record("suppliers.supplier.reassessment_due", supplier, actor=actor,
                     before=before)
    if row.removed_at is None and supplier.state == S.CANDIDATE:
        notify_record(holders_of("suppliers.approve", supplier.site_id), supplier,
                      kind="approval_due", subject="assessed: approval due", exclude=actor)


def page_context(request: HttpRequest, supplier: Supplier) -> dict[str, Any]:
    from django.apps import apps

    provided: list[Any] = []
    if apps.is_installed("cyberqms.assets.systems"):
        system_model = apps.get_model("systems", "System")
        provided = list(system_model._default_manager.filter(supplier=supplier,
                                                              is_deleted=False)
                        .select_related("site", "owner").order_by("title"))
    from .tasks_home import expiring_agreements

    return {"supplier": supplier, "provided": provided,
            "expiring": expiring_agreements([supplier])[supplier.pk],
            "today": timezone.localdate()}


def supplier_badges(supplier: Supplier) -> list[tuple[str, str, str]]:
    if supplier.gxp_critical:
        return [("info", "GxP-critical", "Its goods or services affect product quality or "
                 "GxP data.")]
    return []


SUPPLIER_ASSESSMENTS = Rows(
    name="assessments", model=SupplierAssessment, heading="Assessments",
    fields=("method", "assessed_on", "score", "outcome", "next_due", "summary", "reference"),
    shown=("assessed_on", "method", "score", "outcome", "next_due", "summary", "reference"),
    note="Qualification and re-assessments: the latest sets when the next is due.",
    after=(reassessment_due,),
)
SUPPLIER_AGREEMENTS = Rows(
    name="agreements", model=SupplierAgreement, heading="Agreements",
    fields=("kind", "reference", "starts_on", "expires_on"),
    note="Quality and security agreements in force; a renewal is a new row.",
)

SUPPLIERS = RecordKind(
    slug="suppliers", model=Supplier, workflow=SUPPLIER_WORKFLOW, prefix="SUP",
    label="Supplier", action_prefix="suppliers", initial_state=S.CANDIDATE,
    deletable_states=(S.CANDIDATE,), closed_states=(S.INACTIVE,),
    summary="The approved supplier list (Annex 11 §3): software vendors, SaaS and hosting "
            "providers, service and material suppliers, with their assessments, agreements "
            "and the systems they provide.",
    nav_section="Systems and risk", nav_icon="truck", nav_order=20,
    numbering=lambda record, actor: running_number("SUP"), number_shape="SUP-NNNN",
    filterset=SupplierFilter, row_badges=supplier_badges,
    detail_template="suppliers/supplier_detail.html", detail_context=page_context,
    rows=(SUPPLIER_ASSESSMENTS, SUPPLIER_AGREEMENTS),
    columns=(Column("number", "Number", "number"), Column("title", "Name", "name"),
             Column("scope", "Scope"), Column("state", "Status", "state"),
             Column("site", "Site"), Column("owner", "Responsible"),
             Column("due_date", "Next assessment", "due")),
    create_fields=_ENTERED,
    editable={
        state: frozenset({"title", "scope", "supplies", "gxp_critical", "contact",
                          "description", "owner", "conditions"})
        for state in (S.CANDIDATE, S.APPROVED, S.CONDITIONAL, S.DISQUALIFIED)
    },
    restricted={"conditions": "approve"},
    labels={"title": "Name", "owner": "Responsible (purchasing or QA)",
            "due_date": "Next assessment"},
    sections=(
        ("Supplier", ("scope", "supplies", "gxp_critical", "contact", "description")),
        ("Approval", ("conditions", "due_date")),
    ),
)
