"""A drill's scorecard (CYB-09): what it expected against what happened, read from the
records the drill's events led to.

An attack drill is read from its alerts (`Alert.drill`), the incidents that hold them
and the chain hanging from the first incident (deviation, CAPA):

- detected by an expected rule, and within `CYBERQMS_DRILL_DETECT_MINUTES`;
- acknowledged by a person within `CYBERQMS_DRILL_ACKNOWLEDGE_MINUTES`, and by whom;
- an incident, a deviation and a CAPA opened, and when.

A ransomware drill is read from what was measured on the copy (copy_drill.py): detected
by the trail's verification and by which rule, time to detect, records modified and
deleted, time to recover from the backup, records lost, the recovered copy verified.

The score is the share of checks met. The scorecard is read live until the drill is
scored, then kept with it (and printed in its PDF copy).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import timezone

from .enums import DrillKind
from .models import Drill
from .scenarios import scenario_of


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).isoformat() if moment else None


def _after(moment: dt.datetime | None, start: dt.datetime | None) -> float | None:
    if moment is None or start is None:
        return None
    return round(max(0.0, (moment - start).total_seconds()), 3)


def _check(key: str, label: str, met: bool | None, measured: str) -> dict[str, Any]:
    return {"key": key, "label": label, "met": bool(met), "measured": measured}


def _words(seconds: float | None) -> str:
    from cyberqms.platform.core.moments import duration_text

    return duration_text(dt.timedelta(seconds=seconds)) if seconds is not None else "—"


def scorecard(drill: Drill) -> dict[str, Any]:
    """The scorecard as things stand (the kept one once the drill is scored)."""
    if drill.state == "scored" and drill.scorecard.get("checks"):
        return dict(drill.scorecard)
    if drill.kind == DrillKind.RANSOMWARE:
        return _copy_scorecard(drill)
    return _attack_scorecard(drill)


def _attack_scorecard(drill: Drill) -> dict[str, Any]:
    from cyberqms.security.incidents.models import Incident
    from cyberqms.security.incidents.queries import chain_of
    from cyberqms.security.monitoring.models import Alert

    scenario = scenario_of(drill.scenario)
    expected = set(scenario.expected_rules) if scenario else set()
    start = drill.started_at
    alerts = list(Alert.objects.filter(drill=drill.number).select_related("assignee")
                  .order_by("created_at", "pk"))
    hits = [a for a in alerts if a.rule_id in expected]
    first = hits[0] if hits else (alerts[0] if alerts else None)
    answered = sorted((a for a in alerts if a.acknowledged_at is not None),
                      key=lambda a: (a.acknowledged_at, a.pk))
    acknowledged = answered[0] if answered else None
    incidents = list(Incident.objects.filter(alerts__drill=drill.number, is_deleted=False)
                     .distinct().order_by("created_at"))
    deviation_at = capa_at = None
    deviation = capa = ""
    if incidents:
        loop = {step.key: step for step in chain_of(incidents[0], drill.owner).loop}
        if loop.get("deviation") and loop["deviation"].at:
            deviation_at, deviation = loop["deviation"].at, loop["deviation"].record
        if loop.get("capa") and loop["capa"].at:
            capa_at, capa = loop["capa"].at, loop["capa"].record
    detect_s = _after(first.created_at if hits and first else None, start)
    ack_s = _after(acknowledged.acknowledged_at if acknowledged else None, start)
    detect_target = int(settings.CYBERQMS_DRILL_DETECT_MINUTES) * 60
    ack_target = int(settings.CYBERQMS_DRILL_ACKNOWLEDGE_MINUTES) * 60
    who = _responder(acknowledged) if acknowledged else None
    checks = [
        _check("detected", "Detected by a rule expected to detect it", bool(hits),
               ", ".join(sorted({a.title for a in hits})) or
               (f"only by {', '.join(sorted({a.title for a in alerts}))}" if alerts
                else "no alert")),
        _check("detect_time", f"Detected within {_words(detect_target)}",
               detect_s is not None and detect_s <= detect_target, _words(detect_s)),
        _check("acknowledged", f"Acknowledged within {_words(ack_target)}",
               ack_s is not None and ack_s <= ack_target,
               f"{_words(ack_s)} by {getattr(who, 'printed_name', '') or 'nobody named'}"
               if ack_s is not None else "not yet"),
        _check("incident", "Incident opened", bool(incidents),
               f"{incidents[0].number} after {_words(_after(incidents[0].created_at, start))}"
               if incidents else "none"),
        _check("deviation", "Deviation opened", deviation_at is not None,
               f"{deviation} after {_words(_after(deviation_at, start))}" if deviation_at
               else "none"),
        _check("capa", "CAPA opened", capa_at is not None,
               f"{capa} after {_words(_after(capa_at, start))}" if capa_at else "none"),
    ]
    return {
        "scenario": drill.scenario, "title": scenario.title if scenario else drill.scenario,
        "started_at": _iso(start), "events": drill.events,
        "expected_rules": sorted(expected),
        "alerts": [{"number": a.number, "title": a.title, "rule_id": a.rule_id,
                    "level": a.level, "expected": a.rule_id in expected,
                    "detected_after_s": _after(a.created_at, start),
                    "acknowledged_after_s": _after(a.acknowledged_at, start)}
                   for a in alerts],
        "times": {"detect_s": detect_s, "acknowledge_s": ack_s,
                  "incident_s": _after(incidents[0].created_at, start) if incidents else None,
                  "deviation_s": _after(deviation_at, start),
                  "capa_s": _after(capa_at, start)},
        "checks": checks, "score": _score(checks), "read_at": _iso(timezone.now()),
    }


def _responder(alert: Any) -> Any:
    """Who first responded to `alert` (acknowledged, investigated or closed it), from its
    trail."""
    from django.contrib.auth import get_user_model

    from cyberqms.platform.trail.models import AuditEntry

    actor_id = AuditEntry.objects.filter(
        object_type="monitoring.alert", object_id=str(alert.pk),
        action__in=[f"monitoring.alert.{a}" for a in ("acknowledge", "investigate",
                                                      "resolve", "false_positive")],
    ).order_by("seq").values_list("actor_id", flat=True).first()
    return get_user_model().objects.filter(pk=actor_id).first() if actor_id else None


def _copy_scorecard(drill: Drill) -> dict[str, Any]:
    copy: dict[str, Any] = dict(drill.scorecard.get("measured") or {})
    if not copy or "error" in copy:
        checks = [_check("played", "Played on a restored copy", False,
                         copy.get("error", "not played yet"))]
        return {"scenario": drill.scenario, "started_at": _iso(drill.started_at),
                "measured": copy, "checks": checks, "score": 0, "alerts": [],
                "times": {}, "read_at": _iso(timezone.now())}
    detect_target = int(settings.CYBERQMS_DRILL_DETECT_MINUTES) * 60
    rto_s = copy.get("rto_s")
    checks = [
        _check("detected", "Detected by a rule expected to detect it",
               bool(copy.get("expected_alerts")),
               ", ".join(copy.get("expected_alerts") or []) or "no alert"),
        _check("detect_time", f"Detected within {_words(detect_target)}",
               copy.get("detect_s") is not None and copy["detect_s"] <= detect_target,
               _words(copy.get("detect_s"))),
        _check("located", "Every altered record found by the verification",
               copy.get("found_records", 0) >= copy.get("attacked_records", 1),
               f"{copy.get('found_records', 0):,} of {copy.get('attacked_records', 0):,} "
               "records"),
        _check("recovered", "Recovered from the backup, trail verified",
               bool(copy.get("recovered_ok")), copy.get("recovered_detail", "")),
        _check("recover_time", "Recovered within the system's RTO" if rto_s else
               "Recovered (no RTO stated for cyberqms in the inventory)",
               bool(copy.get("recovered_ok")) and (rto_s is None or
                                                   copy.get("recover_s", 0) <= rto_s),
               _words(copy.get("recover_s"))),
    ]
    return {"scenario": drill.scenario, "title": "Ransomware on a restored copy",
            "started_at": _iso(drill.started_at), "measured": copy, "alerts": [],
            "times": {"detect_s": copy.get("detect_s"), "recover_s": copy.get("recover_s")},
            "checks": checks, "score": _score(checks), "read_at": _iso(timezone.now())}


def score_class(score: int | None) -> str:
    """The badge a score wears: good from 80 %, fair from 50 %, else poor."""
    if score is None:
        return ""
    return "ok" if score >= 80 else "warn" if score >= 50 else "bad"


def _score(checks: list[dict[str, Any]]) -> int:
    return round(100 * sum(1 for c in checks if c["met"]) / len(checks)) if checks else 0


def scorecard_sections(drill: Drill) -> list[Any]:
    from cyberqms.platform.kit.record_export import Section

    card = scorecard(drill)
    sections = [Section(f"Scorecard: {card.get('score', 0)} %", ["Check", "Met", "Measured"],
                        [[c["label"], "yes" if c["met"] else "NO", c["measured"]]
                         for c in card.get("checks", [])])]
    if card.get("alerts"):
        sections.append(Section("Alerts raised by the drill",
                                ["Alert", "Rule", "Expected", "Detected after",
                                 "Acknowledged after"],
                                [[a["number"], a["title"], "yes" if a["expected"] else "no",
                                  _words(a["detected_after_s"]),
                                  _words(a["acknowledged_after_s"])]
                                 for a in card["alerts"]]))
    copy = card.get("measured") or {}
    if copy and "error" not in copy:
        sections.append(Section("Measured on the restored copy", ["Measure", "Value"], [
            ["Backup restored", str(copy.get("backup", ""))],
            ["Records modified in the database", f"{copy.get('modified', 0):,}"],
            ["Records deleted in the database", f"{copy.get('deleted', 0):,}"],
            ["Time to detect", _words(copy.get("detect_s"))],
            ["Time to recover", _words(copy.get("recover_s"))],
            ["Audit entries lost (written after the backup)",
             f"{copy.get('entries_lost', 0):,}"],
            ["Records lost (written after the backup)", f"{copy.get('records_lost', 0):,}"],
        ]))
    return sections


def trend(drills: list[Drill]) -> list[dict[str, Any]]:
    """Score and times of drills, oldest first (the trend page)."""
    rows = []
    for drill in sorted(drills, key=lambda d: d.started_at or d.created_at):
        card = scorecard(drill)
        times = card.get("times") or {}
        rows.append({"drill": drill, "score": card.get("score", 0),
                     "css": score_class(card.get("score", 0)),
                     "detect_s": times.get("detect_s"),
                     "acknowledge_s": times.get("acknowledge_s"),
                     "detect": _words(times.get("detect_s")),
                     "acknowledge": _words(times.get("acknowledge_s"))})
    return rows
