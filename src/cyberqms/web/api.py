"""System operations of the API, and the search across record families."""
# No "from __future__ import annotations": django-ninja resolves operation annotations
# through the gate wrapper, whose globals are not this module's.


from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Router, Schema

import cyberqms
from cyberqms.platform.core.api_gate import api_actor, gate

from .search import (
    SEARCH,
    FamilyHits,
    Hit,
    record_hit,
    record_numbered,
    search_problem,
    search_records,
)
from .views import database_status

router = Router(tags=["system"])


class HealthOut(Schema):
    status: str
    version: str
    database: dict[str, Any]


@router.get("/health", response=HealthOut, auth=None, operation_id="health")
@gate("system.health")
def health(request: HttpRequest) -> dict[str, Any]:
    database = database_status()
    return {"status": "ok" if database["status"] == "ok" else "degraded",
            "version": cyberqms.__version__, "database": database}


class SearchHitOut(Schema):
    id: int
    number: str
    title: str
    state: str
    state_label: str
    site: str
    url: str


class SearchFamilyOut(Schema):
    family: str
    label: str
    hits: list[SearchHitOut]
    more: bool
    list_url: str


class SearchOut(Schema):
    q: str
    exact: SearchHitOut | None
    results: list[SearchFamilyOut]


def _hit_out(hit: Hit) -> dict[str, Any]:
    return {"id": hit.record_id, "number": hit.number, "title": hit.title, "state": hit.state,
            "state_label": hit.state_label, "site": hit.site, "url": hit.url}


def _family_out(found: FamilyHits) -> dict[str, Any]:
    return {"family": found.kind.slug, "label": found.kind.plural_label,
            "hits": [_hit_out(hit) for hit in found.hits], "more": found.more,
            "list_url": found.list_url}


@router.get("/search", response=SearchOut, operation_id="search", tags=["search"])
@gate(SEARCH)
def search(request: HttpRequest, q: str = "") -> dict[str, Any]:
    """Records you may see whose number or title holds `q`, by family (at most 20 each;
    `more` says the family's list holds more). `exact` is the record numbered `q`, when
    you may see it."""
    problem = search_problem(q)
    if problem:
        raise ValidationError({"q": [problem]})
    actor = api_actor(request)
    numbered = record_numbered(actor, q)
    exact = _hit_out(record_hit(*numbered)) if numbered is not None else None
    return {"q": q.strip(), "exact": exact,
            "results": [_family_out(found) for found in search_records(actor, q)]}
