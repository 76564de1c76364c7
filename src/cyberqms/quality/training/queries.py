"""What training pages and the API read: a person's assignments, the matrix (people ×
items) in a fixed number of queries whatever its size, and the training KPIs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from cyberqms.platform.accounts.models import RoleAssignment
from cyberqms.platform.core.home import OpenTask
from cyberqms.quality.documents.models import DocumentVersion

from .enums import AssignmentState, ItemKind
from .models import CurriculumItem, TrainingAssignment
from .services import TRAINED_ROLES, curriculum_items, items_by_roles, roles_held

A = AssignmentState


def assignments_of(person_id: int) -> QuerySet[TrainingAssignment]:
    return TrainingAssignment.objects.filter(person_id=person_id).select_related(
        "version", "completed_by", "document", "signature").order_by("-assigned_at", "-id")


def home_tasks(user: Any) -> list[OpenTask]:
    """The person's open training, each a task on the home page (overdue first)."""
    if getattr(user, "pk", None) is None:
        return []
    today = timezone.localdate()
    rows = TrainingAssignment.objects.filter(person_id=user.pk, state=A.OPEN).order_by(
        "due_date", "id")[:50]
    return [OpenTask(
        title=row.title, detail=("Overdue training: " if row.due_date < today else
                                 "Training: ") + row.reason,
        url=reverse("training:read", args=[row.pk]) if row.kind == ItemKind.READING
        else reverse("training:quiz", args=[row.pk]) if row.kind == ItemKind.QUIZ
        else reverse("training:mine"),
        priority="high" if row.due_date < today else "medium", due=row.due_date,
    ) for row in rows]


# --- the matrix ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str  # "d<document id>" or "i<item id>"
    label: str  # "SOP-QA-0003"
    title: str
    department: str


@dataclass
class Row:
    person: Any
    roles: list[str]
    cells: list[str] = field(default_factory=list)  # per column: ok, open, overdue, "" (n/a)


@dataclass
class Matrix:
    columns: list[Column]
    rows: list[Row]
    counts: dict[str, int]
    people: int = 0  # everyone chosen (rows holds a page of them, or all)


STATUS_WORDS = {"ok": "Current", "open": "Open", "overdue": "Overdue", "": "Not required"}


def matrix(*, site: str = "", role: str = "", department: str = "", item: str = "",
           today: dt.date | None = None, within: set[int] | None = None,
           page: int | None = None, per_page: int = 100) -> Matrix:
    """People (active, with a trained role now; at `site`, holding `role`; working at one of
    the sites `within`, None: any) × the items of their curricula (of `department`, or the
    one `item`), each cell current, open, overdue or not required; everyone, or the people
    of `page`. Seven queries whatever the number of people and items (a page: eight, its
    cells read for its people only, the counts over everyone in the database)."""
    today = today or timezone.localdate()
    held = roles_held()
    working = RoleAssignment.objects.held_on(timezone.now()).filter(
        role__in=TRAINED_ROLES, user_id__in=list(held))
    if within is not None:
        working = working.filter(Q(site_id__in=within) | Q(site__isnull=True))
    if site:
        working = working.filter(Q(site__code=site) | Q(site__isnull=True))
    if role:
        working = working.filter(role=role)
    chosen = set(working.values_list("user_id", flat=True))
    people = get_user_model()._default_manager.filter(pk__in=chosen, is_active=True)
    people_list = sorted(people, key=lambda p: (str(getattr(p, "printed_name", "") or
                                                    p.username)))
    items_of = items_by_roles(curriculum_items())
    in_force = {v.document_id: v for v in DocumentVersion.objects.filter(
        state="effective", is_deleted=False).select_related("document")}
    columns: dict[str, Column] = {}
    keys_of: dict[frozenset[str], set[str]] = {}  # by combination of roles: worked out once
    needed: dict[int, set[str]] = {}
    for person in people_list:
        roles = frozenset(held[person.pk])
        if roles not in keys_of:
            keys = set()
            for it in items_of(set(roles)):
                column = _column(it, in_force)
                if column is None or (department and column.department != department) or (
                        item and column.key != item):
                    continue
                columns.setdefault(column.key, column)
                keys.add(column.key)
            keys_of[roles] = keys
        needed[person.pk] = keys_of[roles]
    ordered = sorted(columns.values(), key=lambda c: (c.label, c.title))
    shown = people_list if page is None else people_list[
        (page - 1) * per_page:page * per_page]
    status = _statuses([p.pk for p in shown], in_force, today)
    rows = []
    for person in shown:
        row = Row(person, sorted(held[person.pk]))
        for column in ordered:
            if column.key not in needed[person.pk]:
                row.cells.append("")
                continue
            row.cells.append(status.get((person.pk, column.key), "open"))  # not assigned
        rows.append(row)
    if page is None:
        counts = {state: sum(row.cells.count(state) for row in rows)
                  for state in ("ok", "open", "overdue")}
    else:
        counts = _counts([p.pk for p in people_list], today)
    return Matrix(ordered, rows, counts, len(people_list))


