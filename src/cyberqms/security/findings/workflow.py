"""The access finding's table (docs/workflows/): open → resolved by the person who fixed
it (with what was done), or by cyberqms once a scan no longer finds it; open → accepted,
e-signed "Access accepted" with a reason, never by the person the finding is about; an
accepted finding is reopened with a reason."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from cyberqms.platform.kit.workflow import Transition, Workflow

from .enums import FindingState
from .models import AccessFinding

S = FindingState
TYPE = "findings.accessfinding"


def closing(finding: AccessFinding, actor: Any) -> dict[str, Any]:
    return {"closed_at": timezone.now()}


def reopening(finding: AccessFinding, actor: Any) -> dict[str, Any]:
    return {"closed_at": None}


FINDING_WORKFLOW = Workflow(AccessFinding, TYPE, [
    Transition("resolve", S.OPEN, S.RESOLVED, "access_findings.work", reason=True,
               updates=closing, label="Resolve"),
    Transition("clear", S.OPEN, S.RESOLVED, "access_findings.work", system=True,
               updates=closing, label="Resolved (no longer found)"),
    Transition("accept", S.OPEN, S.ACCEPTED, "access_findings.approve", reason=True,
               sign="Access accepted", not_by=("subject",), updates=closing,
               label="Accept the access"),
    Transition("reopen", S.ACCEPTED, S.OPEN, "access_findings.approve", reason=True,
               updates=reopening, task=False, label="Reopen"),
])
