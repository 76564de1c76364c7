"""Reads of the audit trail for the pages: searches, a record's history, the status panel.

Filtering uses the indexed columns; everything shown comes from the hashed body
(`AuditEntry.data`), see `cyberqms.platform.trail.display`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import reduce
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import CharField, Q, QuerySet, Value
from django.db.models.functions import Cast
from django.utils import timezone

from cyberqms.platform.core.models import SecurityEvent
from cyberqms.platform.trail import keys
from cyberqms.platform.trail.log import head, latest_checkpoint, max_seq
from cyberqms.platform.trail.models import (
    AuditEntry,
    Checkpoint,
    IntegrityFlag,
    LogHead,
    TrailReview,
    Verification,
)
from cyberqms.platform.trail.registry import AuditedModel, all_audited
from cyberqms.platform.trail.services import ReviewScopeSpec, TrailError, review_entries

ENTRY_SORTS = ("-seq", "seq")


def day_start(day: date) -> datetime:
    """Midnight starting `day` in the server's time zone (the same days reviews use)."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def entries_filtered(
    *,
    object_type: str = "",
    object_id: str = "",
    actor_id: int | None = None,
    action: str = "",
    q: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    sort: str = "-seq",
) -> QuerySet[AuditEntry]:
    """Entries matching every given filter; `object_id` is a record's ID or its number
    (`DEV-2026-0047`), `action` matches as a prefix, `q` as in `search_condition`, dates
    inclusive."""
    qs = AuditEntry.objects.all()
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(record_condition(object_id))
    if actor_id is not None:
        qs = qs.filter(actor_id=actor_id)
    if action:
        qs = qs.filter(action__startswith=action)
    if q.strip():
        qs = qs.filter(search_condition(q))
    if date_from is not None:
        qs = qs.filter(at__gte=day_start(date_from))
    if date_to is not None and date_to < date.max:
        qs = qs.filter(at__lt=day_start(date_to + timedelta(days=1)))
    return qs.order_by(sort if sort in ENTRY_SORTS else "-seq")


# How many records, and how many people, one search term may name: a term that names more
# searches the entries of that many of them.
SEARCH_LIMIT = 1000
# The characters of action names (`deviations.deviation.close`): a term with others (a
# space, a dash) is a number or a name, and is not looked for in the actions.
_ACTION_WORD = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.")


def _with_field(spec: AuditedModel, name: str) -> bool:
    return any(f.name == name for f in spec.model._meta.concrete_fields)


def _any_of(conditions: list[Q]) -> Q:
    """The conditions joined with OR; none matches nothing."""
    return reduce(operator.or_, conditions) if conditions else Q(pk__in=[])


def _about_records(match: Callable[[AuditedModel], Q]) -> list[Q]:
    """Entries about the records that `match` selects in each audited model that numbers
    its rows (the record families, alerts): the records are found in one query, and the
    entries then through their (type, id) index."""
    parts = [
        spec.model._default_manager.filter(match(spec)).order_by().annotate(
            trail_type=Value(spec.type_name, output_field=CharField()),
            trail_id=Cast("pk", output_field=CharField()),
        ).values_list("trail_type", "trail_id")
        for spec in all_audited() if _with_field(spec, "number")
    ]
    if not parts:
        return []
    found = parts[0].union(*parts[1:], all=True).order_by()
    ids: dict[str, list[str]] = {}
    for type_name, ident in found[:SEARCH_LIMIT]:
        ids.setdefault(type_name, []).append(ident)
    return [Q(object_type=type_name, object_id__in=idents) for type_name, idents in ids.items()]


def record_condition(value: str) -> Q:
    """Entries about the record numbered `value` (case aside; record numbers hold a dash:
    `DEV-2026-0047`), resolved through the audited models that number their rows, so the
    entries are found through their (type, id) index; otherwise about the records whose ID
    is `value`."""
    value = value.strip()
    number = value.upper()
    by_number = _about_records(lambda spec: Q(number=number)) if "-" in number else []
    return _any_of(by_number) if by_number else Q(object_id=value)


def _record_match(term: str) -> Callable[[AuditedModel], Q]:
    def match(spec: AuditedModel) -> Q:
        found = Q(number__icontains=term)
        if _with_field(spec, "title"):
            found |= Q(title__icontains=term)
        return found

    return match


def search_condition(q: str) -> Q:
    """Entries whose record's number or title holds `q` (case aside), made by a person
    whose user ID or name holds it or about such a person, or whose action holds it (when
    `q` could be part of an action name). Records and people are found first, so that the
    entries are found through their (type, id) and actor indexes."""
    term = q.strip()
    conditions = _about_records(_record_match(term))
    people_model = get_user_model()
    named = Q(**{f"{people_model.USERNAME_FIELD}__icontains": term})
    if any(f.name == "full_name" for f in people_model._meta.concrete_fields):
        named |= Q(full_name__icontains=term)
    people = list(people_model._default_manager.filter(named).order_by("-pk")
                  .values_list("pk", flat=True)[:SEARCH_LIMIT])
    if people:
        conditions.append(Q(actor_id__in=people))
        people_type = next((a.type_name for a in all_audited() if a.model is people_model), "")
        if people_type:
            conditions.append(Q(object_type=people_type,
                                object_id__in=[str(pk) for pk in people]))
    if set(term.lower()) <= _ACTION_WORD:
        conditions.append(Q(action__icontains=term))
    return _any_of(conditions)


# Providers of a record's audited children (attachments, comments, links …) so that a
# record's history shows them too: (object_type, object_id) -> [(child_type, child_id)].
ChildProvider = Callable[[str, str], Iterable[tuple[str, str]]]
_CHILD_PROVIDERS: list[ChildProvider] = []


