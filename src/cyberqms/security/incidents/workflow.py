"""The security-incident workflow (docs/workflows/incidents.md is generated from it).

open → impact assessment → QA review → closed: IT security contains and assesses; QA
decides, with an e-signature, that the data-integrity assessment is sound. An incident
with GxP or data-integrity impact cannot close without the deviation it opened.
"""

from __future__ import annotations

from typing import Any

from django.db.models import CharField, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone

from cyberqms.platform.core.models import RecordLink
from cyberqms.platform.kit.words import listing, missing
from cyberqms.platform.kit.workflow import Transition, Workflow

from .enums import IncidentState
from .models import Incident

S = IncidentState
TYPE = "incidents.incident"


def contained(i: Incident, actor: Any) -> str | None:
    if not i.containment.strip():
        return "Fill in the containment (what was done to stop it)."
    return None


def assessed(i: Incident, actor: Any) -> str | None:
    absent = missing((
        ("the affected systems", i.affected_systems),
        ("the impact assessment", i.impact_assessment),
        ("the time window", i.window_start and i.window_end),
    ))
    if absent:
        return f"Complete the data-integrity assessment: {listing(absent)}."
    if i.window_start and i.window_end and i.window_end < i.window_start:
        return "The time window ends before it starts."
    return None


def deviation_links(ident: Any) -> QuerySet[RecordLink]:
    """Current links, either way, between the incident `ident` names and a deviation."""
    return RecordLink.objects.filter(removed_at__isnull=True).filter(
        Q(from_type=TYPE, from_id=ident, to_type="deviations.deviation")
        | Q(to_type=TYPE, to_id=ident, from_type="deviations.deviation")
    )


def with_deviation(rows: QuerySet[Any]) -> QuerySet[Any]:
    """`rows` carrying `has_deviation_link`: what the closure's guard reads, for many
    incidents in the one query that reads them."""
    ident = Cast(OuterRef("pk"), output_field=CharField())
    return rows.annotate(has_deviation_link=Exists(deviation_links(ident)))


def deviation_opened_if_impact(i: Incident, actor: Any) -> str | None:
    if not (i.gxp_impact or i.data_integrity_impact):
        return None
    opened = getattr(i, "has_deviation_link", None)  # read with many rows (`with_deviation`)
    if opened is None:
        opened = deviation_links(str(i.pk)).exists()
    if not opened:
        return "The incident has GxP or data-integrity impact: open its deviation first."
    return None


def closing(i: Incident, actor: Any) -> dict[str, Any]:
    return {"closed_at": timezone.now()}


INCIDENT_WORKFLOW = Workflow(Incident, TYPE, [
    Transition("assess", S.OPEN, S.ASSESSMENT, "incidents.work", guards=(contained,),
               label="Contained: assess impact"),
    Transition("submit", S.ASSESSMENT, S.QA_REVIEW, "incidents.submit", guards=(assessed,),
               label="Submit to QA"),
    Transition("return", S.QA_REVIEW, S.ASSESSMENT, "incidents.review", reason=True,
               label="Return to assessment"),
    Transition("close", S.QA_REVIEW, S.CLOSED, "incidents.close", sign="Closed",
               not_by=("originator",), guards=(assessed, deviation_opened_if_impact),
               updates=closing),
    Transition("cancel", (S.OPEN, S.ASSESSMENT), S.CANCELLED, "incidents.cancel", reason=True),
], guard_data=with_deviation)
