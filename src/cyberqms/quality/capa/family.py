"""CAPA, declared for the record kit. What is a CAPA's own stays with it: its actions (child
records), the effectiveness check, the source record it answers."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from cyberqms.platform.core.access import can
from cyberqms.platform.core.models import RecordLink
from cyberqms.platform.kit.record_filters import RecordFilterSet, YesNoFilter
from cyberqms.platform.kit.record_parts import link_create
from cyberqms.platform.kit.records import (
    Column,
    QualityRecord,
    RecordKind,
    all_kinds,
    check_due_date,
    find_by_number,
    kind_of,
)

from .enums import ActionState, CapaSource, CapaState
from .models import Capa, CapaAction
from .workflow import CAPA_WORKFLOW

S = CapaState
CLOSED_STATES = (S.CLOSED, S.CANCELLED)
RECORD_NUMBER = re.compile(r"^[A-Z]{2,10}-\d{4}-\d{4,}$")
CREATE_FIELDS = ("title", "owner", "source", "source_reference", "problem_statement",
                 "description", "due_date", "cyber_related", "event_at", "late_entry_reason",
                 "root_cause")
# Fields each state lets change. The due date moves by extension (core) once the plan left
# draft; the criteria are part of the approved plan.
EDITABLE: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({
        "title", "description", "owner", "source", "source_reference", "problem_statement",
        "root_cause", "cyber_related", "due_date", "effectiveness_criteria",
        "effectiveness_due"}),
    S.OPEN: frozenset({
        "title", "description", "problem_statement", "root_cause", "cyber_related",
        "effectiveness_criteria", "effectiveness_due"}),
    S.IMPLEMENTATION: frozenset({"description", "root_cause", "cyber_related",
                                 "effectiveness_due"}),
}
# States in which actions may be added, edited or cancelled.
PLANNING_STATES = (S.DRAFT, S.OPEN, S.IMPLEMENTATION)


def late_actions(today: dt.date) -> Any:
    return CapaAction.objects.filter(capa=OuterRef("pk"), state=ActionState.OPEN,
                                     due_date__lt=today)


def with_late_actions(rows: QuerySet[Any]) -> QuerySet[Any]:
    """List rows carry whether an open action is past due (one query for the page)."""
    return rows.annotate(has_late_action=Exists(late_actions(timezone.localdate())))


class CapaFilter(RecordFilterSet):
    search_fields = ("source_reference",)
    source = django_filters.ChoiceFilter(choices=CapaSource.choices, empty_label="Any")
    cyber_related = YesNoFilter(label="Cyber-related")

    class Meta:
        model = Capa
        fields: list[str] = []

    def only_overdue(self, rows: QuerySet[Any], name: str, value: bool) -> QuerySet[Any]:
        """Overdue: the CAPA or one of its open actions is past due."""
        today = timezone.localdate()
        late = ~Q(state__in=CLOSED_STATES) & (Q(due_date__lt=today)
                                              | Exists(late_actions(today)))
        return rows.filter(late) if value else rows.exclude(late)

    def only_mine(self, rows: QuerySet[Any], name: str, value: bool) -> QuerySet[Any]:
        """Mine: I own the CAPA or one of its open actions."""
        actor = getattr(self.request, "auth", None) or getattr(self.request, "user", None)
        pk = getattr(actor, "pk", None)
        mine = Q(owner_id=pk) | Exists(CapaAction.objects.filter(
            capa=OuterRef("pk"), owner_id=pk, state=ActionState.OPEN))
        return rows.filter(mine) if value else rows.exclude(mine)


def source_record(actor: Any, reference: str) -> QualityRecord | None:
    """The quality record `reference` names, if it is one of our record numbers.

    :raises ValidationError: it looks like our record number but names no record the
        actor can see.
    """
    reference = reference.strip().upper()
    if not RECORD_NUMBER.match(reference):
        return None
    record = find_by_number(reference)
    if record is None and reference.split("-", 1)[0] not in {k.prefix for k in all_kinds()}:
        return None  # another system's identifier (an incident ticket, say)
    if record is None or record.is_deleted or not can(actor, kind_of(record).view_action,
                                                      record):
        raise ValidationError({"source_reference": [f"No record {reference} that you can see."]})
    return record


def check_plan(capa: Capa, actor: Any, changed: tuple[str, ...]) -> None:
    """The effectiveness check is due on or after today and after the CAPA itself; a
    source reference that is a record number names a record the actor can see."""
    if "effectiveness_due" in changed and capa.effectiveness_due is not None:
        check_due_date(capa.effectiveness_due, field="effectiveness_due")
    if capa.effectiveness_due and capa.due_date and capa.effectiveness_due < capa.due_date:
        field = "effectiveness_due" if "effectiveness_due" in changed else "due_date"
        raise ValidationError({field: [
            f"The effectiveness check cannot be due before the CAPA itself "
            f"({capa.due_date.isoformat()})." if field == "effectiveness_due" else
            "The CAPA cannot be due after its effectiveness check "
            f"({capa.effectiveness_due.isoformat()})."]})
    if "source_reference" in changed and capa.source_reference:
        origin = source_record(actor, capa.source_reference)
        if origin is not None:
            capa.source_reference = origin.number


def link_source(capa: Capa, actor: Any, changed: tuple[str, ...]) -> None:
    """The record a CAPA answers is linked to it ("spawned"), seen on both."""
    if "source_reference" not in changed or not capa.source_reference:
        return
    origin = find_by_number(capa.source_reference)
    if origin is None or origin == capa:
        return
    if not RecordLink.objects.filter(
            removed_at__isnull=True, from_type=kind_of(origin).type_name,
            from_id=str(origin.pk), to_type="capa.capa", to_id=str(capa.pk)).exists():
        link_create(origin, capa, actor=actor, relation="spawned",
                    note=f"CAPA from {origin.number}")


def actions_out(capa: Capa, actor: Any) -> list[dict[str, Any]]:
    from .api import action_out
    from .queries import actions_of

    return [action_out(a) for a in actions_of(capa)]


def page_context(request: HttpRequest, capa: Capa, **forms: Any) -> dict[str, Any]:
    from .views import detail_context

    return detail_context(request, capa, **forms)


def plan_badges(capa: Capa) -> list[tuple[str, str, str]]:
    return [("cyber", "cyber", "Cyber-security related")] if capa.cyber_related else []


CAPA = RecordKind(
    slug="capa", model=Capa, workflow=CAPA_WORKFLOW, prefix="CAPA", label="CAPA",
    action_prefix="capa", closed_states=CLOSED_STATES, plural="CAPA",
    summary="Corrective and preventive actions: a plan QA approves, actions with owners and "
            "evidence, and a signed effectiveness check before closure.",
    nav_section="Quality", nav_icon="check", nav_order=20,
    filterset=CapaFilter, list_rows=with_late_actions,
    columns=(Column("number", "Number", "number"), Column("title", "Title", "title"),
             Column("source", "Source"), Column("site", "Site"), Column("owner", "Owner"),
             Column("state", "State", "state"), Column("due_date", "Due", "due"),
             Column("created_at", "Opened", "created")),
    create_fields=CREATE_FIELDS, editable=EDITABLE,
    labels={"cyber_related": "Cyber-security related", "event_at": "Problem found at",
            "effectiveness_due": "Effectiveness check due",
            "late_entry_reason": "Reason for late entry"},
    detail_template="capa/capa_detail.html", create_template="core/family_create.html",
    detail_context=page_context, row_badges=plan_badges,
    api_list_fields=("source", "source_reference", "cyber_related", "effectiveness_result",
                     "closed_at"),
    api_extra=(("actions", list[dict[str, Any]], actions_out),),
    checks=(check_plan,), after_write=(link_source,),
    own_grants={"verify": ("qa_manager", "qa_reviewer")},
    own_urls="cyberqms.quality.capa.urls", own_api="cyberqms.quality.capa.api",
)
