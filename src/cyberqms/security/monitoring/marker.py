"""Drills marked wherever they land (CYB-09): events a drill injects are received on the
channel "drill", and the alerts they raise carry the drill's number, so that metrics and
KPIs count drills or leave them out, and a drill's alert never extends a real one (nor a
real event a drill's alert)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

CHANNEL = "drill"
_DRILL: ContextVar[str] = ContextVar("cyberqms_drill", default="")


@contextmanager
def drill_marker(number: str) -> Iterator[None]:
    """Within the block, alerts raised carry `number` (the drill's)."""
    token = _DRILL.set(number)
    try:
        yield
    finally:
        _DRILL.reset(token)


def current_drill() -> str:
    return _DRILL.get()
