"""Monitoring pages: the overview with its metrics, alerts (list, triage), received events
and the quarantine, sources, and the live banner polled by every page of users who see
alerts (A11D-04)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_POST

from cyberqms.platform.accounts.models import Site
from cyberqms.platform.core.access import AccessDenied, can, require
from cyberqms.platform.core.csv_export import csv_response, list_filters, wants_csv
from cyberqms.platform.core.keyset import request_page
from cyberqms.platform.core.pages import gated, page_actor, polled
from cyberqms.platform.kit.references import referring_records
from cyberqms.platform.kit.workflow import TransitionNotAllowed
from cyberqms.platform.trail.services import list_export_record
from cyberqms.security.detect import ocsf

from . import charts, describe, metrics, queries, services
from .csv_columns import ALERT_COLUMNS, EVENT_COLUMNS
from .enums import OPEN_ALERT_STATES, AlertState, RawStatus
from .forms import MetricsFilterForm
from .models import Alert
from .workflow import ALERT_WORKFLOW

ALERTS_PER_PAGE = 25
EVENTS_PER_PAGE = 50
STATE_CHOICES = [("open", "Open"), *AlertState.choices]
ASSIGNEE_CHOICES = [("", "Anyone"), ("me", "Assigned to me"), ("none", "Nobody yet")]


def _load_alert(request: HttpRequest, pk: int, action: str = queries.ALERT_VIEW) -> Alert:
    alert = Alert.objects.select_related(
        "site", "source", "assignee", "source__gxp_system__owner",
        "source__gxp_system__qa_contact").filter(pk=pk).first()
    if alert is None:
        raise Http404
    try:
        require(request.user, action, alert)
    except AccessDenied:
        # The same answer as for a missing alert: a refusal reveals nothing.
        raise Http404 from None
    return alert


@gated("monitoring.alert.view")
def alert_list(request: HttpRequest) -> HttpResponseBase:
    get = request.GET
    states = {value for value, _label in STATE_CHOICES}
    filters: dict[str, Any] = {
        "state": get.get("state", "open") if get.get("state", "open") in (*states, "") else "open",
        "level": get.get("level", "") if get.get("level") in queries.LEVELS else "",
        "site": get.get("site", "")[:20],
        "rule": get.get("rule", "")[:64],
        "q": get.get("q", "").strip()[:100],
        "sort": get.get("sort", queries.DEFAULT_ALERT_SORT)
        if get.get("sort") in queries.ALERT_SORTS else queries.DEFAULT_ALERT_SORT,
    }
    assignee = get.get("assignee", "")
    assignee = assignee if assignee in dict(ASSIGNEE_CHOICES) else ""
    assignee_id = {"me": request.user.pk, "none": queries.UNASSIGNED}.get(assignee)
    rows = queries.alerts_filtered(request.user, **filters, assignee_id=assignee_id)
    if wants_csv(request):
        list_export_record(actor=request.user, name="monitoring.alerts",
                           label="security alerts", filters=list_filters(request),
                           rows=rows.count())
        return csv_response("security-alerts.csv", ALERT_COLUMNS, rows)
    page = request_page(request, rows, ALERTS_PER_PAGE, count=False)
    counts, page.count = queries.level_counts(queries.alerts_filtered(
        request.user, **{**filters, "level": ""}, assignee_id=assignee_id), rows)
    return render(request, "monitoring/alert_list.html", {
        "page": page, "filters": {**filters, "assignee": assignee}, "counts": counts,
        "states": STATE_CHOICES, "assignees": ASSIGNEE_CHOICES,
        "levels": queries.LEVELS, "sites": Site.objects.all(),
        "rules": queries.alert_rules(request.user),
        "can_view_events": can(request.user, queries.EVENT_VIEW),
    }, status=400 if page.error else 200)


def _event_rows(alert: Alert) -> list[dict[str, Any]]:
    rows = []
    for event in queries.alert_events(alert)[:200]:
        normalized = event.event or {}
        rows.append({
            "event": event,
            "class_name": normalized.get("class_name") or ocsf.CLASSES.get(
                event.class_uid or -1, ("", {}))[0],
            "message": normalized.get("message") or "",
            "normalized": json.dumps(normalized, indent=2, sort_keys=True, ensure_ascii=False),
            "payload": bytes(event.payload).decode("utf-8", "replace"),
        })
    return rows


def _assignment(request: HttpRequest, alert: Alert, error: str = "") -> dict[str, Any]:
    """The assignee block of the alert page (a partial htmx swaps after an assignment)."""
    can_assign = (alert.state in OPEN_ALERT_STATES
                  and can(request.user, services.ALERT_WORK, alert))
    return {"alert": alert, "can_assign": can_assign, "assign_error": error,
            "assignees": list(services.alert_assignees(alert)) if can_assign else []}


def _visible_system(request: HttpRequest, alert: Alert) -> Any:
    """The system of the inventory the alert's source reports on, if the reader may see it."""
    system = alert.source.gxp_system if alert.source_id and alert.source else None
    return system if system is not None and can(request.user, "systems.view", system) else None


