"""Reading a CSV batch (an HR extract, a system's user list): the header checked against
the known columns, every row with its line, and every error with its line and column, so
that a batch is applied whole or not at all."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any, ClassVar

MAX_BYTES = 900 * 1024  # under the request body limit (CYBERQMS_MAX_BODY_BYTES)


@dataclass(frozen=True)
class RowError:
    row: int  # the file's line: the header is line 1; 0: the file as a whole
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.row}, {self.column}: {self.message}" if self.column \
            else f"line {self.row}: {self.message}"


@dataclass
class BatchResult[P]:
    """What a batch would do (or did), row by row, and its errors; `ACTIONS` are the
    actions its rows may plan, each counted in `counts`."""

    ACTIONS: ClassVar[tuple[str, ...]] = ("create", "update", "unchanged")
    planned: list[P] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    applied: bool = False

    @property
    def counts(self) -> dict[str, int]:
        found = dict.fromkeys(self.ACTIONS, 0)
        for p in self.planned:
            found[getattr(p, "action")] += 1  # noqa: B009  # P is any planned row
        return found


def posted_csv(request: Any) -> bytes | str:
    """The CSV a page's form posts: the uploaded file, or the text it previewed."""
    upload = request.FILES.get("file")
    return upload.read() if upload is not None else str(request.POST.get("content", ""))


def previewed(data: bytes | str) -> str:
    """The posted CSV as text again, for the form that applies what was previewed."""
    return data.decode("utf-8-sig", errors="replace") if isinstance(data, bytes) else data


def _text(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    if len(data) > MAX_BYTES:
        raise ValueError(f"The file is larger than {MAX_BYTES // 1024} KB.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError("The file is not UTF-8 text.") from exc


def read_rows(data: bytes | str, *, columns: tuple[str, ...], required: tuple[str, ...],
              max_rows: int) -> tuple[list[dict[str, Any]], list[RowError]]:
    """The rows of `data` (each a dict of stripped cells plus its `line`), or the errors
    that stop it being read: not UTF-8, too large, a header without a required column or
    with an unknown one, more cells than columns, more than `max_rows` rows."""
    try:
        text = _text(data)
    except ValueError as exc:
        return [], [RowError(0, "", str(exc))]
    reader = csv.DictReader(io.StringIO(text))
    errors: list[RowError] = []
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        return [], [RowError(1, "", f"Not CSV: {exc}.")]
    for name in required:
        if name not in header:
            errors.append(RowError(1, name, f"The header needs the {name} column."))
    for name in header:
        if name not in columns:
            errors.append(RowError(1, name, f"Unknown column (known: {', '.join(columns)})."))
    if errors:
        return [], errors
    rows: list[dict[str, Any]] = []
    try:
        for line, raw in enumerate(reader, start=2):
            if line - 1 > max_rows:
                errors.append(RowError(line, "", f"More than {max_rows} rows."))
                break
            if None in raw:
                errors.append(RowError(line, "", "More cells than columns."))
                continue
            rows.append({"line": line, **{k.strip(): (v or "").strip() for k, v in raw.items()}})
    except csv.Error as exc:
        errors.append(RowError(reader.line_num, "", f"Not CSV: {exc}."))
    return ([], errors) if errors else (rows, [])
