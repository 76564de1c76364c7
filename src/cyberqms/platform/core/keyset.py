"""Keyset ("cursor") pagination of long lists, for pages and the API.

A page is found by the values of the list's sort columns at its edge, never by a row
offset: "the 25 rows after (created_at=…, id=…)" reads 25 rows from the index that serves
the sort, however deep the page, where an OFFSET reads and drops every row before it. The
count shown beside a list is exact up to `COUNT_CAP` rows and "more than 10,000" beyond,
so that it too reads at most that many rows.

The order is the queryset's own (`order_by`, or the model's `Meta.ordering`), each key a
field, a field through a relation (`site__code`) or an annotation, ascending or
descending. A list whose last key is not unique gets the primary key as the final
tiebreaker, in the direction of the key before it, so that one index on (key, id) serves
the order both ways. NULLs sort as the largest value in every list, whatever the database
(last ascending, first descending: PostgreSQL's own order, which its indexes serve).

A cursor is opaque to its reader: URL-safe base64 of JSON holding the sort keys, the
boundary values and the direction (the rows after, or the rows before). It is not
secret: it names values of a row the reader was shown. A cursor that does not decode,
names other sort keys or holds a value of the wrong kind is refused with `BadCursor`
(a `ValidationError` naming `cursor`: 422 in the API, 400 with the first page on pages).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import json
import math
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import reduce
from typing import Any

from django.core.exceptions import EmptyResultSet, FieldDoesNotExist, ValidationError
from django.db import connections, models
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import OrderBy
from django.http import HttpRequest
from django.utils.dateparse import parse_date, parse_datetime

COUNT_CAP = 10_000
# A count in a tab (a state's, a level's) beside a list that is counted to COUNT_CAP:
# "1,000+" says enough there, and reads a tenth of the index entries.
TAB_CAP = 1_000
CURSOR_MAX_CHARS = 2000
_INT_RANGE = range(-(2**63), 2**63)
_TEXT_MAX = 10_000


class BadCursor(ValidationError):
    """A cursor that cannot be used for this list; names the `cursor` parameter."""

    def __init__(self, why: str) -> None:
        super().__init__({"cursor": [f"Not a cursor of this list ({why}); "
                                     "start again from the first page."]})


# --- sort keys ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SortKey:
    """One key of a list's order: a field path or annotation, its direction, whether it
    can be NULL, and the model field its values convert with (None for an annotation
    without one)."""

    path: str
    descending: bool
    nullable: bool
    field: models.Field[Any, Any] | None

    @property
    def name(self) -> str:
        return f"-{self.path}" if self.descending else self.path

    def flipped(self) -> SortKey:
        return replace(self, descending=not self.descending)

    def order(self) -> OrderBy:
        if not self.nullable:
            return OrderBy(F(self.path), descending=self.descending)
        # NULL is the largest value: last ascending, first descending, on every database.
        return OrderBy(F(self.path), descending=self.descending,
                       nulls_first=self.descending or None,
                       nulls_last=(not self.descending) or None)

    def value(self, row: Any) -> Any:
        found = row
        for part in self.path.split("__"):
            if found is None:
                return None
            found = getattr(found, "pk" if part == "pk" else part)
        return found

    def beyond(self, value: Any) -> Q | None:
        """Rows that come strictly after `value` on this key (None: no row can)."""
        if value is None:
            return Q(**{f"{self.path}__isnull": False}) if self.descending else None
        if self.descending:
            return Q(**{f"{self.path}__lt": value})
        after = Q(**{f"{self.path}__gt": value})
        return after | Q(**{f"{self.path}__isnull": True}) if self.nullable else after

    def reached(self, value: Any) -> Q | None:
        """Rows at or after `value` on this key, as a range an index can seek to
        (None: every row)."""
        if value is None:
            return None if self.descending else Q(**{f"{self.path}__isnull": True})
        if self.descending:
            return Q(**{f"{self.path}__lte": value})
        reached = Q(**{f"{self.path}__gte": value})
        return reached | Q(**{f"{self.path}__isnull": True}) if self.nullable else reached

    def same(self, value: Any) -> Q:
        if value is None:
            return Q(**{f"{self.path}__isnull": True})
        return Q(**{self.path: value})


def _resolve(model: type[models.Model], path: str) -> tuple[models.Field[Any, Any], bool]:
    """The field at the end of `path` and whether a NULL can come on the way."""
    nullable = False
    resolved: list[models.Field[Any, Any]] = []
    parts = path.split("__")
    for i, part in enumerate(parts):
        found = model._meta.pk if part == "pk" else model._meta.get_field(part)
        if not isinstance(found, models.Field):
            raise FieldDoesNotExist(f"{model.__name__}.{part} is not a field")
        resolved.append(found)
        nullable = nullable or bool(found.null)
        if i < len(parts) - 1:
            if found.related_model is None:
                raise FieldDoesNotExist(f"{path}: {part} is not a relation")
            model = found.related_model
        elif part != "pk" and found.is_relation and part != found.attname:
            # Ordering by a relation orders by the related model's own ordering.
            raise TypeError(f"keyset pagination orders by {found.attname}, not {part}")
    return resolved[-1], nullable


def _key(rows: QuerySet[Any], item: Any) -> SortKey:
    if isinstance(item, str):
        descending, path = item.startswith("-"), item.lstrip("-")
    elif isinstance(item, OrderBy) and isinstance(item.expression, F):
        descending, path = item.descending, _name(item.expression)
    elif isinstance(item, F):
        descending, path = False, _name(item)
    else:
        raise TypeError(f"keyset pagination orders by fields and annotations, not {item!r}")
    annotation = rows.query.annotations.get(path)
    if annotation is not None:
        output = getattr(annotation, "output_field", None)
        return SortKey(path, descending, bool(getattr(output, "null", True)),
                       output if isinstance(output, models.Field) else None)
    found, nullable = _resolve(rows.model, path)
    return SortKey(path, descending, nullable, found)


def _name(reference: F) -> str:
    return str(reference.name)  # type: ignore[attr-defined]  # F sets it; the stubs omit it


def sort_keys(rows: QuerySet[Any]) -> tuple[SortKey, ...]:
    """The order of `rows` as keys, ending with a unique one (the primary key appended,
    in the direction of the key before it, where the last key is not unique)."""
    ordering = rows.query.order_by or (
        rows.model._meta.ordering if rows.query.default_ordering else ())
    keys = [_key(rows, item) for item in ordering]
    last = keys[-1] if keys else None
    unique = (last is not None and last.field is not None and "__" not in last.path
              and (last.field.primary_key or last.field.unique) and not last.nullable)
    if not unique:
        pk = rows.model._meta.pk
        keys.append(SortKey(pk.name, bool(last and last.descending), False, pk))
    return tuple(keys)


def ordered(rows: QuerySet[Any]) -> QuerySet[Any]:
    """`rows` in the order its pages use: its own, with the tiebreaker and NULLs placed as
    above (for an export or an offset page that must list what the pages list)."""
    return rows.order_by(*(k.order() for k in sort_keys(rows)))


def _after(keys: Sequence[SortKey], values: Sequence[Any]) -> Q:
    """The rows after `values` in the order of `keys`: (k1 beyond v1) or (k1 = v1 and k2
    beyond v2) …, with the first key's range on its own so that its index seeks."""
    branches: list[Q] = []
    equal = Q()
    for key, value in zip(keys, values, strict=True):
        beyond = key.beyond(value)
        if beyond is not None:
            branches.append(equal & beyond)
        equal &= key.same(value)
    after = reduce(operator.or_, branches) if branches else Q(pk__in=[])
    reached = keys[0].reached(values[0])
    return after if reached is None else reached & after


