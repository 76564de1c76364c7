"""One way to show a moment on a page: the reader's local time, with UTC on hover.

Pages render every date and time through `moment` (the ``{% moment value %}`` tag of the
``moments`` library): the time in the zone the request activated (the person's own,
`accounts.time_zones`), with the zone's abbreviation, in a ``<time>`` element whose
``datetime`` attribute and title give the same moment in UTC. Exports (CSV, JSON, PDF) and
the API never use it: they write ISO 8601 UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.http import HttpRequest, HttpResponse
from django.utils import dateformat, timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString

LOCAL_FORMAT = "j M Y, H:i T"  # 6 Dec 2026, 14:05 CET


def moment(value: dt.datetime | dt.date | None, empty: str = "—") -> SafeString:
    """``<time datetime="2026-12-06T13:05:00Z" title="2026-12-06 13:05 UTC">6 Dec 2026,
    14:05 CET</time>`` for a datetime (naive ones are read as UTC); a date has no zone and
    reads as itself; nothing reads as `empty`."""
    if value is None:
        return SafeString(conditional_escape(empty))
    if not isinstance(value, dt.datetime):
        return format_html('<time datetime="{}">{}</time>', value.isoformat(),
                           dateformat.format(value, "j M Y"))
    if timezone.is_naive(value):
        value = value.replace(tzinfo=dt.UTC)
    utc = value.astimezone(dt.UTC)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        utc.strftime("%Y-%m-%d %H:%M UTC"),
        dateformat.format(timezone.localtime(utc), LOCAL_FORMAT),
    )


def in_utc[V: Callable[..., HttpResponse]](view: V) -> V:
    """Run a view that makes a copy leaving the application (a PDF, a JSON export) in UTC,
    whatever zone the reader's pages show: copies never depend on who asked."""

    @wraps(view)
    def in_utc_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with timezone.override(dt.UTC):
            return view(request, *args, **kwargs)

    return cast("V", in_utc_view)


def duration_text(value: Any) -> str:
    """A duration as a person reads it: "4.6 s", "12 min", "2 h 30 min", "3 d 4 h"."""
    seconds = value.total_seconds()
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"
