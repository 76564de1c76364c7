"""The quality record an API operation works on, as the gate lets its caller see it."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest

from cyberqms.platform.core.api_gate import api_actor


def api_record(request: HttpRequest, slug: str, pk: Any, *, for_: str = "view") -> Any:
    """The quality record of kind `slug` the actor may `for_`; 404 for missing and hidden
    alike (the same answer, so refusal reveals nothing)."""
    from .record_parts import RecordNotFound, get_record
    from .records import kind_by_slug

    try:
        return get_record(api_actor(request), kind_by_slug(slug), pk, for_=for_)
    except (LookupError, RecordNotFound):
        raise Http404 from None
