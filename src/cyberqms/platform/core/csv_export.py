"""Every list as a CSV file: the same filtered rows as the page, all of them (AL-02).

One way for every list page (the kit's family lists, alerts, received events, security
events, access decisions, people, integrations, sites, the trail's reviews) to hand its
rows to a spreadsheet:

- UTF-8 with a byte-order mark, so that Excel reads accented names as written;
- moments in ISO 8601 UTC (``2026-12-06T13:05:00Z``), dates as ``2026-12-06``, yes and
  no in words, nothing as an empty cell;
- no cell a spreadsheet would run as a formula (CSV injection): a text starting with
  ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading apostrophe;
- streamed in chunks from the database, so a long list is exported whole, never held in
  memory.

Core knows no list: the caller names the columns and passes its filtered rows, and
records the export (`trail.services.list_export_record`) before answering.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.utils.http import content_disposition_header

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK_ROWS = 500
# Query parameters of a list page that are not filters.
NOT_FILTERS = frozenset({"format", "page", "cursor"})


@dataclass(frozen=True)
class CsvColumn:
    """A column of the file: its heading, and how a row gives its value."""

    heading: str
    value: Callable[[Any], object]


def csv_cell(value: object) -> str:
    """A value as a cell: in words, times in UTC, and never a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | float | Decimal):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def wants_csv(request: HttpRequest) -> bool:
    """Whether the list page was asked for its rows as CSV (``?format=csv``)."""
    return request.GET.get("format") == "csv"


def list_filters(request: HttpRequest) -> dict[str, str]:
    """The filters the list was asked with, as the export's record names them."""
    values = {name: request.GET.get(name) for name in request.GET if name not in NOT_FILTERS}
    return {name: value for name, value in values.items() if value}


def csv_lines(columns: Sequence[CsvColumn], rows: Iterable[Any]) -> Iterator[str]:
    """The byte-order mark and the header, then the rows, some hundred at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def taken() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow([column.heading for column in columns])
    yield BOM + taken()
    if isinstance(rows, QuerySet):
        rows = rows.iterator(chunk_size=CHUNK_ROWS)
    for number, row in enumerate(rows, 1):
        writer.writerow([csv_cell(column.value(row)) for column in columns])
        if number % CHUNK_ROWS == 0:
            yield taken()
    rest = taken()
    if rest:
        yield rest


def csv_response(filename: str, columns: Sequence[CsvColumn],
                 rows: Iterable[Any]) -> StreamingHttpResponse:
    """The rows as a CSV download named `filename`, streamed."""
    response = StreamingHttpResponse(csv_lines(columns, rows),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
