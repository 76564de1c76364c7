"""Who hears about a deviation, and when (notices are delivered on commit). QA is whoever
the gate lets approve deviations at the site."""

from __future__ import annotations

from typing import Any

from cyberqms.platform.accounts.queries import holders_of
from cyberqms.platform.notifications.services import notify_record

from .models import Deviation


def triage_due(d: Deviation, actor: Any) -> None:
    notify_record(holders_of("deviations.approve", d.site_id), d, kind="approval_due",
                  subject="submitted for QA triage", exclude=actor)


def investigate(d: Deviation, actor: Any) -> None:
    notify_record([d.owner_id], d, kind="assignment", subject="triaged: investigate it",
                  exclude=actor, awaits=(d.state,))


def review_due(d: Deviation, actor: Any) -> None:
    notify_record(holders_of("deviations.approve", d.site_id), d, kind="approval_due",
                  subject="investigation complete: QA review due", exclude=actor)


def returned(d: Deviation, actor: Any) -> None:
    notify_record([d.owner_id], d, kind="info", subject="returned to investigation by QA",
                  exclude=actor)


def approved(d: Deviation, actor: Any) -> None:
    notify_record([d.owner_id], d, kind="info", subject="approved by QA", exclude=actor)


def closed(d: Deviation, actor: Any) -> None:
    notify_record([d.owner_id, d.originator_id], d, kind="info", subject="closed",
                  exclude=actor)
