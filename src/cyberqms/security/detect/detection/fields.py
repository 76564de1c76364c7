"""Dotted-path access to normalized (OCSF-shaped) events, compiled once per field.

Sigma field names in cyberqms rules are OCSF dotted paths (`actor.user.name`,
`src_endpoint.ip`, `gxp.system_kind`). A getter splits the path once, at rule compile
time; evaluating it per event is a few dict lookups. A key that itself contains dots
(a flat event such as `{"actor.user.name": "ana"}`) is found too, as a fallback.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

type Event = Mapping[str, Any]
type Getter = Callable[[Event], Any]


def field_getter(path: str) -> Getter:
    """Return a function reading `path` from an event; None when absent or not reachable."""
    parts = tuple(path.split("."))
    if len(parts) == 1:

        def get_top(event: Event) -> Any:
            return event.get(path)

        return get_top

    if len(parts) == 2:
        first, second = parts

        def get_pair(event: Event) -> Any:
            inner = event.get(first)
            if isinstance(inner, dict):
                value = inner.get(second)
                if value is not None:
                    return value
            return event.get(path)

        return get_pair

    def get_deep(event: Event) -> Any:
        value: Any = event
        for part in parts:
            if not isinstance(value, dict):
                return event.get(path)
            value = value.get(part)
        return event.get(path) if value is None else value

    return get_deep


def get(event: Event, path: str) -> Any:
    """Read one dotted path from an event (uncompiled; for tests and one-off reads)."""
    return field_getter(path)(event)
