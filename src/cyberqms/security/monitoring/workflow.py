"""The alert lifecycle, declared (A11D-04): new → acknowledged → investigating →
resolved or false positive. Closing needs a reason; every step is audited."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from cyberqms.platform.kit.workflow import Transition, Workflow

from .enums import AlertState
from .models import Alert

S = AlertState


def responded(alert: Alert, actor: Any) -> dict[str, Any]:
    return {} if alert.acknowledged_at else {"acknowledged_at": timezone.now()}


def closing(alert: Alert, actor: Any) -> dict[str, Any]:
    return {**responded(alert, actor), "closed_at": timezone.now()}


def reopening(alert: Alert, actor: Any) -> dict[str, Any]:
    return {"closed_at": None}

ALERT_WORKFLOW = Workflow(Alert, "monitoring.alert", [
    Transition("acknowledge", S.NEW, S.ACKNOWLEDGED, "monitoring.alert.triage",
               updates=responded),
    Transition("investigate", (S.NEW, S.ACKNOWLEDGED), S.INVESTIGATING,
               "monitoring.alert.triage", updates=responded),
    Transition("resolve", (S.NEW, S.ACKNOWLEDGED, S.INVESTIGATING), S.RESOLVED,
               "monitoring.alert.triage", reason=True, updates=closing),
    Transition("false_positive", (S.NEW, S.ACKNOWLEDGED, S.INVESTIGATING), S.FALSE_POSITIVE,
               "monitoring.alert.triage", reason=True, label="Mark false positive",
               updates=closing),
    Transition("reopen", (S.RESOLVED, S.FALSE_POSITIVE), S.INVESTIGATING,
               "monitoring.alert.triage", reason=True, updates=reopening),
], unsigned_fields=("state", "updated_at", "count", "last_seen", "summary",
                    "acknowledged_at", "closed_at"))
