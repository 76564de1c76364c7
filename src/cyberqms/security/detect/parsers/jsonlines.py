"""JSON lines: one JSON object per line, with limits on size and nesting depth."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, Final

from .errors import ParseError

MAX_LINE_BYTES: Final = 64 * 1024
MAX_DEPTH: Final = 16
_LONE_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


def _reject_constant(name: str) -> float:
    raise ParseError("bad_json", f"{name} is not JSON")


def _depth_exceeds(obj: dict[str, Any], max_depth: int) -> bool:
    stack: list[tuple[Any, int]] = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > max_depth:
                    return True
                stack.append((child, depth + 1))
    return False


def parse_json_line(
    line: bytes | str, *, max_bytes: int = MAX_LINE_BYTES, max_depth: int = MAX_DEPTH
) -> dict[str, Any]:
    """The JSON object on one line (UTF-8); NaN/Infinity, non-objects and oversized or too
    deeply nested input are rejected."""
    size = len(line)
    if isinstance(line, str) and size * 4 > max_bytes:
        size = len(line.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise ParseError("oversized", f"line of {size} bytes > {max_bytes}")
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError("invalid_utf8", f"byte {exc.start}") from None
    try:
        obj = json.loads(line, parse_constant=_reject_constant)
    except RecursionError:
        raise ParseError("too_deep", "nesting beyond the interpreter's limit") from None
    except ValueError as exc:  # JSONDecodeError is a ValueError
        if isinstance(exc, ParseError):
            raise
        raise ParseError("bad_json", str(exc)[:200]) from None
    if not isinstance(obj, dict):
        raise ParseError("not_object", f"a JSON {type(obj).__name__}, not an object")
    if "\\u" in line and _LONE_SURROGATE.search(line):
        # An escaped half of a surrogate pair decodes to text no UTF-8 store can keep.
        try:
            json.dumps(obj, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ParseError("bad_json", "an escaped lone surrogate (\\ud800-\\udfff)") from None
    if max_depth >= 1 and _depth_exceeds(obj, max_depth):
        raise ParseError("too_deep", f"nesting deeper than {max_depth}")
    return obj


def iter_json_lines(
    data: bytes | str, *, max_bytes: int = MAX_LINE_BYTES, max_depth: int = MAX_DEPTH
) -> Iterator[tuple[int, dict[str, Any] | ParseError]]:
    """(line number from 1, object or the reason it was rejected) for each non-blank line."""
    # Not splitlines(): U+2028 and friends may stand unescaped inside JSON strings.
    lines: list[str | bytes] = []
    lines.extend(data.split("\n") if isinstance(data, str) else data.split(b"\n"))
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield number, parse_json_line(line, max_bytes=max_bytes, max_depth=max_depth)
        except ParseError as exc:
            yield number, exc
