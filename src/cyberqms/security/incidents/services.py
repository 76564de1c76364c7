"""Security incidents: escalation from an alert, the impact assessment, the deviation it
opens, and the workflow steps. Every write goes through here (pages, API, tasks)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from cyberqms.platform.accounts.queries import holders_of
from cyberqms.platform.core.access import Actor, capable, require
from cyberqms.platform.kit.record_parts import link_create, links_of
from cyberqms.platform.kit.record_services import record_update
from cyberqms.platform.kit.records import check_due_date, next_number
from cyberqms.platform.trail.record import audit_record

from .enums import IncidentState
from .models import Incident
from .workflow import TYPE

logger = logging.getLogger("cyberqms.security.incidents")
S = IncidentState


def _check_owner(owner: Any, incident: Incident) -> None:
    if owner is None or not capable(owner, "incidents.work", incident):
        raise ValidationError({"owner": [
            f"{owner} cannot work on security incidents at {incident.site}: choose someone who can."
        ]})


def _distinct(values: Any, limit: int = 20) -> list[str]:
    out: list[str] = []
    for value in values:
        text = " ".join(str(value or "").split())
        if text and text not in out:
            out.append(text)
    if len(out) > limit:
        out = [*out[:limit], f"… and {len(out) - limit} more"]
    return out


def prefill_from_alert(alert: Any, *, events: int = 500) -> dict[str, Any]:
    """What an alert tells an incident's data-integrity assessment before anyone looks:
    the time window, the systems, batches and record types named in its events (OCSF
    `gxp.*`), and the accounts and addresses involved (CYB-05)."""
    rows = list(alert.events.order_by("-received_at", "-id")
                .values_list("actor", "src_ip", "event")[:events])
    gxp = [(row[2] or {}).get("gxp") or {} for row in rows]
    systems = _distinct([alert.source.system if alert.source_id else "",
                         *(g.get("system") for g in gxp), *(g.get("equipment") for g in gxp)])
    accounts = _distinct(row[0] for row in rows)
    addresses = _distinct(row[1] for row in rows)
    involved = []
    if accounts:
        involved.append("Accounts: " + ", ".join(accounts))
    if addresses:
        involved.append("From: " + ", ".join(addresses))
    system = alert.source.gxp_system if alert.source_id and alert.source else None
    if system is not None:
        systems = [system_words(system), *systems]
    return {
        "window_start": alert.first_seen, "window_end": alert.last_seen,
        "event_at": alert.first_seen, "system": system,
        "impact_assessment": impact_start(system) if system is not None else "",
        "affected_systems": "\n".join(systems)[:2000],
        "affected_batches": "\n".join(_distinct(g.get("batch") for g in gxp))[:2000],
        "affected_records": "\n".join(
            f"Record type: {t}" for t in _distinct(g.get("record_type") for g in gxp))[:4000],
        "involved_accounts": "\n".join(involved)[:2000],
    }


def system_words(system: Any) -> str:
    """"SYS-0007 SCADA/HMI Line 2 (GAMP 4, validated v3.2, high criticality, system owner
    Dana Ruiz)"."""
    state = system.get_state_display().lower()
    if system.validated_version:
        state += f" v{system.validated_version}"
    return (f"{system.number} {system.title} (GAMP {system.gamp_category}, {state}, "
            f"{system.criticality} criticality, system owner {system.owner.printed_name})")


def impact_start(system: Any) -> str:
    """Where the impact assessment starts: what the system is and holds, its validation
    state, and who answers for it (A11-05, CYB-05)."""
    lines = [
        f"Starting point: the events come from {system.number} {system.title}, GAMP "
        f"category {system.gamp_category}, {system.criticality} criticality"
        + (", data-integrity relevant" if system.data_integrity_relevant else "") + ".",
        f"Validation state: {system.get_state_display().lower()}"
        + (f" (version {system.validated_version})" if system.validated_version else "")
        + ".",
    ]
    if system.records_held.strip():
        lines.append(f"GxP records it holds: {' '.join(system.records_held.split())}")
    people = [f"system owner {system.owner.printed_name}"]
    if system.qa_contact_id:
        people.append(f"QA contact {system.qa_contact.printed_name}")
    lines.append("Ask: " + ", ".join(people) + ".")
    lines.append("Assess whether these records were read, changed or lost in the window.")
    return "\n".join(lines)[:10000]


