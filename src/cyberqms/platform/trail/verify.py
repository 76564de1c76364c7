"""Standalone verifier (and writer) for audit-trail exports.

An export lets an auditor check, without database access and without trusting
the server, that a range of audit entries is exactly what the trail committed
to.  It needs only the standard library and ``cryptography``::

    python -m cyberqms.platform.trail.verify EXPORT.jsonl \
        --key 'cyberqms.example/trail+1a2b3c4d+AZ...'

Format ``cyberqms-trail-export/1`` (UTF-8 JSON lines; the writer emits pure
ASCII so no line splitting can ever break a record):

1. header ``{"type": "header", "format": "cyberqms-trail-export/1",
   "origin": str, "verifier_keys": [str], "from_seq": int, "to_seq": int,
   "prefix": {"size": from_seq - 1, "nodes": [hex]}, "exported_at": str}``.
   Sequence numbers are 1-based; seq ``s`` is Merkle leaf ``s - 1``.
   ``prefix.nodes`` is the :class:`~cyberqms.platform.trail.merkle.CompactRange` of
   leaves ``[0, from_seq - 1)``, so a partial export can be verified without
   the earlier entries.
2. one ``{"type": "entry", "leaf_hash": hex, "entry": {...}}`` per seq in
   order, where ``leaf_hash`` is the hash recorded at write time and must
   equal ``SHA-256(0x00 || canonical_json(entry))`` (RFC 9162 §2.1.1,
   RFC 8785).
3. zero or more ``{"type": "checkpoint", "note": str}`` with sizes in
   ``[from_seq, to_seq]``, in non-decreasing size order: signed C2SP
   checkpoints whose root must equal the recomputed root at that size.
4. exactly one ``{"type": "anchor", "note": str, "consistency": [hex]}``: a
   signed checkpoint of size ``N >= to_seq`` plus the RFC 9162 §2.1.4
   consistency proof from ``to_seq`` to ``N``.

The header, prefix and recorded leaf hashes are *not* trusted: everything is
bound to signed checkpoints, so altering any of them surfaces as a root or
proof mismatch.  Only the verifier keys must come from outside the file; when
none are given the header's keys are used and the report says so.

Checks run in file order and stop at the first failure, which is located by
seq (entry problems), tree size (checkpoint problems) or line number:
header well-formed; seq strictly consecutive (gaps, duplicates and reordering
are reported at the first position that differs); each recomputed leaf hash
equals the recorded one; the number of entries matches the header (checked
when the entry section ends); each checkpoint's signature and root; the
anchor's signature and consistency proof.  Malformed lines are reported with
their line number, never as a traceback.

Exit status of the CLI: 0 intact, 1 verification failed, 2 usage or I/O error.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, NoReturn

from cyberqms.platform.trail.canonical import (
    canonical_json_prevalidated,
    check_canonical_domain,
    loads_strict,
)
from cyberqms.platform.trail.merkle import (
    EMPTY_ROOT,
    CompactRange,
    ProofError,
    check_consistency,
    leaf_hash,
)
from cyberqms.platform.trail.note import (
    Checkpoint,
    NoteError,
    VerifiedNote,
    VerifierKey,
    open_checkpoint,
    parse_verifier_key,
)

__all__ = [
    "EXPORT_FORMAT",
    "Failure",
    "Report",
    "anchor_line",
    "build_export_lines",
    "checkpoint_line",
    "entry_line",
    "header_line",
    "main",
    "verify_export",
    "verify_export_file",
]

EXPORT_FORMAT: Final = "cyberqms-trail-export/1"
_MAX_SEQ: Final = 2**63 - 1
_HEX_HASH: Final = re.compile("[0-9a-f]{64}")
_HEADER_FIELDS: Final = frozenset(
    {
        "type",
        "format",
        "origin",
        "verifier_keys",
        "from_seq",
        "to_seq",
        "prefix",
        "exported_at",
    }
)
_ENTRY_FIELDS: Final = frozenset({"type", "leaf_hash", "entry"})
_CHECKPOINT_FIELDS: Final = frozenset({"type", "note"})
_ANCHOR_FIELDS: Final = frozenset({"type", "note", "consistency"})


# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class Failure:
    """The first problem found.

    ``seq`` locates entry problems; ``tree_size`` locates checkpoint/anchor
    problems (the altered entry lies in the range named in ``message``);
    ``line`` is the 1-based line number in the export, when known.
    """

    seq: int | None
    line: int | None
    message: str
    tree_size: int | None = None

    def location(self) -> str:
        """Human-readable position, e.g. ``seq 17 (line 18)``."""
        if self.seq is not None:
            where = f"seq {self.seq}"
        elif self.tree_size is not None:
            where = f"tree size {self.tree_size}"
        elif self.line is not None:
            return f"line {self.line}"
        else:
            return "end of file"
        return f"{where} (line {self.line})" if self.line is not None else where

    def __str__(self) -> str:
        return f"FAILED at {self.location()}: {self.message}"


@dataclass(frozen=True)
class Report:
    """Outcome of :func:`verify_export`.

    ``entries``/``checkpoints`` count what verified before any failure.
    ``keys_from_file`` is ``True`` when the verifier keys were read from the
    export header itself: the result then shows internal consistency only,
    not that the log operator signed it.
    """

    ok: bool
    entries: int
    checkpoints: int
    first_failure: Failure | None
    keys_from_file: bool = False
    origin: str | None = None
    from_seq: int | None = None
    to_seq: int | None = None
    root_hash: bytes | None = None
    anchor_size: int | None = None
    anchor_signers: tuple[str, ...] = ()
    anchor_time: datetime | None = None

    def summary(self) -> str:
        """One paragraph describing the result."""
        if self.first_failure is not None:
            return str(self.first_failure)
        root = self.root_hash.hex() if self.root_hash is not None else "?"
        when = f", time {_rfc3339(self.anchor_time)}" if self.anchor_time is not None else ""
        keys = (
            "the export's own header (WEAK: pass --key to verify against a trusted key)"
            if self.keys_from_file
            else "the trusted key(s) supplied"
        )
        return (
            f"OK: export of trail {self.origin!r} is intact. {self.entries} entries "
            f"(seq {self.from_seq}..{self.to_seq}) have consecutive sequence numbers "
            f"and match their recorded leaf hashes; {self.checkpoints} signed "
            f"checkpoint(s) inside the range match the recomputed Merkle roots; the "
            f"Merkle root at seq {self.to_seq} is {root} and is proven consistent with "
            f"the anchor checkpoint of tree size {self.anchor_size} signed by "
            f"{', '.join(self.anchor_signers)}{when}. "
            f"Signatures were checked with {keys}."
        )


class _StopError(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(str(failure))
        self.failure = failure


# ------------------------------------------------------------------------- verifier


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _claimed_size(note: object) -> int | None:
    """Best-effort tree size from an unverified note, only for locating errors."""
    if not isinstance(note, str):
        return None
    lines = note.split("\n", 2)
    if len(lines) >= 2 and lines[1].isascii() and lines[1].isdigit() and len(lines[1]) <= 19:
        return int(lines[1])
    return None


class _ExportVerifier:
    """Single pass over the export; raises :class:`_StopError` at the first failure."""

    def __init__(self, trusted_keys: Sequence[str] | None) -> None:
        self.trusted: list[VerifierKey] | None = (
            None if trusted_keys is None else [parse_verifier_key(k) for k in trusted_keys]
        )
        self.keys: list[VerifierKey] = []
        self.keys_from_file = False
        self.origin: str | None = None
        self.from_seq = 0
        self.to_seq = 0
        self.next_seq = 0
        self.leaves: list[bytes] = []
        self.tree = CompactRange()
        self.verified_size = 0
        self.checkpoints = 0
        self.root_hash: bytes | None = None
        self.anchor: tuple[Checkpoint, VerifiedNote] | None = None

    # -- helpers -------------------------------------------------------------------

    @staticmethod
    def fail(
        message: str,
        *,
        line: int | None,
        seq: int | None = None,
        tree_size: int | None = None,
    ) -> NoReturn:
        raise _StopError(Failure(seq, line, message, tree_size))

    def root_at(self, size: int) -> bytes:
        """Root after ``size`` leaves; sizes are requested in non-decreasing order."""
        base = self.from_seq - 1
        if size > self.tree.size:
            self.tree.extend(self.leaves[self.tree.size - base : size - base])
        return self.tree.root()

    def altered_range(self, size: int) -> str:
        where = f"some entry in ({self.verified_size}, {size}] was altered"
        if self.verified_size == self.from_seq - 1 and self.from_seq > 1:
            where += " (or the export's prefix nodes were)"
        return where

    # -- line kinds ----------------------------------------------------------------

    def header(self, obj: Mapping[str, Any], line: int) -> None:
        if obj.get("type") != "header":
            self.fail("the first line must be the export header", line=line)
        if set(obj) != _HEADER_FIELDS:
            missing = sorted(_HEADER_FIELDS - set(obj))
            extra = sorted(set(obj) - _HEADER_FIELDS)
            self.fail(
                f"header fields wrong (missing {missing}, unexpected {extra})",
                line=line,
            )
        if obj["format"] != EXPORT_FORMAT:
            self.fail(f"unsupported export format {obj['format']!r}", line=line)
        origin = obj["origin"]
        if not isinstance(origin, str) or not origin or "\n" in origin:
            self.fail("header origin must be a non-empty single-line string", line=line)
        keys = obj["verifier_keys"]
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            self.fail("header verifier_keys must be a list of strings", line=line)
        header_keys: list[VerifierKey] = []
        for number, text in enumerate(keys, 1):
            try:
                header_keys.append(parse_verifier_key(text))
            except NoteError as exc:
                self.fail(f"header verifier key {number} is invalid: {exc}", line=line)
        from_seq, to_seq = obj["from_seq"], obj["to_seq"]
        if not _is_int(from_seq) or not 1 <= from_seq <= _MAX_SEQ:
            self.fail("header from_seq must be an integer >= 1", line=line)
        if not _is_int(to_seq) or not from_seq - 1 <= to_seq <= _MAX_SEQ:
            self.fail("header to_seq must be an integer >= from_seq - 1", line=line)
        prefix = obj["prefix"]
        if not isinstance(prefix, dict) or set(prefix) != {"size", "nodes"}:
            self.fail("header prefix must be an object with 'size' and 'nodes'", line=line)
        if prefix["size"] != from_seq - 1 or not _is_int(prefix["size"]):
            self.fail(
                f"header prefix size must equal from_seq - 1 = {from_seq - 1}",
                line=line,
            )
        nodes = prefix["nodes"]
        if not isinstance(nodes, list) or not all(
            isinstance(n, str) and _HEX_HASH.fullmatch(n) for n in nodes
        ):
            self.fail("header prefix nodes must be 64-digit lowercase hex hashes", line=line)
        try:
            self.tree = CompactRange.from_nodes(from_seq - 1, [bytes.fromhex(n) for n in nodes])
        except ValueError as exc:
            self.fail(f"header prefix is invalid: {exc}", line=line)
        if not isinstance(obj["exported_at"], str):
            self.fail("header exported_at must be a string", line=line)
        if self.trusted is None:
            if not header_keys:
                self.fail("no verifier keys given and the header lists none", line=line)
            self.keys = header_keys
            self.keys_from_file = True
        else:
            self.keys = self.trusted
        self.origin = origin
        self.from_seq = from_seq
        self.to_seq = to_seq
        self.next_seq = from_seq
        self.verified_size = from_seq - 1

    def entry(self, obj: Mapping[str, Any], line: int) -> None:
        expected = self.next_seq
        if set(obj) != _ENTRY_FIELDS:
            self.fail(
                "entry line must have exactly the fields type, leaf_hash, entry",
                line=line,
                seq=expected,
            )
        entry = obj["entry"]
        if not isinstance(entry, dict):
            self.fail("entry must be a JSON object", line=line, seq=expected)
        seq = entry.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool):
            self.fail("entry has no integer 'seq' field", line=line, seq=expected)
        if expected > self.to_seq:
            self.fail(
                f"entry with seq {seq} lies beyond the header's to_seq {self.to_seq}",
                line=line,
                seq=expected,
            )
        if seq != expected:
            if seq < expected:
                problem = f"found seq {seq} again (duplicate or reordered entry)"
            else:
                problem = f"found seq {seq} (seq {expected} is missing or out of order)"
            self.fail(
                f"sequence broken: expected seq {expected}, {problem}",
                line=line,
                seq=expected,
            )
        recorded = obj["leaf_hash"]
        if not isinstance(recorded, str) or _HEX_HASH.fullmatch(recorded) is None:
            self.fail("leaf_hash must be 64 lowercase hex digits", line=line, seq=expected)
        try:
            computed = leaf_hash(canonical_json_prevalidated(entry))
        except ValueError as exc:
            self.fail(f"entry cannot be canonicalized: {exc}", line=line, seq=expected)
        if computed.hex() != recorded:
            self.fail(
                "entry content does not match its recorded leaf hash: the entry "
                "(or its recorded hash) was altered after it was written",
                line=line,
                seq=expected,
            )
        self.leaves.append(computed)
        self.next_seq = expected + 1

    def end_entries(self, line: int | None) -> None:
        if self.next_seq != self.to_seq + 1:
            self.fail(
                f"export ends after seq {self.next_seq - 1} but the header declares "
                f"to_seq {self.to_seq}: seq {self.next_seq}..{self.to_seq} missing",
                line=line,
                seq=self.next_seq,
            )

    def open_signed(
        self, obj: Mapping[str, Any], line: int, what: str
    ) -> tuple[Checkpoint, VerifiedNote]:
        note = obj["note"]
        claimed = _claimed_size(note)
        if not isinstance(note, str):
            self.fail(f"{what} note must be a string", line=line)
        try:
            checkpoint, opened = open_checkpoint(note, self.keys)
        except NoteError as exc:
            self.fail(f"{what} rejected: {exc}", line=line, tree_size=claimed)
        if checkpoint.origin != self.origin:
            self.fail(
                f"{what} is for origin {checkpoint.origin!r}, not {self.origin!r}",
                line=line,
                tree_size=checkpoint.size,
            )
        return checkpoint, opened

    def checkpoint(self, obj: Mapping[str, Any], line: int) -> None:
        if set(obj) != _CHECKPOINT_FIELDS:
            self.fail("checkpoint line must have exactly the fields type, note", line=line)
        checkpoint, _ = self.open_signed(obj, line, "checkpoint")
        size = checkpoint.size
        if not self.from_seq <= size <= self.to_seq:
            self.fail(
                f"checkpoint size {size} lies outside the exported range "
                f"[{self.from_seq}, {self.to_seq}]",
                line=line,
                tree_size=size,
            )
        if size < self.verified_size:
            self.fail(
                f"checkpoints out of order: size {size} after size {self.verified_size}",
                line=line,
                tree_size=size,
            )
        if self.root_at(size) != checkpoint.root_hash:
            self.fail(
                f"root mismatch at tree size {size}: {self.altered_range(size)}",
                line=line,
                tree_size=size,
            )
        self.verified_size = size
        self.checkpoints += 1

    def anchor_line(self, obj: Mapping[str, Any], line: int) -> None:
        if set(obj) != _ANCHOR_FIELDS:
            self.fail(
                "anchor line must have exactly the fields type, note, consistency",
                line=line,
            )
        proof_hex = obj["consistency"]
        if not isinstance(proof_hex, list) or not all(
            isinstance(h, str) and _HEX_HASH.fullmatch(h) for h in proof_hex
        ):
            self.fail(
                "anchor consistency must be a list of 64-digit lowercase hex hashes",
                line=line,
            )
        checkpoint, opened = self.open_signed(obj, line, "anchor checkpoint")
        size = checkpoint.size
        if size < self.to_seq:
            self.fail(
                f"anchor tree size {size} is smaller than to_seq {self.to_seq}",
                line=line,
                tree_size=size,
            )
        root = self.root_at(self.to_seq) if self.to_seq > 0 else EMPTY_ROOT
        proof = [bytes.fromhex(h) for h in proof_hex]
        if size == self.to_seq:
            if proof:
                self.fail(
                    "anchor at size to_seq must have an empty consistency proof",
                    line=line,
                    tree_size=size,
                )
            if root != checkpoint.root_hash:
                self.fail(
                    f"root mismatch at tree size {size}: {self.altered_range(size)}",
                    line=line,
                    tree_size=size,
                )
        else:
            try:
                check_consistency(self.to_seq, size, root, checkpoint.root_hash, proof)
            except ProofError as exc:
                self.fail(
                    f"anchor consistency proof from tree size {self.to_seq} to {size} "
                    f"does not verify ({exc}): {self.altered_range(self.to_seq)}, "
                    "or the proof is corrupt",
                    line=line,
                    tree_size=size,
                )
        self.root_hash = root
        self.anchor = (checkpoint, opened)

    # -- driver --------------------------------------------------------------------

    def run(self, lines: Iterable[str | bytes]) -> None:
        phase = "header"
        for number, raw in enumerate(lines, 1):
            # Where a broken line sits among the entries, it is located by the seq
            # that was expected at that position.
            seq_here = (
                self.next_seq if phase == "entries" and self.next_seq <= self.to_seq else None
            )
            if isinstance(raw, bytes):
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    self.fail(f"line is not valid UTF-8 ({exc.reason})", line=number, seq=seq_here)
            else:
                text = raw
            if not text.strip():
                continue
            if phase == "done":
                self.fail("unexpected content after the anchor line", line=number)
            try:
                obj = loads_strict(text)
            except ValueError as exc:
                self.fail(f"malformed JSON: {exc}", line=number, seq=seq_here)
            if not isinstance(obj, dict):
                self.fail("line is not a JSON object", line=number, seq=seq_here)
            if phase == "header":
                self.header(obj, number)
                phase = "entries"
                continue
            kind = obj.get("type")
            if kind == "entry":
                if phase != "entries":
                    self.fail("entry line after checkpoint lines", line=number)
                self.entry(obj, number)
            elif kind == "checkpoint":
                if phase == "entries":
                    self.end_entries(number)
                    phase = "checkpoints"
                self.checkpoint(obj, number)
            elif kind == "anchor":
                if phase == "entries":
                    self.end_entries(number)
                self.anchor_line(obj, number)
                phase = "done"
            elif kind == "header":
                self.fail("unexpected second header line", line=number, seq=seq_here)
            else:
                self.fail(f"unknown line type {kind!r}", line=number, seq=seq_here)
        if phase == "header":
            self.fail("export is empty (no header line)", line=None)
        if phase == "entries":
            self.end_entries(None)
        if phase != "done":
            self.fail("export has no anchor line (it is truncated)", line=None)

    def report(self, failure: Failure | None) -> Report:
        anchor_cp, anchor_note = self.anchor if self.anchor else (None, None)
        anchor_time: datetime | None = None
        if anchor_cp is not None:
            try:
                anchor_time = anchor_cp.time
            except NoteError:
                anchor_time = None
        return Report(
            ok=failure is None,
            entries=len(self.leaves),
            checkpoints=self.checkpoints,
            first_failure=failure,
            keys_from_file=self.keys_from_file,
            origin=self.origin,
            from_seq=self.from_seq or None,
            to_seq=self.to_seq if self.origin is not None else None,
            root_hash=self.root_hash,
            anchor_size=anchor_cp.size if anchor_cp else None,
            anchor_signers=anchor_note.signer_names if anchor_note else (),
            anchor_time=anchor_time,
        )


def verify_export(
    lines: Iterable[str | bytes], trusted_keys: Sequence[str] | None = None
) -> Report:
    """Verify an export given as lines (``str`` or UTF-8 ``bytes``).

    Split the file on ``"\\n"`` only (iterating a file opened in binary mode
    does this); blank lines are ignored.  ``trusted_keys`` are C2SP verifier
    key strings; ``None`` means "use the header's keys" (reported as
    ``keys_from_file``).  A checkpoint is accepted when any trusted key
    signed it, which supports key rotation.

    :raises ValueError: if a trusted key string is malformed (caller error).
    """
    verifier = _ExportVerifier(trusted_keys)
    try:
        verifier.run(lines)
    except _StopError as stop:
        return verifier.report(stop.failure)
    return verifier.report(None)


def verify_export_file(path: str, trusted_keys: Sequence[str] | None = None) -> Report:
    """Verify the export at ``path`` (``"-"`` for standard input).

    :raises OSError: if the file cannot be read.
    """
    if path == "-":
        return verify_export(sys.stdin.buffer, trusted_keys)
    with open(path, "rb") as stream:
        return verify_export(stream, trusted_keys)


# --------------------------------------------------------------------------- writer


def _dump(obj: Mapping[str, object]) -> str:
    return json.dumps(obj, ensure_ascii=True, separators=(",", ":"), allow_nan=False) + "\n"


def _rfc3339(when: datetime) -> str:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("exported_at must be timezone-aware")
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def header_line(
    *,
    origin: str,
    verifier_keys: Sequence[str],
    from_seq: int,
    to_seq: int,
    prefix_nodes: Sequence[bytes],
    exported_at: str | datetime | None = None,
) -> str:
    """The header line (with trailing newline).  Validates sizes and prefix shape."""
    if not _is_int(from_seq) or from_seq < 1:
        raise ValueError("from_seq must be an integer >= 1")
    if not _is_int(to_seq) or to_seq < from_seq - 1:
        raise ValueError("to_seq must be an integer >= from_seq - 1")
    prefix = CompactRange.from_nodes(from_seq - 1, list(prefix_nodes))
    for key in verifier_keys:
        parse_verifier_key(key)
    if exported_at is None:
        exported_at = datetime.now(UTC)
    stamp = exported_at if isinstance(exported_at, str) else _rfc3339(exported_at)
    return _dump(
        {
            "type": "header",
            "format": EXPORT_FORMAT,
            "origin": origin,
            "verifier_keys": list(verifier_keys),
            "from_seq": from_seq,
            "to_seq": to_seq,
            "prefix": {"size": prefix.size, "nodes": [n.hex() for n in prefix.nodes()]},
            "exported_at": stamp,
        }
    )


def entry_line(entry: Mapping[str, object], recorded_leaf_hash: bytes) -> str:
    """One entry line: the entry object and the leaf hash recorded at write time.

    :raises TypeError: / ValueError: if ``entry`` is outside the canonical domain.
    """
    check_canonical_domain(entry)
    if not isinstance(recorded_leaf_hash, bytes) or len(recorded_leaf_hash) != 32:
        raise ValueError("recorded leaf hash must be 32 bytes")
    return _dump({"type": "entry", "leaf_hash": recorded_leaf_hash.hex(), "entry": entry})


def checkpoint_line(note: str) -> str:
    """One checkpoint line carrying a signed checkpoint note."""
    return _dump({"type": "checkpoint", "note": note})


def anchor_line(note: str, consistency: Sequence[bytes]) -> str:
    """The anchor line: signed checkpoint + consistency proof from ``to_seq``."""
    return _dump({"type": "anchor", "note": note, "consistency": [h.hex() for h in consistency]})


def build_export_lines(
    *,
    origin: str,
    verifier_keys: Sequence[str],
    from_seq: int,
    to_seq: int,
    prefix_nodes: Sequence[bytes],
    entries: Iterable[tuple[Mapping[str, object], bytes]],
    checkpoints: Iterable[str],
    anchor_note: str,
    anchor_consistency: Sequence[bytes],
    exported_at: str | datetime | None = None,
) -> Iterator[str]:
    """Yield the lines of an export (each ending in ``"\\n"``), streaming ``entries``.

    ``entries`` yields ``(entry, recorded_leaf_hash)`` in seq order;
    ``checkpoints`` are signed notes with sizes in ``[from_seq, to_seq]`` in
    non-decreasing size order; the anchor is a signed checkpoint of size
    ``N >= to_seq`` with the consistency proof from ``to_seq`` to ``N``
    (``merkle.consistency_proof``).  Pure function of already-loaded data: the
    writer does not verify, so the Django side and tests share it.
    """
    yield header_line(
        origin=origin,
        verifier_keys=verifier_keys,
        from_seq=from_seq,
        to_seq=to_seq,
        prefix_nodes=prefix_nodes,
        exported_at=exported_at,
    )
    for entry, recorded in entries:
        yield entry_line(entry, recorded)
    for note in checkpoints:
        yield checkpoint_line(note)
    yield anchor_line(anchor_note, anchor_consistency)


# ------------------------------------------------------------------------------ CLI

_WARNING: Final = (
    "WARNING: no --key given; the verifier keys were taken from the export file "
    "itself. "
    "This proves the file is internally consistent, not that the trail operator signed "
    "it. Obtain the trail's verifier key out of band and re-run with --key."
)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit status (0 intact, 1 failed, 2 usage/IO)."""
    parser = argparse.ArgumentParser(
        prog="python -m cyberqms.platform.trail.verify",
        description="Verify a cyberqms audit-trail export (cyberqms-trail-export/1).",
    )
    parser.add_argument("file", help="export file (JSON lines), or - for standard input")
    parser.add_argument(
        "--key",
        action="append",
        metavar="VERIFIER_KEY",
        help="trusted C2SP verifier key <name>+<id>+<base64>; repeat for rotated keys",
    )
    args = parser.parse_args(argv)
    keys: list[str] | None = args.key
    try:
        if keys is not None:
            for key in keys:
                parse_verifier_key(key)
        report = verify_export_file(args.file, keys)
    except NoteError as exc:
        print(f"error: invalid --key: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    if report.keys_from_file:
        print(_WARNING, file=sys.stderr)
    print(report.summary())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