# --- cursors -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    values: tuple[Any, ...]
    backwards: bool  # the rows before `values` (a "previous" link), else those after


def _plain(value: Any) -> Any:
    """A key's value as JSON holds it."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return value


def encode_cursor(keys: Sequence[SortKey], values: Sequence[Any], *, backwards: bool) -> str:
    data = {"k": [k.name for k in keys], "v": [_plain(v) for v in values],
            "b": int(backwards)}
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(text).decode().rstrip("=")


def _typed(key: SortKey, raw: Any) -> Any:
    """A cursor's value for `key`, as the database compares it (BadCursor otherwise)."""
    if raw is None:
        if not key.nullable:
            raise BadCursor("an empty value")
        return None
    f = key.field
    if isinstance(f, models.ForeignKey):
        f = f.target_field
    if isinstance(f, models.DateTimeField):
        moment = parse_datetime(raw) if isinstance(raw, str) else None
        if moment is None or moment.tzinfo is None:
            raise BadCursor("a moment without its zone")
        try:  # as the database compares it: a zone near year 1 or 9999 overflows here
            return moment.astimezone(dt.UTC)
        except (OverflowError, ValueError):
            raise BadCursor("a moment out of range") from None
    if isinstance(f, models.DateField):
        return parse_date(raw) if isinstance(raw, str) else None
    if isinstance(f, models.BooleanField):
        if not isinstance(raw, bool):
            raise BadCursor("not true or false")
        return raw
    if isinstance(f, models.IntegerField) or (f is None and isinstance(raw, int)):
        if isinstance(raw, bool) or not isinstance(raw, int) or raw not in _INT_RANGE:
            raise BadCursor("not a whole number")
        return raw
    if isinstance(f, models.DecimalField | models.FloatField):
        try:
            number = f.to_python(raw) if isinstance(raw, int | float | str) else None
        except ValidationError:
            number = None
        if number is None or not math.isfinite(number):
            raise BadCursor("not a number")
        return number
    if not isinstance(raw, str) or "\x00" in raw or len(raw) > _TEXT_MAX:
        raise BadCursor("not a text")
    return raw


