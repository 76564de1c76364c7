"""A computerized system's accounts: the page that lists them with their last sign-in and
imports the system's user list (previewed, then applied with a reason), and what the
system's own page shows of them (a posture line and a list)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from cyberqms.platform.core.access import can, require
from cyberqms.platform.core.pages import gated, page_actor

from . import actions
from .csv_rows import posted_csv, previewed
from .models import SystemAccount
from .system_accounts import COLUMNS, MAX_ROWS, accounts_import, last_sign_ins


@gated("systems.view")
@require_http_methods(["GET", "POST"])
def system_accounts_page(request: HttpRequest, pk: int) -> HttpResponse:
    from cyberqms.assets.systems.models import System

    actor = page_actor(request)
    system = get_object_or_404(System.objects.select_related("site", "owner"), pk=pk,
                               is_deleted=False)
    require(actor, "systems.view", system)
    accounts = list(SystemAccount.objects.filter(system=system).select_related("person")
                    .order_by("removed_at", "account"))
    seen = last_sign_ins(system, [a for a in accounts if a.removed_at is None])
    rows = [{"account": a, "last": seen.get(a.pk)} for a in accounts]
    in_force = [a for a in accounts if a.removed_at is None]
    context: dict[str, Any] = {
        "system": system, "rows": rows, "columns": COLUMNS, "max_rows": MAX_ROWS,
        "can_import": can(actor, actions.ACCOUNTS_IMPORT, system),
        "figures": {"in_force": len(in_force),
                    "privileged": sum(1 for a in in_force if a.privileged),
                    "unmatched": sum(1 for a in in_force if a.person_id is None),
                    "removal": sum(1 for a in in_force if a.removal_asked_at),
                    "listed": max((a.listed_at for a in accounts), default=None)},
    }
    if request.method == "POST":
        data = posted_csv(request)
        if not data:
            context["missing"] = "Choose the CSV file."
            return render(request, "access/system_accounts.html", context, status=422)
        result = accounts_import(system, data, actor=actor,
                                 reason=request.POST.get("reason", ""),
                                 apply=request.POST.get("apply") == "yes")
        if result.applied:
            counts = result.counts
            messages.success(request, f"User list imported: {counts['create']} new, "
                                      f"{counts['update']} changed, {counts['remove']} "
                                      "removed.")
            return redirect("governance:system_accounts", pk=system.pk)
        context |= {"result": result, "content": previewed(data), "counts": result.counts}
        return render(request, "access/system_accounts.html", context,
                      status=422 if result.errors else 200)
    return render(request, "access/system_accounts.html", context)


# --- on the system's own page (assets.systems.posture registries) --------------------------


def accounts_posture(systems: Sequence[Any]) -> dict[int, list[Any]]:
    """One posture line per system, linked to its accounts: how many, how many nobody
    answers for, removals asked and not done, and the age of the newest user list; or
    that no user list was imported (a gap once the system is in use)."""
    from django.conf import settings

    from cyberqms.assets.systems.posture import PostureFact

    out: dict[int, list[Any]] = {}
    by_system: dict[int, list[SystemAccount]] = {}
    for account in SystemAccount.objects.filter(system__in=[s.pk for s in systems],
                                                removed_at__isnull=True):
        by_system.setdefault(account.system_id, []).append(account)
    stale = timezone.now() - dt.timedelta(days=round(
        settings.CYBERQMS_ACCESS_REVIEW_MONTHS * 30.44) or 92)
    for system in systems:
        if system.pk not in by_system:
            in_use = system.state in ("validated", "under_change")
            out[system.pk] = [PostureFact(
                "Accounts (from its user list)", "no user list imported",
                "warn" if in_use and system.data_integrity_relevant else "info",
                url=reverse("governance:system_accounts", args=[system.pk]))]
    for system_id, accounts in by_system.items():
        unmatched = sum(1 for a in accounts if a.person_id is None)
        asked = sum(1 for a in accounts if a.removal_asked_at)
        listed = max(a.listed_at for a in accounts)
        parts = [f"{len(accounts)} in force"]
        if unmatched:
            parts.append(f"{unmatched} without a person")
        if asked:
            parts.append(f"{asked} to remove")
        status = "bad" if asked else "warn" if unmatched or listed < stale else "ok"
        out[system_id] = [PostureFact("Accounts (from its user list)", ", ".join(parts),
                                      status, when=listed,
                                      url=reverse("governance:system_accounts",
                                                  args=[system_id]))]
    return out
