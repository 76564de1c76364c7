"""What evaluations add to a system's page: the button that starts one (period since the
last, prefilled) and the list of its evaluations."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from cyberqms.platform.core.access import can

from .models import Evaluation

SYSTEM_TYPE = "systems.system"


def start_link(record: Any, actor: Any) -> list[dict[str, str]]:
    from cyberqms.platform.kit.records import kind_of

    if kind_of(record).type_name != SYSTEM_TYPE or record.state not in (
            "validated", "under_change") or not can(actor, "evaluations.create", record):
        return []
    end = timezone.localdate()
    start = record.last_evaluated_on or (
        record.validated_at.date() if record.validated_at else end - dt.timedelta(days=365))
    query = urlencode({"system": record.pk, "site": record.site.code,
                       "title": f"Periodic evaluation of {record.number} {record.title}"[:200],
                       "period_start": start.isoformat(), "period_end": end.isoformat()})
    return [{"label": "Start periodic evaluation", "testid": "start-evaluation",
             "url": f"{reverse('evaluations:create')}?{query}",
             "title": "Evaluate what the period since the last evaluation held (Annex 11 §11)"}]


def system_evaluations(system: Any, actor: Any) -> list[Any]:
    from cyberqms.assets.systems.posture import RelatedList

    if not can(actor, "evaluations.view", system):
        return []
    rows = list(Evaluation.objects.filter(system=system, is_deleted=False)
                .order_by("-period_end", "-id")[:20])
    return [RelatedList(
        "Periodic evaluations", ("Evaluation", "Period", "Conclusion", "State"),
        tuple(((f"{e.number} {e.title}", f"{e.period_start} to {e.period_end}",
                e.get_conclusion_display() if e.conclusion else "—", e.get_state_display()),
               reverse("evaluations:detail", args=[e.pk])) for e in rows),
        empty="Not evaluated yet.")]
