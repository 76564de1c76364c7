"""Deviations, declared for the record kit: the rest of the list, forms, API and tests
comes from core; what is a deviation's own is here and in workflow.py."""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from cyberqms.platform.core.access import can
from cyberqms.platform.kit.record_filters import RecordFilterSet, YesNoFilter
from cyberqms.platform.kit.records import Column, RecordKind, kind_of
from cyberqms.platform.kit.references import reference_link

from .enums import Classification, DeviationState, RootCauseCategory
from .models import Deviation
from .queries import REFERENCE_NOTE, SECURITY_TYPES, linked_capas, security_record
from .workflow import DEVIATION_WORKFLOW

S = DeviationState

_CONTEXT = ("department", "area", "product_reference")
_IMPACT = ("gxp_impact", "gxp_impact_text", "data_integrity_impact",
           "data_integrity_impact_text", "cyber_related", "security_reference")
_INVESTIGATION = ("investigation_summary", "root_cause_category", "root_cause",
                  "capa_required")
CREATE_FIELDS = ("title", "description", "owner", "event_at", "late_entry_reason",
                 "due_date", "classification", *_CONTEXT, *_IMPACT, "immediate_actions")
# What may change in each state; closed and cancelled deviations change no more.
EDITABLE: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset(CREATE_FIELDS),
    S.OPEN: frozenset({"owner", "classification", "immediate_actions", *_CONTEXT, *_IMPACT}),
    S.INVESTIGATION: frozenset({"owner", "classification", "immediate_actions", *_CONTEXT,
                                *_IMPACT, *_INVESTIGATION}),
    S.QA_REVIEW: frozenset({"classification", "capa_required", "qa_comments"}),
    S.APPROVED: frozenset({"capa_required", "qa_comments"}),
}


class DeviationFilter(RecordFilterSet):
    search_fields = ("security_reference", "product_reference")
    classification = django_filters.ChoiceFilter(
        choices=[*Classification.choices, ("none", "Not classified")], empty_label="Any",
        method="by_classification", label="Classification")
    cyber_related = YesNoFilter(label="Cyber-related")
    sort_fields = (*RecordFilterSet.sort_fields, ("classification", "classification"))

    class Meta:
        model = Deviation
        fields: list[str] = []

    def by_classification(self, rows: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return rows.filter(classification="" if value == "none" else value)


def check_security_reference(d: Deviation, actor: Any, changed: tuple[str, ...]) -> None:
    """A security reference names a real alert or incident at the deviation's site that
    the person writing it may see (pages, API and services alike)."""
    if "security_reference" not in changed or not d.security_reference:
        return
    if security_record(d, actor) is None:
        raise ValidationError({"security_reference": [
            f"No security alert or incident {d.security_reference} at {d.site.code} that you "
            "may see: choose one from the suggestions."
        ]})


def link_security_reference(d: Deviation, actor: Any, changed: tuple[str, ...]) -> None:
    """The named alert or incident is linked to the deviation (both pages show it); a
    changed or cleared reference removes the link to the one named before."""
    if "security_reference" not in changed:
        return
    reference_link(d, security_record(d), actor=actor, types=SECURITY_TYPES,
                   note=REFERENCE_NOTE)


def security_summary(d: Deviation, actor: Any) -> dict[str, str] | None:
    """The API's view of the named alert or incident, when the caller may see it."""
    found = security_record(d, actor)
    return None if found is None else {"number": found.number, "kind": found.noun,
                                       "title": found.title, "url": found.url}


def cyber_badge(d: Deviation) -> list[tuple[str, str, str]]:
    if not d.cyber_related:
        return []
    tip = "Cyber-related" + (f": {d.security_reference}" if d.security_reference else "")
    return [("cyber", "cyber", tip)]


def capa_summaries(d: Deviation, actor: Any) -> list[dict[str, Any]]:
    return [{"id": c.pk, "number": c.number, "title": c.title, "state": c.state}
            for c in linked_capas(d)]


SPAWN_STATES = (S.INVESTIGATION, S.QA_REVIEW, S.APPROVED)


def page_context(request: HttpRequest, d: Deviation, capa_form: Any = None) -> dict[str, Any]:
    """The deviation page's own blocks: linked CAPAs and the form to spawn one."""
    from .forms import SpawnCapaForm

    actor = request.user
    can_spawn = (d.state in SPAWN_STATES and not d.is_deleted
                 and can(actor, "deviations.edit", d) and can(actor, "capa.create", d))
    capas = linked_capas(d)
    for capa in capas:
        capa.page_url = kind_of(capa).detail_url(capa)
    return {
        "deviation": d,
        "capas": capas,
        "capa_form": (capa_form or SpawnCapaForm(deviation=d, initial={
            "title": f"CAPA for {d.number}: {d.title}"[:200], "owner": d.owner_id,
        })) if can_spawn else None,
        "root_cause_label": dict(RootCauseCategory.choices).get(d.root_cause_category, ""),
        # The named alert or incident, linked when the viewer may see it.
        "security": security_record(d, actor),
    }


DEVIATIONS = RecordKind(
    slug="deviations", model=Deviation, workflow=DEVIATION_WORKFLOW, prefix="DEV",
    label="Deviation", action_prefix="deviations", closed_states=(S.CLOSED, S.CANCELLED),
    summary="Unplanned departures from approved procedures: triage, investigation, root "
            "cause, QA approval and closure.",
    nav_section="Quality", nav_icon="alert", nav_order=10,
    filterset=DeviationFilter,
    # The owner investigates: one who lacks the training that step needs is not named.
    assignees={"owner": ("complete_investigation",)},
    columns=(Column("number", "Number", "number"), Column("title", "Title", "title"),
             Column("classification", "Class", "classification"),
             Column("state", "State", "state"), Column("site", "Site"),
             Column("owner", "Owner"), Column("due_date", "Due", "due"),
             Column("created_at", "Opened", "created")),
    create_fields=CREATE_FIELDS, editable=EDITABLE, restricted={"qa_comments": "review"},
    labels={"description": "What happened", "owner": "Owner (investigator)",
            "event_at": "When it happened (or was found)",
            "late_entry_reason": "Reason for late entry", "area": "Area / process",
            "product_reference": "Product / batch", "classification": "Classification",
            "root_cause_category": "Root-cause category"},
    detail_template="deviations/deviation_detail.html",
    create_template="deviations/deviation_create.html",
    detail_context=page_context, row_badges=cyber_badge,
    api_list_fields=("classification", "cyber_related", "security_reference", "gxp_impact",
                     "data_integrity_impact"),
    api_extra=(("capas", list[dict[str, Any]], capa_summaries),
               ("security_record", dict[str, str] | None, security_summary)),
    checks=(check_security_reference,), after_write=(link_security_reference,),
    own_grants={"approve_critical": ("qa_manager",)},
    own_urls="cyberqms.quality.deviations.urls", own_api="cyberqms.quality.deviations.api",
)
