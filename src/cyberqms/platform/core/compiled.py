"""Queries of a fixed shape, turned into SQL once per database instead of on every call.

Django compiles a queryset to SQL each time it is evaluated. For the narrow queries that
every request runs (the API token, the roles behind the access gate, the record asked
for), compiling costs several times what running the query costs: measured on SQLite with
the demo data, 0.36–1.5 ms to compile against 0.03–0.16 ms to run (issue 14; most of it
resolving the ordering and the selected columns of wide models).

A `Compiled` query is written once as an ordinary queryset with named `Param` slots
where its values go::

    TOKEN_BY_PREFIX = Compiled(lambda: ApiToken.objects.select_related("owner")
                               .filter(prefix=Param("prefix", CharField()))[:1])
    token = TOKEN_BY_PREFIX.first(prefix="aa65fc3a")

The first call on a database alias compiles it and keeps the SQL, the positions of the
slots among its parameters and the compiler's column map. Each later call binds the
values (prepared by the slot's field, as a lookup would prepare them), runs the SQL
and builds the objects through Django's own iterable, so `select_related`, converters and
`from_db` behave exactly as for the plain queryset. The columns' converters are worked out
once per connection too.

No library does this: result caches (django-cachalot, cacheops) keep rows, which the
access gate must never read stale; this keeps only SQL text. What can make SQL text stale
is a value written into the template itself rather than as a `Param`: a date or time
there (`timezone.now()`, today) is refused when the query is compiled. Anything else in
the template must be a constant of the query's shape (a state list, a site list that is
part of the caller's cache key).

Every slot needs its value; a value whose slot a query's shape left out (a
filter built from a person's roles that did not need the person) is ignored. `None` is
refused (SQL's `= NULL` is never true: write the `__isnull` shape as its own query), and
so is an integer outside its column's range (`ValueError`, before any query: PostgreSQL
would refuse to bind it, and "no row" is the right answer only to an equality, which the
caller knows and this does not). A template that can match nothing (`pk__in=[]`) answers
no rows.

Nothing kept holds a database connection: each call runs on the calling thread's
connection, and the columns' converters, bound to a connection's operations, are kept on
that connection, so they go with it when a server retires the thread.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Expression, Field, IntegerField, Model, QuerySet


@dataclass(frozen=True)
class _Slot:
    """Where a value goes among the compiled parameters."""

    name: str
    field: Field[Any, Any]


class Param(Expression):
    """A named value of a `Compiled` query, of the type of `output_field`."""

    def __init__(self, name: str, output_field: Field[Any, Any]) -> None:
        super().__init__(output_field=output_field)
        self.name = name

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        return "%s", (_Slot(self.name, self.output_field),)


# Where a connection keeps the converters of the compiled queries it has run.
_CONVERTERS = "_cyberqms_compiled_converters"


@dataclass(frozen=True, eq=False)
class _Entry:
    # never evaluated, nor shown: its parameters are slots, not values
    queryset: QuerySet[Any] = field(repr=False)
    # the compiler after compiling (its column map), without its connection
    compiler: Any = field(repr=False)
    sql: str  # "" for a template that can match nothing
    params: tuple[Any, ...]
    names: frozenset[str]

    def bind(self, values: dict[str, Any], connection: Any) -> tuple[Any, ...]:
        missing = self.names - set(values)
        if missing:
            raise TypeError(f"compiled query values missing: {', '.join(sorted(missing))}")
        bound = []
        for param in self.params:
            if isinstance(param, _Slot):
                value = values[param.name]
                if value is None:
                    raise ValueError(f"compiled query value {param.name!r} is None")
                prepared = param.field.get_db_prep_value(value, connection, prepared=False)
                if isinstance(param.field, IntegerField):
                    low, high = connection.ops.integer_field_range(
                        param.field.get_internal_type())
                    if (low is not None and prepared < low) or (
                            high is not None and prepared > high):
                        raise ValueError(f"compiled query value {param.name!r} is outside "
                                         "its column's range")
                bound.append(prepared)
            else:
                bound.append(param)
        return tuple(bound)

    def compiler_for(self, using: str, values: dict[str, Any]) -> Any:
        connection = connections[using]
        params = self.bind(values, connection)
        compiler = copy.copy(self.compiler)
        compiler.connection, compiler.using = connection, using
        sql = self.sql
        if not sql:
            def nothing(*args: Any, **kwargs: Any) -> tuple[str, tuple[Any, ...]]:
                raise EmptyResultSet
            compiler.as_sql = nothing
        else:
            compiler.as_sql = lambda *args, **kwargs: (sql, params)
        # keyed by the entry itself, weakly: an entry dropped (the home page's shapes are
        # bounded) takes its converters along, and no later entry can be given them
        kept = connection.__dict__.get(_CONVERTERS)
        if kept is None:
            kept = connection.__dict__[_CONVERTERS] = WeakKeyDictionary()
        converters = kept.get(self)
        if converters is None:
            fields = [column[0] for column in compiler.select[:compiler.col_count]]
            converters = kept[self] = compiler.get_converters(fields)
        compiler.get_converters = lambda expressions: converters
        return compiler


def _moment_in(node: Any) -> Any:
    """A date or time compared in the filter `node`, or None."""
    for child in getattr(node, "children", ()):
        found = _moment_in(child)
        if found is not None:
            return found
    rhs = getattr(node, "rhs", None)
    for value in rhs if isinstance(rhs, list | tuple | set | frozenset) else (rhs,):
        if isinstance(value, dt.date | dt.time):
            return value
    return None


class _BoundQuery:
    """Stands in for the template's `Query` in one evaluation: its compiler runs the kept
    SQL with this call's values; everything else is read from the template."""

    def __init__(self, entry: _Entry, using: str, values: dict[str, Any]) -> None:
        self._entry, self._using, self._values = entry, using, values

    def get_compiler(self, using: str | None = None, connection: Any = None,
                     elide_empty: bool = True) -> Any:
        return self._entry.compiler_for(using or self._using, self._values)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._entry.queryset.query, name)


