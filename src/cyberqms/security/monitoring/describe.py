"""An alert in words: what it is grouped on ("Account qc_analyst, source address
10.20.0.7", not ``actor.user.name=qc_analyst|src_endpoint.ip=10.20.0.7``) and why a
behaviour baseline raised it (its top features with the observed and the usual value and
their share of the score, not the stored JSON). Pages, the API and incident titles use
these; the stored values stay as the detection engine wrote them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# The event fields alerts are grouped on (the correlations' `group-by`, the fallback keys
# of `services._group_key`, the baselines' subjects), as people name them.
FIELD_WORDS = {
    "actor.user.name": "Account",
    "src_endpoint.ip": "Source address",
    "src_endpoint.hostname": "Source host",
    "dst_endpoint.ip": "Destination address",
    "dst_endpoint.hostname": "Destination host",
    "device.hostname": "Host",
    "gxp.system": "System",
}

# The behaviour baselines' features (detect.baseline.config.FEATURES).
FEATURE_WORDS = {
    "hour": "Hour of day (site time)",
    "weekday": "Weekday",
    "volume": "Events in the hour",
    "host": "Source host",
    "action": "Action",
    "user": "Account acting on it",
}
BASELINE_WORDS = {"user": "the account", "system": "the system"}


def field_words(path: str) -> str:
    """An event field as people name it; an unlisted one by its path in words."""
    known = FIELD_WORDS.get(path)
    if known:
        return known
    words = path.replace(".", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def grouped_on(group_key: str) -> list[tuple[str, str]]:
    """The (label, value) pairs an alert's group key holds, in order."""
    pairs = []
    for part in (group_key or "").split("|"):
        if not part:
            continue
        path, sep, value = part.partition("=")
        pairs.append((field_words(path), value) if sep else ("Key", path))
    return pairs


def grouped_on_text(group_key: str) -> str:
    """The group key as one phrase: "account qc_analyst, source address 10.20.0.7"."""
    return ", ".join(f"{label[:1].lower()}{label[1:]} {value}"
                     for label, value in grouped_on(group_key))


@dataclass(frozen=True)
class FeatureRow:
    feature: str  # the baseline's name for it: hour, weekday, volume, host, action, user
    label: str
    value: str
    usual: str
    contribution: float  # share of the score, 0..1

    @property
    def percent(self) -> str:
        return f"{round(self.contribution * 100)} %"


@dataclass(frozen=True)
class Explanation:
    """Why a behaviour baseline raised an alert (the context its Match carried)."""

    baseline: str  # user or system
    subject: str
    score: float
    threshold: float
    events_learned: int | None
    learning_since: datetime | None
    features: list[FeatureRow]

    @property
    def subject_words(self) -> str:
        return f"{BASELINE_WORDS.get(self.baseline, 'the subject')} {self.subject}"


def _text(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _observed(feature: str, value: Any) -> str:
    if feature == "hour" and isinstance(value, int) and not isinstance(value, bool):
        return f"{value:02d}"  # as the usual hours are written: 07–17
    return _text(value)


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else 0.0


def explanation(context: Any) -> Explanation | None:
    """The baseline explanation an alert's context holds, or None (rules explain
    themselves by their title; a context of another shape is not shown)."""
    if not isinstance(context, dict) or not isinstance(context.get("features"), list):
        return None
    rows = []
    for item in context["features"]:
        if not isinstance(item, dict):
            continue
        feature = str(item.get("feature", ""))
        rows.append(FeatureRow(
            feature=feature, label=FEATURE_WORDS.get(feature, field_words(feature)),
            value=_observed(feature, item.get("value")), usual=_text(item.get("usual")),
            contribution=_number(item.get("contribution")),
        ))
    since = context.get("learning_since_ms")
    learned = context.get("events_learned")
    try:
        learning_since = (datetime.fromtimestamp(since / 1000, tz=UTC)
                          if isinstance(since, int | float) and not isinstance(since, bool)
                          else None)
    except (OverflowError, OSError, ValueError):
        learning_since = None
    return Explanation(
        baseline=str(context.get("baseline", "")), subject=str(context.get("subject", "")),
        score=_number(context.get("score")), threshold=_number(context.get("threshold")),
        events_learned=learned if isinstance(learned, int) and not isinstance(learned, bool)
        else None,
        learning_since=learning_since, features=rows,
    )
