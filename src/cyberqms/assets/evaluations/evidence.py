"""What a periodic evaluation reviews (A11-18): the records that affect the system and were
open during the period (incidents, changes, deviations … linked to it, whatever their
family), the audit-trail reviews of the period, and the security posture entered as of its
end. Gathered when the evaluation is sent for review and kept with it; read live while it
is a draft. Families are read through the links, so this module imports none of them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q
from django.utils import timezone

from cyberqms.platform.core.models import RecordLink
from cyberqms.platform.kit.records import kind_by_type
from cyberqms.platform.trail.models import TrailReview

SYSTEM_TYPE = "systems.system"


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return (dt.datetime.combine(start, dt.time.min, tzinfo=dt.UTC),
            dt.datetime.combine(end, dt.time.max, tzinfo=dt.UTC))


def _day(moment: dt.datetime | None) -> str:
    return moment.astimezone(dt.UTC).date().isoformat() if moment else ""


def linked_records(system: Any, start: dt.date, end: dt.date) -> dict[str, list[dict[str, str]]]:
    """Records linked to the system and open at some time in [start, end], by family
    (plural label), oldest first."""
    since, until = _bounds(start, end)
    links = RecordLink.objects.filter(removed_at__isnull=True).filter(
        Q(to_type=SYSTEM_TYPE, to_id=str(system.pk))
        | Q(from_type=SYSTEM_TYPE, from_id=str(system.pk)))
    ids: dict[str, set[str]] = {}
    for link in links:
        other_type, other_id = ((link.from_type, link.from_id) if link.to_type == SYSTEM_TYPE
                                and link.to_id == str(system.pk)
                                else (link.to_type, link.to_id))
        if other_type != SYSTEM_TYPE:
            ids.setdefault(other_type, set()).add(other_id)
    out: dict[str, list[dict[str, str]]] = {}
    for type_name in sorted(ids):
        try:
            kind = kind_by_type(type_name)
        except LookupError:
            continue
        wanted = [int(i) for i in ids[type_name] if i.isdigit()]
        rows = (kind.model._default_manager.filter(pk__in=wanted, is_deleted=False,
                                                   created_at__lte=until)
                .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=since))
                .order_by("created_at", "pk"))
        found = [{"number": r.number, "title": r.title, "state": r.get_state_display(),
                  "opened": _day(r.created_at), "closed": _day(r.closed_at)} for r in rows]
        if found:
            out[kind.plural_label] = found
    return out


def trail_reviews(system: Any, start: dt.date, end: dt.date) -> list[dict[str, str]]:
    """Audit-trail reviews made in the period: of a date range (every record's entries),
    or of this system's own trail."""
    since, until = _bounds(start, end)
    reviews = (TrailReview.objects.filter(reviewed_at__range=(since, until))
               .filter(Q(scope="range") | Q(object_type=SYSTEM_TYPE, object_id=str(system.pk)))
               .select_related("reviewer").order_by("reviewed_at"))
    return [{"reviewed": _day(r.reviewed_at), "scope": (
                f"{r.date_from} to {r.date_to}" if r.scope == "range" else r.object_label),
             "entries": str(r.entries), "outcome": r.get_outcome_display(),
             "reviewer": r.reviewer.printed_name} for r in reviews]


def posture_at(system: Any, end: dt.date) -> list[dict[str, str]]:
    from cyberqms.assets.systems.posture import entered_posture

    facts = entered_posture([system], today=end)[system.pk]
    return [{"item": f.label,
             "finding": f.entry.value if f.entry else "never entered",
             "as_of": f.entry.assessed_on.isoformat() if f.entry else "",
             "state": "overdue" if f.overdue else "current"} for f in facts]


def gather(evaluation: Any) -> dict[str, Any]:
    system, start, end = evaluation.system, evaluation.period_start, evaluation.period_end
    return {"gathered_at": timezone.now().isoformat(),
            "records": linked_records(system, start, end),
            "trail_reviews": trail_reviews(system, start, end),
            "posture": posture_at(system, end)}


def shown(evaluation: Any) -> dict[str, Any]:
    """The evidence as kept, or, for a draft, as it reads now."""
    if evaluation.evidence:
        return dict(evaluation.evidence)
    if evaluation.system_id is None or not evaluation.period_start or not evaluation.period_end:
        return {}
    return gather(evaluation)


def evidence_sections(evaluation: Any) -> list[Any]:
    from cyberqms.platform.kit.record_export import Section

    found = shown(evaluation)
    sections = [Section(f"{label} in the period", ["Number", "Title", "State", "Opened",
                                                  "Closed"],
                        [[r["number"], r["title"], r["state"], r["opened"], r["closed"]]
                         for r in rows])
                for label, rows in found.get("records", {}).items()]
    if not found.get("records"):
        sections.append(Section("Records affecting the system in the period",
                                ["Number", "Title"], [["—", "No record links to the system "
                                                             "in the period."]]))
    sections.append(Section("Audit-trail reviews in the period",
                            ["Reviewed", "Scope", "Entries", "Outcome", "Reviewer"],
                            [[r["reviewed"], r["scope"], r["entries"], r["outcome"],
                              r["reviewer"]] for r in found.get("trail_reviews", [])]))
    sections.append(Section("Security posture at the end of the period",
                            ["Item", "Finding", "As of", "State"],
                            [[r["item"], r["finding"], r["as_of"], r["state"]]
                             for r in found.get("posture", [])]))
    return sections
