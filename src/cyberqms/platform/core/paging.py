"""One page of an API list, turned into output by the caller: by page number (the count,
the page asked for, kept within the pages there are, and the number of pages), by offset
and limit, or by cursor (`keyset`: the count up to its cap), with the cursors of the pages
before and after it either way. A list answered as a bare array gives them as URLs in a
`Link` header (RFC 8288, `rel="next"` and `rel="prev"`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from .keyset import CappedCount, KeysetPage, capped_count, keyset_page

CURSOR_HELP = ("A page's `next` or `previous` cursor; an empty one asks for the first page "
               "in cursor mode (count exact up to 10,000, no page numbers)")


def api_page(rows: QuerySet[Any], page: int, page_size: int,
             out: Callable[[Any], Any], cursor: str | None = None) -> dict[str, Any]:
    """`{"count", "count_exact", "page", "pages", "results", "next", "previous"}` for page
    `page` of `rows` (a page past the last is the last; an empty list has one empty page),
    or, with `cursor` (even empty), for the page it names: `page` and `pages` are then
    None and `count` exact only up to `keyset.COUNT_CAP` (`count_exact`)."""
    if cursor is not None:
        found = keyset_page(rows, cursor=cursor, size=page_size)
        count = capped_count(rows)
        return _envelope(found, out, count=count.value, exact=not count.more, page=None,
                         pages=None)
    total = rows.count()
    pages = max(1, math.ceil(total / page_size))
    page = min(max(1, page), pages)
    found = keyset_page(rows, cursor=None, size=page_size, offset=(page - 1) * page_size)
    return _envelope(found, out, count=total, exact=True, page=page, pages=pages)


def _envelope(found: KeysetPage, out: Callable[[Any], Any], *, count: int, exact: bool,
              page: int | None, pages: int | None) -> dict[str, Any]:
    return {"count": count, "count_exact": exact, "page": page, "pages": pages,
            "results": [out(row) for row in found], "next": found.next,
            "previous": found.previous}


def window(rows: QuerySet[Any], *, limit: int, offset: int, cursor: str | None,
           count: bool = False) -> KeysetPage:
    """`limit` rows of `rows` from `offset`, or with `cursor` (even empty) the page it
    names; with `count`, the count too: exact by offset, up to its cap by cursor."""
    if cursor is not None:
        found = keyset_page(rows, cursor=cursor, size=limit)
        if count:
            found.count = capped_count(rows)
        return found
    found = keyset_page(rows, cursor=None, size=limit, offset=offset)
    if count:
        found.count = CappedCount(rows.count())
    return found


def link_header(request: HttpRequest, response: HttpResponse, found: KeysetPage) -> None:
    """`Link: <…?cursor=…>; rel="next", <…>; rel="prev"` on `response`, where there are
    such pages (the request's other parameters kept, its offset dropped)."""
    links = []
    for rel, cursor in (("next", found.next), ("prev", found.previous)):
        if cursor is not None:
            query = request.GET.copy()
            query.pop("offset", None)
            query["cursor"] = cursor
            links.append(f'<{request.path}?{query.urlencode()}>; '
                         f'rel="{rel}"')
    if links:
        response["Link"] = ", ".join(links)


__all__ = ["CURSOR_HELP", "api_page", "link_header", "window"]
