"""The page of the chain change → document version → training (AL-10)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from cyberqms.platform.core.access import sites_for
from cyberqms.platform.core.pages import gated, page_actor
from cyberqms.platform.kit.record_parts import RecordNotFound, get_record
from cyberqms.platform.kit.records import kind_by_type

from . import actions
from .chain import CHANGE, change_training


@gated(actions.VIEW)
@require_GET
def change(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    try:
        kind = kind_by_type(CHANGE)
        record = get_record(actor, kind, pk)
    except (LookupError, RecordNotFound):
        raise Http404 from None
    rows = change_training(record, actor, within=sites_for(actor, actions.VIEW))
    return render(request, "training/change_chain.html", {
        "change": record, "change_url": kind.detail_url(record), "rows": rows,
        "change_kind": kind,
    })
