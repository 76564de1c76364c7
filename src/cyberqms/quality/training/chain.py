"""The chain change → document version → training (AL-10): for a change control, the
document versions that implement it (linked either way), where each stands, and how far
the training it triggered has come (who has read it, who has not, who is late).

Read in a fixed number of queries whatever the number of documents and people: the
links, the versions, the counts per version, and the open readings' people.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q
from django.utils import timezone

from cyberqms.platform.accounts.models import RoleAssignment
from cyberqms.platform.core.access import can
from cyberqms.platform.core.models import RecordLink
from cyberqms.platform.kit.records import QualityRecord, kind_of
from cyberqms.quality.documents.models import DocumentVersion

from .enums import AssignmentState, ItemKind
from .models import WAIVE_ACTION, TrainingAssignment

A = AssignmentState
DOCUMENT = "documents.document"
CHANGE = "changes.change"
WAITING = 500  # people listed as still to read, over every version (the counts are all)


@dataclass
class VersionTraining:
    version: DocumentVersion
    url: str
    assigned: int = 0
    done: int = 0
    on_time: int = 0
    open: int = 0
    overdue: int = 0
    cancelled: int = 0
    carried: int = 0  # done by QA's "No retraining needed", not read again
    waiting: list[tuple[Any, dt.date, bool]] = field(default_factory=list)  # person, due, late

    @property
    def percent(self) -> float | None:
        needed = self.done + self.open
        return None if needed == 0 else round(100 * self.done / needed, 1)


def _linked(record_type: str, record_id: str, other_type: str) -> set[str]:
    """Ids of `other_type` records linked to the record, either direction."""
    rows = RecordLink.objects.filter(removed_at__isnull=True).filter(
        Q(from_type=record_type, from_id=record_id, to_type=other_type)
        | Q(to_type=record_type, to_id=record_id, from_type=other_type))
    return {to_id if from_type == record_type else from_id
            for from_type, from_id, to_id in rows.values_list("from_type", "from_id", "to_id")}


def change_training(change: QualityRecord, actor: Any, *, within: set[int] | None,
                    today: dt.date | None = None) -> list[VersionTraining]:
    """The versions linked to `change` that `actor` may see, each with its readings'
    counts, among the people at the sites `within` (None: everyone)."""
    today = today or timezone.localdate()
    ids = [int(pk) for pk in _linked(CHANGE, str(change.pk), DOCUMENT) if pk.isdigit()]
    versions = [v for v in DocumentVersion.objects.filter(pk__in=ids, is_deleted=False)
                .select_related("site", "owner").order_by("number")
                if can(actor, "documents.view", v)]
    if not versions:
        return []
    kind = kind_of(versions[0])
    out = {v.pk: VersionTraining(v, kind.detail_url(v)) for v in versions}
    readings = TrainingAssignment.objects.filter(version_id__in=list(out),
                                                 kind=ItemKind.READING)
    if within is not None:
        at_site = RoleAssignment.objects.held_on(timezone.now()).filter(
            user_id=OuterRef("person_id"), site_id__in=within)
        readings = readings.filter(Exists(at_site))
    for row in readings.values("version_id").annotate(
            assigned=Count("pk"),
            done=Count("pk", filter=Q(state=A.DONE)),
            on_time=Count("pk", filter=Q(state=A.DONE, completed_at__date__lte=F("due_date"))),
            open=Count("pk", filter=Q(state=A.OPEN)),
            overdue=Count("pk", filter=Q(state=A.OPEN, due_date__lt=today)),
            cancelled=Count("pk", filter=Q(state=A.CANCELLED)),
            waived=Count("pk", filter=Q(state=A.DONE, signature__action=WAIVE_ACTION))):
        target = out[row["version_id"]]
        for name in ("assigned", "done", "on_time", "open", "overdue", "cancelled"):
            setattr(target, name, row[name])
        target.carried = row["waived"]
    for reading in readings.filter(state=A.OPEN).select_related("person").order_by(
            "due_date", "person__username")[:WAITING]:
        out[reading.version_id or 0].waiting.append(
            (reading.person, reading.due_date, reading.due_date < today))
    return list(out.values())


def page_links(record: QualityRecord, actor: Any) -> list[dict[str, str]]:
    """The record page's links into training (kit.record_pages provider): a change control
    with linked documents → its chain to training; a document version → its column of the
    training matrix."""
    from django.urls import reverse

    from . import actions

    type_name = kind_of(record).type_name
    if type_name not in (CHANGE, DOCUMENT) or not can(actor, actions.VIEW):
        return []
    if type_name == DOCUMENT:
        return [{"label": "Training", "testid": "training-link",
                 "url": f"{reverse('training:matrix')}?item=d{getattr(record, 'document_id', '')}",
                 "title": "Who has read this document, who has not"}]
    if not _linked(CHANGE, str(record.pk), DOCUMENT):
        return []
    return [{"label": "Documents and training", "testid": "change-training-link",
             "url": reverse("training:change", args=[record.pk]),
             "title": "The documents this change revises and the training they triggered"}]
