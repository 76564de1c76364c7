"""RFC 8785 (JSON Canonicalization Scheme, "JCS") for the audit-trail domain.

Every audit entry is hashed as ``leaf_hash(canonical_json(entry))``, so the
byte serialisation must be unique and reproducible by independent verifiers.
RFC 8785 defines that serialisation; this module implements it for the
restricted value domain the trail uses:

* ``dict`` with ``str`` keys, ``list`` (``tuple`` is accepted as an array),
  ``str``, ``int`` with ``|n| < 2**53`` (RFC 8785 §3.2.2.3 / I-JSON, RFC 7493
  §2.2: larger integers are not exactly representable as IEEE 754 doubles),
  ``bool`` and ``None``.
* ``float`` is rejected with :class:`TypeError`.  Decimal quantities are stored
  as strings by the application, so the ECMAScript number-formatting rules of
  RFC 8785 §3.2.2.3 never come into play and cannot diverge between platforms.

Why the fast path is correct
----------------------------
On this domain, ``json.dumps(v, sort_keys=True, separators=(",", ":"),
ensure_ascii=False, allow_nan=False)`` is byte-identical to JCS:

* strings (RFC 8785 §3.2.2.2): Python escapes exactly ``"``, ``\\`` and the
  C0 controls, using ``\\b \\f \\n \\r \\t`` and lowercase ``\\u00xx`` for the
  rest, and emits every other code point literally, which is what JCS requires;
* literals and integers serialise identically;
* property sorting (RFC 8785 §3.2.3) is by UTF-16 code units, while Python
  sorts by code points.  The two orders only differ when a key contains a
  character outside the Basic Multilingual Plane (encoded as a surrogate pair
  in UTF-16, which sorts *below* U+E000..U+FFFF).  Whenever the output
  contains such a character we re-serialise on an exact slow path that sorts
  keys by ``key.encode("utf-16-be")``.

Strings containing lone surrogates are not Unicode text (RFC 8785 §3.2.2.2
requires valid data) and raise :class:`ValueError`.

Domain validation: measured choice
----------------------------------
``json`` offers no hook that sees floats, out-of-range integers or non-``str``
keys (it silently converts ``{1: x}`` into ``{"1": x}``), so a validating walk
is unavoidable for arbitrary Python input.  Measured on the development
machine for a 12-key audit-entry-like dict: encoding alone ~2.9 µs, the walk
~1.8 µs.  Two entry points are therefore provided:

* :func:`canonical_json` validates (walk) then encodes.  Writers use it: they
  hold arbitrary Python values and must never hash something ambiguous.
* :func:`loads_strict` parses JSON text while enforcing the domain at parse
  time (``parse_float``/``parse_constant``/``parse_int`` hooks, plus rejection
  of duplicate object keys, which would otherwise let an export show one value
  to a human and hash another).  Values it returns are in the domain by
  construction, so :func:`canonical_json_prevalidated` skips the walk.  The
  export verifier, whose hot path is parse-then-hash, uses this pair.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any, Final

__all__ = [
    "MAX_DEPTH",
    "MAX_SAFE_INTEGER",
    "canonical_json",
    "canonical_json_prevalidated",
    "check_canonical_domain",
    "loads_strict",
]

#: Largest integer magnitude accepted (RFC 7493 §2.2, I-JSON): 2**53 - 1.
MAX_SAFE_INTEGER: Final = 2**53 - 1
#: Maximum nesting of arrays/objects.  Audit entries are shallow; the limit
#: turns runaway (or cyclic) structures into a clean ``ValueError``.
MAX_DEPTH: Final = 100

_NON_BMP: Final = re.compile("[\U00010000-\U0010ffff]")
_SCALARS: Final = frozenset({str, bool, type(None)})


class _DomainError(Exception):
    """Internal carrier for a domain violation and the path where it occurred."""

    def __init__(self, exc_type: type[Exception], message: str) -> None:
        super().__init__(message)
        self.exc_type = exc_type
        self.message = message
        self.path: list[str | int] = []


def _check(value: object, depth: int) -> None:
    """Validate ``value`` recursively; raise :class:`_DomainError` on violation.

    Written for speed: exact-type tests first, ``isinstance`` only as a
    fallback for subclasses (e.g. ``StrEnum``), recursion only into containers.
    """
    if depth > MAX_DEPTH:
        raise _DomainError(ValueError, f"nesting deeper than {MAX_DEPTH} levels")
    members: Iterable[tuple[str | int, object]]
    if isinstance(value, dict):
        for key in value:
            if type(key) is not str and not isinstance(key, str):
                raise _DomainError(
                    TypeError, f"object key {key!r} is a {type(key).__name__}, not str"
                )
        members = value.items()
    elif isinstance(value, (list, tuple)):
        members = enumerate(value)
    else:
        _check_scalar(value)
        return
    for key, item in members:
        kind = type(item)
        if kind in _SCALARS:
            continue
        if kind is int and (
            -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER  # type: ignore[operator]  # kind is int
        ):
            continue
        try:
            if kind is dict or kind is list or isinstance(item, (dict, list, tuple)):
                _check(item, depth + 1)
            else:
                _check_scalar(item)
        except _DomainError as exc:
            exc.path.append(key)
            raise


def _check_scalar(value: object) -> None:
    if value is None or isinstance(value, (str, bool)):
        return
    if isinstance(value, float):
        raise _DomainError(
            TypeError,
            f"float {value!r} is not allowed in canonical JSON "
            "(store decimal quantities as strings)",
        )
    if isinstance(value, int):
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return
        raise _DomainError(ValueError, f"integer {value} is outside the I-JSON range |n| < 2**53")
    raise _DomainError(TypeError, f"{type(value).__name__} is not a canonical JSON type")


def _format_path(path: list[str | int]) -> str:
    parts = ["$"]
    for element in reversed(path):
        parts.append(f"[{element}]" if isinstance(element, int) else f"[{element!r}]")
    return "".join(parts)


def check_canonical_domain(value: object) -> None:
    """Raise if ``value`` lies outside the domain :func:`canonical_json` accepts.

    :raises TypeError: a float, a non-``str`` object key, or an unsupported type.
    :raises ValueError: an integer with ``|n| >= 2**53`` or excessive nesting.

    The message names the JSON path of the offending value, e.g.
    ``$['changes']['amount']``.
    """
    try:
        _check(value, 0)
    except _DomainError as exc:
        raise exc.exc_type(f"{exc.message} at {_format_path(exc.path)}") from None


def _make_fast_encoder() -> Callable[[object], str]:
    """Return the fastest available encoder producing the JCS-equivalent text.

    CPython's C encoder, created once, avoids constructing a ``JSONEncoder``
    per call (about 40% of the cost for small objects).  ``markers=None``
    disables the circular-reference bookkeeping; :func:`check_canonical_domain`
    bounds the depth instead.  If the C accelerator is unavailable or behaves
    unexpectedly, fall back to the public ``JSONEncoder.encode``.
    """
    public = json.JSONEncoder(
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        check_circular=False,
    ).encode
    factory: Any = getattr(json.encoder, "c_make_encoder", None)
    encode_basestring: Any = getattr(json.encoder, "encode_basestring", None)
    if factory is None or encode_basestring is None:
        return public
    try:
        c_encoder = factory(None, None, encode_basestring, None, ":", ",", True, False, False)
        probe: dict[str, object] = {
            "b": [1, True, None, "\u00e9\n"],
            "a": {"y": "", "x": -5},
        }

        def fast(value: object) -> str:
            return "".join(c_encoder(value, 0))

        if fast(probe) != public(probe) or fast("x") != '"x"':
            return public
    except (TypeError, ValueError):
        return public
    return fast


_fast_encode: Final = _make_fast_encoder()


def _exact_key(item: tuple[str, object]) -> bytes:
    return item[0].encode("utf-16-be", "surrogatepass")


def _encode_exact(value: object) -> str:
    """Reference serialiser sorting keys by UTF-16 code units (RFC 8785 §3.2.3)."""
    if isinstance(value, dict):
        members = sorted(value.items(), key=_exact_key)
        return (
            "{" + ",".join(_fast_encode(str(k)) + ":" + _encode_exact(v) for k, v in members) + "}"
        )
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_encode_exact(v) for v in value) + "]"
    return _fast_encode(value)


def _finish(text: str, value: object) -> bytes:
    if not text.isascii() and _NON_BMP.search(text) is not None:
        text = _encode_exact(value)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            "string contains a lone surrogate and is not valid Unicode (RFC 8785 §3.2.2.2)"
        ) from exc


def canonical_json(value: object) -> bytes:
    """Return the RFC 8785 canonical UTF-8 serialisation of ``value``.

    Validates the domain first (see the module docstring).

    :raises TypeError: floats, non-``str`` keys, unsupported types.
    :raises ValueError: out-of-range integers, lone surrogates, deep nesting.
    """
    check_canonical_domain(value)
    return _finish(_fast_encode(value), value)


def canonical_json_prevalidated(value: object) -> bytes:
    """Like :func:`canonical_json` but without the domain walk.

    Only for values produced by :func:`loads_strict` (or otherwise known to be
    in the domain).  Lone surrogates and nesting too deep to serialise are
    still rejected with ``ValueError``.
    """
    try:
        return _finish(_fast_encode(value), value)
    except RecursionError as exc:
        raise ValueError("JSON nesting too deep") from exc


def _reject_float(text: str) -> object:
    raise ValueError(f"number {text} is not an integer (floats are not allowed)")


def _reject_constant(text: str) -> object:
    raise ValueError(f"{text} is not valid JSON")


def _parse_int(text: str) -> int:
    number = int(text)
    if len(text) > 15 and not -MAX_SAFE_INTEGER <= number <= MAX_SAFE_INTEGER:
        raise ValueError(f"integer {text} is outside the I-JSON range |n| < 2**53")
    return number


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"duplicate object key {key!r}")
            seen.add(key)
    return obj


_strict_decoder: Final = json.JSONDecoder(
    parse_float=_reject_float,
    parse_int=_parse_int,
    parse_constant=_reject_constant,
    object_pairs_hook=_unique_object,
)


def loads_strict(text: str) -> Any:
    """Parse JSON text, enforcing the canonical domain while parsing.

    Rejects floats (including exponent forms), ``NaN``/``Infinity``, integers
    outside ``|n| < 2**53`` and objects with duplicate keys, all with
    :class:`ValueError` (``json.JSONDecodeError`` is a subclass).  Nesting too
    deep for the parser raises :class:`ValueError` as well.  The result can be
    passed to :func:`canonical_json_prevalidated`.
    """
    try:
        return _strict_decoder.decode(text)
    except RecursionError as exc:
        raise ValueError("JSON nesting too deep") from exc
