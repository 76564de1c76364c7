"""The incident's own pages: the chain alert → incident → deviation → CAPA → change,
escalation from an alert, and opening the deviation (list, create, detail and edit are the
record kit's; `family.page_context` adds the alerts to the detail page)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import dateformat, timezone
from django.views.decorators.http import require_POST

from cyberqms.platform.core.access import AccessDenied, can, require
from cyberqms.platform.core.pages import gated, page_actor
from cyberqms.platform.kit.record_parts import RecordNotFound, get_record
from cyberqms.platform.kit.records import kind_by_slug
from cyberqms.platform.kit.words import problem_text

from . import queries, services
from .enums import IncidentState
from .models import Incident

S = IncidentState
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
    messages.error(request, problem_text(exc, Incident))


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
    system = incident.system if incident.system_id else None
    return render(request, "incidents/incident_chain.html", {
        "incident": incident, "chain": chain, "loop": loop,
        "gxp_system": system if system is not None and can(request.user, "systems.view",
                                                           system) else None,
        "total": queries.format_elapsed(chain.total),
        "columns": [{"stage": stage, "label": label, "empty": empty,
                     "nodes": chain.stages[stage]} for stage, label, empty in CHAIN_COLUMNS],
    })


@gated("incidents.edit")
@require_POST
def incident_open_deviation(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _load(request, pk, for_="edit")
    owner = get_user_model()._default_manager.filter(pk=request.POST.get("owner") or 0).first()
    try:
        deviation = services.incident_open_deviation(incident, actor=page_actor(request),
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
    from cyberqms.security.monitoring.models import Alert

    alert = Alert.objects.select_related("source", "site").filter(pk=alert_id).first()
    if alert is None:
        raise Http404
    try:
        require(request.user, "monitoring.alert.view", alert)
        incident = services.incident_from_alert(alert, actor=page_actor(request))
    except AccessDenied:
        raise Http404 from None
    except ValidationError as exc:
        _errors(request, exc)
        return redirect("incidents:list")
    messages.success(request, f"{alert.number} escalated to {incident.number}.")
    return redirect("incidents:detail", pk=incident.pk)
