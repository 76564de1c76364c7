"""URLs of every record family on the kit: its pages under /<slug>/ in the `<slug>`
namespace (the kit's list, create, detail and edit, then the family's own), found by
iterating the registered families, so adding one edits no central file."""

from __future__ import annotations

import importlib
from typing import Any

from django.urls import URLResolver, include, path

from .family_pages import family_urlpatterns
from .records import all_kinds


def family_urls() -> list[URLResolver]:
    resolvers = []
    for kind in all_kinds():
        if not kind.on_kit:
            continue
        patterns: list[Any] = family_urlpatterns(kind)
        if kind.own_urls:
            patterns += importlib.import_module(kind.own_urls).urlpatterns
        resolvers.append(path(f"{kind.slug}/", include((patterns, kind.slug))))
    return resolvers
