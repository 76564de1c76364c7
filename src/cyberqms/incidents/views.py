"""Security-incident pages: list, detail on the record frame (with the alerts behind it
and the lineage alert → incident → deviation → CAPA → change), escalation from an alert,
the assessment form and opening the deviation."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import dateformat, timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_POST

from cyberqms.core.access import AccessDenied, require
from cyberqms.core.pages import gated
from cyberqms.core.record_pages import record_context
from cyberqms.core.record_parts import RecordNotFound, get_record
from cyberqms.core.records import kind_by_slug

from . import queries, services
from .enums import IncidentState
from .models import Incident

S = IncidentState
TEXT_FIELDS = ("containment", "affected_systems", "affected_records", "affected_batches",
               "involved_accounts", "impact_assessment")
CHAIN_COLUMNS = (
    ("alert", "Alerts", "Raised by hand, not from an alert you can see."),
    ("incident", "Security incident", ""),
    ("deviation", "Deviations", "No deviation yet: an incident with GxP or data-integrity "
                                "impact opens one."),
    ("capa", "CAPAs", "No CAPA yet: the deviation spawns it once under investigation."),
    ("change", "Changes", "No change control yet: link the change that implements a CAPA."),
)


def _load(request: HttpRequest, pk: int, for_: str = "view") -> Incident:
    try:
        incident: Incident = get_record(request.user, kind_by_slug("incidents"), pk, for_=for_)
    except RecordNotFound:
        raise Http404 from None
    return incident


def _errors(request: HttpRequest, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        label = "" if field == "__all__" else f"{field.replace('_', ' ').capitalize()}: "
        for error in errors:
            messages.error(request, f"{label}{error}")


@gated("incidents.view")
def incident_list(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    rows = Incident.objects.filter(is_deleted=False).select_related("site", "owner")
    if state in S.values:
        rows = rows.filter(state=state)
    visible = [i for i in rows.order_by("-created_at")[:500]
               if _may(request.user, "incidents.view", i)]
    page = Paginator(visible, 25).get_page(request.GET.get("page"))
    return render(request, "incidents/incident_list.html", {
        "page": page, "states": S.choices, "filters": {"state": state},
    })


def _may(user: Any, action: str, incident: Incident) -> bool:
    from cyberqms.core.access import can

    return can(user, action, incident)


@gated("incidents.view")
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _load(request, pk)
    context = record_context(request, kind_by_slug("incidents"), incident)
    editable = services.EDITABLE.get(S(incident.state), ())
    people = get_user_model()._default_manager.filter(is_active=True, kind="person").order_by(
        "full_name")
    context.update({
        "alerts": incident.alerts.select_related("source").order_by("first_seen"),
        "can_see_alerts": _may(request.user, "monitoring.alert.view", incident),
        "editable": editable,
        "can_update": context["can_edit"] and bool(editable),
        "people": people,
        "deviation_links": [link for link in context["links"]
                            if link["other_type"] == "deviations.deviation"],
    })
    return render(request, "incidents/incident_detail.html", context)


def _local_input(value: dt.datetime) -> str:
    """A time as the form's datetime-local field shows it (local time, to the second)."""
    return dateformat.format(timezone.localtime(value), "Y-m-d\\TH:i:s")


def _shown(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return dateformat.format(timezone.localtime(value), "Y-m-d H:i:s T")
    return dateformat.format(value, "Y-m-d")


@gated("incidents.view")
def incident_chain(request: HttpRequest, pk: int) -> HttpResponse:
    """The feedback loop on one page (CYB-05): alert(s) → incident → deviation(s) → CAPA(s)
    → change(s), each linking to its record, with the time each step took."""
    incident = _load(request, pk)
    chain = queries.chain_of(incident, request.user)
    for node in chain.nodes:
        node.shown = [(label, _shown(value)) for label, value in node.dates
                      if value is not None]
    loop = [{"step": step, "at": _shown(step.at) if step.at else "",
             "elapsed": queries.format_elapsed(step.elapsed)} for step in chain.loop]
    return render(request, "incidents/incident_chain.html", {
        "incident": incident, "chain": chain, "loop": loop,
        "total": queries.format_elapsed(chain.total),
        "columns": [{"stage": stage, "label": label, "empty": empty,
                     "nodes": chain.stages[stage]} for stage, label, empty in CHAIN_COLUMNS],
    })


@gated("incidents.edit")
@require_POST
def incident_edit(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _load(request, pk, for_="edit")
    editable = services.EDITABLE.get(S(incident.state), ())
    post = request.POST
    changes: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        if name in editable and name in post:
            changes[name] = post.get(name, "").strip()
    for name in ("gxp_impact", "data_integrity_impact"):
        if name in editable:
            changes[name] = post.get(name) == "on"
    for name in ("window_start", "window_end"):
        posted = post.get(name, "").strip()
        current = getattr(incident, name)
        # The form shows the window to the second: an untouched field keeps the exact value
        # (an alert's window has sub-second ends that a round trip would cut off).
        if name not in editable or not posted or (
            current is not None and posted == _local_input(current)
        ):
            continue
        value = parse_datetime(posted)
        if value is None:
            messages.error(request, f"{name.replace('_', ' ').capitalize()}: "
                           "enter a date and time.")
            return redirect("incidents:detail", pk=pk)
        changes[name] = value if timezone.is_aware(value) else timezone.make_aware(value)
    try:
        services.incident_update(incident, actor=request.user, changes=changes,
                                 reason=post.get("reason", ""))
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, f"{incident.number} saved.")
    return redirect("incidents:detail", pk=pk)


@gated("incidents.edit")
@require_POST
def incident_open_deviation(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _load(request, pk, for_="edit")
    owner = get_user_model()._default_manager.filter(pk=request.POST.get("owner") or 0).first()
    try:
        deviation = services.incident_open_deviation(incident, actor=request.user,
                                                     owner=owner or request.user)
    except ValidationError as exc:
        _errors(request, exc)
        return redirect("incidents:detail", pk=pk)
    except AccessDenied:
        messages.error(request, "You may not open deviations at this site.")
        return redirect("incidents:detail", pk=pk)
    messages.success(request, f"{deviation.number} opened and linked to {incident.number}.")
    return redirect("deviations:detail", pk=deviation.pk)


@gated("incidents.create")
@require_POST
def incident_from_alert(request: HttpRequest, alert_id: int) -> HttpResponse:
    from cyberqms.monitoring.models import Alert

    alert = Alert.objects.select_related("source", "site").filter(pk=alert_id).first()
    if alert is None:
        raise Http404
    try:
        require(request.user, "monitoring.alert.view", alert)
        incident = services.incident_from_alert(alert, actor=request.user)
    except AccessDenied:
        raise Http404 from None
    except ValidationError as exc:
        _errors(request, exc)
        return redirect("incidents:list")
    messages.success(request, f"{alert.number} escalated to {incident.number}.")
    return redirect("incidents:detail", pk=incident.pk)