class Compiled[M: Model]:
    """A queryset of a fixed shape, compiled once per database alias (module docstring)."""

    def __init__(self, build: Callable[[], QuerySet[M]]) -> None:
        self._build = build
        self._entries: dict[tuple[str, str, bool], _Entry] = {}

    def _entry(self, using: str, *, exists: bool = False) -> _Entry:
        connection = connections[using]
        key = (using, connection.vendor, exists)
        entry = self._entries.get(key)
        if entry is None:
            queryset = self._build().using(using)
            query = queryset.query.exists() if exists else queryset.query
            compiler = query.get_compiler(using=using)
            try:
                sql, params = compiler.as_sql()
            except EmptyResultSet:
                sql, params = "", ()
                compiler.setup_query()  # the column map, for the converters
            frozen = _moment_in(queryset.query.where)
            if frozen is not None:
                raise TypeError(f"a compiled query holds the moment {frozen!r}: pass it "
                                "as a Param, or every call would use the first call's")
            compiler.connection = None  # the calling thread's, each call (compiler_for)
            names = frozenset(p.name for p in params if isinstance(p, _Slot))
            entry = _Entry(queryset, compiler, sql, tuple(params), names)
            self._entries[key] = entry
        return entry

    def all(self, *, using: str = DEFAULT_DB_ALIAS, **values: Any) -> list[M]:
        """The rows, as the template queryset would give them with these values."""
        entry = self._entry(using)
        # a shallow copy of the never-evaluated template (copy.copy would evaluate it)
        queryset = object.__new__(type(entry.queryset))
        queryset.__dict__.update(entry.queryset.__dict__)
        queryset.__dict__.update(_result_cache=None, _prefetch_done=False)
        queryset.query = _BoundQuery(entry, using, values)  # type: ignore[assignment]  # duck-typed: only get_compiler differs
        return list(queryset)

    def first(self, *, using: str = DEFAULT_DB_ALIAS, **values: Any) -> M | None:
        """The first row or None (slice the template, `[:1]`, so only one is read)."""
        rows = self.all(using=using, **values)
        return rows[0] if rows else None

    def exists(self, *, using: str = DEFAULT_DB_ALIAS, **values: Any) -> bool:
        """Whether the template has a row with these values (as `QuerySet.exists`)."""
        compiler = self._entry(using, exists=True).compiler_for(using, values)
        return bool(compiler.has_results())