def land_on_system(incident: Incident, actor: Any) -> None:
    """Link the incident to its system ("Affects"), in the escalation's transaction: the
    system's page and its periodic evaluation list it."""
    system = incident.system
    if system is None:
        return
    link_create(incident, system, actor=actor or incident.owner, relation="affects",
                note="Its alert came from a source of this system.")


def _locked_unescalated(alert: Any) -> Any:
    """The alert row, locked, or a ValidationError naming the incident it already has
    (one alert is escalated once, however many people or tasks try at the same time)."""
    from cyberqms.security.monitoring.models import Alert

    # Lock the alert row only: PostgreSQL refuses FOR UPDATE on the nullable side of a join.
    locked = (Alert.objects.select_for_update(of=("self",))
              .select_related("source", "site", "source__gxp_system__owner",
                              "source__gxp_system__qa_contact")
              .get(pk=alert.pk))
    already = locked.incidents.order_by("pk").first()
    if already is not None:
        raise ValidationError({"alert": [
            f"{locked.number} is already escalated to {already.number}."
        ]})
    return locked


def _title_of(alert: Any) -> str:
    """The rule's title and what the alert is grouped on, in words: "Brute force against
    one account: account qc_analyst, source address 10.20.0.7"."""
    from cyberqms.security.monitoring.describe import grouped_on_text

    grouped = grouped_on_text(alert.group_key)
    return f"{alert.title}: {grouped}" if grouped else f"{alert.title} ({alert.number})"


def _incident_for(alert: Any, *, site: Any, owner: Any, originator: Any, title: str,
                  due_date: dt.date | None) -> Incident:
    return Incident(
        site=site, owner=owner, originator=originator, state=S.OPEN,
        title=(title or _title_of(alert))[:200],
        description=(f"Escalated from {alert.number} ({alert.count} "
                     f"event{'' if alert.count == 1 else 's'}): {alert.summary}")[:10000],
        due_date=due_date or timezone.localdate() + dt.timedelta(days=14),
        **prefill_from_alert(alert),
    )


def incident_from_alert(
    alert: Any, *, actor: Actor, owner: Any = None, site: Any = None, title: str = "",
    due_date: dt.date | None = None,
) -> Incident:
    """Escalate a security alert to an incident (CYB-05): the window, the systems, the
    accounts involved and the events come from the alert, which moves to investigating.

    :raises ValidationError: the alert names no site, or is already escalated (`alert`).
    Side effects: audit entries `incidents.incident.create` and, for the alert,
    `monitoring.alert.investigate`.
    """
    from cyberqms.security.monitoring.enums import AlertState
    from cyberqms.security.monitoring.workflow import ALERT_WORKFLOW

    site = site or alert.site or (alert.source.site if alert.source_id else None)
    if site is None:
        raise ValidationError({"site": ["The alert names no site: choose the site."]})
    incident = _incident_for(alert, site=site, owner=owner or actor, originator=actor,
                             title=title, due_date=due_date)
    require(actor, "incidents.create", incident)
    _check_owner(incident.owner, incident)
    check_due_date(incident.due_date)
    with transaction.atomic():
        alert = _locked_unescalated(alert)
        incident.number = next_number("SEC")
        incident.created_at = timezone.now()
        incident.save()
        incident.alerts.add(alert)
        audit_record(f"{TYPE}.create", incident, actor=actor, created=True,
                     changes={"alerts": [None, [alert.number]]})
        land_on_system(incident, actor)
        if alert.state in (AlertState.NEW, AlertState.ACKNOWLEDGED):
            ALERT_WORKFLOW.run(alert, "investigate", actor=actor,
                               reason=f"Escalated to {incident.number}")
    return incident