def decode_cursor(text: str, keys: Sequence[SortKey]) -> Cursor:
    """The cursor `text` for a list ordered by `keys`; BadCursor if it is not one."""
    if len(text) > CURSOR_MAX_CHARS:
        raise BadCursor("too long")
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
        data = json.loads(raw.decode(), parse_constant=_no_constant)
    except (binascii.Error, UnicodeDecodeError, ValueError, RecursionError):
        raise BadCursor("garbled") from None
    if not isinstance(data, dict) or set(data) != {"k", "v", "b"} or data["b"] not in (0, 1) \
            or isinstance(data["b"], bool):
        raise BadCursor("garbled")
    if data["k"] != [k.name for k in keys]:
        raise BadCursor("made for another order")
    values = data["v"]
    if not isinstance(values, list) or len(values) != len(keys):
        raise BadCursor("garbled")
    try:
        typed = tuple(_typed(key, value) for key, value in zip(keys, values, strict=True))
    except (ValueError, TypeError, ArithmeticError):  # an impossible date, a huge number
        raise BadCursor("an impossible value") from None
    if any(value is None and raw is not None for value, raw in zip(typed, values, strict=True)):
        raise BadCursor("an impossible value")
    return Cursor(typed, bool(data["b"]))


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a value")


def cursor_after(rows: QuerySet[Any], row: Any) -> str:
    """The cursor of the page of `rows` that begins after `row`."""
    keys = sort_keys(rows)
    return encode_cursor(keys, [k.value(row) for k in keys], backwards=False)


# --- counts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CappedCount:
    """A count read up to a cap: exact when `more` is false, else more than `value`."""

    value: int
    more: bool = False

    def __str__(self) -> str:
        return f"more than {self.value:,}" if self.more else f"{self.value:,}"

    def __int__(self) -> int:
        return self.value

    @property
    def short(self) -> str:
        """For a tab or a badge: "10,000+" for more than 10,000."""
        return f"{self.value:,}+" if self.more else f"{self.value:,}"


def capped_counts(lists: Mapping[str, QuerySet[Any]], cap: int = COUNT_CAP, *,
                  caps: Mapping[str, int] | None = None) -> dict[str, CappedCount]:
    """How many rows each queryset holds, up to `cap` (or its own in `caps`), all in one
    query: each count reads at most its cap + 1 rows (`SELECT COUNT(*) FROM (… LIMIT
    cap + 1)`)."""
    limits = {name: (caps or {}).get(name, cap) for name in lists}
    parts: list[str] = []
    params: list[Any] = []
    using = "default"
    for name, rows in lists.items():
        using = rows.db
        limited = rows.order_by().values("pk")[:limits[name] + 1]
        try:
            sql, args = limited.query.get_compiler(using=using).as_sql()
        except EmptyResultSet:
            parts.append("0")
            continue
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) capped)")  # noqa: S608 (compiled SQL)
        params.extend(args)
    found: Sequence[int] = ()
    if parts:
        with connections[using].cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(parts), params)
            found = cursor.fetchone() or ()
    return {name: CappedCount(min(int(n), limits[name]), int(n) > limits[name])
            for name, n in zip(lists, found, strict=True)}