def _alert_page(request: HttpRequest, alert: Alert, *, errors: dict[str, str] | None = None,
                posted: dict[str, str] | None = None, status: int = 200) -> HttpResponse:
    actions = [
        {"action": t.action, "title": t.title, "reason_required": t.reason, "refusal": refusal,
         "error": (errors or {}).get(t.action, ""),
         "reason": (posted or {}).get(t.action, "")}
        for t, refusal in ALERT_WORKFLOW.available(alert, request.user)
    ]
    can_triage = can(request.user, services.ALERT_WORK, alert)
    return render(request, "monitoring/alert_detail.html", {
        **_assignment(request, alert),
        "state_label": AlertState(alert.state).label,
        "actions": actions if can_triage else [],
        "can_triage": can_triage,
        "grouped_on": describe.grouped_on(alert.group_key),
        "gxp_system": _visible_system(request, alert),
        "explanation": describe.explanation(alert.context),
        "events": _event_rows(alert),
        "event_total": alert.events.count(),
        "history_url": reverse("trail:history", args=["monitoring.alert", str(alert.pk)]),
        "can_history": can(request.user, "trail.history.view"),
        # The feedback loop: the incident this alert became, or the way to it.
        "incidents": [{"incident": i, "can_view": can(request.user, "incidents.view", i)}
                      for i in alert.incidents.all()],
        "can_escalate": can(request.user, "incidents.create", alert),
        # Deviations whose security reference names this alert (linked both ways).
        "referring": referring_records("monitoring.alert", alert.pk, request.user),
    }, status=status)


@gated("monitoring.alert.view")
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _alert_page(request, _load_alert(request, pk))


@gated("monitoring.alert.triage")
@require_POST
def alert_transition(request: HttpRequest, pk: int) -> HttpResponse:
    alert = _load_alert(request, pk)
    action = request.POST.get("action", "")[:30]
    reason = request.POST.get("reason", "").strip()[:2000]
    try:
        services.alert_transition(alert, action, actor=page_actor(request), reason=reason)
    except TransitionNotAllowed:
        messages.error(request, f"{alert.number} is {AlertState(alert.state).label.lower()}: "
                                f"that step is not open any more.")
        return redirect("monitoring:alert", pk=alert.pk)
    except ValidationError as exc:
        text = " ".join(exc.messages) or "Give a reason."
        alert.refresh_from_db()
        return _alert_page(request, alert, errors={action: text}, posted={action: reason},
                           status=422)
    messages.success(request, f"{alert.number} is now {AlertState(alert.state).label.lower()}.")
    return redirect("monitoring:alert", pk=alert.pk)


@gated(services.ALERT_WORK)
@require_POST
def alert_assign(request: HttpRequest, pk: int) -> HttpResponse:
    """Assign the alert (or hand it on); htmx gets the assignee block back, a plain form
    post the alert page with a message."""
    alert = _load_alert(request, pk)
    chosen = request.POST.get("assignee", "")
    person = (get_user_model()._default_manager.filter(pk=int(chosen)).first()
              if chosen.isdigit() and len(chosen) < 12 else None)
    error = ""
    try:
        services.alert_assign(alert, actor=page_actor(request), assignee=person)
    except TransitionNotAllowed:
        alert.refresh_from_db()
        error = (f"{alert.number} is {AlertState(alert.state).label.lower()}: reopen it "
                 "before assigning it.")
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if request.headers.get("HX-Request") == "true":
        return render(request, "monitoring/alert_detail.html#assignee",
                      _assignment(request, alert, error))
    if error:
        messages.error(request, error)
    else:
        assignee = alert.assignee.printed_name if alert.assignee else "nobody"
        messages.success(request, f"{alert.number} is assigned to {assignee}.")
    return redirect("monitoring:alert", pk=alert.pk)


