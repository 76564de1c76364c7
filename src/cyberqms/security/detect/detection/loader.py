"""Load Sigma rules (YAML) with pySigma, from the shipped pack and a configured folder.

A broken rule never stops loading: each problem becomes a `RuleError` (file, rule, reason)
and the rule is left out, so one bad file in a site's folder cannot switch detection off.
Correlation rules may refer to rules in other files: references are resolved once all
files are read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError, SigmaRuleLocation
from sigma.rule import SigmaRule

SHIPPED_RULES_DIR = Path(__file__).resolve().parent / "rules"
RULES_DIR_SETTING = "CYBERQMS_SIGMA_RULES_DIR"

type Rule = SigmaRule | SigmaCorrelationRule


@dataclass(frozen=True, slots=True)
class RuleError:
    """One rule (or file) that could not be used, and why."""

    source: str
    rule: str | None
    reason: str

    def __str__(self) -> str:
        where = self.source if self.rule is None else f"{self.source}: rule '{self.rule}'"
        return f"{where}: {self.reason}"


@dataclass(slots=True)
class RuleSet:
    """Parsed rules ready to compile, the problems met on the way, and the files read."""

    rules: list[Rule] = field(default_factory=list)
    errors: list[RuleError] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def rule_label(rule: Rule) -> str:
    """A rule's name in messages: its title, else its name, else its id."""
    return rule.title or rule.name or (str(rule.id) if rule.id else "(untitled)")


def rule_files(folder: Path) -> list[Path]:
    """Every `*.yml`/`*.yaml` under `folder`, recursively, in a stable order."""
    found = [p for p in folder.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file()]
    return sorted(found)


def _error_reason(error: Exception) -> str:
    # SigmaError's str() appends the absolute file path; the path is already in `source`.
    if isinstance(error, SigmaError):
        return error.args[0] if error.args else type(error).__name__
    return str(error)


def _parse_document_set(text: str, source: str, into: RuleSet) -> None:
    """Parse one file's YAML documents into `into.rules`; problems go to `into.errors`."""
    location = SigmaRuleLocation(Path(source))
    try:
        collection = SigmaCollection.from_yaml(
            text, collect_errors=True, source=location, resolve_references=False
        )
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        into.errors.append(RuleError(source, None, f"invalid YAML{line}: {problem}"))
        return
    except SigmaError as exc:
        into.errors.append(RuleError(source, None, _error_reason(exc)))
        return
    except (AttributeError, TypeError, ValueError) as exc:
        # pySigma assumes each YAML document is a mapping; a list or a scalar document
        # surfaces as one of these instead of a SigmaError.
        reason = f"not a Sigma rule document ({type(exc).__name__}: {exc})"
        into.errors.append(RuleError(source, None, reason))
        return

    attached: set[int] = set()
    for rule in collection.rules:
        if isinstance(rule, SigmaRule) and not rule.errors:
            # pySigma parses conditions lazily; parse now so a bad condition is a load error.
            try:
                for condition in rule.detection.parsed_condition:
                    condition.parse()
            except SigmaError as exc:
                rule.errors.append(exc)
        if rule.errors:
            for error in rule.errors:
                attached.add(id(error))
                into.errors.append(RuleError(source, rule_label(rule), _error_reason(error)))
            continue
        into.rules.append(rule)
    for error in collection.errors:
        if id(error) not in attached:
            into.errors.append(RuleError(source, None, _error_reason(error)))


def _link(into: RuleSet) -> None:
    """Drop duplicate ids and resolve correlation references across all files."""
    seen: dict[str, str] = {}
    unique: list[Rule] = []
    for rule in into.rules:
        key = str(rule.id) if rule.id else None
        origin = str(rule.source.path) if rule.source else "<unknown>"
        if key is not None and key in seen:
            reason = f"duplicate rule id {key} (already loaded from {seen[key]})"
            into.errors.append(RuleError(origin, rule_label(rule), reason))
            continue
        if key is not None:
            seen[key] = origin
        unique.append(rule)

    collection = SigmaCollection(list(unique), resolve_references=False)
    linked: list[Rule] = []
    for rule in unique:
        if isinstance(rule, SigmaCorrelationRule):
            try:
                rule.resolve_rule_references(collection)
            except SigmaError as exc:
                origin = str(rule.source.path) if rule.source else "<unknown>"
                into.errors.append(RuleError(origin, rule_label(rule), _error_reason(exc)))
                continue
        linked.append(rule)
    into.rules = linked


def parse_rules(text: str, source: str = "<string>") -> RuleSet:
    """Parse rules from YAML text (one or more documents) and resolve their references."""
    result = RuleSet(files=[source])
    _parse_document_set(text, source, result)
    _link(result)
    return result


def load_rules(folders: Iterable[Path | str]) -> RuleSet:
    """Load every rule file under the given folders; missing folders are reported."""
    result = RuleSet()
    for folder in map(Path, folders):
        if not folder.is_dir():
            result.errors.append(RuleError(str(folder), None, "rule folder does not exist"))
            continue
        for path in rule_files(folder):
            result.files.append(str(path))
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                result.errors.append(RuleError(str(path), None, f"unreadable: {exc}"))
                continue
            _parse_document_set(text, str(path), result)
    _link(result)
    return result
