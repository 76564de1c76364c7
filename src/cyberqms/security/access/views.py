"""The HR import page: a CSV file previewed (what each row would change, every error with
its line and column), then applied with a reason, all or nothing."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from cyberqms.platform.core.pages import gated, page_actor

from . import actions
from .csv_rows import posted_csv, previewed
from .hr_import import COLUMNS, MAX_ROWS, hr_import


@gated(actions.HR_IMPORT)
@require_http_methods(["GET", "POST"])
def hr_import_page(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    context: dict[str, object] = {"columns": COLUMNS, "max_rows": MAX_ROWS}
    if request.method == "POST":
        data = posted_csv(request)
        if not data:
            context["missing"] = "Choose the CSV file."
            return render(request, "access/hr_import.html", context, status=422)
        apply = request.POST.get("apply") == "yes"
        result = hr_import(data, actor=actor, reason=request.POST.get("reason", ""),
                           apply=apply)
        if result.applied:
            counts = result.counts
            messages.success(request, f"HR import applied: {counts['create']} joined, "
                                      f"{counts['update']} updated.")
            return redirect("governance:hr_import")
        context |= {"result": result, "content": previewed(data), "counts": result.counts}
        return render(request, "access/hr_import.html", context,
                      status=422 if result.errors else 200)
    return render(request, "access/hr_import.html", context)