def _parse_time(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@gated("monitoring.event.view")
def event_list(request: HttpRequest) -> HttpResponseBase:
    get = request.GET
    class_text = get.get("class", "")
    filters = {
        "status": get.get("status", "") if get.get("status") in RawStatus.values else "",
        "source": get.get("source", "")[:100],
        "class": class_text if class_text.isdigit() and len(class_text) <= 6 else "",
        "actor": get.get("actor", "").strip()[:150],
        "ip": get.get("ip", "").strip()[:45],
        "since": get.get("since", "")[:32],
        "until": get.get("until", "")[:32],
    }
    since = _parse_time(filters["since"]) if filters["since"] else None
    until = _parse_time(filters["until"]) if filters["until"] else None
    rows = queries.events_filtered(
        request.user, status=filters["status"], source=filters["source"],
        class_uid=int(filters["class"]) if filters["class"] else None,
        actor_name=filters["actor"], ip=filters["ip"], since=since, until=until,
    )
    if wants_csv(request):
        list_export_record(actor=request.user, name="monitoring.events",
                           label="received events", filters=list_filters(request),
                           rows=rows.count())
        return csv_response("received-events.csv", EVENT_COLUMNS, rows)
    page = request_page(request, rows, EVENTS_PER_PAGE)
    for event in page:
        class_name = ocsf.CLASSES.get(event.class_uid or -1, ("", {}))[0]
        event.class_name = class_name  # for the template, not a field
    return render(request, "monitoring/event_list.html", {
        "can_view_alerts": can(request.user, queries.ALERT_VIEW),
        "page": page, "filters": filters, "statuses": RawStatus.choices,
        "sources": queries.sources_with_counts(request.user).values_list("name", flat=True),
        "classes": sorted((uid, name) for uid, (name, _acts) in ocsf.CLASSES.items()),
        "reasons": queries.quarantine_reasons(rows) if filters["status"] != "accepted" else [],
        "bad_time": (bool(filters["since"]) and since is None)
        or (bool(filters["until"]) and until is None),
    }, status=400 if page.error else 200)


@gated("monitoring.event.view")
def source_list(request: HttpRequest) -> HttpResponse:
    from .retention import days_for, policy

    rules = policy()
    sources = list(queries.sources_with_counts(request.user))
    for source in sources:
        # Late and ahead: detected on their receive time (docs/monitoring.md, "Event time").
        totals = getattr(source, "totals", None)
        tally = {"accepted": 0, "quarantined": 0, "last": None, "late": 0, "ahead": 0,
                 "expired_before": None}
        if totals is not None:
            tally = {"accepted": totals.accepted, "quarantined": totals.quarantined,
                     "last": totals.last_received_at, "late": totals.late,
                     "ahead": totals.ahead, "expired_before": totals.expired_before}
        tally["kept_days"] = days_for(source.kind, rules)
        source.tally = tally  # type: ignore[attr-defined]  # for the template, not a field
    can_manage = can(request.user, "monitoring.source.manage")
    return render(request, "monitoring/source_list.html", {
        "sources": sources, "can_view_alerts": can(request.user, queries.ALERT_VIEW),
        "can_manage": can_manage,
        "systems": _systems_in_use() if can_manage else []})


def _systems_in_use() -> list[Any]:
    """The systems a source may report on: in the inventory and not retired, by site."""
    from django.apps import apps

    model = apps.get_model("systems", "System")
    return list(model._default_manager.filter(is_deleted=False).exclude(state="retired")
                .select_related("site").order_by("site__code", "title"))


@gated("monitoring.source.manage")
@require_POST
def source_system(request: HttpRequest, pk: int) -> HttpResponse:
    """Set the system of the inventory a source reports on."""
    from django.apps import apps

    source = queries.sources_with_counts(request.user).filter(pk=pk).first()
    if source is None:
        raise Http404
    chosen = (request.POST.get("gxp_system") or "").strip()
    model = apps.get_model("systems", "System")
    system = model._default_manager.filter(pk=int(chosen), is_deleted=False).first() if (
        chosen.isdigit()) else None
    if chosen and system is None:
        messages.error(request, "Choose a system of the inventory.")
        return redirect("monitoring:sources")
    try:
        services.source_system_set(source, actor=page_actor(request), gxp_system=system)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{source.name} reports on "
                                  f"{system.label if system else 'no system of the inventory'}.")
    return redirect("monitoring:sources")


