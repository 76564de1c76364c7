from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone

import cyberqms
from cyberqms.platform.core.access import can
from cyberqms.platform.core.home import home_panels
from cyberqms.platform.core.models import SecurityEvent, Severity
from cyberqms.platform.core.pages import gated
from cyberqms.platform.trail.queries import status_summary

from .search import SEARCH, record_numbered, search_problem, search_records
from .tasks_list import open_tasks

HOME_TASKS = 25  # shown at first; the count and "Show all" tell of the rest


@gated("account.self")
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    tasks = open_tasks(user)
    every = request.GET.get("tasks") == "all"
    context: dict[str, object] = {
        "tasks": tasks if every else tasks[:HOME_TASKS], "task_count": len(tasks),
    }
    if can(user, "security.event.view"):
        since = timezone.now() - timedelta(days=7)
        counts = dict(
            SecurityEvent.objects.filter(created_at__gte=since)
            .values_list("severity").annotate(n=Count("id")).order_by()
        )
        peak = max(counts.values(), default=0) or 1
        context["event_counts"] = [
            {"severity": level, "n": counts[level], "pct": round(100 * counts[level] / peak)}
            for level in Severity.values if level in counts
        ]
        context["recent_events"] = SecurityEvent.objects.all()[:8]
    if can(user, "trail.status.view"):
        context["trail_summary"] = status_summary()
    context["panels"] = home_panels(user)
    return render(request, "web/home.html", context)


@gated(SEARCH)
def search(request: HttpRequest) -> HttpResponse:
    """Records the person may see by number or title, by family; the exact number of one
    they may see opens it."""
    q = request.GET.get("q", "").strip()
    problem = search_problem(q) if q else ""
    if q and not problem:
        numbered = record_numbered(request.user, q)
        if numbered is not None:
            kind, record = numbered
            return redirect(kind.detail_url(record))
    return render(request, "web/search.html", {
        "q": q, "problem": problem,
        "results": search_records(request.user, q) if q and not problem else [],
    }, status=422 if problem else 200)


def database_status() -> dict[str, object]:
    started = timezone.now()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return {"status": "error", "vendor": connection.vendor, "error": type(exc).__name__}
    elapsed = (timezone.now() - started).total_seconds() * 1000
    return {"status": "ok", "vendor": connection.vendor, "latency_ms": round(elapsed, 2)}


@gated("system.health")
def healthz(request: HttpRequest) -> JsonResponse:
    database = database_status()
    healthy = database["status"] == "ok"
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", "version": cyberqms.__version__,
         "database": database},
        status=200 if healthy else 503,
    )