def escalates_automatically(level: str) -> bool:
    """Whether a new alert of `level` opens an incident by itself
    (CYBERQMS_AUTO_ESCALATE_LEVEL; empty: never)."""
    from cyberqms.security.monitoring.enums import LEVEL_ORDER

    threshold = settings.CYBERQMS_AUTO_ESCALATE_LEVEL
    if not threshold:
        return False
    return LEVEL_ORDER.get(level, -1) >= LEVEL_ORDER[threshold]


def duty_officer(site: Any) -> Any:
    """Who an automatically opened incident is assigned to: the first person (by account
    age) the gate lets work on incidents at `site`, or None."""
    return next(iter(sorted(holders_of("incidents.work", site.pk), key=lambda u: u.pk)), None)


def incident_auto_escalate(alert: Any) -> Incident | None:
    """Open the incident for a new alert at or above CYBERQMS_AUTO_ESCALATE_LEVEL, as the
    system (CYB-05). Idempotent: an alert already escalated (by a person or an earlier
    run) is left alone. The alert keeps its state: a person still acknowledges it (the
    time to respond stays a human figure). The incident is assigned to the site's IT
    security officer (`duty_officer`), who is told.

    Returns the incident, or None when nothing was opened (below the level, already
    escalated, closed by a person meanwhile, no site, nobody to assign it to — the last two
    are logged).
    Side effects: audit entry `incidents.incident.create` by the system, with the reason;
    inbox entries for the owner (assignment) and the site's QA managers (info, on the
    alert's notice) on commit, open until the incident is closed.
    """
    from cyberqms.platform.notifications.services import notify, open_states, owner_key
    from cyberqms.security.monitoring.enums import OPEN_ALERT_STATES
    from cyberqms.security.monitoring.notices import alert_key

    if not escalates_automatically(alert.level) or alert.state not in OPEN_ALERT_STATES:
        return None
    site = alert.site or (alert.source.site if alert.source_id else None)
    if site is None:
        logger.warning("%s: not escalated automatically, the alert names no site",
                       alert.number)
        return None
    owner = duty_officer(site)
    if owner is None:
        logger.warning("%s: not escalated automatically, nobody holds IT security at %s",
                       alert.number, site.code)
        return None
    with transaction.atomic():
        try:
            alert = _locked_unescalated(alert)
        except ValidationError:
            return None
        if alert.state not in OPEN_ALERT_STATES:
            return None  # closed by a person (false positive, resolved) before the worker ran
        incident = _incident_for(alert, site=site, owner=owner, originator=owner, title="",
                                 due_date=None)
        incident.auto_escalated = True
        incident.number = next_number("SEC")
        incident.created_at = timezone.now()
        incident.save()
        incident.alerts.add(alert)
        audit_record(
            f"{TYPE}.create", incident, actor=None, created=True,
            changes={"alerts": [None, [alert.number]]},
            reason=(f"Opened automatically: {alert.number} is {alert.level}, at or above "
                    f"CYBERQMS_AUTO_ESCALATE_LEVEL ({settings.CYBERQMS_AUTO_ESCALATE_LEVEL})"),
        )
        land_on_system(incident, None)
        url = reverse("incidents:detail", args=[incident.pk])
        working = open_states(incident)
        notify([owner], kind="assignment",
               subject=f"{incident.number} opened automatically from {alert.number}: "
                       f"{incident.title}",
               body="The alert's level calls for an incident: contain, then assess the "
                    "data-integrity impact.",
               url=url, record_type=TYPE, record_id=incident.pk,
               record_number=incident.number, awaits=working,
               subject_key=owner_key(TYPE, incident.pk))
        # QA hears of it on the alert's own notice (said again, unread again), open until
        # the incident is closed.
        notify(holders_of("incidents.close", site.pk), kind="info",
               subject=f"{incident.number} opened automatically from {alert.number} "
                       f"({alert.level})", exclude=owner,
               body=f"{alert.title}: escalated to a security incident, assigned to "
                    f"{owner.printed_name}.",
               url=url, record_type=TYPE, record_id=incident.pk,
               record_number=incident.number, awaits=working, subject_key=alert_key(alert))
    return incident


