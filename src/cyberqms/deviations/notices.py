"""Who hears about a deviation, and when (notifications are delivered on commit)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.urls import reverse

from .models import Deviation
from .queries import TYPE_NAME, qa_people


def notify_record(
    recipients: Iterable[Any], d: Deviation, *, kind: str, subject: str, exclude: Any
) -> None:
    from cyberqms.notifications.services import notify

    notify(recipients, kind=kind, subject=f"{d.number}: {subject}",
           url=reverse("deviations:detail", args=[d.pk]), record_type=TYPE_NAME,
           record_id=d.pk, record_number=d.number, exclude=exclude, body=d.title)


def triage_due(d: Deviation, actor: Any) -> None:
    notify_record(qa_people(d.site_id), d, kind="approval_due",
                  subject="submitted for QA triage", exclude=actor)


def investigate(d: Deviation, actor: Any) -> None:
    notify_record([d.owner_id], d, kind="assignment", subject="triaged: investigate it",
                  exclude=actor)


def review_due(d: Deviation, actor: Any) -> None:
    notify_record(qa_people(d.site_id), d, kind="approval_due",
                  subject="investigation complete: QA review due", exclude=actor)


def returned(d: Deviation, actor: Any) -> None:
    notify_record([d.owner_id], d, kind="info", subject="returned to investigation by QA",
                  exclude=actor)


def approved(d: Deviation, actor: Any) -> None:
    notify_record([d.owner_id], d, kind="info", subject="approved by QA", exclude=actor)


def closed(d: Deviation, actor: Any) -> None:
    notify_record([d.owner_id, d.originator_id], d, kind="info", subject="closed",
                  exclude=actor)
