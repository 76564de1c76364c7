"""One page of an API list: the count, the page asked for (kept within the pages there
are), the number of pages and that page's rows, turned into output by the caller."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet


def api_page(rows: QuerySet[Any], page: int, page_size: int,
             out: Callable[[Any], Any]) -> dict[str, Any]:
    """`{"count", "page", "pages", "results"}` for page `page` of `rows` (a page past the
    last is the last; an empty list has one empty page)."""
    count = rows.count()
    pages = max(1, math.ceil(count / page_size))
    page = min(max(1, page), pages)
    start = (page - 1) * page_size
    return {"count": count, "page": page, "pages": pages,
            "results": [out(row) for row in rows[start:start + page_size]]}


__all__ = ["api_page"]