def incident_update(
    incident: Incident, *, actor: Actor, changes: dict[str, Any], reason: str = ""
) -> Incident:
    """Change the fields open in the incident's state (the kit's `record_update`): while
    open without a reason (`incidents.incident.edit`), later with one (`.update`)."""
    return record_update(incident, actor=actor, changes=changes, reason=reason)


def _lines(label: str, text: str) -> str:
    text = "; ".join(line.strip() for line in (text or "").splitlines() if line.strip())
    return f"{label}: {text}" if text else ""


def _impact_texts(incident: Incident) -> tuple[str, str]:
    """The deviation's two assessments, each from its own incident fields (never the same
    text twice; empty where the incident says nothing, for QA to fill): the GxP impact
    from the impact assessment and the batches, the data-integrity impact from the
    systems, records, time window and accounts."""
    gxp = [incident.impact_assessment.strip(),
           _lines("Batches possibly affected", incident.affected_batches)]
    window = ""
    if incident.window_start and incident.window_end:
        window = (f"Time window: {incident.window_start.astimezone(dt.UTC):%Y-%m-%d %H:%M} → "
                  f"{incident.window_end.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC")
    di = [_lines("Systems", incident.affected_systems),
          _lines("GxP records possibly touched", incident.affected_records), window,
          _lines("Accounts and addresses involved", incident.involved_accounts)]
    return ("\n".join(p for p in gxp if p)[:5000] if incident.gxp_impact else "",
            "\n".join(p for p in di if p)[:5000] if incident.data_integrity_impact else "")


def _deviation_due(incident: Incident) -> dt.date | None:
    """A deviation recorded by a person gets no due date by default (neither the family nor
    the site sets one), so the deviation is due with its incident; an incident already
    past its date makes the deviation due today."""
    if incident.due_date is None:
        return None
    return max(incident.due_date, timezone.localdate())


def incident_open_deviation(
    incident: Incident, *, actor: Actor, owner: Any, title: str = ""
) -> Any:
    """Open the deviation for an incident with GxP or data-integrity impact, cyber-related
    and linked both ways (CYB-05): due with the incident (`_deviation_due`), its GxP and
    data-integrity assessments each from the incident's matching fields (`_impact_texts`).
    Side effects: the deviation's own entries and a link."""
    from cyberqms.quality.deviations.services import deviation_create

    if any(link["other_type"] == "deviations.deviation" for link in links_of(incident)):
        raise ValidationError({"__all__": [f"{incident.number} already has its deviation."]})
    impact = []
    if incident.gxp_impact:
        impact.append("GxP impact")
    if incident.data_integrity_impact:
        impact.append("data-integrity impact")
    gxp_text, di_text = _impact_texts(incident)
    with transaction.atomic():
        deviation = deviation_create(
            actor=actor, site=incident.site, owner=owner,
            title=(title or f"{incident.title} — quality impact")[:200],
            description=(f"Security incident {incident.number}: {incident.description}\n\n"
                         f"Impact assessment: {incident.impact_assessment or 'pending'}"),
            event_at=incident.event_at, due_date=_deviation_due(incident), cyber_related=True,
            security_reference=incident.number,
            gxp_impact=incident.gxp_impact, gxp_impact_text=gxp_text,
            data_integrity_impact=incident.data_integrity_impact,
            data_integrity_impact_text=di_text,
            late_entry_reason=f"Opened from security incident {incident.number}.",
            immediate_actions=incident.containment,
        )
        linked = any(link["other_type"] == "deviations.deviation"
                     for link in links_of(incident))
        if not linked:
            link_create(incident, deviation, actor=actor, relation="spawned",
                        note=", ".join(impact) or "opened from the incident")
        system = incident.system
        if system is not None:
            # The deviation is about the system the incident landed on: its page and its
            # periodic evaluation list it.
            link_create(deviation, system, actor=actor, relation="affects",
                        note=f"Opened from {incident.number}.")
    return deviation
