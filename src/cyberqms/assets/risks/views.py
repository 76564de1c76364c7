"""The risk register: every current risk of the assessments the reader may see, on a heat
map of residual severity × occurrence (or likelihood), filtered by site, category, residual
level and the assessment's state; a cell of the map filters the table to it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cyberqms.platform.core.pages import gated
from cyberqms.platform.kit.family_pages import visible_records
from cyberqms.platform.kit.records import kind_by_slug, site_model

from .enums import Category, Level, RiskState
from .models import Risk

MAX_ROWS = 500


def _chosen(request: HttpRequest, name: str, allowed: list[str]) -> str:
    value = request.GET.get(name, "")
    return value if value in allowed else ""


@gated("risks.view")
def risk_register(request: HttpRequest) -> HttpResponse:
    kind = kind_by_slug("risks")
    assessments = visible_records(kind, request.user)
    sites = list(site_model()._default_manager.filter(is_active=True).order_by("code"))
    site = _chosen(request, "site", [s.code for s in sites])
    category = _chosen(request, "category", list(Category.values))
    level = _chosen(request, "level", list(Level.values))
    state = _chosen(request, "state", [*RiskState.values, "all"]) or "current"
    cell = [_chosen(request, name, ["1", "2", "3", "4", "5"]) for name in ("s", "o")]
    if site:
        assessments = assessments.filter(site__code=site)
    if state == "current":
        assessments = assessments.exclude(state=RiskState.RETIRED)
    elif state != "all":
        assessments = assessments.filter(state=state)
    risks = list(Risk.objects.filter(record__in=assessments, removed_at__isnull=True)
                 .select_related("record", "record__site", "record__system")
                 .order_by("-residual_severity", "-residual_occurrence", "record__number",
                           "id"))
    if category:
        risks = [r for r in risks if r.category == category]
    if level:
        risks = [r for r in risks if r.residual_level == level]
    heat = [[0] * 5 for _ in range(5)]
    for risk in risks:
        heat[5 - risk.residual_severity][risk.residual_occurrence - 1] += 1
    if all(cell):
        risks = [r for r in risks if (str(r.residual_severity), str(r.residual_occurrence))
                 == (cell[0], cell[1])]
    query = {k: v for k, v in (("site", site), ("category", category), ("level", level),
                                ("state", "" if state == "current" else state)) if v}
    return render(request, "risks/risk_register.html", {
        "kind": kind, "sites": sites, "categories": Category.choices,
        "levels": Level.choices, "states": RiskState.choices,
        "chosen": {"site": site, "category": category, "level": level, "state": state},
        "cell": cell if all(cell) else None,
        "heat": [(5 - i, [(j + 1, n, _zone(5 - i, j + 1)) for j, n in enumerate(row)])
                 for i, row in enumerate(heat)],
        "query": query, "total": len(risks), "risks": risks[:MAX_ROWS],
        "more": len(risks) > MAX_ROWS,
    })


def _zone(severity: int, occurrence: int) -> str:
    """The colour band of a heat-map cell: the matrix's levels (severity × likelihood)."""
    score = severity * occurrence
    return "high" if score >= 15 else "medium" if score >= 6 else "low"


def risk_words(risk: Any) -> dict[str, Any]:
    return {"score": risk.score(), "residual": risk.residual_score()}
