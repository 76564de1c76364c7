"""The incident's own API operation: escalating a security alert (list, create, detail and
update are the record kit's; transitions and the shared parts /api/v1/records/incidents/…)."""
# No "from __future__ import annotations": ninja reads the operation's annotations at run time.

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from cyberqms.platform.core.access import AccessDenied, require
from cyberqms.platform.core.api_gate import api_actor, gate
from cyberqms.platform.kit.records import kind_of

from . import services

router = Router(tags=["Security incidents"])


class EscalateIn(Schema):
    model_config = ConfigDict(extra="forbid")

    owner: str = Field("", max_length=150, description=(
        "Username of the owner, who may work on incidents at the site; default: the caller"))
    title: str = Field("", max_length=200, description=(
        "Default: the rule's title and what the alert is grouped on, in words"))
    due_date: dt.date | None = Field(None, description="Default: in 14 days")


class EscalatedOut(Schema):
    id: int
    number: str
    title: str
    state: str
    url: str
    alert: str  # the alert's number


def _owner(username: str) -> Any:
    if not username.strip():
        return None
    person = get_user_model()._default_manager.filter(username=username.strip()).first()
    if person is None:
        raise ValidationError({"owner": [f"No user {username.strip()!r}."]})
    return person


@router.post("/incidents/from-alert/{alert_id}", response={201: EscalatedOut},
             operation_id="incident_from_alert", url_name="incident_from_alert",
             summary="Escalate a security alert to an incident")
@gate("incidents.create")
def incident_from_alert(request: HttpRequest, alert_id: int, payload: EscalateIn) -> Status:
    """As the alert page's *Escalate to a security incident*: the incident is pre-filled from
    the alert and its events, and the alert moves to investigating. An alert the caller may
    not see answers 404; one already escalated 422 naming `alert`."""
    from cyberqms.security.monitoring.models import Alert

    actor = api_actor(request)
    alert = Alert.objects.select_related("source", "site").filter(pk=alert_id).first()
    if alert is None:
        raise Http404
    try:
        require(actor, "monitoring.alert.view", alert)
    except AccessDenied:  # the same answer as for a missing alert
        raise Http404 from None
    incident = services.incident_from_alert(alert, actor=actor, owner=_owner(payload.owner),
                                            title=payload.title, due_date=payload.due_date)
    return Status(201, {"id": incident.pk, "number": incident.number, "title": incident.title,
                        "state": incident.state, "url": kind_of(incident).detail_url(incident),
                        "alert": alert.number})
