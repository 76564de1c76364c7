"""What monitoring tells a system of the inventory (A11D-03): its event sources and when
each last sent, its open alerts; and the list of its alerts for its page. Registered with
the systems app (`assets.systems.posture`); each answers for many systems in two queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from cyberqms.platform.core.access import can
from cyberqms.platform.core.moments import moment

from .enums import OPEN_ALERT_STATES, AlertState
from .models import Alert, EventSource

# A source that has sent nothing for this long is worth a look.
QUIET = dt.timedelta(hours=24)


def monitoring_posture(systems: Sequence[Any]) -> dict[int, list[Any]]:
    from cyberqms.assets.systems.posture import PostureFact

    ids = [s.pk for s in systems]
    out: dict[int, list[Any]] = {pk: [] for pk in ids}
    now = timezone.now()
    for source in (EventSource.objects.filter(gxp_system_id__in=ids)
                   .select_related("totals").order_by("name")):
        if source.gxp_system_id is None:
            continue
        totals = getattr(source, "totals", None)
        last = totals.last_received_at if totals is not None else None
        if not source.is_active:
            status, value = "info", "inactive"
        elif last is None:
            status, value = "bad", "nothing received yet"
        else:
            status = "ok" if now - last <= QUIET else "warn"
            value = "receiving" if status == "ok" else "quiet for more than a day"
        out[source.gxp_system_id].append(PostureFact(
            f"Monitoring source {source.name}", value, status, when=last,
            url=f"{reverse('monitoring:events')}?{urlencode({'source': source.name})}"))
    watched = {pk for pk, facts in out.items() if facts}
    counts: dict[int, dict[str, int]] = {}
    for row in (Alert.objects.filter(source__gxp_system_id__in=ids,
                                     state__in=OPEN_ALERT_STATES)
                .values("source__gxp_system_id", "level").annotate(n=Count("id"))):
        counts.setdefault(row["source__gxp_system_id"], {})[row["level"]] = row["n"]
    for pk in ids:
        levels = counts.get(pk, {})
        if pk not in watched and not levels:
            continue
        total = sum(levels.values())
        severe = levels.get("critical", 0) + levels.get("high", 0)
        words = f"{total} open" + (f" ({severe} high or critical)" if severe else "")
        out[pk].append(PostureFact(
            "Security alerts", words if total else "none open",
            "bad" if severe else "warn" if total else "ok",
            url=reverse("monitoring:alerts")))
    return out


def system_alerts(system: Any, actor: Any) -> list[Any]:
    from cyberqms.assets.systems.posture import RelatedList

    if not can(actor, "monitoring.alert.view", system):
        return []
    alerts = list(Alert.objects.filter(source__gxp_system=system)
                  .order_by("-created_at", "-id")[:20])
    return [RelatedList(
        "Security alerts (latest 20)", ("Alert", "Level", "State", "Detected"),
        tuple(((f"{a.number} {a.title}", a.level.capitalize(), AlertState(a.state).label,
                moment(a.created_at)), reverse("monitoring:alert", args=[a.pk]))
              for a in alerts),
        empty="No alert from this system's sources.")]
