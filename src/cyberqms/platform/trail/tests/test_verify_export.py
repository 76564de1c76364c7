"""Export verifier: synthetic trails, tamper detection and location, CLI behaviour."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import random
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cyberqms.platform.trail.canonical import canonical_json
from cyberqms.platform.trail.merkle import (
    CompactRange,
    DictSubtreeCache,
    MemoryStore,
    TreeHasher,
    leaf_hash,
)
from cyberqms.platform.trail.note import (
    SignerKey,
    format_checkpoint,
    key_id,
    sign_note,
    verifier_key_from_signer,
)
from cyberqms.platform.trail.verify import (
    Failure,
    Report,
    build_export_lines,
    entry_line,
    header_line,
    main,
    verify_export,
)

SRC = Path(__file__).resolve().parents[4]
ORIGIN = "cyberqms.example/trail"
TOTAL = 320  # entries in the trail; exports cover at most the first EXPORTED
EXPORTED = 300
CHECKPOINT_EVERY = 37


def fixed_signer(name: str, label: str) -> str:
    seed = hashlib.sha256(label.encode()).digest()
    public = SignerKey(name, b"", seed).public_key()
    return SignerKey(name, key_id(name, public), seed).encode()


SIGNER = fixed_signer(ORIGIN, "trail-key-2025")
NEXT_SIGNER = fixed_signer(ORIGIN, "trail-key-2026")
VKEY = verifier_key_from_signer(SIGNER)
NEXT_VKEY = verifier_key_from_signer(NEXT_SIGNER)
STRANGER_VKEY = verifier_key_from_signer(fixed_signer("stranger.example/log", "x"))

TEXT_ALPHABET = 'abcXYZ 0123456789-_.:/äöüß€"\\\n\t\u2028\U0001f600\u02bc'


def make_entry(rng: random.Random, seq: int) -> dict[str, Any]:
    def text(n: int) -> str:
        return "".join(rng.choice(TEXT_ALPHABET) for _ in range(rng.randint(0, n)))

    return {
        "seq": seq,
        "ts": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
        f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}."
        f"{rng.randint(0, 999999):06d}Z",
        "actor": rng.choice(["user:1", "user:42", "system", "qa.lead"]),
        "action": rng.choice(["document.approve", "capa.open", "user.login", "role.grant"]),
        "object_type": rng.choice(["document", "capa", "user"]),
        "object_id": f"OBJ-{rng.randrange(10**6):06d}",
        "reason": text(40),
        "approved": rng.random() < 0.5,
        "version": rng.randint(1, 10**6),
        "prev": None if rng.random() < 0.3 else text(8),
        "changes": {"status": ["draft", "approved"], "amount": f"{rng.randint(0, 10**5)}.50"},
        "tags": [text(5) for _ in range(rng.randint(0, 3))],
    }


@dataclass
class Trail:
    entries: list[dict[str, Any]]
    leaf_hashes: list[bytes]
    hasher: TreeHasher
    notes: dict[int, str]

    def export(
        self,
        from_seq: int = 1,
        to_seq: int = EXPORTED,
        *,
        anchor_size: int = TOTAL,
        keys: Sequence[str] = (VKEY,),
        with_checkpoints: bool = True,
    ) -> list[str]:
        prefix = CompactRange()
        prefix.extend(self.leaf_hashes[: from_seq - 1])
        checkpoints = [
            self.notes[size]
            for size in sorted(self.notes)
            if with_checkpoints and from_seq <= size <= to_seq
        ]
        return list(
            build_export_lines(
                origin=ORIGIN,
                verifier_keys=keys,
                from_seq=from_seq,
                to_seq=to_seq,
                prefix_nodes=prefix.nodes(),
                entries=zip(
                    self.entries[from_seq - 1 : to_seq],
                    self.leaf_hashes[from_seq - 1 : to_seq],
                    strict=True,
                ),
                checkpoints=checkpoints,
                anchor_note=self.notes[anchor_size],
                anchor_consistency=self.hasher.consistency_proof(to_seq, anchor_size),
                exported_at="2025-06-01T00:00:00Z",
            )
        )


def sign_checkpoint(hasher: TreeHasher, size: int, signers: Sequence[str]) -> str:
    text = format_checkpoint(ORIGIN, size, hasher.root(size), ["time 2025-06-01T00:00:00Z"])
    return sign_note(text, list(signers))


@functools.cache
def trail() -> Trail:
    rng = random.Random(20250601)
    entries = [make_entry(rng, seq) for seq in range(1, TOTAL + 1)]
    hashes = [leaf_hash(canonical_json(e)) for e in entries]
    hasher = TreeHasher(MemoryStore(hashes), DictSubtreeCache(), cache_min_level=3)
    sizes = {*range(CHECKPOINT_EVERY, TOTAL + 1, CHECKPOINT_EVERY), *range(1, TOTAL + 1, 50)}
    sizes |= {EXPORTED, TOTAL, 1}
    notes = {size: sign_checkpoint(hasher, size, [SIGNER]) for size in sorted(sizes)}
    return Trail(entries, hashes, hasher, notes)


def entry_lines(lines: list[str]) -> range:
    """Indices of entry lines in an export."""
    count = sum(1 for line in lines if line.startswith('{"type":"entry"'))
    return range(1, 1 + count)


def assert_ok(report: Report) -> None:
    assert report.first_failure is None, str(report.first_failure)
    assert report.ok


def expected_failure_seq(seqs: list[int], from_seq: int, to_seq: int) -> int:
    """First position whose seq differs from the untampered export."""
    for position, seq in enumerate(seqs):
        if seq != from_seq + position:
            return from_seq + position
    return from_seq + len(seqs)


def failure(report: Report) -> Failure:
    assert not report.ok
    assert report.first_failure is not None
    return report.first_failure


# --------------------------------------------------------------------------------------
# Intact exports


def test_full_export_verifies() -> None:
    t = trail()
    report = verify_export(t.export(), [VKEY])
    assert_ok(report)
    assert report.entries == EXPORTED
    assert report.checkpoints == sum(1 for size in t.notes if 1 <= size <= EXPORTED)
    assert report.root_hash == t.hasher.root(EXPORTED)
    assert report.anchor_size == TOTAL
    assert report.anchor_signers == ("+".join(VKEY.split("+")[:2]),)
    assert report.anchor_time is not None
    assert not report.keys_from_file
    assert "intact" in report.summary()


@pytest.mark.parametrize(
    ("from_seq", "to_seq", "anchor"),
    [
        (1, 1, 1),
        (1, 1, TOTAL),
        (1, 37, 37),
        (38, 74, TOTAL),
        (51, 300, 300),
        (100, 250, TOTAL),
        (299, 300, TOTAL),
        (300, 300, 300),
        (101, 100, TOTAL),  # empty range: only the prefix is anchored
        (1, 0, TOTAL),
    ],
)
def test_partial_exports_verify(from_seq: int, to_seq: int, anchor: int) -> None:
    lines = trail().export(from_seq, to_seq, anchor_size=anchor)
    report = verify_export(lines, [VKEY])
    assert_ok(report)
    assert report.entries == to_seq - from_seq + 1
    assert (report.from_seq, report.to_seq, report.anchor_size) == (from_seq, to_seq, anchor)


def test_bytes_lines_blank_lines_and_crlf_are_accepted() -> None:
    lines = trail().export(10, 20)
    as_bytes = [line.replace("\n", "\r\n").encode() for line in lines]
    as_bytes.insert(3, b"\n")
    assert_ok(verify_export(as_bytes, [VKEY]))


def test_keys_from_file_are_flagged() -> None:
    report = verify_export(trail().export(1, 10), None)
    assert_ok(report)
    assert report.keys_from_file
    assert "WEAK" in report.summary()


def test_untrusted_signer_is_rejected() -> None:
    lines = trail().export(1, 40)
    f = failure(verify_export(lines, [STRANGER_VKEY]))
    assert "no signature by a trusted key" in f.message
    assert f.line == 42  # header, 40 entries, then the first checkpoint (size 1)
    assert f.tree_size == 1


def test_key_rotation_checkpoints_signed_by_old_and_new_keys() -> None:
    t = trail()
    rotated = Trail(
        t.entries,
        t.leaf_hashes,
        t.hasher,
        {size: sign_checkpoint(t.hasher, size, [SIGNER, NEXT_SIGNER]) for size in (37, TOTAL)},
    )
    lines = rotated.export(1, 50, keys=[VKEY, NEXT_VKEY])
    assert_ok(verify_export(lines, [NEXT_VKEY]))
    assert_ok(verify_export(lines, [VKEY]))
    assert_ok(verify_export(lines, [STRANGER_VKEY, NEXT_VKEY]))


def test_invalid_trusted_key_is_a_caller_error() -> None:
    with pytest.raises(ValueError, match="verifier key"):
        verify_export(trail().export(1, 5), ["not a key"])


# --------------------------------------------------------------------------------------
# Structural problems


def _header(lines: list[str]) -> dict[str, Any]:
    header: dict[str, Any] = json.loads(lines[0])
    return header


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (lambda h: h.update(format="cyberqms-trail-export/2"), "format"),
        (lambda h: h.update(origin=""), "origin"),
        (lambda h: h.update(verifier_keys="k"), "verifier_keys"),
        (lambda h: h.update(verifier_keys=["bad"]), "verifier key 1"),
        (lambda h: h.update(from_seq=0), "from_seq"),
        (lambda h: h.update(from_seq=True), "from_seq"),
        (lambda h: h.update(to_seq=-5), "to_seq"),
        (lambda h: h.update(prefix=[]), "prefix"),
        (lambda h: h["prefix"].update(size=3), "prefix size"),
        (lambda h: h["prefix"].update(nodes=["AB" * 32] * 3), "hex"),
        (lambda h: h["prefix"].update(nodes=[]), "nodes"),
        (lambda h: h.update(exported_at=5), "exported_at"),
        (lambda h: h.update(extra=1), "unexpected"),
        (lambda h: h.pop("origin"), "missing"),
        (lambda h: h.update(type="entry"), "header"),
    ],
)
def test_malformed_header_is_reported_at_line_1(mutate: Any, problem: str) -> None:
    lines = trail().export(100, 120)
    header = _header(lines)
    mutate(header)
    lines[0] = json.dumps(header) + "\n"
    f = failure(verify_export(lines, [VKEY]))
    assert f.line == 1
    assert problem in f.message


def test_header_without_keys_and_no_trusted_keys() -> None:
    lines = trail().export(1, 5, keys=[])
    assert_ok(verify_export(lines, [VKEY]))
    assert "header lists none" in failure(verify_export(lines, None)).message


def test_prefix_tampering_is_caught_by_the_first_checkpoint() -> None:
    lines = trail().export(51, 120)
    header = _header(lines)
    nodes = header["prefix"]["nodes"]
    nodes[-1] = hashlib.sha256(b"forged").hexdigest()
    lines[0] = json.dumps(header) + "\n"
    f = failure(verify_export(lines, [VKEY]))
    assert f.tree_size == 51
    assert "(50, 51]" in f.message
    assert "prefix" in f.message


@pytest.mark.parametrize(
    ("lines", "problem", "line"),
    [
        ([], "empty", None),
        (["not json\n"], "malformed JSON", 1),
        (["[1, 2]\n"], "not a JSON object", 1),
        (['{"a": 1.5}\n'], "malformed JSON", 1),
    ],
)
def test_degenerate_inputs(lines: list[str], problem: str, line: int | None) -> None:
    f = failure(verify_export(lines, [VKEY]))
    assert problem in f.message
    assert f.line == line


def test_truncated_export_and_trailing_content() -> None:
    lines = trail().export(1, 40)
    without_anchor = lines[:-1]
    assert "no anchor" in failure(verify_export(without_anchor, [VKEY])).message
    only_entries = lines[:21]
    f = failure(verify_export(only_entries, [VKEY]))
    assert f.seq == 21
    assert "missing" in f.message
    f = failure(verify_export([*lines, lines[-1]], [VKEY]))
    assert f.line == len(lines) + 1
    assert "after the anchor" in f.message
    f = failure(verify_export([*lines[:-1], lines[5], lines[-1]], [VKEY]))
    assert "entry line after checkpoint" in f.message
    f = failure(verify_export([*lines[:3], '{"type": "mystery"}\n', *lines[3:]], [VKEY]))
    assert (f.seq, f.line) == (3, 4)


def test_entry_line_shape_errors_are_located() -> None:
    lines = trail().export(1, 10)
    obj = json.loads(lines[4])
    mutations: list[tuple[Callable[[Any], object], str]] = [
        (lambda o: o.update(extra=1), "exactly the fields"),
        (lambda o: o.update(entry=[1]), "JSON object"),
        (lambda o: o["entry"].pop("seq"), "integer 'seq'"),
        (lambda o: o["entry"].update(seq="4"), "integer 'seq'"),
        (lambda o: o.update(leaf_hash=o["leaf_hash"].upper()), "lowercase hex"),
        (lambda o: o["entry"].update(reason="\ud800"), "canonicalized"),
    ]
    for mutate, problem in mutations:
        bad = json.loads(lines[4])
        mutate(bad)
        tampered = [*lines[:4], json.dumps(bad) + "\n", *lines[5:]]
        f = failure(verify_export(tampered, [VKEY]))
        assert (f.seq, f.line) == (4, 5), problem
        assert problem in f.message
    assert obj == json.loads(lines[4])


def test_checkpoint_outside_range_or_out_of_order() -> None:
    t = trail()
    lines = t.export(1, 40)
    cp_lines = [i for i, line in enumerate(lines) if line.startswith('{"type":"checkpoint"')]
    swapped = list(lines)
    swapped[cp_lines[0]], swapped[cp_lines[1]] = swapped[cp_lines[1]], swapped[cp_lines[0]]
    assert "out of order" in failure(verify_export(swapped, [VKEY])).message
    outside = [*lines[:-1], json.dumps({"type": "checkpoint", "note": t.notes[74]}) + "\n"]
    outside.append(lines[-1])
    f = failure(verify_export(outside, [VKEY]))
    assert f.tree_size == 74
    assert "outside the exported range" in f.message


def test_anchor_problems() -> None:
    t = trail()
    lines = t.export(1, 40)
    anchor = json.loads(lines[-1])
    anchor["note"] = t.notes[37]
    anchor["consistency"] = []
    f = failure(verify_export([*lines[:-1], json.dumps(anchor) + "\n"], [VKEY]))
    assert "smaller than to_seq" in f.message
    anchor = json.loads(lines[-1])
    anchor["consistency"] = anchor["consistency"][:-1]
    f = failure(verify_export([*lines[:-1], json.dumps(anchor) + "\n"], [VKEY]))
    assert (f.tree_size, f.line) == (TOTAL, len(lines))
    assert "consistency proof" in f.message
    same = t.export(1, 300, anchor_size=300)
    anchor = json.loads(same[-1])
    anchor["consistency"] = [hashlib.sha256(b"x").hexdigest()]
    f = failure(verify_export([*same[:-1], json.dumps(anchor) + "\n"], [VKEY]))
    assert "empty consistency proof" in f.message


# --------------------------------------------------------------------------------------
# Tamper detection properties

EXPORT_RANGES = [(1, EXPORTED), (51, 230)]


@functools.cache
def cached_export(from_seq: int, to_seq: int) -> tuple[str, ...]:
    return tuple(trail().export(from_seq, to_seq))


export_choice = st.sampled_from(EXPORT_RANGES)
PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@PROPERTY_SETTINGS
@given(export_choice, st.data())
def test_any_value_change_in_an_entry_is_located(
    bounds: tuple[int, int], data: st.DataObject
) -> None:
    from_seq, to_seq = bounds
    lines = list(cached_export(from_seq, to_seq))
    seq = data.draw(st.integers(from_seq, to_seq), label="seq")
    obj = json.loads(lines[seq - from_seq + 1])
    entry = obj["entry"]
    key = data.draw(st.sampled_from(sorted(entry)), label="key")
    value = entry[key]
    new_value: Any
    if isinstance(value, bool):
        new_value = not value
    elif isinstance(value, int):
        new_value = value + data.draw(st.integers(-5, 5).filter(bool), label="delta")
    elif isinstance(value, str) and value:
        i = data.draw(st.integers(0, len(value) - 1), label="char")
        replacement = data.draw(st.characters(codec="utf-8").filter(lambda c: c != value[i]))
        new_value = value[:i] + replacement + value[i + 1 :]
    else:
        new_value = data.draw(
            # values an attacker could write as a valid entry: I-JSON integers only
            st.one_of(st.text(min_size=1), st.integers(-(2**53) + 1, 2**53 - 1), st.none(),
                      st.booleans()).filter(
                lambda v: v != value or type(v) is not type(value)
            ),
            label="replacement",
        )
    entry[key] = new_value
    lines[seq - from_seq + 1] = entry_line(entry, bytes.fromhex(obj["leaf_hash"]))
    f = failure(verify_export(lines, [VKEY]))
    assert f.seq == seq
    assert f.line == seq - from_seq + 2


@PROPERTY_SETTINGS
@given(export_choice, st.data())
def test_any_byte_change_inside_an_entry_is_located(
    bounds: tuple[int, int], data: st.DataObject
) -> None:
    from_seq, to_seq = bounds
    lines = [line.encode() for line in cached_export(from_seq, to_seq)]
    seq = data.draw(st.integers(from_seq, to_seq), label="seq")
    index = seq - from_seq + 1
    line = lines[index]
    start = line.index(b'"entry":') + len(b'"entry":')
    position = data.draw(st.integers(start, len(line) - 3), label="position")
    byte = data.draw(st.integers(0, 255).filter(lambda b: b != line[position]), label="byte")
    mutated = line[:position] + bytes([byte]) + line[position + 1 :]
    lines[index] = mutated
    report = verify_export(lines, [VKEY])
    if report.ok:
        # Only content-preserving edits (e.g. the case of a \\u escape) may pass.
        assert json.loads(mutated)["entry"] == json.loads(line)["entry"]
    else:
        assert failure(report).seq == seq


@PROPERTY_SETTINGS
@given(export_choice, st.data())
def test_deleting_an_entry_is_located(bounds: tuple[int, int], data: st.DataObject) -> None:
    from_seq, to_seq = bounds
    lines = list(cached_export(from_seq, to_seq))
    seq = data.draw(st.integers(from_seq, to_seq), label="deleted seq")
    del lines[seq - from_seq + 1]
    assert failure(verify_export(lines, [VKEY])).seq == seq


@PROPERTY_SETTINGS
@given(export_choice, st.data())
def test_inserting_a_duplicate_is_located(bounds: tuple[int, int], data: st.DataObject) -> None:
    from_seq, to_seq = bounds
    lines = list(cached_export(from_seq, to_seq))
    seqs = list(range(from_seq, to_seq + 1))
    original = data.draw(st.integers(from_seq, to_seq), label="copied seq")
    position = data.draw(st.integers(0, len(seqs)), label="insert position")
    lines.insert(position + 1, lines[original - from_seq + 1])
    seqs.insert(position, original)
    f = failure(verify_export(lines, [VKEY]))
    assert f.seq == expected_failure_seq(seqs, from_seq, to_seq)


@PROPERTY_SETTINGS
@given(export_choice, st.data())
def test_swapping_two_entries_is_located(bounds: tuple[int, int], data: st.DataObject) -> None:
    from_seq, to_seq = bounds
    lines = list(cached_export(from_seq, to_seq))
    a = data.draw(st.integers(from_seq, to_seq - 1), label="first")
    b = data.draw(st.integers(a + 1, to_seq), label="second")
    ia, ib = a - from_seq + 1, b - from_seq + 1
    lines[ia], lines[ib] = lines[ib], lines[ia]
    assert failure(verify_export(lines, [VKEY])).seq == a


@PROPERTY_SETTINGS
@given(export_choice, st.data())
def test_rewriting_an_entry_and_its_hash_is_caught_by_the_next_signed_root(
    bounds: tuple[int, int], data: st.DataObject
) -> None:
    from_seq, to_seq = bounds
    lines = list(cached_export(from_seq, to_seq))
    seq = data.draw(st.integers(from_seq, to_seq), label="seq")
    entry = json.loads(lines[seq - from_seq + 1])["entry"]
    entry["reason"] = entry["reason"] + " (edited)"
    lines[seq - from_seq + 1] = entry_line(entry, leaf_hash(canonical_json(entry)))
    f = failure(verify_export(lines, [VKEY]))
    signed_sizes = sorted(size for size in trail().notes if from_seq <= size <= to_seq)
    covering = [size for size in signed_sizes if size >= seq]
    if covering:
        assert f.tree_size == covering[0]
        assert "root mismatch" in f.message
        previous = max([from_seq - 1, *(s for s in signed_sizes if s < seq)])
        assert f"({previous}, {covering[0]}]" in f.message
    else:
        assert f.tree_size == TOTAL
        assert "consistency proof" in f.message


@PROPERTY_SETTINGS
@given(export_choice, st.data())
def test_altering_a_checkpoint_or_anchor_note_is_located(
    bounds: tuple[int, int], data: st.DataObject
) -> None:
    from_seq, to_seq = bounds
    lines = list(cached_export(from_seq, to_seq))
    signed_lines = [i for i, line in enumerate(lines) if '"note":' in line]
    index = data.draw(st.sampled_from(signed_lines), label="line index")
    obj = json.loads(lines[index])
    note: str = obj["note"]
    position = data.draw(st.integers(0, len(note) - 1), label="position")
    replacement = data.draw(
        st.sampled_from("\n 0123456789abcdefXYZ+/=\u2014").filter(lambda c: c != note[position])
        | st.just(""),
        label="replacement",
    )
    obj["note"] = note[:position] + replacement + note[position + 1 :]
    lines[index] = json.dumps(obj) + "\n"
    f = failure(verify_export(lines, [VKEY]))
    assert f.line == index + 1
    assert f.seq is None


@settings(max_examples=150, deadline=None, database=None)
@given(st.data())
def test_arbitrary_garbage_never_raises(data: st.DataObject) -> None:
    lines: list[str | bytes] = list(cached_export(51, 230))
    position = data.draw(st.integers(0, len(lines)), label="position")
    garbage = data.draw(
        st.text(max_size=60)
        | st.binary(max_size=60)
        | st.builds(
            json.dumps,
            st.dictionaries(
                st.sampled_from(["type", "note", "entry", "leaf_hash", "consistency", "seq"]),
                st.sampled_from(["entry", "checkpoint", "anchor", "header", 1, None, [], {}]),
            ),
        ),
        label="garbage",
    )
    lines.insert(position, garbage)
    report = verify_export(lines, [VKEY])
    assert isinstance(report, Report)
    if not report.ok:
        assert report.first_failure is not None
        assert report.first_failure.message


# --------------------------------------------------------------------------------------
# Writer helpers


def test_writer_validates_its_inputs() -> None:
    with pytest.raises(ValueError, match="from_seq"):
        header_line(origin=ORIGIN, verifier_keys=[VKEY], from_seq=0, to_seq=1, prefix_nodes=[])
    with pytest.raises(ValueError, match="to_seq"):
        header_line(origin=ORIGIN, verifier_keys=[VKEY], from_seq=5, to_seq=1, prefix_nodes=[])
    with pytest.raises(ValueError, match="nodes"):
        header_line(origin=ORIGIN, verifier_keys=[VKEY], from_seq=4, to_seq=9, prefix_nodes=[])
    with pytest.raises(ValueError, match="verifier key"):
        header_line(origin=ORIGIN, verifier_keys=["x"], from_seq=1, to_seq=1, prefix_nodes=[])
    with pytest.raises(TypeError, match="float"):
        entry_line({"seq": 1, "x": 1.5}, bytes(32))
    with pytest.raises(ValueError, match="32 bytes"):
        entry_line({"seq": 1}, b"short")
    line = header_line(origin=ORIGIN, verifier_keys=[VKEY], from_seq=1, to_seq=0, prefix_nodes=[])
    assert json.loads(line)["exported_at"].endswith("Z")
    assert line.isascii()


# --------------------------------------------------------------------------------------
# Command line


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.run(
        [sys.executable, "-m", "cyberqms.platform.trail.verify", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def export_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("exports")
    good = directory / "good.jsonl"
    good.write_text("".join(trail().export(51, 230)), encoding="utf-8")
    lines = trail().export(51, 230)
    del lines[7]  # seq 57
    bad = directory / "bad.jsonl"
    bad.write_text("".join(lines), encoding="utf-8")
    return {"good": good, "bad": bad, "missing": directory / "missing.jsonl"}


def test_cli_intact_export_exits_0(export_files: dict[str, Path]) -> None:
    result = run_cli(str(export_files["good"]), "--key", VKEY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK:")
    assert "180 entries" in result.stdout
    assert "WARNING" not in result.stderr


def test_cli_without_key_warns(export_files: dict[str, Path]) -> None:
    result = run_cli(str(export_files["good"]))
    assert result.returncode == 0
    assert "WARNING" in result.stderr
    assert "--key" in result.stderr


def test_cli_tampered_export_exits_1(export_files: dict[str, Path]) -> None:
    result = run_cli(str(export_files["bad"]), "--key", VKEY)
    assert result.returncode == 1
    assert result.stdout.startswith("FAILED at seq 57")


def test_cli_usage_and_io_errors_exit_2(export_files: dict[str, Path]) -> None:
    assert run_cli().returncode == 2
    missing = run_cli(str(export_files["missing"]), "--key", VKEY)
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr
    bad_key = run_cli(str(export_files["good"]), "--key", "nonsense")
    assert bad_key.returncode == 2
    assert "invalid --key" in bad_key.stderr


def test_main_in_process(export_files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(export_files["good"]), "--key", VKEY, "--key", NEXT_VKEY]) == 0
    assert "intact" in capsys.readouterr().out
    assert main([str(export_files["bad"]), "--key", VKEY]) == 1
    assert "FAILED at seq 57" in capsys.readouterr().out


def test_verifier_never_imports_django(export_files: dict[str, Path]) -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    result = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "cyberqms.platform.trail.verify",
            str(export_files["good"]),
            "--key",
            VKEY,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    imported = [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()]
    assert "cyberqms.platform.trail.verify" in imported or "cyberqms.platform.trail.merkle" in imported
    assert not [name for name in imported if name.split(".")[0] == "django"]
    probe = (
        "import sys, cyberqms.platform.trail.canonical, cyberqms.platform.trail.merkle, "
        "cyberqms.platform.trail.note, cyberqms.platform.trail.verify; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
