"""The alert lifecycle, declared (A11D-04): new → acknowledged → investigating →
resolved or false positive. Closing needs a reason; every step is audited."""

from __future__ import annotations

from cyberqms.core.workflow import Transition, Workflow

from .enums import AlertState
from .models import Alert

S = AlertState

ALERT_WORKFLOW = Workflow(Alert, "monitoring.alert", [
    Transition("acknowledge", S.NEW, S.ACKNOWLEDGED, "monitoring.alert.triage"),
    Transition("investigate", (S.NEW, S.ACKNOWLEDGED), S.INVESTIGATING,
               "monitoring.alert.triage"),
    Transition("resolve", (S.NEW, S.ACKNOWLEDGED, S.INVESTIGATING), S.RESOLVED,
               "monitoring.alert.triage", reason=True),
    Transition("false_positive", (S.NEW, S.ACKNOWLEDGED, S.INVESTIGATING), S.FALSE_POSITIVE,
               "monitoring.alert.triage", reason=True, label="Mark false positive"),
    Transition("reopen", (S.RESOLVED, S.FALSE_POSITIVE), S.INVESTIGATING,
               "monitoring.alert.triage", reason=True),
], unsigned_fields=("state", "updated_at", "count", "last_seen", "summary"))
