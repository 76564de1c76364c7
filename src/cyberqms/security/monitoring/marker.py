"""Drills marked wherever they land (CYB-09): events a drill injects are received on the
channel "drill", and the alerts they raise carry the drill's number, so that metrics and
KPIs count drills or leave them out, and a drill's alert never extends a real one (nor a
real event a drill's alert). An unannounced drill's alerts look like any other to the
responders until the drill is scored."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

CHANNEL = "drill"
_DRILL: ContextVar[tuple[str, bool]] = ContextVar("cyberqms_drill", default=("", True))


@contextmanager
def drill_marker(number: str, *, announced: bool = True) -> Iterator[None]:
    """Within the block, alerts raised carry `number` (the drill's); those of an
    unannounced drill do not show it until the drill is disclosed (`drill_disclose`)."""
    token = _DRILL.set((number, announced))
    try:
        yield
    finally:
        _DRILL.reset(token)


def current_drill() -> tuple[str, bool]:
    """The drill whose events are being received ("" for none), and whether it shows."""
    return _DRILL.get()


def drill_disclose(number: str) -> int:
    """Show the drill mark on the alerts of drill `number` (it has been scored).

    Side effects: each alert's `drill_disclosed` set, audited `monitoring.alert.disclose`.
    """
    from django.db import transaction

    from cyberqms.platform.trail.record import audit_record, snapshot

    from .models import Alert

    shown = 0
    with transaction.atomic():
        for alert in Alert.objects.select_for_update().filter(drill=number,
                                                             drill_disclosed=False):
            before = snapshot(alert)
            alert.drill_disclosed = True
            alert.save(update_fields=["drill_disclosed", "updated_at"])
            audit_record("monitoring.alert.disclose", alert, actor=None, before=before,
                         reason=f"Raised by drill {number}, now scored")
            shown += 1
    return shown
