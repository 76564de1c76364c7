"""Which models are audited GxP records, and how their state is captured and hashed.

An app registers each record model once (in its `AppConfig.ready`). The registry turns an
instance into its *state*: a flat dict of canonical-JSON values, one per audited field.
`state_hash` is SHA-256 over the canonical JSON of that dict; every audit entry carries
the hash of the record's state after the change, and reconciliation recomputes it from
the live row to find edits made outside the application.

Redacted fields (password hashes, token digests) are represented by the SHA-256 of their
value, so a change is still visible and hashed but the secret never enters the trail.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import operator
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from cyberqms.platform.trail.canonical import canonical_json_prevalidated

Value = None | bool | int | str | list[Any] | dict[str, Any]

REDACTED_PREFIX = "sha256:"


@dataclass(frozen=True)
class AuditedModel:
    model: type[models.Model]
    type_name: str
    fields: tuple[models.Field[Any, Any], ...]
    redact: frozenset[str]
    label: Callable[[Any], str]
    view_action: str
    detail_url: Callable[[Any], str] | None = None
    names: tuple[str, ...] = field(init=False)
    # All audited attributes in one C call: a tuple, even for a single field.
    _values: Callable[[models.Model], tuple[Any, ...]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        names = tuple(f.attname for f in self.fields)
        object.__setattr__(self, "names", names)
        getter = operator.attrgetter(*names) if names else (lambda obj: ())
        values = getter if len(names) != 1 else (lambda obj: (getter(obj),))
        object.__setattr__(self, "_values", values)

    def default_state(self, name: str) -> Value:
        """The state value of field `name` (its attname) when it holds its default: what a
        migration that added the field gave the rows it found."""
        found = next(f for f in self.fields if f.attname == name)
        return self.state_of_value(found.get_default())

    @staticmethod
    def state_of_value(value: Any) -> Value:
        kind = type(value)
        if kind is str or value is None or kind is bool:
            return value  # str, bool or None: a state value as it is
        convert = _CONVERTERS.get(kind)
        return to_json_value(value) if convert is None else convert(value)

    def state(self, obj: models.Model) -> dict[str, Value]:
        """The record's audited fields as canonical-JSON values (see module docstring).

        Equal to ``{name: to_json_value(getattr(obj, name))}`` plus redaction; it runs
        twice per audited update (snapshot before, state after), so the common types
        skip `to_json_value`'s chain of tests: str/bool/None as they are, the others
        through a converter chosen by exact type (`_CONVERTERS`).
        """
        out: dict[str, Value] = {}
        for name, value in zip(self.names, self._values(obj), strict=True):
            kind = type(value)
            if kind is str or value is None or kind is bool:
                out[name] = value
            else:
                convert = _CONVERTERS.get(kind)
                out[name] = to_json_value(value) if convert is None else convert(value)
        for name in self.redact:
            value = out[name]
            if value is not None and value != "":
                out[name] = REDACTED_PREFIX + hashlib.sha256(str(value).encode()).hexdigest()
        return out


_REGISTRY: dict[type[models.Model], AuditedModel] = {}
_BY_NAME: dict[str, AuditedModel] = {}


def register(
    model: type[models.Model],
    type_name: str,
    *,
    view_action: str,
    exclude: Iterable[str] = (),
    redact: Iterable[str] = (),
    label: Callable[[Any], str] = str,
    detail_url: Callable[[Any], str] | None = None,
) -> AuditedModel:
    """Declare `model` an audited record named `type_name` (e.g. ``"capa.capa"``).

    `exclude` lists fields that change without a GxP meaning (``last_login``) and are
    left out of the state; `view_action` is the access-gate action that lets someone see
    the record, and so its history.
    """
    excluded = set(exclude)
    fields = tuple(
        f
        for f in model._meta.concrete_fields
        if f.name not in excluded and f.attname not in excluded
    )
    redacted = frozenset(redact)
    unknown = redacted - {f.attname for f in fields}
    if unknown:
        raise ValueError(f"redacted fields not audited on {type_name}: {sorted(unknown)}")
    entry = AuditedModel(model, type_name, fields, redacted, label, view_action, detail_url)
    existing = _BY_NAME.get(type_name)
    if existing is not None and existing.model is not model:
        raise ValueError(f"audit type {type_name!r} is already registered")
    _REGISTRY[model] = entry
    _BY_NAME[type_name] = entry
    return entry


def audited(obj_or_model: models.Model | type[models.Model]) -> AuditedModel:
    model = obj_or_model if isinstance(obj_or_model, type) else type(obj_or_model)
    try:
        return _REGISTRY[model]
    except KeyError:
        raise LookupError(f"{model.__name__} is not a registered audited record") from None


def by_type(type_name: str) -> AuditedModel:
    try:
        return _BY_NAME[type_name]
    except KeyError:
        raise LookupError(f"unknown audited record type {type_name!r}") from None


def all_audited() -> list[AuditedModel]:
    return sorted(_BY_NAME.values(), key=lambda a: a.type_name)


def is_audited(type_name: str) -> bool:
    return type_name in _BY_NAME


def to_json_value(value: object) -> Value:
    """A field value in the canonical-JSON domain (no floats, exact decimal strings)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return _int(value)
    if isinstance(value, dt.datetime):
        return _datetime(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID, dt.timedelta, float)):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return [to_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json_value(v) for k, v in value.items()}
    return str(value)


def _int(value: int) -> Value:
    return value if -(2**53) < value < 2**53 else str(value)


def _datetime(value: dt.datetime) -> Value:
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    if value.year >= 1000:  # isoformat equals the strftime below here, 3x faster
        return value.isoformat(timespec="microseconds") + "Z"
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# `to_json_value` for values of exactly these types (subclasses take the general path).
_CONVERTERS: dict[type, Callable[[Any], Value]] = {
    int: _int,
    dt.datetime: _datetime,
    dt.date: dt.date.isoformat,
    dt.time: dt.time.isoformat,
    decimal.Decimal: str,
    uuid.UUID: str,
    dt.timedelta: str,
}


def state_hash(state: dict[str, Value]) -> str:
    # `AuditedModel.state` only produces canonical-domain values (`to_json_value`), so the
    # validating walk is skipped; a lone surrogate still fails at UTF-8 encoding.
    return hashlib.sha256(canonical_json_prevalidated(state)).hexdigest()


def diff(before: dict[str, Value] | None, after: dict[str, Value] | None) -> dict[str, list[Value]]:
    """Changed fields as ``{field: [old, new]}``; a creation lists every field."""
    if not before:
        return {k: [None, v] for k, v in (after or {}).items()}
    if after and before.keys() == after.keys():  # the same record's states: one pass
        return {k: [before[k], v] for k, v in after.items() if before[k] != v}
    after = after or {}
    keys = list(after) + [k for k in before if k not in after]
    return {
        k: [before.get(k), after.get(k)]
        for k in keys
        if k not in before or k not in after or before[k] != after[k]
    }
