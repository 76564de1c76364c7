"""Exports of the trail: the verifiable JSON-lines format and flat CSV/JSON for reading.

`write_export` streams the ``cyberqms-trail-export/1`` format (see `trail/verify.py`)
for entries `from_seq..to_seq`: it seals first so the range ends inside a signed
checkpoint, and anchors it with a consistency proof to the latest checkpoint. The file
verifies offline with ``python -m cyberqms.platform.trail.verify FILE --key KEY``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.db import connection

from cyberqms.platform.trail import keys
from cyberqms.platform.trail.canonical import loads_strict
from cyberqms.platform.trail.display import Voucher
from cyberqms.platform.trail.log import latest_checkpoint, max_seq, trail_seal, tree_hasher
from cyberqms.platform.trail.merkle import subtree_decomposition
from cyberqms.platform.trail.models import AuditEntry, Checkpoint
from cyberqms.platform.trail.verify import build_export_lines

_BATCH = 5_000
_Pair = tuple[dict[str, Any], bytes]


class ExportError(ValueError):
    def __init__(self, message: str, *, field: str = "__all__") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ExportSummary:
    from_seq: int
    to_seq: int
    entries: int
    checkpoints: int
    anchor_size: int


def _entries(from_seq: int, to_seq: int) -> Iterator[tuple[dict[str, Any], bytes]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT seq, leaf_hash, body FROM trail_auditentry WHERE seq >= %s AND seq <= %s "
            "ORDER BY seq",
            [from_seq, to_seq],
        )
        while rows := cursor.fetchmany(_BATCH):
            for seq, leaf, body in rows:
                try:
                    entry = loads_strict(body)
                except ValueError:
                    raise ExportError(
                        f"Entry {seq} is not a valid entry and cannot be exported; run "
                        "`cyberqms trail verify`."
                    ) from None
                yield entry, bytes(leaf)


def resolve_range(from_seq: int | None, to_seq: int | None) -> tuple[int, int]:
    """Clamp and check a requested range; `to_seq` defaults to the last entry."""
    last = max_seq()
    if last == 0:
        raise ExportError("The trail has no entries to export yet.")
    start = 1 if from_seq is None else from_seq
    end = last if to_seq is None else to_seq
    if start < 1:
        raise ExportError("--from must be 1 or more.", field="from_seq")
    if start > last:
        raise ExportError(f"--from {start} is past the last entry ({last}).", field="from_seq")
    if end > last:
        raise ExportError(f"--to {end} is past the last entry ({last}).", field="to_seq")
    if end < start:
        raise ExportError("--to is before --from.", field="to_seq")
    return start, end


@dataclass(frozen=True)
class PreparedExport:
    """A sealed, anchored range; `lines()` streams it (entries are read lazily)."""

    summary: ExportSummary
    prefix: list[bytes]
    inner: list[str]
    anchor_note: str
    consistency: list[bytes]

    def lines(self, progress: Callable[[int], None] | None = None) -> Iterator[str]:
        def counting(items: Iterable[_Pair]) -> Iterator[_Pair]:
            for counted, item in enumerate(items, 1):
                if progress is not None and counted % _BATCH == 0:
                    progress(counted)
                yield item

        yield from build_export_lines(
            origin=keys.origin(),
            verifier_keys=keys.verifier_keys(),
            from_seq=self.summary.from_seq,
            to_seq=self.summary.to_seq,
            prefix_nodes=self.prefix,
            entries=counting(_entries(self.summary.from_seq, self.summary.to_seq)),
            checkpoints=self.inner,
            anchor_note=self.anchor_note,
            anchor_consistency=self.consistency,
        )


def prepare_export(from_seq: int | None = None, to_seq: int | None = None) -> PreparedExport:
    """Seal, then fix the range, the prefix nodes, inner checkpoints and the anchor proof."""
    start, end = resolve_range(from_seq, to_seq)
    trail_seal()
    anchor = latest_checkpoint()
    if anchor is None or anchor.size < end:
        raise ExportError("The trail has no checkpoint covering this range yet.")
    hasher = tree_hasher()
    prefix = [hasher.perfect_subtree_hash(s, lvl) for s, lvl in subtree_decomposition(0, start - 1)]
    inner = list(
        Checkpoint.objects.filter(size__gte=start, size__lte=end)
        .order_by("size")
        .values_list("note", flat=True)
    )
    consistency = hasher.consistency_proof(end, anchor.size)
    summary = ExportSummary(start, end, end - start + 1, len(inner), anchor.size)
    return PreparedExport(summary, prefix, inner, anchor.note, consistency)


def write_export(
    stream: IO[str] | Any,
    *,
    from_seq: int | None = None,
    to_seq: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> ExportSummary:
    """Write a verifiable export of entries `from_seq..to_seq` to `stream`."""
    prepared = prepare_export(from_seq, to_seq)
    for line in prepared.lines(progress):
        stream.write(line)
    return prepared.summary


# --- flat exports for reading (the auditor's viewer; its CSV is core.csv_export's) -----------

# What an export says in place of the action of an entry cyberqms does not vouch for.
UNVERIFIED_ACTION = "(did not verify: content withheld)"
FLAT_COLUMNS = (
    "seq", "at", "actor_id", "actor", "action", "object_type", "object_id", "object_label",
    "changes", "reason", "signature", "correlation", "channel", "source", "state_hash",
    "leaf_hash",
)


def flat_row(entry: AuditEntry, voucher: Voucher | None = None) -> dict[str, Any]:
    """The entry as one flat row; for an entry cyberqms does not vouch for, only its
    number and a note saying so."""
    if voucher is not None and not voucher.vouches(entry):
        row: dict[str, Any] = dict.fromkeys(FLAT_COLUMNS)
        row.update(seq=entry.seq, action=UNVERIFIED_ACTION, changes={})
        return row
    data = entry.data
    context = data.get("context") or {}
    return {
        "seq": entry.seq,
        "at": data.get("at"),
        "actor_id": (data.get("actor") or {}).get("id"),
        "actor": (data.get("actor") or {}).get("name"),
        "action": data.get("action"),
        "object_type": (data.get("object") or {}).get("type"),
        "object_id": (data.get("object") or {}).get("id"),
        "object_label": (data.get("object") or {}).get("label"),
        "changes": data.get("changes") or {},
        "reason": data.get("reason"),
        "signature": data.get("signature"),
        "correlation": data.get("correlation"),
        "channel": context.get("channel"),
        "source": context.get("source"),
        "state_hash": data.get("state"),
        "leaf_hash": bytes(entry.leaf_hash).hex(),
    }


def json_chunks(entries: Iterable[AuditEntry]) -> Iterator[str]:
    yield "["
    voucher = Voucher()
    for number, entry in enumerate(entries):
        yield ("," if number else "") + json.dumps(flat_row(entry, voucher), ensure_ascii=False)
    yield "]\n"