def capped_count(rows: QuerySet[Any], cap: int = COUNT_CAP) -> CappedCount:
    return capped_counts({"rows": rows}, cap)["rows"]


# --- pages -------------------------------------------------------------------------------


@dataclass
class KeysetPage:
    """One page of a list: its rows, the cursors of the pages before and after it (None
    where there is none), and the list's count when it was asked for."""

    rows: list[Any]
    next: str | None = None
    previous: str | None = None
    count: CappedCount | None = None
    error: str = ""  # why the cursor asked for was refused (the first page is shown)
    keyset: bool = field(default=True, init=False)  # for the pager template

    def __iter__(self) -> Any:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def has_next(self) -> bool:
        return self.next is not None

    @property
    def has_previous(self) -> bool:
        return self.previous is not None


def _taken(rows: QuerySet[Any], start: int, stop: int) -> list[Any]:
    """Rows `start` to `stop` of `rows`. Where it joins related rows for display, the ids
    are found first without the joins (one table, read in the order of its index: SQLite
    would otherwise start from a joined table and sort the whole list), then their rows."""
    if not rows.query.select_related:
        return list(rows[start:stop])
    ids = list(rows.values_list("pk", flat=True)[start:stop])
    found = {row.pk: row for row in rows.filter(pk__in=ids).order_by()} if ids else {}
    return [found[pk] for pk in ids if pk in found]  # a row deleted meanwhile is left out


def keyset_page(rows: QuerySet[Any], *, cursor: str | None, size: int,
                offset: int = 0) -> KeysetPage:
    """The page of `rows` that `cursor` names (the first page for None or "", or the one
    `offset` rows in); raises BadCursor for a cursor that is not one of this list."""
    keys = sort_keys(rows)
    backwards = False
    if cursor:
        found = decode_cursor(cursor, keys)
        backwards = found.backwards
        order = [k.flipped() for k in keys] if backwards else list(keys)
        taken = _taken(rows.order_by(*(k.order() for k in order))
                       .filter(_after(order, found.values)), 0, size + 1)
    else:
        taken = _taken(rows.order_by(*(k.order() for k in keys)), offset, offset + size + 1)
    more = len(taken) > size
    shown = taken[:size]
    if backwards:
        shown.reverse()
    # A page reached backwards has the page it came from after it, and one reached
    # forwards (or some rows in) the page it came from before it.
    has_next = backwards or more
    has_previous = more if backwards else bool(cursor) or offset > 0
    page = KeysetPage(shown)
    if shown and has_next:
        page.next = encode_cursor(keys, [k.value(shown[-1]) for k in keys], backwards=False)
    if shown and has_previous:
        page.previous = encode_cursor(keys, [k.value(shown[0]) for k in keys], backwards=True)
    return page


def request_page(request: HttpRequest, rows: QuerySet[Any], size: int, *,
                 count: bool = True) -> KeysetPage:
    """The page a list page's request asks for: `cursor`, or a page number from an older
    link (`page`, honoured while it lies within the first `COUNT_CAP` rows, else the first
    page); a refused cursor gives the first page with `error` set (the view answers 400).
    With `count`, the list's capped count too."""
    cursor = request.GET.get("cursor", "")
    number = request.GET.get("page", "")
    offset = (int(number) - 1) * size if number.isdecimal() and len(number) < 7 else 0
    try:
        page = keyset_page(rows, cursor=cursor or None, size=size,
                           offset=offset if 0 < offset < COUNT_CAP else 0)
    except BadCursor as exc:
        page = keyset_page(rows, cursor=None, size=size)
        page.error = exc.messages[0]
    if count:
        page.count = capped_count(rows)
    return page


__all__ = ["COUNT_CAP", "TAB_CAP", "BadCursor", "CappedCount", "KeysetPage", "SortKey",
           "capped_count", "capped_counts", "cursor_after", "decode_cursor", "encode_cursor",
           "keyset_page", "ordered", "request_page", "sort_keys"]
