"""Attack drills, declared for the record kit (CYB-09): their own parts are the scenario
from the drill catalogue, whether it is announced, when it runs, and the scorecard. IT
security and the QA manager plan, run and score them; auditors and QA reviewers read
them."""

from __future__ import annotations

from typing import Any

import django_filters
from django.http import HttpRequest

from cyberqms.platform.kit.record_filters import RecordFilterSet
from cyberqms.platform.kit.records import Column, FormGroup, RecordKind

from .enums import DrillKind, DrillState
from .models import Drill
from .scoring import score_class
from .workflow import DRILL_WORKFLOW

S = DrillState
_PLANNERS = ("it_security", "qa_manager")
GRANTS: dict[str, tuple[str, ...]] = {
    "view": (*_PLANNERS, "qa_reviewer", "auditor", "administrator"),
    "comment": _PLANNERS, "create": _PLANNERS, "edit": _PLANNERS, "work": _PLANNERS,
    "delete": _PLANNERS, "approve": _PLANNERS, "extension.approve": ("qa_manager",),
}
_PLAN = ("title", "kind", "scenario", "announced", "planned_for", "description", "owner",
         "due_date")


class DrillFilter(RecordFilterSet):
    search_fields = ("scenario", "lessons")
    kind = django_filters.ChoiceFilter(choices=DrillKind.choices, empty_label="Any",
                                       label="Drill")

    class Meta:
        model = Drill
        fields: list[str] = []


def score_badges(drill: Drill) -> list[tuple[str, str, str]]:
    score = (drill.scorecard or {}).get("score")
    if drill.state != S.SCORED or score is None:
        return [] if drill.announced else [("warn", "unannounced", "Responders were not told.")]
    return [(score_class(score), f"{score} %",
             "The share of the scorecard's checks met.")]


def page_context(request: HttpRequest, drill: Drill) -> dict[str, Any]:
    from .scenarios import scenario_of
    from .scoring import scorecard

    card = scorecard(drill)
    return {"drill": drill, "card": card, "score_css": score_class(card.get("score")),
            "scenario": scenario_of(drill.scenario)}


DRILLS = RecordKind(
    slug="drills", model=Drill, workflow=DRILL_WORKFLOW, prefix="DRL", label="Drill",
    action_prefix="drills", initial_state=S.PLANNED, closed_states=(S.SCORED, S.CANCELLED),
    deletable_states=(S.PLANNED,),
    summary="Attack drills: a labelled attack played in the live pipeline, or ransomware "
            "on a restored copy, scored on detection, response and recovery.",
    nav_section="Security", nav_icon="target", nav_order=40,
    filterset=DrillFilter, row_badges=score_badges,
    detail_template="drills/drill_detail.html", detail_context=page_context,
    columns=(Column("number", "Number", "number"), Column("title", "Title", "title"),
             Column("kind", "Drill"), Column("scenario", "Scenario"),
             Column("planned_for", "Runs at"), Column("state", "State", "state"),
             Column("site", "Site"), Column("owner", "Owner"),
             Column("created_at", "Planned", "created")),
    create_fields=_PLAN,
    editable={S.PLANNED: frozenset(_PLAN) - {"kind", "scenario"},
              S.RUNNING: frozenset({"lessons"})},
    labels={"kind": "Drill", "planned_for": "Runs at"},
    sections=(("Drill", ("kind", "scenario", "announced", "planned_for", "lessons")),),
    form_groups=(FormGroup("What is played", ("title", "kind", "scenario", "announced",
                                             "planned_for")),),
    api_list_fields=("kind", "scenario", "announced", "planned_for", "events"),
    own_urls="cyberqms.security.drills.urls",
    grants="", own_grants=GRANTS,
)
