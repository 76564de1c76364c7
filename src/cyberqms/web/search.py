"""Finding records by number or title across every record family on the kit.

A person finds what their lists show them, never more: per family, its view right
(`can(actor, kind.view_action)`) and its list's site scoping (`visible_records` of
`kit.family_pages`: the rows of the family's list page and API list). Each family is one
query, whatever the number of hits; at most `PER_FAMILY` hits each, the rest in the
family's list filtered by the same words. The exact number of a record the person may see
names that record (the page opens it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.db.models import Q
from django.urls import reverse

from cyberqms.platform.core.access import can, declare
from cyberqms.platform.kit.family_pages import visible_records
from cyberqms.platform.kit.records import (
    QualityRecord,
    RecordKind,
    registered_kinds,
    stored_number,
)

from .navigation import NAVIGATION

SEARCH = declare("records.search", "Search the records one may see by number or title",
                 self_service=True, read=True)
PER_FAMILY = 20
MIN_LENGTH = 2
MAX_LENGTH = 100


@dataclass(frozen=True)
class Hit:
    """A found record as a person reads it."""

    record_id: int
    number: str
    title: str
    state: str
    state_label: str
    site: str
    url: str


@dataclass(frozen=True)
class FamilyHits:
    kind: RecordKind
    hits: list[Hit]
    more: bool  # more records match than `hits` shows
    list_url: str  # the family's list, filtered by the same words


def search_problem(q: str) -> str:
    """Why `q` cannot be searched for ("" when it can)."""
    term = q.strip()
    if len(term) < MIN_LENGTH:
        return f"Type at least {MIN_LENGTH} characters of a record's number or title."
    if len(term) > MAX_LENGTH:
        return f"Type at most {MAX_LENGTH} characters."
    if "\x00" in term:
        return "Type letters, digits and punctuation: a null character is never in a record."
    return ""


def searched_kinds(actor: Any) -> list[RecordKind]:
    """The families on the kit whose records `actor` may see, in the navigation's order."""
    sections = [section.title for section in NAVIGATION]

    def place(kind: RecordKind) -> tuple[int, int, str]:
        section = sections.index(kind.nav_section) if kind.nav_section in sections else len(
            sections)
        return section, kind.nav_order, kind.plural_label

    return sorted((kind for kind in registered_kinds()
                   if kind.on_kit and can(actor, kind.view_action)), key=place)


def record_hit(kind: RecordKind, record: QualityRecord) -> Hit:
    return Hit(record_id=record.pk, number=record.number, title=record.title,
               state=record.state, state_label=record.get_state_display(),
               site=record.site.code, url=kind.detail_url(record))


def search_records(actor: Any, q: str) -> list[FamilyHits]:
    """The records `actor` may see whose number or title holds `q` (case aside), newest
    first, per family; families without a hit are left out."""
    term = q.strip()
    found: list[FamilyHits] = []
    for kind in searched_kinds(actor):
        rows = visible_records(kind, actor).filter(
            Q(number__icontains=term) | Q(title__icontains=term)
        ).order_by("-created_at", "-id")
        records = list(rows[:PER_FAMILY + 1])
        if records:
            found.append(FamilyHits(
                kind=kind, hits=[record_hit(kind, r) for r in records[:PER_FAMILY]],
                more=len(records) > PER_FAMILY,
                list_url=f"{reverse(f'{kind.slug}:list')}?{urlencode({'q': term})}",
            ))
    return found


def record_numbered(actor: Any, q: str) -> tuple[RecordKind, QualityRecord] | None:
    """The record whose number `q` is (case aside), when `actor` may see it."""
    for kind in searched_kinds(actor):
        number = stored_number(kind, q)
        if number is not None:
            record = visible_records(kind, actor).filter(number=number).first()
            return (kind, record) if record is not None else None
    return None