def _counts(people: list[int], today: dt.date) -> dict[str, int]:
    """The cells' states over everyone chosen, counted in the database (one query): done
    readings of versions in force and done sessions, open ones by due date."""
    rows = TrainingAssignment.objects.filter(person_id__in=people).filter(
        Q(version__isnull=True) | Q(version__state="effective"))
    found = rows.aggregate(
        ok=Count("pk", filter=Q(state=A.DONE)),
        open=Count("pk", filter=Q(state=A.OPEN, due_date__gte=today)),
        overdue=Count("pk", filter=Q(state=A.OPEN, due_date__lt=today)))
    return {key: int(value or 0) for key, value in found.items()}


def _column(it: CurriculumItem, in_force: dict[int, DocumentVersion]) -> Column | None:
    if it.kind == ItemKind.READING:
        version = in_force.get(it.document_id or 0)
        if version is None:
            return None  # nothing in force to read yet
        return Column(f"d{it.document_id}", version.document.number, version.title,
                      version.department)
    return Column(f"i{it.pk}", it.title[:24], it.title, "")


def _statuses(people: list[int], in_force: dict[int, DocumentVersion],
              today: dt.date) -> dict[tuple[int, str], str]:
    """(person, column) → ok / open / overdue from the assignments (one query)."""
    out: dict[tuple[int, str], str] = {}
    current = {v.pk for v in in_force.values()}
    rows = TrainingAssignment.objects.filter(person_id__in=people).exclude(
        state=A.CANCELLED).values_list("person_id", "document_id", "version_id", "item_id",
                                        "state", "due_date")
    for person_id, document_id, version_id, item_id, state, due in rows:
        waiting = "overdue" if due < today else "open"
        if version_id is not None:
            if version_id in current:  # an older version says nothing of the one in force
                out[(person_id, f"d{document_id}")] = "ok" if state == A.DONE else waiting
        elif state == A.OPEN:  # retraining due: open, whatever was done before
            out[(person_id, f"i{item_id}")] = waiting
        else:
            out.setdefault((person_id, f"i{item_id}"), "ok")
    return out


# --- KPIs ------------------------------------------------------------------------------------


def kpis(today: dt.date | None = None) -> dict[str, Any]:
    """Training compliance (completions on time ÷ assignments due so far), overdue
    trainings, and documents past their periodic review."""
    today = today or timezone.localdate()
    due_so_far = TrainingAssignment.objects.exclude(state=A.CANCELLED).filter(
        Q(due_date__lt=today) | Q(state=A.DONE))
    figures = due_so_far.aggregate(
        total=Count("pk"),
        on_time=Count("pk", filter=Q(state=A.DONE, completed_at__date__lte=F("due_date"))))
    overdue = TrainingAssignment.objects.filter(state=A.OPEN, due_date__lt=today).count()
    past_review = DocumentVersion.objects.filter(state="effective", is_deleted=False,
                                                 due_date__lt=today).count()
    total = figures["total"] or 0
    return {
        "training_compliance": round(100 * figures["on_time"] / total, 1) if total else None,
        "assignments_due": total, "completed_on_time": figures["on_time"],
        "overdue_trainings": overdue, "documents_past_review": past_review,
    }

