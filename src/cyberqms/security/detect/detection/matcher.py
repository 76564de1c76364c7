"""Compile a Sigma rule's detection into one Python closure, once.

pySigma parses the rule and its condition; its condition tree (`parsed_condition`) has
already applied the modifiers and expanded `1 of …`/`all of …` into AND/OR nodes, with
field/value pairs at the leaves. Each leaf becomes a small predicate built for its value
type (set lookup, substring test, precompiled regular expression, network membership), so
evaluating an event allocates next to nothing and never compiles a pattern.

Semantics (see docs/detection.md):
- strings match case-insensitively (`|cased` makes them case-sensitive); `*` and `?`
  are wildcards, `\\*` a literal star;
- `|re` is searched anywhere in the value (use `^…$` to anchor), case-sensitive
  unless the `i` flag modifier is given;
- a field whose value is a list matches when any element matches;
- `null` matches a missing field or a null value; `|exists` tests presence (non-null);
- keywords (values without a field) are searched for in `message`;
- numbers and numeric strings compare by value; `|lt` `|lte` `|gt` `|gte` compare numbers;
- `|cidr` matches IPv4 and IPv6 addresses inside the network.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionItem,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.rule import SigmaRule
from sigma.types import (
    CompareOperators,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaString,
    SigmaTimestampPart,
    SigmaType,
    SpecialChars,
    TimestampPart,
)

from .fields import Event, Getter, field_getter

type Matcher = Callable[[Event], bool]
type Predicate = Callable[[Any], bool]

KEYWORD_FIELD = "message"


class RuleCompileError(ValueError):
    """A detection this engine cannot evaluate (reason in the message)."""


# --- value conversion -------------------------------------------------------------


def as_text(value: Any) -> str | None:
    """The string form a Sigma string is compared with; None for non-scalar values."""
    kind = type(value)
    if kind is str:
        return value
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        try:
            return str(value)
        except ValueError:  # more digits than int->str conversion allows
            return None
    if kind is float:
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return str(value)
    return None


def as_number(value: Any) -> float | int | None:
    """The numeric value of a number or a numeric string; None otherwise (bools included)."""
    kind = type(value)
    if kind is int or kind is float:
        return value
    if kind is str:
        try:
            number = float(value)
        except ValueError:
            return None
        return number if not math.isnan(number) else None
    return None


@lru_cache(maxsize=8192)
def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


# --- leaf predicates ----------------------------------------------------------------


def _is_plain(value: SigmaString) -> bool:
    return all(isinstance(part, str) for part in value.s)


def _wildcard_predicate(value: SigmaString, cased: bool) -> Predicate:
    parts = list(value.s)
    star = SpecialChars.WILDCARD_MULTI
    if any(not isinstance(p, (str, SpecialChars)) for p in parts):
        raise RuleCompileError(f"placeholders are not supported: {value}")
    middle = parts[1:-1]
    simple_middle = len(middle) == 1 and isinstance(middle[0], str)

    def fold(text: str) -> str:
        return text if cased else text.lower()

    if parts == [star]:
        return lambda v: as_text(v) is not None
    if len(parts) == 3 and parts[0] is star and parts[-1] is star and simple_middle:
        needle = fold(str(middle[0]))
        if cased:
            return lambda v: (t := as_text(v)) is not None and needle in t
        return lambda v: (t := as_text(v)) is not None and needle in t.lower()
    if len(parts) == 2 and isinstance(parts[0], str) and parts[1] is star:
        prefix = fold(parts[0])
        if cased:
            return lambda v: (t := as_text(v)) is not None and t.startswith(prefix)
        return lambda v: (t := as_text(v)) is not None and t.lower().startswith(prefix)
    if len(parts) == 2 and parts[0] is star and isinstance(parts[1], str):
        suffix = fold(parts[1])
        if cased:
            return lambda v: (t := as_text(v)) is not None and t.endswith(suffix)
        return lambda v: (t := as_text(v)) is not None and t.lower().endswith(suffix)

    pattern = "".join(
        re.escape(p) if isinstance(p, str) else (".*" if p is star else ".") for p in parts
    )
    flags = re.DOTALL if cased else re.DOTALL | re.IGNORECASE
    fullmatch = re.compile(pattern, flags).fullmatch
    return lambda v: (t := as_text(v)) is not None and fullmatch(t) is not None


def _affix(value: SigmaType) -> tuple[str, str] | None:
    """("contains" | "startswith" | "endswith", lower-cased text) for an uncased wildcard
    string of that shape, else None."""
    if not isinstance(value, SigmaString) or isinstance(value, SigmaCasedString):
        return None
    parts = list(value.s)
    star = SpecialChars.WILDCARD_MULTI
    if len(parts) == 3 and parts[0] is star and parts[2] is star and isinstance(parts[1], str):
        return "contains", parts[1].lower()
    if len(parts) == 2 and isinstance(parts[0], str) and parts[1] is star:
        return "startswith", parts[0].lower()
    if len(parts) == 2 and parts[0] is star and isinstance(parts[1], str):
        return "endswith", parts[1].lower()
    return None


def _affix_predicate(kind: str, values: list[str]) -> Predicate:
    if kind == "startswith":
        prefixes = tuple(values)
        return lambda v: (t := as_text(v)) is not None and t.lower().startswith(prefixes)
    if kind == "endswith":
        suffixes = tuple(values)
        return lambda v: (t := as_text(v)) is not None and t.lower().endswith(suffixes)
    frozen = tuple(values)

    def contains(v: Any) -> bool:
        t = as_text(v)
        if t is None:
            return False
        t = t.lower()
        for needle in frozen:  # noqa: SIM110 (see every())
            if needle in t:
                return True
        return False

    return contains


def _regex_predicate(value: SigmaRegularExpression) -> Predicate:
    flags = 0
    for flag in value.flags:
        flags |= SigmaRegularExpression.sigma_to_python_flags[flag]
    try:
        search = re.compile(str(value.regexp), flags).search
    except re.error as exc:
        raise RuleCompileError(f"invalid regular expression {value.regexp}: {exc}") from exc
    return lambda v: (t := as_text(v)) is not None and search(t) is not None


def _cidr_predicate(value: SigmaCIDRExpression) -> Predicate:
    network = value.network

    def in_network(v: Any) -> bool:
        if type(v) is not str:
            return False
        address = _ip(v)
        return address is not None and address.version == network.version and address in network

    return in_network


_COMPARE: dict[CompareOperators, Callable[[float, float], bool]] = {
    CompareOperators.LT: lambda a, b: a < b,
    CompareOperators.LTE: lambda a, b: a <= b,
    CompareOperators.GT: lambda a, b: a > b,
    CompareOperators.GTE: lambda a, b: a >= b,
    CompareOperators.NEQ: lambda a, b: a != b,
}


def _compare_predicate(value: SigmaCompareExpression) -> Predicate:
    compare = _COMPARE[value.op]
    limit = value.number.number

    def predicate(v: Any) -> bool:
        number = as_number(v)
        return number is not None and compare(number, limit)

    return predicate


_TIMESTAMP_PARTS: dict[TimestampPart, Callable[[datetime], int]] = {
    TimestampPart.MINUTE: lambda d: d.minute,
    TimestampPart.HOUR: lambda d: d.hour,
    TimestampPart.DAY: lambda d: d.day,
    TimestampPart.WEEK: lambda d: d.isocalendar().week,
    TimestampPart.MONTH: lambda d: d.month,
    TimestampPart.YEAR: lambda d: d.year,
}


def _timestamp_predicate(value: SigmaTimestampPart) -> Predicate:
    part = _TIMESTAMP_PARTS[value.timestamp_part]
    wanted = value.number

    def predicate(v: Any) -> bool:
        number = as_number(v)
        if number is None:
            return False
        try:
            moment = datetime.fromtimestamp(number / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return False
        return part(moment) == wanted

    return predicate


def _equality_predicate(values: list[SigmaType], cased: bool = False) -> Predicate:
    """Membership in a set of plain strings, numbers and booleans."""
    texts: set[str] = set()
    numbers: set[int | float] = set()
    for value in values:
        if isinstance(value, SigmaBool):
            texts.add("true" if value.boolean else "false")
        elif isinstance(value, SigmaNumber):
            numbers.add(value.number)
            texts.add(str(value.number))
        else:
            text = value.to_plain_regex() if isinstance(value, SigmaString) else str(value)
            texts.add(text if cased else text.lower())
    frozen_texts = frozenset(texts)
    frozen_numbers = frozenset(numbers)

    def predicate(v: Any) -> bool:
        kind = type(v)
        if kind is str:
            return (v if cased else v.lower()) in frozen_texts
        if kind is int or kind is float:
            return v in frozen_numbers or as_text(v) in frozen_texts
        if kind is bool:
            return ("true" if v else "false") in frozen_texts
        return False

    return predicate


def _is_set_value(value: SigmaType) -> bool:
    if isinstance(value, SigmaCasedString):
        return False
    if isinstance(value, SigmaString):
        return _is_plain(value)
    return type(value) in (SigmaNumber, SigmaBool)


def _value_predicate(value: SigmaType) -> Predicate:
    if isinstance(value, SigmaTimestampPart):
        return _timestamp_predicate(value)
    if _is_set_value(value):
        return _equality_predicate([value])
    if isinstance(value, SigmaCasedString):
        if _is_plain(value):
            return _equality_predicate([value], cased=True)
        return _wildcard_predicate(value, cased=True)
    if isinstance(value, SigmaString):
        return _wildcard_predicate(value, cased=False)
    if isinstance(value, SigmaRegularExpression):
        return _regex_predicate(value)
    if isinstance(value, SigmaCIDRExpression):
        return _cidr_predicate(value)
    if isinstance(value, SigmaCompareExpression):
        return _compare_predicate(value)
    raise RuleCompileError(f"value type {type(value).__name__} is not supported")


def _on_field(get: Getter, predicate: Predicate) -> Matcher:
    """Apply a value predicate to a field; lists match when any element does."""

    def matcher(event: Event) -> bool:
        value = get(event)
        if value is None:
            return False
        if type(value) is list:
            return any(item is not None and predicate(item) for item in value)
        return predicate(value)

    return matcher


def _field_matcher(field: str, value: SigmaType) -> Matcher:
    get = field_getter(field)
    if isinstance(value, SigmaNull):
        return lambda event: get(event) is None
    if isinstance(value, SigmaExists):
        if value.exists:
            return lambda event: get(event) is not None
        return lambda event: get(event) is None
    if isinstance(value, SigmaExpansion):
        return _any([_field_matcher(field, item) for item in value.values])
    if isinstance(value, SigmaFieldReference):
        return _field_reference_matcher(get, value)
    return _on_field(get, _value_predicate(value))


def _field_reference_matcher(get: Getter, value: SigmaFieldReference) -> Matcher:
    other = field_getter(value.field)
    starts, ends = value.starts_with, value.ends_with

    def matcher(event: Event) -> bool:
        mine, theirs = as_text(get(event)), as_text(other(event))
        if mine is None or theirs is None:
            return False
        mine, theirs = mine.lower(), theirs.lower()
        if starts and ends:
            return theirs in mine
        if starts:
            return mine.startswith(theirs)
        if ends:
            return mine.endswith(theirs)
        return mine == theirs

    return matcher


def _keyword_matcher(value: SigmaType) -> Matcher:
    get = field_getter(KEYWORD_FIELD)
    if isinstance(value, SigmaString):
        star = SpecialChars.WILDCARD_MULTI
        wrapped = value
        if not value.startswith(star):
            wrapped = star + wrapped
        if not wrapped.endswith(star):
            wrapped = wrapped + star
        return _on_field(get, _wildcard_predicate(wrapped, isinstance(value, SigmaCasedString)))
    if isinstance(value, SigmaNumber):
        return _keyword_matcher(SigmaString(str(value.number)))
    if isinstance(value, SigmaRegularExpression):
        return _on_field(get, _regex_predicate(value))
    raise RuleCompileError(f"keyword of type {type(value).__name__} is not supported")


# --- boolean structure -------------------------------------------------------------


def _all(matchers: list[Matcher]) -> Matcher:
    if len(matchers) == 1:
        return matchers[0]
    if len(matchers) == 2:
        first, second = matchers
        return lambda event: first(event) and second(event)
    frozen = tuple(matchers)

    def every(event: Event) -> bool:
        # A plain loop: all() over a generator costs a frame per event.
        for matcher in frozen:  # noqa: SIM110  # see above
            if not matcher(event):
                return False
        return True

    return every


def _any(matchers: list[Matcher]) -> Matcher:
    if len(matchers) == 1:
        return matchers[0]
    if len(matchers) == 2:
        first, second = matchers
        return lambda event: first(event) or second(event)
    frozen = tuple(matchers)

    def some(event: Event) -> bool:
        for matcher in frozen:  # noqa: SIM110 (see every())
            if matcher(event):
                return True
        return False

    return some


type Node = ConditionItem | ConditionFieldEqualsValueExpression | ConditionValueExpression


def _flatten(node: ConditionItem, kind: type[ConditionItem]) -> list[Node]:
    """Children of nested nodes of the same kind, as one list (a or (b or c) → a, b, c)."""
    out: list[Node] = []
    for arg in node.args:
        if isinstance(arg, kind):
            out.extend(_flatten(arg, kind))
        elif arg is not None:
            out.append(arg)
    return out


def compile_node(node: Node | None) -> Matcher:
    """Compile one node of pySigma's condition tree."""
    if node is None:
        raise RuleCompileError("empty condition")
    if isinstance(node, ConditionAND):
        return _all([compile_node(arg) for arg in _flatten(node, ConditionAND)])
    if isinstance(node, ConditionOR):
        args = _flatten(node, ConditionOR)
        # `field: [a, b, c]` with plain values becomes one set lookup.
        plain = [
            a
            for a in args
            if isinstance(a, ConditionFieldEqualsValueExpression) and _is_set_value(a.value)
        ]
        by_field: dict[str, list[SigmaType]] = {}
        for leaf in plain:
            by_field.setdefault(leaf.field, []).append(leaf.value)
        matchers = [
            _on_field(field_getter(f), _equality_predicate(vs)) for f, vs in by_field.items()
        ]
        # `field|contains: [a, b, c]` (and startswith, endswith) becomes one lookup of the
        # field, lower-cased once, instead of one per value.
        needles: dict[tuple[str, str], list[str]] = {}
        grouped = []
        for a in args:
            if any(a is p for p in plain) or not isinstance(
                    a, ConditionFieldEqualsValueExpression):
                continue
            shape = _affix(a.value)
            if shape is not None:
                needles.setdefault((a.field, shape[0]), []).append(shape[1])
                grouped.append(a)
        for (f, kind), values in needles.items():
            matchers.append(_on_field(field_getter(f), _affix_predicate(kind, values)))
        matchers += [compile_node(a) for a in args
                     if not any(a is p for p in plain) and not any(a is g for g in grouped)]
        return _any(matchers)
    if isinstance(node, ConditionNOT):
        inner = compile_node(node.args[0])
        return lambda event: not inner(event)
    if isinstance(node, ConditionFieldEqualsValueExpression):
        return _field_matcher(node.field, node.value)
    if isinstance(node, ConditionValueExpression):
        return _keyword_matcher(node.value)
    raise RuleCompileError(f"condition element {type(node).__name__} is not supported")


