"""Security incidents, declared for the record kit (CYB-05). IT security runs them, QA
decides on their closure; the grants say so here, not in the central role table. What is
an incident's own: escalation from an alert, the alerts behind it, the deviation it opens,
the chain page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from cyberqms.platform.core.access import can, people_able
from cyberqms.platform.kit.record_filters import RecordFilterSet, YesNoFilter
from cyberqms.platform.kit.records import Column, RecordKind

from .enums import IncidentState
from .models import Incident
from .workflow import INCIDENT_WORKFLOW

S = IncidentState

_ASSESSMENT = ("containment", "system", "affected_systems", "affected_records", "affected_batches",
               "involved_accounts", "window_start", "window_end", "gxp_impact",
               "data_integrity_impact", "impact_assessment")
CREATE_FIELDS = ("title", "description", "owner", "event_at", "late_entry_reason", "due_date",
                 *_ASSESSMENT)
EDITABLE: dict[str, frozenset[str]] = {
    S.OPEN: frozenset({"title", "description", "owner", "due_date", *_ASSESSMENT}),
    S.ASSESSMENT: frozenset({"owner", *_ASSESSMENT}),
}

_QA = ("qa_manager", "qa_reviewer")
GRANTS: dict[str, tuple[str, ...]] = {
    "view": (*_QA, "it_security", "auditor"),
    "comment": (*_QA, "it_security"),
    "review": (*_QA, "it_security"),
    "create": ("it_security",), "edit": ("it_security",), "submit": ("it_security",),
    "work": ("it_security",), "delete": ("it_security",),
    "cancel": ("qa_manager", "it_security"),
    "approve": ("qa_manager",), "close": ("qa_manager",), "extension.approve": ("qa_manager",),
}


class IncidentFilter(RecordFilterSet):
    search_fields = ("affected_systems", "involved_accounts", "affected_batches")
    gxp_impact = YesNoFilter(label="GxP impact")
    data_integrity_impact = YesNoFilter(label="Data-integrity impact")
    auto_escalated = YesNoFilter(label="Opened automatically")

    class Meta:
        model = Incident
        fields: list[str] = []


def impact_badges(i: Incident) -> list[tuple[str, str, str]]:
    badges = []
    if i.auto_escalated:
        badges.append(("info", "auto", "Opened by the system: the alert's level calls for "
                                       "an incident"))
    if i.gxp_impact:
        badges.append(("warn", "GxP", "GxP impact"))
    if i.data_integrity_impact:
        badges.append(("bad", "data integrity", "Data-integrity impact"))
    return badges


def alert_numbers(i: Incident, actor: Any) -> list[str]:
    return [a.number for a in i.alerts.order_by("first_seen")]


def page_context(request: HttpRequest, i: Incident) -> dict[str, Any]:
    """The incident page's own blocks: the alerts behind it and opening its deviation."""
    from cyberqms.platform.kit.record_parts import links_of

    people = people_able("deviations.work", [i.site_id])
    return {
        "alerts": i.alerts.select_related("source").order_by("first_seen"),
        "gxp_system": i.system if i.system_id and can(request.user, "systems.view",
                                                      i.system) else None,
        "can_see_alerts": can(request.user, "monitoring.alert.view", i),
        "people": people,
        "deviation_links": [link for link in links_of(i)
                            if link["other_type"] == "deviations.deviation"],
    }


INCIDENTS = RecordKind(
    slug="incidents", model=Incident, workflow=INCIDENT_WORKFLOW, prefix="SEC",
    label="Security incident", plural="Security incidents", action_prefix="incidents",
    closed_states=(S.CLOSED, S.CANCELLED), initial_state=S.OPEN, deletable_states=(S.OPEN,),
    summary="Security events with possible GxP impact: containment, the data-integrity "
            "assessment, the deviation they open, and QA's signed closure.",
    nav_section="Security", nav_icon="siren", nav_order=10,
    filterset=IncidentFilter, row_badges=impact_badges,
    columns=(Column("number", "Number", "number"), Column("title", "Title", "title"),
             Column("state", "State", "state"), Column("site", "Site"),
             Column("owner", "Owner"), Column("due_date", "Due", "due"),
             Column("created_at", "Opened", "created")),
    create_fields=CREATE_FIELDS, editable=EDITABLE,
    labels={"event_at": "When it started (or was detected)",
            "late_entry_reason": "Reason for late entry",
            "affected_records": "Affected GxP records",
            "involved_accounts": "Accounts and addresses involved",
            "window_start": "Time window: from", "window_end": "Time window: to",
            "gxp_impact": "GxP impact", "data_integrity_impact": "Data-integrity impact"},
    detail_template="incidents/incident_detail.html", detail_context=page_context,
    api_list_fields=("gxp_impact", "data_integrity_impact", "auto_escalated", "closed_at"),
    api_extra=(("alerts", list[str], alert_numbers),),
    grants="", own_grants=GRANTS,
    own_urls="cyberqms.security.incidents.urls",
    own_api="cyberqms.security.incidents.api",
)
