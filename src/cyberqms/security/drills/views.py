"""The trend over drills (CYB-09): each scored or running drill's score and its times to
detect and to acknowledge, oldest first, as a chart and a table."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cyberqms.platform.core.pages import gated
from cyberqms.platform.kit.family_pages import visible_records
from cyberqms.platform.kit.records import kind_by_slug

from .scoring import trend

CHART_W, CHART_H, BAR_GAP, BAR_MAX, LEFT = 720, 160, 8, 48, 34


@gated("drills.view")
def drill_trend(request: HttpRequest) -> HttpResponse:
    kind = kind_by_slug("drills")
    drills = list(visible_records(kind, request.user).filter(
        is_deleted=False, state__in=("running", "scored"), started_at__isnull=False)
        .select_related("owner", "site").order_by("-started_at")[:40])
    rows = trend(drills)
    width = max(1, len(rows))
    bar = min(BAR_MAX, (CHART_W - LEFT - BAR_GAP * (width + 1)) / width)
    bars = [{"x": round(LEFT + BAR_GAP + i * (bar + BAR_GAP), 1), "w": round(bar, 1),
             "h": round(CHART_H * row["score"] / 100, 1),
             "y": round(CHART_H - CHART_H * row["score"] / 100, 1),
             "css": row["css"],
             "row": row} for i, row in enumerate(rows)]
    return render(request, "drills/drill_trend.html", {
        "kind": kind, "rows": rows, "bars": bars, "chart_w": CHART_W, "chart_h": CHART_H,
        "left": LEFT, "grid": [{"y": round(CHART_H * (1 - pct / 100), 1), "pct": pct}
                               for pct in (0, 50, 80, 100)]})
