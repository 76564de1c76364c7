"""Sigma detection over normalized (OCSF-shaped) events: loader, compiled matcher, correlations.

See docs/detection.md for the supported Sigma features and the shipped GxP rule pack.
"""

from .engine import Engine, Match, RuleInfo
from .loader import (
    SHIPPED_RULES_DIR,
    RuleError,
    RuleSet,
    load_rules,
    parse_rules,
)

__all__ = [
    "SHIPPED_RULES_DIR",
    "Engine",
    "Match",
    "RuleError",
    "RuleInfo",
    "RuleSet",
    "load_rules",
    "parse_rules",
]
