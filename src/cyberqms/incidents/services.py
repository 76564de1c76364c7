"""Security incidents: escalation from an alert, the impact assessment, the deviation it
opens, and the workflow steps. Every write goes through here (pages, API, tasks)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cyberqms.core.access import capable, require
from cyberqms.core.record_parts import link_create, links_of
from cyberqms.core.records import check_due_date, next_number
from cyberqms.core.signatures import SignatureRequest
from cyberqms.trail.record import audit_record, snapshot

from .enums import IncidentState
from .models import Incident
from .workflow import INCIDENT_WORKFLOW, TYPE

S = IncidentState
EDITABLE = {
    S.OPEN: ("title", "description", "owner", "due_date", "containment", "affected_systems",
             "affected_records", "affected_batches", "window_start", "window_end",
             "gxp_impact", "data_integrity_impact", "impact_assessment"),
    S.ASSESSMENT: ("owner", "due_date", "containment", "affected_systems", "affected_records",
                   "affected_batches", "window_start", "window_end", "gxp_impact",
                   "data_integrity_impact", "impact_assessment"),
}


def _check_owner(owner: Any, incident: Incident) -> None:
    if owner is None or not capable(owner, "incidents.work", incident):
        raise ValidationError({"owner": [
            f"{owner} cannot work on security incidents at {incident.site}: choose someone who can."
        ]})


def incident_from_alert(
    alert: Any, *, actor: Any, owner: Any = None, site: Any = None, title: str = "",
    due_date: dt.date | None = None,
) -> Incident:
    """Escalate a security alert to an incident (CYB-05): the window, the system and the
    events come from the alert, which moves to investigating.

    Side effects: audit entries `incidents.incident.create` and, for the alert,
    `monitoring.alert.investigate`.
    """
    from cyberqms.monitoring.enums import AlertState
    from cyberqms.monitoring.workflow import ALERT_WORKFLOW

    site = site or alert.site or (alert.source.site if alert.source_id else None)
    if site is None:
        raise ValidationError({"site": ["The alert names no site: choose the site."]})
    if alert.incidents.exists():
        raise ValidationError({"alert": [
            f"{alert.number} is already escalated to {alert.incidents.first().number}."
        ]})
    incident = Incident(
        site=site, owner=owner or actor, originator=actor, state=S.OPEN,
        title=(title or f"{alert.title} ({alert.group_key or alert.number})")[:200],
        description=f"Escalated from {alert.number}: {alert.summary}".strip()[:10000],
        event_at=alert.first_seen, window_start=alert.first_seen, window_end=alert.last_seen,
        affected_systems=(alert.source.system if alert.source_id else ""),
        due_date=due_date or timezone.localdate() + dt.timedelta(days=14),
    )
    require(actor, "incidents.create", incident)
    _check_owner(incident.owner, incident)
    check_due_date(incident.due_date)
    with transaction.atomic():
        incident.number = next_number("SEC")
        incident.created_at = timezone.now()
        incident.save()
        incident.alerts.add(alert)
        audit_record(f"{TYPE}.create", incident, actor=actor, created=True,
                     changes={"alerts": [None, [alert.number]]})
        if alert.state in (AlertState.NEW, AlertState.ACKNOWLEDGED):
            ALERT_WORKFLOW.run(alert, "investigate", actor=actor,
                               reason=f"Escalated to {incident.number}")
    return incident


def incident_update(
    incident: Incident, *, actor: Any, changes: dict[str, Any], reason: str = ""
) -> Incident:
    """Change the fields open in the incident's state. Side effects: audit
    `incidents.incident.update` (reason required)."""
    require(actor, "incidents.edit", incident)
    allowed = EDITABLE.get(S(incident.state), ())
    refused = sorted(set(changes) - set(allowed))
    if refused:
        raise ValidationError({name: ["Not editable in this state."] for name in refused})
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        before = snapshot(locked)
        for name, value in changes.items():
            setattr(locked, name, value)
        if "owner" in changes:
            _check_owner(locked.owner, locked)
        if "due_date" in changes:
            check_due_date(locked.due_date)
        if locked.window_start and locked.window_end and locked.window_end < locked.window_start:
            raise ValidationError({"window_end": ["The window ends before it starts."]})
        locked.save()
        audit_record(f"{TYPE}.update", locked, actor=actor, before=before,
                     reason=reason or "Incident assessment updated")
    for f in locked._meta.concrete_fields:
        setattr(incident, f.attname, getattr(locked, f.attname))
    return locked


def incident_open_deviation(
    incident: Incident, *, actor: Any, owner: Any, title: str = ""
) -> Any:
    """Open the deviation for an incident with GxP or data-integrity impact, cyber-related
    and linked both ways (CYB-05). Side effects: the deviation's own entries and a link."""
    from cyberqms.deviations.services import deviation_create

    if any(link["other_type"] == "deviations.deviation" for link in links_of(incident)):
        raise ValidationError({"__all__": [f"{incident.number} already has its deviation."]})
    impact = []
    if incident.gxp_impact:
        impact.append("GxP impact")
    if incident.data_integrity_impact:
        impact.append("data-integrity impact")
    with transaction.atomic():
        deviation = deviation_create(
            actor=actor, site=incident.site, owner=owner,
            title=(title or f"{incident.title} — quality impact")[:200],
            description=(f"Security incident {incident.number}: {incident.description}\n\n"
                         f"Impact assessment: {incident.impact_assessment or 'pending'}"),
            event_at=incident.event_at, cyber_related=True,
            security_reference=incident.number,
            gxp_impact=incident.gxp_impact,
            gxp_impact_text=incident.impact_assessment if incident.gxp_impact else "",
            data_integrity_impact=incident.data_integrity_impact,
            data_integrity_impact_text=(incident.impact_assessment
                                        if incident.data_integrity_impact else ""),
            late_entry_reason=f"Opened from security incident {incident.number}.",
            immediate_actions=incident.containment,
        )
        linked = any(link["other_type"] == "deviations.deviation"
                     for link in links_of(incident))
        if not linked:
            link_create(incident, deviation, actor=actor, relation="spawned",
                        note=", ".join(impact) or "opened from the incident")
    return deviation


def incident_transition(
    incident: Incident, action: str, *, actor: Any, reason: str = "",
    signature: SignatureRequest | None = None,
) -> Incident:
    return INCIDENT_WORKFLOW.run(incident, action, actor=actor, reason=reason,
                                 signature=signature)
