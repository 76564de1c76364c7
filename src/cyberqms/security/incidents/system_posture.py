"""What incidents tell a system of the inventory (A11D-03): its open incidents for the
posture, and the list of its incidents for its page (registered with the systems app)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Count, Q
from django.urls import reverse

from cyberqms.platform.core.access import can
from cyberqms.platform.core.moments import moment

from .family import INCIDENTS
from .models import Incident

_CLOSED = INCIDENTS.closed_states


def incidents_posture(systems: Sequence[Any]) -> dict[int, list[Any]]:
    from cyberqms.assets.systems.posture import PostureFact

    ids = [s.pk for s in systems]
    rows = (Incident.objects.filter(system_id__in=ids, is_deleted=False)
            .exclude(state__in=_CLOSED).values("system_id")
            .annotate(n=Count("id"), gxp=Count("id", filter=Q(gxp_impact=True)
                                                   | Q(data_integrity_impact=True))))
    out: dict[int, list[Any]] = {}
    for row in rows:
        words = f"{row['n']} open" + (f", {row['gxp']} with GxP impact" if row["gxp"] else "")
        out[row["system_id"]] = [PostureFact("Security incidents", words,
                                             "bad" if row["gxp"] else "warn",
                                             url=reverse("incidents:list"))]
    return out


def system_incidents(system: Any, actor: Any) -> list[Any]:
    from cyberqms.assets.systems.posture import RelatedList

    if not can(actor, "incidents.view", system):
        return []
    incidents = list(Incident.objects.filter(system=system, is_deleted=False)
                     .order_by("-created_at", "-id")[:20])
    return [RelatedList(
        "Security incidents (latest 20)", ("Incident", "State", "GxP impact", "Opened"),
        tuple(((f"{i.number} {i.title}", i.get_state_display(),
                "Yes" if i.gxp_impact else "No", moment(i.created_at)),
               reverse("incidents:detail", args=[i.pk])) for i in incidents),
        empty="No incident has landed on this system.")]