@gated("monitoring.alert.view")
@polled
def banner(request: HttpRequest) -> HttpResponse:
    """The live banner's content, polled every few seconds (htmx): new high or critical
    alerts. Polling does not count as activity for the idle timeout (see
    core.middleware.IdleTimeoutMiddleware)."""
    response = render(request, "monitoring/banner.html", queries.banner_context(request.user))
    patch_cache_control(response, no_store=True)
    return response


@gated("monitoring.alert.view")
def overview(request: HttpRequest) -> HttpResponse:
    """Detection and response figures over a period (issue 5, deliverable 8): alerts per
    day and rule, times to detect, acknowledge and resolve, false-positive rate, events per
    second and the quarantine. A filter that does not validate answers 400 with the
    errors beside the default figures (last 30 days, every site)."""
    form = MetricsFilterForm(request.GET or None, sites=metrics.sites_for(request.user))
    invalid = form.is_bound and not form.is_valid()
    window = form.window()
    figures = metrics.overview(request.user, start=window.start, end=window.end,
                               site_id=window.site.pk if window.site else None,
                               drills=window.drills)
    alerts, events = figures.alerts, figures.events
    fmt = charts.format_duration
    tiles = [
        {"key": "alerts", "label": "Alerts raised", "value": f"{alerts.total:,}",
         "sub": f"{alerts.by_level['critical'] + alerts.by_level['high']} high or critical"},
        {"key": "detect", "label": "Time to detect",
         "value": fmt(alerts.time_to_detect.median_s),
         "sub": f"median · mean {fmt(alerts.time_to_detect.mean_s)}"},
        {"key": "acknowledge", "label": "Time to acknowledge",
         "value": fmt(alerts.time_to_acknowledge.median_s),
         "sub": f"median of {alerts.time_to_acknowledge.count} · mean "
                f"{fmt(alerts.time_to_acknowledge.mean_s)}"},
        {"key": "resolve", "label": "Time to resolve",
         "value": fmt(alerts.time_to_resolve.median_s),
         "sub": f"median of {alerts.time_to_resolve.count} closed · mean "
                f"{fmt(alerts.time_to_resolve.mean_s)}"},
        {"key": "fp", "label": "False-positive rate",
         "value": charts.format_share(alerts.false_positive_rate),
         "sub": f"{alerts.false_positives} of {alerts.closed} closed"},
    ]
    alerts_url = reverse("monitoring:alerts")
    open_states = [
        {"state": state.value, "label": state.label, "count": alerts.open_by_state[state.value],
         "url": f"{alerts_url}?state={state.value}"
                + (f"&site={window.site.code}" if window.site else "")}
        for state in OPEN_ALERT_STATES
    ]
    rules = [
        {"row": row, "bar": bar, "fp_rate": charts.format_share(row.false_positive_rate),
         "detect": fmt(row.time_to_detect.median_s),
         "url": f"{alerts_url}?state=&rule={row.rule_id}"
                + (f"&site={window.site.code}" if window.site else "")}
        for row, bar in charts.rule_bars(alerts.by_rule)
    ]
    return render(request, "monitoring/overview.html", {
        "can_view_events": can(request.user, queries.EVENT_VIEW),
        "form": form, "window": window, "invalid": invalid,
        "alerts": alerts, "events": events, "tiles": tiles, "open_states": open_states,
        "oldest_open": charts.format_when(alerts.oldest_open),
        "levels": [{"level": level, "count": alerts.by_level[level]} for level in metrics.LEVELS],
        "days": charts.days_chart(alerts.per_day), "rules": rules,
        "spark": charts.sparkline(events.series, events.bucket_seconds) if events else None,
        "rates": {
            "current": charts.format_rate(events.current_per_second),
            "average": charts.format_rate(events.average_per_second),
            "peak": charts.format_rate(events.peak_per_second),
            "peak_minute": charts.format_when(events.peak_minute),
            "quarantined_share": charts.format_share(events.quarantined_share),
            "total": f"{events.total:,}", "accepted": f"{events.accepted:,}",
            "quarantined": f"{events.quarantined:,}",
        } if events else None,
        "reasons": charts.reason_bars(events.quarantined_by_reason) if events else [],
        "quarantine_url": reverse("monitoring:events") + "?status=quarantined",
    }, status=400 if invalid else 200)