def add_child_provider(provider: ChildProvider) -> None:
    if provider not in _CHILD_PROVIDERS:
        _CHILD_PROVIDERS.append(provider)


def record_history(object_type: str, object_id: str) -> QuerySet[AuditEntry]:
    """Every entry about one record and its audited children, newest first."""
    condition = Q(object_type=object_type, object_id=object_id)
    children: dict[str, list[str]] = {}
    for provider in _CHILD_PROVIDERS:
        for child_type, child_id in provider(object_type, object_id):
            children.setdefault(child_type, []).append(child_id)
    for child_type, ids in children.items():
        condition |= Q(object_type=child_type, object_id__in=ids)
    return AuditEntry.objects.filter(condition).order_by("-seq")


def flagged_seqs(seqs: list[int]) -> set[int]:
    """Which of these entries verification found altered (open flags only)."""
    if not seqs:
        return set()
    found = IntegrityFlag.objects.filter(
        seq__in=seqs, kind="entry", resolved_at__isnull=True
    ).values_list("seq", flat=True)
    return {seq for seq in found if seq is not None}


def open_flags_all() -> QuerySet[IntegrityFlag]:
    return IntegrityFlag.objects.filter(resolved_at__isnull=True).order_by("-raised_at", "-id")


def recently_resolved_flags(limit: int = 10) -> list[IntegrityFlag]:
    return list(
        IntegrityFlag.objects.filter(resolved_at__isnull=False)
        .select_related("resolved_by")
        .order_by("-resolved_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class KeyState:
    infos: list[keys.KeyInfo]
    error: str = ""


def key_state() -> KeyState:
    """The verifier keys, or the key-file problem an operator must fix (never a 500)."""
    try:
        return KeyState(keys.key_infos())
    except keys.KeyFileError as exc:
        return KeyState([], str(exc))


@dataclass(frozen=True)
class TrailStatus:
    entries: int
    head: LogHead
    checkpoint: Checkpoint | None
    verifications: list[Verification]
    open_flags: list[IntegrityFlag]
    seal_refused: str = ""  # why sealing stopped after the latest checkpoint, if it did

    @property
    def sealed(self) -> int:
        return self.checkpoint.size if self.checkpoint is not None else 0

    @property
    def unsealed(self) -> int:
        return max(self.entries - self.sealed, 0)

    @property
    def last_verification(self) -> Verification | None:
        return self.verifications[0] if self.verifications else None


def seal_refusal(checkpoint: Checkpoint | None) -> str:
    """The sealer's latest refusal since `checkpoint` was signed ("" when sealing runs)."""
    refused = SecurityEvent.objects.filter(kind="trail.seal.refused")
    if checkpoint is not None:
        refused = refused.filter(created_at__gt=checkpoint.signed_at)
    found = refused.order_by("-created_at", "-id").values_list("message", flat=True).first()
    return str(found or "")


def trail_status(verifications: int = 20) -> TrailStatus:
    checkpoint = latest_checkpoint()
    return TrailStatus(
        entries=max_seq(),  # sequence numbers are gap-free: the last one is the count
        head=head(),
        checkpoint=checkpoint,
        verifications=list(Verification.objects.order_by("-id")[:verifications]),
        open_flags=list(open_flags_all()),
        seal_refused=seal_refusal(checkpoint),
    )


@dataclass(frozen=True)
class StatusSummary:
    """The line on the home page: the last verification and how many flags are open."""

    last: Verification | None
    open_flags: int


def status_summary() -> StatusSummary:
    return StatusSummary(
        last=Verification.objects.order_by("-id").first(),
        open_flags=IntegrityFlag.objects.filter(resolved_at__isnull=True).count(),
    )


@dataclass(frozen=True)
class ChartBar:
    x: int
    y: int
    width: int
    height: int
    passed: bool
    label: str


CHART_WIDTH = 400
CHART_HEIGHT = 80


def duration_chart(verifications: list[Verification]) -> list[ChartBar]:
    """Bars of verification durations, oldest on the left, scaled to the longest run.

    Sizes are SVG attributes computed here: the CSP forbids inline styles.
    """
    runs = list(reversed(verifications))
    if not runs:
        return []
    peak = max(v.duration_ms for v in runs) or 1
    slots = max(len(runs), 20)
    slot = CHART_WIDTH // slots
    offset = slots - len(runs)  # the newest run sits at the right edge
    bars = []
    for index, run in enumerate(runs, offset):
        height = max(round(CHART_HEIGHT * run.duration_ms / peak), 2)
        bars.append(ChartBar(
            x=index * slot + 2,
            y=CHART_HEIGHT - height,
            width=max(slot - 4, 2),
            height=height,
            passed=run.passed,
            label=(
                f"{run.finished_at:%Y-%m-%d %H:%M} UTC: {run.get_result_display()}, "
                f"{run.entries_checked} entries in {run.duration_ms} ms"
            ),
        ))
    return bars


def reviews_all() -> QuerySet[TrailReview]:
    return TrailReview.objects.select_related("reviewer").order_by("-reviewed_at", "-id")


@dataclass(frozen=True)
class ReviewPreview:
    """What a review of a scope would cover, and how many of those entries are the
    reviewer's own (the service refuses any: independence, A11D-02)."""

    entries: int
    seq_from: int | None
    seq_to: int | None
    own: int


def review_preview(spec: ReviewScopeSpec, actor_id: Any) -> ReviewPreview | None:
    try:
        rows = list(review_entries(spec).values_list("seq", "actor_id"))
    except TrailError:
        return None
    return ReviewPreview(
        entries=len(rows),
        seq_from=rows[0][0] if rows else None,
        seq_to=rows[-1][0] if rows else None,
        own=sum(1 for _seq, actor in rows if actor == actor_id),
    )