def compile_rule(rule: SigmaRule) -> Matcher:
    """One matcher for a rule; several `condition` entries are OR-ed, as Sigma specifies."""
    try:
        trees = [condition.parsed for condition in rule.detection.parsed_condition]
    except Exception as exc:  # pySigma raises SigmaError subclasses and, rarely, others
        raise RuleCompileError(f"condition cannot be parsed: {exc}") from exc
    return _any([compile_node(tree) for tree in trees])


# --- dispatch ----------------------------------------------------------------------


def required_values(node: Node | None, field: str) -> frozenset[int] | None:
    """The integer values `field` must have for the condition to hold, or None when the
    condition does not pin it. Conservative: None is always a safe answer. The engine uses
    it on `class_uid` to evaluate only the rules that can match an event's class."""
    if isinstance(node, ConditionAND):
        pinned = [required_values(arg, field) for arg in _flatten(node, ConditionAND)]
        sets = [p for p in pinned if p is not None]
        return frozenset.intersection(*sets) if sets else None
    if isinstance(node, ConditionOR):
        union: set[int] = set()
        for arg in _flatten(node, ConditionOR):
            values = required_values(arg, field)
            if values is None:
                return None
            union |= values
        return frozenset(union)
    if isinstance(node, ConditionFieldEqualsValueExpression) and node.field == field:
        value = node.value
        if isinstance(value, SigmaNumber) and type(value.number) is int:
            return frozenset({value.number})
        if isinstance(value, SigmaString) and _is_plain(value):
            text = value.to_plain_regex()
            if text.isascii() and text.isdigit():
                return frozenset({int(text)})
    return None


def rule_required_values(rule: SigmaRule, field: str) -> frozenset[int] | None:
    """`required_values` over every condition of a rule (they are OR-ed)."""
    try:
        trees = [condition.parsed for condition in rule.detection.parsed_condition]
    except Exception:  # the compiler reports unparsable conditions; no pinning here
        return None
    union: set[int] = set()
    for tree in trees:
        values = required_values(tree, field)
        if values is None:
            return None
        union |= values
    return frozenset(union)

