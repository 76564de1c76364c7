"""The detection engine: compiled Sigma rules and correlations over normalized events.

    rules = load_rules([SHIPPED_RULES_DIR])    # or the monitoring app's configured rules
    engine = Engine(rules.rules)               # compile once; engine.errors lists rejects
    for event in events:
        for match in engine.evaluate(event):   # single-event and correlation matches
            ...

An `Engine` keeps correlation state between calls: feed it one stream, roughly in time
order. It is not thread-safe; give each worker its own.

Correlations count on each event's processing time: `evaluate(event, at=…)` from a
`timing.TimePolicy` placement (the claimed time, or the receipt's when it is too far ahead
or too late), else the event's own `time`. Their windows are kept per group (see
`correlation`). Failed authentications are counted once per attempt (see `attempts`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sigma.correlations import (
    SigmaCorrelationCondition,
    SigmaCorrelationRule,
    SigmaCorrelationType,
)
from sigma.rule import SigmaRule

from .attempts import ATTEMPT_WINDOW_MS, AUTHENTICATION, Attempts
from .correlation import (
    DEFAULT_MAX_GROUPS,
    CorrelationError,
    EventCountWindow,
    ValueCountWindow,
)
from .fields import Event
from .loader import Rule, RuleError, RuleSet, rule_label
from .matcher import Matcher, RuleCompileError, compile_rule, rule_required_values

DEFAULT_LEVEL = "medium"
TIME_FIELD = "time"
CLASS_FIELD = "class_uid"
_TECHNIQUE = re.compile(r"^t\d{4}(\.\d{3})?$")
_REQUIREMENT = re.compile(r"^[A-Z][A-Z0-9]*-\d{2,}$")


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """What an alert needs to know about the rule that raised it."""

    id: str
    title: str
    level: str
    tags: tuple[str, ...]
    techniques: tuple[str, ...]
    requirements: tuple[str, ...]
    description: str
    correlation: bool


@dataclass(frozen=True, slots=True)
class Match:
    """One rule firing on one event (for correlations: the event that completed it)."""

    rule: RuleInfo
    event: Event
    group: tuple[tuple[str, Any], ...] = ()
    count: int | None = None
    # Why, beyond the rule: e.g. an anomaly's top contributing features (JSON-safe).
    context: Mapping[str, Any] | None = None
    # For correlations: the callers' references of every event in the window (see evaluate).
    related: tuple[Any, ...] = ()

    @property
    def rule_id(self) -> str:
        return self.rule.id

    @property
    def title(self) -> str:
        return self.rule.title

    @property
    def level(self) -> str:
        return self.rule.level

    @property
    def tags(self) -> tuple[str, ...]:
        return self.rule.tags

    @property
    def techniques(self) -> tuple[str, ...]:
        return self.rule.techniques

    @property
    def requirements(self) -> tuple[str, ...]:
        return self.rule.requirements


def rule_info(rule: Rule) -> RuleInfo:
    """Metadata of a rule: level, ATT&CK techniques and requirement IDs.

    Requirement IDs come from the custom `requirements:` list and from tags
    `cyberqms.req.<id>` (`cyberqms.req.cyb-04` → `CYB-04`).
    """
    tags = tuple(f"{tag.namespace}.{tag.name}" for tag in rule.tags)
    techniques = tuple(
        tag.name.upper()
        for tag in rule.tags
        if tag.namespace == "attack" and _TECHNIQUE.match(tag.name.lower())
    )
    declared = rule.custom_attributes.get("requirements", [])
    if not isinstance(declared, list) or not all(isinstance(r, str) for r in declared):
        raise RuleCompileError("'requirements' must be a list of requirement IDs")
    from_tags = [
        tag.name.removeprefix("req.").upper()
        for tag in rule.tags
        if tag.namespace == "cyberqms" and tag.name.startswith("req.")
    ]
    requirements = tuple(dict.fromkeys(r.strip().upper() for r in [*declared, *from_tags]))
    malformed = [r for r in requirements if not _REQUIREMENT.match(r)]
    if malformed:
        raise RuleCompileError(f"malformed requirement IDs: {', '.join(malformed)}")
    return RuleInfo(
        id=str(rule.id) if rule.id else (rule.name or rule.title),
        title=rule.title,
        level=rule.level.name.lower() if rule.level else DEFAULT_LEVEL,
        tags=tags,
        techniques=techniques,
        requirements=requirements,
        description=rule.description or "",
        correlation=isinstance(rule, SigmaCorrelationRule),
    )


def _event_time(event: Event) -> float | None:
    value = event.get(TIME_FIELD)
    if type(value) is int or (type(value) is float and math.isfinite(value)):
        return value
    return None


@dataclass(slots=True)
class _Single:
    info: RuleInfo
    matcher: Matcher
    emits: bool
    correlations: tuple[int, ...] = ()
    classes: frozenset[int] | None = None  # the OCSF classes it can match; None: any


@dataclass(slots=True)
class _Correlation:
    info: RuleInfo
    window: EventCountWindow | ValueCountWindow


class Engine:
    """Compiled rules; `evaluate(event)` returns the matches for one event."""

    def __init__(
        self,
        rules: Iterable[Rule] | RuleSet,
        *,
        max_groups: int = DEFAULT_MAX_GROUPS,
        dispatch: bool = True,
        attempt_window_ms: int = ATTEMPT_WINDOW_MS,
    ) -> None:
        """``dispatch``: evaluate only the rules whose condition can hold for the event's
        ``class_uid`` (derived from the conditions; off only to check that it changes
        nothing). ``attempt_window_ms``: how far apart the lines of one authentication
        attempt may be (``attempts``)."""
        self._dispatch_on = dispatch
        if isinstance(rules, RuleSet):
            self.errors: list[RuleError] = list(rules.errors)
            rules = rules.rules
        else:
            self.errors = []
        rules = list(rules)
        self._singles: list[_Single] = []
        self._correlations: list[_Correlation] = []
        index_of: dict[int, int] = {}
        for rule in rules:
            if isinstance(rule, SigmaRule):
                single = self._compile_single(rule)
                if single is not None:
                    index_of[id(rule)] = len(self._singles)
                    self._singles.append(single)
        feeds: dict[int, list[int]] = {}
        for rule in rules:
            if isinstance(rule, SigmaCorrelationRule):
                self._compile_correlation(rule, index_of, feeds, max_groups)
        for position, single in enumerate(self._singles):
            single.correlations = tuple(feeds.get(position, ()))
        self._now: float = 0
        self._attempts = Attempts(attempt_window_ms)
        self.fed = False  # whether the last event entered a correlation window (kept its ref)
        # class_uid → the single rules that can match it, in rule order (built on demand).
        self._dispatch: dict[int, tuple[_Single, ...]] = {}

    @property
    def rules(self) -> list[RuleInfo]:
        """Every compiled rule, single-event first, then correlations."""
        return [s.info for s in self._singles] + [c.info for c in self._correlations]

    def _reject(self, rule: Rule, reason: str) -> None:
        source = str(rule.source.path) if rule.source else "<string>"
        self.errors.append(RuleError(source, rule_label(rule), reason))

    def _compile_single(self, rule: SigmaRule) -> _Single | None:
        try:
            return _Single(rule_info(rule), compile_rule(rule), emits=True,
                           classes=rule_required_values(rule, CLASS_FIELD))
        except RuleCompileError as exc:
            self._reject(rule, str(exc))
            return None

    def _compile_correlation(
        self,
        rule: SigmaCorrelationRule,
        index_of: dict[int, int],
        feeds: dict[int, list[int]],
        max_groups: int,
    ) -> None:
        condition = rule.condition
        try:
            info = rule_info(rule)
            if len(rule.aliases):
                raise CorrelationError("field aliases are not supported")
            referenced = [ref.rule for ref in rule.referenced_rules]
            if not referenced:
                raise CorrelationError("references no rules (or references were not resolved)")
            if any(isinstance(r, SigmaCorrelationRule) for r in referenced):
                raise CorrelationError("correlations of correlations are not supported")
            missing = [rule_label(r) for r in referenced if id(r) not in index_of]
            if missing:
                raise CorrelationError(f"referenced rules not compiled: {', '.join(missing)}")
            if not isinstance(condition, SigmaCorrelationCondition):
                # A temporal correlation may carry a boolean condition (rule_a and rule_b):
                # refused by name rather than failing on its missing threshold.
                raise CorrelationError("boolean correlation conditions are not supported")
            op = condition.op.name.lower()
            threshold = condition.count
            span_ms = rule.timespan.seconds * 1000
            group_by = rule.group_by or []
            window: EventCountWindow | ValueCountWindow
            if rule.type == SigmaCorrelationType.EVENT_COUNT:
                window = EventCountWindow(group_by, span_ms, op, threshold, max_groups)
            elif rule.type == SigmaCorrelationType.VALUE_COUNT:
                value_field = condition.fieldref
                if not isinstance(value_field, str):
                    raise CorrelationError("value_count needs one 'field' in its condition")
                window = ValueCountWindow(
                    group_by, span_ms, op, threshold, max_groups, value_field
                )
            else:
                kind = rule.type.name.lower()
                raise CorrelationError(f"correlation type '{kind}' is not supported")
        except (CorrelationError, RuleCompileError) as exc:
            self._reject(rule, str(exc))
            return
        position = len(self._correlations)
        self._correlations.append(_Correlation(info, window))
        for referenced_rule in referenced:
            single_position = index_of[id(referenced_rule)]
            feeds.setdefault(single_position, []).append(position)
            if not rule.generate:
                self._singles[single_position].emits = False

    def evaluate(self, event: Event, ref: Any = None, *, at: float | None = None
                 ) -> list[Match]:
        """Matches of every rule for one event, correlations included (in rule order).

        ``ref``: the caller's reference to this event (e.g. its stored row), kept in the
        correlation windows it enters and returned in ``Match.related`` when one fires.
        ``at``: the time to count the event at in correlations (epoch ms; see ``timing``);
        without it the event's own ``time``, else the newest time seen."""
        matches: list[Match] = []
        fed: set[int] | None = None
        self.fed = False
        uid = event.get(CLASS_FIELD)
        candidates: Sequence[_Single] | None = None
        if type(uid) is int and self._dispatch_on:
            candidates = self._dispatch.get(uid)
            if candidates is None:
                candidates = self._candidates(uid)
        else:
            candidates = self._singles
        for single in candidates:
            if not single.matcher(event):
                continue
            if single.emits:
                matches.append(Match(single.info, event))
            if single.correlations:
                if fed is None:
                    fed = set()
                fed.update(single.correlations)
        if fed:
            ts = _event_time(event) if at is None else at
            if ts is None:
                ts = self._now
            elif ts > self._now:
                self._now = ts
            clock = self._now
            attempt = self._attempts.of(event, ts, clock) if uid == AUTHENTICATION else None
            for position in sorted(fed):
                correlation = self._correlations[position]
                window = correlation.window
                key = window.group_of(event)
                if key is None:  # no account or address to group by: never grouped as None
                    continue
                if attempt is not None:
                    if position in attempt.counted:  # another line of an attempt it counted
                        continue
                    attempt.counted.add(position)
                self.fed = True
                fired = window.observe_group(key, event, ts, ref, clock)
                if fired is not None:
                    matches.append(Match(correlation.info, event, fired.group, fired.count,
                                         related=fired.refs))
        return matches

    @property
    def horizon_ms(self) -> int:
        """How far back the engine's state reaches: the longest correlation window, and the
        span of one authentication attempt. Replaying this much of a stream's recent past
        into a fresh engine gives it the windows the stream left."""
        spans = [c.window.span_ms for c in self._correlations]
        return max([*spans, self._attempts.window_ms]) if spans else 0

    @property
    def late(self) -> int:
        """Events counted at their group's newest time because they were older than its
        window (see ``correlation``), over every correlation."""
        return sum(c.window.late for c in self._correlations)

    def _candidates(self, uid: int) -> tuple[_Single, ...]:
        found = tuple(s for s in self._singles if s.classes is None or uid in s.classes)
        if len(self._dispatch) >= 4096:  # class ids come from the input: stay bounded
            self._dispatch.clear()
        self._dispatch[uid] = found
        return found

    def evaluate_many(self, events: Iterable[Mapping[str, Any]]) -> list[Match]:
        """Evaluate a stream in order and collect every match."""
        out: list[Match] = []
        for event in events:
            out.extend(self.evaluate(event))
        return out
