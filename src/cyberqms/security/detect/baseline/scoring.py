"""Scoring of the baselines' candidates: the features' excess bits summed into a score,
compared with the threshold of the subject's kind, and, when it alerts, the Match with its
explanation (the top features, the observed value, what is usual for the subject in words).
Pure Python, no Django.
"""

from __future__ import annotations

from collections.abc import Mapping
from math import ceil
from typing import Any

from ..detection.engine import Match
from ..ocsf import CLASSES
from .config import _DAY_NAMES, FEATURES, SYSTEM_RULE, TOP_FEATURES, USER_RULE
from .estimators import _volume_bits, _volume_limit
from .subject import _Subject
from .upkeep import _Model


class _Scoring(_Model):
    """Scoring and explanation of candidates (the base of ``Baselines``)."""

    # -- scoring candidates -----------------------------------------------------------------

    def _score(self, s: _Subject, system: bool, event: Mapping[str, Any], ms: int, count: int,
               slot: int, host: str | None, c_host: int, action: int,
               c_action: int, who: str | None, c_who: int) -> Match | None:
        """Score a candidate; a Match when the score reaches the threshold of its kind."""
        self.candidates += 1
        notable = self._gate
        day, hour = divmod(slot, 25)
        bits = [
            s.hour_ex[hour],
            s.day_ex[day],
            _volume_bits(count, s.expected(hour), s.dispersion()),
            s.hosts.bits(c_host) if c_host >= 0 else 0.0,
            s.actions.bits(c_action),
            s.users.bits(c_who) if c_who >= 0 else 0.0,
        ]
        # At least one notable feature (16x rarer than typical); features 4x rarer than
        # typical support it.
        support = notable / 2
        score = sum(b for b in bits if b >= support) if max(bits) >= notable else 0.0
        if score > s.bucket_max:
            s.bucket_max = score
        if bits[2] < notable:
            # Scored once this hour: until the volume itself is notable, later events of
            # the hour are candidates only through their own host, action or user.
            s.bucket_cut = _volume_limit(s.expected(hour), s.dispersion(), notable) - 1
        kind = "system" if system else "user"
        threshold = self.thresholds[kind]
        if score < threshold or s.stage < 2 or ms < s.quiet_until:
            return None
        s.quiet_until = ms + self.config.cooldown_ms
        self.alerts += 1
        values = (hour if hour < 24 else None, day or None, count, host,
                  self._action_names.get(action), who)
        keys = (None, None, hour, host, action, who)
        parts = sorted(
            ((b, i) for i, b in enumerate(bits) if b >= support), reverse=True
        )[:TOP_FEATURES]
        features = [
            {
                "feature": FEATURES[i],
                "value": _render(FEATURES[i], values[i]),
                "usual": self._usual(s, FEATURES[i], keys[i]),
                "contribution": round(b / score, 2),
                "bits": round(b, 1),
            }
            for b, i in parts
        ]
        context = {
            "baseline": kind,
            "subject": s.key,
            "score": round(score, 1),
            "threshold": round(threshold, 1),
            "unit": "bits",
            "features": features,
            "events_learned": s.n,
            "learning_since_ms": s.first,
        }
        field = "gxp.system" if system else "actor.user.name"
        return Match(SYSTEM_RULE if system else USER_RULE, event, group=((field, s.key),),
                     context=context)

    def _usual(self, s: _Subject, feature: str, current: Any = None) -> str:
        """What is usual for the subject, in words, for the explanation (``current``: the
        event's own value, left out when this event is its first sight)."""
        if feature == "hour":
            return _ranges(s.hours(), range(24), lambda h: f"{h:02d}")
        if feature == "weekday":
            return _ranges(s.weekdays(), range(1, 8), lambda d: _DAY_NAMES[d])
        if feature == "volume":
            p99 = s.vol_q.get() or 0.0
            return (f"about {s.expected(current):.0f} events in an active hour at this time; "
                    f"{ceil(p99)} at most in 99 % of active hours")
        known = {"host": s.hosts, "action": s.actions, "user": s.users}[feature].counts
        counts = {k: n for k, n in known.items() if n > 1 or k != current}
        top = sorted(counts.items(), key=lambda kv: -kv[1])[:3]
        if feature == "action":
            top = [(self._action_names.get(key), n) for key, n in top]
        text = ", ".join(str(_render(feature, value)) for value, _ in top)
        if len(counts) > 3:
            text += f" (+{len(counts) - 3} more)"
        return text or "none yet"


def _render(feature: str, value: Any) -> Any:
    """A JSON-safe, readable form of a feature value."""
    if feature == "weekday" and value.__class__ is int and 1 <= value <= 7:
        return _DAY_NAMES[value]
    if feature == "action" and isinstance(value, tuple) and len(value) == 4:
        type_uid, failed, rtype, code = value
        if type_uid.__class__ is not int or type_uid < 0:
            text = "unclassified"
        else:
            cls, activity = divmod(type_uid, 100)
            name, activities = CLASSES.get(cls, (f"class {cls}", {}))
            text = f"{name}: {activities.get(activity, activity)}" if activity else name
        if failed:
            text += " (failed)"
        if rtype:
            text += f" · {str(rtype)[:64]}"
        if code:
            text += f" · {str(code)[:64]}"
        return text
    if value is None or isinstance(value, (int, str, bool)):
        return value
    return str(value)


def _ranges(counts: list[float], slots: range, label: Any) -> str:
    """Slots holding at least 2 % of the activity, as ranges: ``07–18``, ``Mon–Fri``."""
    total = sum(counts[i] for i in slots)
    if not total:
        return "none yet"
    busy = [i for i in slots if counts[i] * 50 >= total]
    groups: list[list[int]] = []
    for i in busy:
        if groups and i == groups[-1][-1] + 1:
            groups[-1].append(i)
        else:
            groups.append([i])
    # hours wrap around midnight, weekdays around Sunday
    if len(groups) > 1 and groups[0][0] == slots[0] and groups[-1][-1] == slots[-1]:
        groups[0] = groups.pop() + groups[0]
    return ", ".join(
        label(g[0]) if len(g) == 1 else f"{label(g[0])}–{label(g[-1])}" for g in groups
    )
