"""``Baselines``, the per-event path of the behaviour baselines: ``observe`` reads the
user, system, host and action of an event, learns them and scores the event in full only
when some feature passes its cut-off; events of unexpected shapes go through a sanitized copy.
Also warming from past events and the figures for benchmarks and operations. Pure Python,
no Django.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from ..detection.engine import Match
from .config import (
    _EMPTY,
    _GXP_READ,
    _MAX_ACTION_NAMES,
    _USUAL,
    DAY_MS,
    HOUR_MS,
    STATUS_FAILURE,
)
from .estimators import _Values
from .scoring import _Scoring
from .subject import _slot


class Baselines(_Scoring):
    """Per-user and per-system behaviour baselines over one event stream (see the package doc)."""

    # -- the per-event path -------------------------------------------------------------

    def observe(self, event: Mapping[str, Any], at: int | None = None) -> list[Match]:
        """Learn from one event and return the Matches it raises (at most one per subject).

        ``at``: the time to learn the event at (epoch ms, from ``detection.timing``: the
        receive time for an event claiming a time too far ahead or too late), else its own
        ``time``; the clock of hours and days follows it, so a line dated years ahead cannot
        move it. Never raises: an event whose parts have unexpected shapes is skipped
        (counted in ``rejected``)."""
        if not self._enabled:
            return []
        try:
            try:
                # Normalized events always carry these (ocsf.normalize): subscripts are
                # cheaper than get().
                ms = event["time"]
                gxp = event["gxp"]
                metadata = event["metadata"]
                system = gxp["system"]
                action = (event["type_uid"], event["status_id"] == STATUS_FAILURE,
                          gxp["record_type"], metadata["event_code"])
            except KeyError:
                get = event.get
                ms = get("time")
                gxp = get("gxp") or _EMPTY
                metadata = get("metadata") or _EMPTY
                system = gxp.get("system")
                action = (get("type_uid"), get("status_id") == STATUS_FAILURE,
                          gxp.get("record_type"), metadata.get("event_code"))
            # The action is named by its hash in the counts (computed once for both
            # subjects; a process-local key, the baselines are never persisted).
            akey = hash(action)
            actor = event.get("actor")
            name = (actor.get("user") or _EMPTY).get("name") if actor else None
            src = event.get("src_endpoint") or _EMPTY
            host = src.get("hostname") or src.get("ip")
            if system.__class__ is not str or not system:
                system = (event.get("device") or _EMPTY).get("hostname") or \
                    metadata.get("log_name")
        except (AttributeError, TypeError, KeyError, IndexError):
            return self._observe_odd(event, at)
        if at is not None:
            ms = at
        if ms.__class__ is not int:
            ms = self._now
        elif ms > self._now:
            self._now = ms
            if ms >= self._day_end:
                self._new_day(ms // DAY_MS)
        if host.__class__ is not str:
            host = None
        bucket = ms // HOUR_MS
        matches: list[Match] = []
        if name.__class__ is str and name:
            try:
                s = self._users[name]
            except KeyError:
                s = self._add_subject(self._users, name, ms, bucket, gxp, system=False)
            # --- the user (same steps as for the system below, without the user feature)
            if bucket != s.bucket and (bucket > s.bucket or bucket < s.bucket - 1):
                self._roll(s, False, gxp, bucket, ms)
            count = s.bucket_n = s.bucket_n + 1
            candidate = count > s.bucket_cut  # unusual volume, or an unusual hour or weekday
            if host is not None:
                counts = s.host_counts
                try:
                    c_host = counts[host]
                except KeyError:
                    c_host = 0
                    s.hosts.insert(host, self._user_limit)
                else:
                    counts[host] = c_host + 1
                    if c_host == 1:
                        s.hosts.ones -= 1
                if c_host < s.host_cut:
                    if s.hosts.regular(host, ms // DAY_MS):
                        c_host = _USUAL
                    else:
                        candidate = True
            else:
                c_host = -1
            counts = s.action_counts
            try:
                c_action = counts[akey]
            except KeyError:
                c_action = 0
                self._new_action(s.actions, akey, self._user_limit, action)
            else:
                counts[akey] = c_action + 1
                if c_action == 1:
                    s.actions.ones -= 1
            if c_action < s.action_cut:
                if s.actions.regular(akey, ms // DAY_MS):
                    c_action = _USUAL
                else:
                    candidate = True
            if candidate and s.stage:
                match = self._score(s, False, event, ms, count, _slot(gxp), host, c_host,
                                    akey, c_action, None, -1)
                if match is not None:
                    matches.append(match)
        else:
            name = None
        if system.__class__ is str and system:
            try:
                s = self._systems[system]
            except KeyError:
                s = self._add_subject(self._systems, system, ms, bucket, gxp, system=True)
            # --- the system: each categorical feature reads its count, learns, and
            # compares with its cut-off; a candidate is scored in full.
            if bucket != s.bucket and (bucket > s.bucket or bucket < s.bucket - 1):
                self._roll(s, True, gxp, bucket, ms)
            count = s.bucket_n = s.bucket_n + 1
            candidate = count > s.bucket_cut
            if host is not None:
                counts = s.host_counts
                try:
                    c_host = counts[host]
                except KeyError:
                    c_host = 0
                    s.hosts.insert(host, self._system_limit)
                else:
                    counts[host] = c_host + 1
                    if c_host == 1:
                        s.hosts.ones -= 1
                if c_host < s.host_cut:
                    if s.hosts.regular(host, ms // DAY_MS):
                        c_host = _USUAL
                    else:
                        candidate = True
            else:
                c_host = -1
            counts = s.action_counts
            try:
                c_action = counts[akey]
            except KeyError:
                c_action = 0
                self._new_action(s.actions, akey, self._system_limit, action)
            else:
                counts[akey] = c_action + 1
                if c_action == 1:
                    s.actions.ones -= 1
            if c_action < s.action_cut:
                if s.actions.regular(akey, ms // DAY_MS):
                    c_action = _USUAL
                else:
                    candidate = True
            if name is not None:
                counts = s.user_counts
                try:
                    c_who = counts[name]
                except KeyError:
                    c_who = 0
                    s.users.insert(name, self._system_limit)
                else:
                    counts[name] = c_who + 1
                    if c_who == 1:
                        s.users.ones -= 1
                if c_who < s.user_cut:
                    if s.users.regular(name, ms // DAY_MS):
                        c_who = _USUAL
                    else:
                        candidate = True
            else:
                c_who = -1
            if candidate and s.stage:
                match = self._score(s, True, event, ms, count, _slot(gxp), host, c_host,
                                    akey, c_action, name, c_who)
                if match is not None:
                    matches.append(match)
        return matches

    def _observe_odd(self, event: Any, at: int | None = None) -> list[Match]:
        """An event whose parts have unexpected types: observed through a sanitized copy
        of the fields the baselines read, or skipped when even that fails."""
        try:
            get = event.get
            gxp = get("gxp")
            gxp = gxp if isinstance(gxp, Mapping) else _EMPTY
            metadata = get("metadata")
            metadata = metadata if isinstance(metadata, Mapping) else _EMPTY
            actor = get("actor")
            user = actor.get("user") if isinstance(actor, Mapping) else None
            name = user.get("name") if isinstance(user, Mapping) else None
            src = get("src_endpoint")
            src = src if isinstance(src, Mapping) else _EMPTY
            device = get("device")
            device = device if isinstance(device, Mapping) else _EMPTY
            clean: dict[str, Any] = {
                "time": _plain(get("time")),
                "type_uid": _plain(get("type_uid")),
                "status_id": _plain(get("status_id")),
                "gxp": {k: _plain(gxp.get(k)) for k in _GXP_READ},
                "metadata": {"event_code": _plain(metadata.get("event_code")),
                             "log_name": _plain(metadata.get("log_name"))},
                "src_endpoint": {"hostname": _plain(src.get("hostname")),
                                 "ip": _plain(src.get("ip"))},
                "device": {"hostname": _plain(device.get("hostname"))},
            }
            if name.__class__ is str:
                clean["actor"] = {"user": {"name": name}}
        except (AttributeError, TypeError):
            self.rejected += 1
            return []
        matches = self.observe(clean, at)
        # Explanations and alerts point at the event as received.
        return [replace(m, event=event) for m in matches]

    def _new_action(self, values: _Values, key: int, limit: int,
                    action: tuple[Any, ...]) -> None:
        """First sight of an action for a subject; remember its name for explanations."""
        values.insert(key, limit)
        names = self._action_names
        if key not in names:
            if len(names) >= _MAX_ACTION_NAMES:
                names.clear()
            names[key] = action

    # -- whole streams and figures ------------------------------------------------------

    def warm(self, events: Iterable[Mapping[str, Any]]) -> int:
        """Learn from past events (oldest first) without returning their matches; the
        calibration learns from them too. Returns how many were read."""
        return self.warm_at((event, None) for event in events)

    def warm_at(self, events: Iterable[tuple[Mapping[str, Any], int | None]]) -> int:
        """``warm`` with each event's processing time (see ``observe``)."""
        n = 0
        for event, at in events:
            self.observe(event, at)
            n += 1
        return n

    def figures(self) -> dict[str, Any]:
        """Counters and thresholds, for benchmarks and operations."""
        stages = [0, 0, 0]
        for table in (self._users, self._systems):
            for s in table.values():
                stages[s.stage] += 1
        return {
            "candidates": self.candidates, "alerts": self.alerts, "refreshes": self.refreshes,
            "evictions": self.evictions, "rejected": self.rejected,
            "users": len(self._users), "systems": len(self._systems),
            "learning": stages[0], "calibrating": stages[1], "mature": stages[2],
            "thresholds": dict(self.thresholds),
        }

    def calibration_days(self, kind: str) -> list[int]:
        """Subject-hours per complete calibration day at or above the current threshold."""
        return self._calibration[kind].daily_above(self.thresholds[kind])


def _plain(value: Any) -> Any:
    """A field value the baselines can use: strings and integers as they are (booleans
    excepted), anything else as missing."""
    return value if value.__class__ in (str, int) else None
