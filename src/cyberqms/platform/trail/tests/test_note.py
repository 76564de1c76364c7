"""C2SP signed-note and tlog-checkpoint: known answers, rules, rotation, fuzzing."""

from __future__ import annotations

import base64
import contextlib
import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cyberqms.platform.trail.note import (
    Checkpoint,
    NoteError,
    SignatureError,
    SignerKey,
    UnverifiedNoteError,
    format_checkpoint,
    generate_signer_key,
    is_valid_key_name,
    key_id,
    open_checkpoint,
    open_note,
    parse_checkpoint,
    parse_signer_key,
    parse_time_extension,
    parse_verifier_key,
    sign_note,
    time_extension,
    verifier_key_from_signer,
)

# Known answer from the documentation of golang.org/x/mod/sumdb/note.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_SIG = (
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
)
GO_NOTE = GO_TEXT + "\n\u2014 PeterNeumann " + GO_SIG + "\n"

# Example from the C2SP signed-note specification.
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n\u2014 example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)

NAME = "cyberqms.example/trail"


def fixed_signer(name: str, label: str) -> str:
    """A deterministic signer key (seed derived from ``label``)."""
    seed = hashlib.sha256(label.encode()).digest()
    public = SignerKey(name, b"", seed).public_key()
    return SignerKey(name, key_id(name, public), seed).encode()


OLD_KEY = fixed_signer(NAME, "old")
NEW_KEY = fixed_signer(NAME, "new")
OTHER_KEY = fixed_signer("other.example/log", "other")
ROOT = hashlib.sha256(b"root").digest()


def test_go_known_answer_sign_and_open() -> None:
    assert verifier_key_from_signer(GO_SKEY) == GO_VKEY
    assert parse_signer_key(GO_SKEY).encode() == GO_SKEY
    assert sign_note(GO_TEXT, [GO_SKEY]) == GO_NOTE
    opened = open_note(GO_NOTE, [GO_VKEY])
    assert opened.text == GO_TEXT
    assert opened.signer_names == ("PeterNeumann+c74f20a3",)
    assert opened.unverified_signatures == ()


def test_spec_example_key_and_note() -> None:
    key = parse_verifier_key(SPEC_VKEY)
    assert (key.name, key.key_id.hex()) == ("example.com/foo", "530d903a")
    assert key.encode() == SPEC_VKEY == str(key)
    assert open_note(SPEC_NOTE, [SPEC_VKEY]).text == "This is an example message.\n"


def test_key_id_definition() -> None:
    key = parse_verifier_key(GO_VKEY)
    expected = hashlib.sha256(b"PeterNeumann\n\x01" + key.public_key).digest()[:4]
    assert key_id("PeterNeumann", key.public_key) == expected == key.key_id


def test_generated_keys_round_trip_and_hide_the_seed() -> None:
    signer = generate_signer_key(NAME)
    assert signer.startswith(f"PRIVATE+KEY+{NAME}+")
    verifier = verifier_key_from_signer(signer)
    parsed = parse_verifier_key(verifier)
    assert parsed.name == NAME
    assert parsed.key_id.hex() == signer.split("+")[3]
    assert "seed" not in repr(parse_signer_key(signer))
    assert generate_signer_key(NAME) != signer
    note = sign_note("hello\n", [signer])
    assert open_note(note, [verifier]).text == "hello\n"


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("", "form"),
        ("name-only", "form"),
        ("bad name+c74f20a3+AAAA", "key name"),
        ("a+b+c74f20a3+AAAA", "key id"),
        ("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "key id"),
        ("PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "key id"),
        ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "does not match"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T", "base64"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy", "33 bytes"),
        ("PeterNeumann+c74f20a3+Apc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWA", "type"),
    ],
)
def test_malformed_verifier_keys(key: str, problem: str) -> None:
    with pytest.raises(NoteError, match=problem):
        parse_verifier_key(key)


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", "PRIVATE"),
        ("PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", "match"),
        ("PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr", "33 bytes"),
        ("PRIVATE+KEY+Peter Neumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr", "key name"),
    ],
)
def test_malformed_signer_keys(key: str, problem: str) -> None:
    with pytest.raises(NoteError, match=problem):
        parse_signer_key(key)


def test_malformed_keys_never_echo_the_secret() -> None:
    secret = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
    with pytest.raises(NoteError) as info:
        parse_signer_key(f"PRIVATE+KEY+PeterNeumann+00000000+{secret}")
    assert secret not in str(info.value)


def test_key_name_rules() -> None:
    assert is_valid_key_name("example.com/log-1")
    for bad in ["", "a b", "a+b", "a\u00a0b", "a\tb", "a\u2003b", "a\x00b", "\ud800"]:
        assert not is_valid_key_name(bad)
    with pytest.raises(NoteError, match="invalid key name"):
        generate_signer_key("with space")


def test_sign_note_preconditions() -> None:
    with pytest.raises(NoteError, match="newline"):
        sign_note("no newline", [OLD_KEY])
    with pytest.raises(NoteError, match="control character"):
        sign_note("tab\there\n", [OLD_KEY])
    with pytest.raises(NoteError, match="at least one"):
        sign_note("text\n", [])


def test_key_rotation_any_trusted_key_suffices() -> None:
    note = sign_note("rotating\n", [OLD_KEY, NEW_KEY, OLD_KEY])
    assert note.count("\u2014 ") == 2  # duplicate signer dropped
    old_v, new_v = verifier_key_from_signer(OLD_KEY), verifier_key_from_signer(NEW_KEY)
    assert len(open_note(note, [old_v]).signatures) == 1
    assert len(open_note(note, [new_v]).unverified_signatures) == 1
    assert len(open_note(note, [old_v, new_v]).signatures) == 2
    with pytest.raises(UnverifiedNoteError, match="no signature by a trusted key"):
        open_note(note, [verifier_key_from_signer(OTHER_KEY)])


def test_unknown_signatures_are_ignored_but_bad_known_ones_reject() -> None:
    text = "text\n"
    signed = sign_note(text, [OLD_KEY])
    foreign = sign_note(text, [OTHER_KEY]).split("\n\n", 1)[1]
    combined = signed + foreign
    opened = open_note(combined, [verifier_key_from_signer(OLD_KEY)])
    assert [s.name for s in opened.unverified_signatures] == ["other.example/log"]

    name, blob = signed.split("\n\n", 1)[1].removeprefix("\u2014 ").split(" ")
    raw = bytearray(base64.b64decode(blob))
    raw[10] ^= 1
    forged = text + f"\n\u2014 {name} {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(SignatureError, match="invalid signature"):
        open_note(forged, [verifier_key_from_signer(OLD_KEY)])
    with pytest.raises(SignatureError):
        open_note(signed.replace("text", "test"), [verifier_key_from_signer(OLD_KEY)])


def test_note_text_may_contain_blank_lines() -> None:
    text = "para one\n\npara two\n\n"
    note = sign_note(text, [OLD_KEY])
    assert open_note(note, [verifier_key_from_signer(OLD_KEY)]).text == text


def test_ambiguous_verifier_list_is_rejected() -> None:
    good = parse_verifier_key(GO_VKEY)
    evil = type(good)(good.name, good.key_id, bytes(32))
    with pytest.raises(NoteError, match="ambiguous"):
        open_note(GO_NOTE, [good, evil])


@pytest.mark.parametrize(
    ("note", "problem"),
    [
        ("no signatures\n", "blank line"),
        ("text\n\n", "signature lines"),
        ("text\n\n\u2014 PeterNeumann " + GO_SIG, "signature lines"),
        ("text\n\n- PeterNeumann " + GO_SIG + "\n", "em dash"),
        ("text\n\n\u2014 PeterNeumann\n", "key name"),
        ("text\n\n\u2014 Peter+Neumann " + GO_SIG + "\n", "key name"),
        ("text\n\n\u2014 PeterNeumann !!!!\n", "base64"),
        ("text\n\n\u2014 PeterNeumann AAAA\n", "too short"),
        ("te\x01xt\n\n\u2014 PeterNeumann " + GO_SIG + "\n", "control character"),
        ("te\ud800xt\n\n\u2014 PeterNeumann " + GO_SIG + "\n", "surrogate"),
        ("text\n\n" + ("\u2014 a AAAAAAAAAAAAAAAAAAAA\n" * 101), "more than 100"),
    ],
)
def test_malformed_notes(note: str, problem: str) -> None:
    with pytest.raises(NoteError, match=problem):
        open_note(note, [GO_VKEY])


def test_checkpoint_round_trip_with_time_extension() -> None:
    when = datetime(2025, 3, 4, 5, 6, 7, 120000, tzinfo=UTC)
    text = format_checkpoint(NAME, 1234, ROOT, [time_extension(when), "other ext"])
    assert text == (
        f"{NAME}\n1234\n{base64.b64encode(ROOT).decode()}\n"
        "time 2025-03-04T05:06:07.12Z\nother ext\n"
    )
    checkpoint = parse_checkpoint(text)
    assert checkpoint == Checkpoint(NAME, 1234, ROOT, ("time 2025-03-04T05:06:07.12Z", "other ext"))
    assert checkpoint.time == when
    assert checkpoint.text() == text
    note = sign_note(text, [OLD_KEY])
    opened_cp, opened = open_checkpoint(note, [verifier_key_from_signer(OLD_KEY)], origin=NAME)
    assert opened_cp == checkpoint
    assert opened.text == text
    with pytest.raises(NoteError, match="origin"):
        open_checkpoint(note, [verifier_key_from_signer(OLD_KEY)], origin="elsewhere")


def test_checkpoint_without_time_and_empty_tree() -> None:
    checkpoint = parse_checkpoint(format_checkpoint(NAME, 0, ROOT))
    assert checkpoint.size == 0
    assert checkpoint.time is None


def test_time_extension_helpers() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert time_extension(datetime(2025, 1, 1, 2, 0, tzinfo=plus_two)) == (
        "time 2025-01-01T00:00:00Z"
    )
    assert parse_time_extension("time 2025-01-01T00:00:00.5Z") == datetime(
        2025, 1, 1, 0, 0, 0, 500000, tzinfo=UTC
    )
    with pytest.raises(NoteError, match="timezone-aware"):
        time_extension(datetime(2025, 1, 1))  # noqa: DTZ001 - testing the rejection
    for bad in [
        "time 2025-01-01 00:00:00Z",
        "time 2025-01-01T00:00:00+00:00",
        "time 2025-13-01T00:00:00Z",
        "time 2025-01-01T00:00:00.1234567Z",
        "tim 2025-01-01T00:00:00Z",
    ]:
        with pytest.raises(NoteError):
            parse_time_extension(bad)
    with pytest.raises(NoteError, match="time extension"):
        _ = Checkpoint(NAME, 1, ROOT, ("time yesterday",)).time


def _non_canonical_base64(data: bytes) -> str:
    """Same bytes, but with a non-zero padding bit in the last base64 digit."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    text = base64.b64encode(data).decode()
    last = alphabet[alphabet.index(text[-2]) ^ 1]
    mangled = text[:-2] + last + "="
    assert base64.b64decode(mangled) == data
    return mangled


NON_CANONICAL_ROOT = _non_canonical_base64(ROOT)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("origin\n1\n", "origin, size and root"),
        (f"origin\n1\n{base64.b64encode(ROOT).decode()}", "end with a newline"),
        (f"origin\n01\n{base64.b64encode(ROOT).decode()}\n", "leading zeros"),
        (f"origin\n+1\n{base64.b64encode(ROOT).decode()}\n", "decimal"),
        (f"origin\n\u0661\n{base64.b64encode(ROOT).decode()}\n", "decimal"),
        (f"origin\n1_0\n{base64.b64encode(ROOT).decode()}\n", "decimal"),
        (f"origin\n{2**63}\n{base64.b64encode(ROOT).decode()}\n", "exceeds"),
        (f"origin\n1\n{base64.b64encode(ROOT[:31]).decode()}\n", "32 bytes"),
        (f"origin\n1\n{NON_CANONICAL_ROOT}\n", "canonical"),
        (f"origin\n1\n{base64.b64encode(ROOT).decode()}\n\n", "empty"),
        (f"\n1\n{base64.b64encode(ROOT).decode()}\n", "empty"),
        (f"origin\n1\n{base64.b64encode(ROOT).decode()}\nbad\x7f\x1b\n", "control"),
    ],
)
def test_malformed_checkpoints(text: str, problem: str) -> None:
    with pytest.raises(NoteError, match=problem):
        parse_checkpoint(text)


def test_format_checkpoint_validation() -> None:
    with pytest.raises(NoteError, match="origin"):
        format_checkpoint("", 1, ROOT)
    with pytest.raises(NoteError, match="newline"):
        format_checkpoint("a\nb", 1, ROOT)
    with pytest.raises(NoteError, match="size"):
        format_checkpoint(NAME, -1, ROOT)
    with pytest.raises(NoteError, match="size"):
        format_checkpoint(NAME, True, ROOT)
    with pytest.raises(NoteError, match="32-byte"):
        format_checkpoint(NAME, 1, ROOT[:16])
    with pytest.raises(NoteError, match="extension"):
        format_checkpoint(NAME, 1, ROOT, [""])
    with pytest.raises(NoteError, match="sequence of lines"):
        format_checkpoint(NAME, 1, ROOT, "time x")


# --------------------------------------------------------------------------------------
# Fuzzing: arbitrary input raises ValueError (NoteError) and nothing else.

VALID_NOTE = sign_note(format_checkpoint(NAME, 42, ROOT, ["time 2025-01-01T00:00:00Z"]), [OLD_KEY])
VERIFIERS = [verifier_key_from_signer(OLD_KEY), GO_VKEY]


def _open_and_parse(text: str) -> None:
    try:
        opened = open_note(text, VERIFIERS)
    except NoteError:
        pass
    else:
        parse_checkpoint(opened.text)
    try:
        checkpoint = parse_checkpoint(text)
    except NoteError:
        return
    with contextlib.suppress(NoteError):
        _ = checkpoint.time


@settings(max_examples=500, deadline=None, database=None)
@given(st.text())
def test_fuzz_arbitrary_text_raises_only_value_error(text: str) -> None:
    with contextlib.suppress(ValueError):
        _open_and_parse(text)


@settings(max_examples=500, deadline=None, database=None)
@given(
    st.integers(min_value=0, max_value=len(VALID_NOTE)),
    st.integers(min_value=0, max_value=4),
    st.text(alphabet=st.sampled_from("\n \u2014+=/Aa0\x00\ud800\U0001f600"), max_size=3)
    | st.text(max_size=3),
)
def test_fuzz_mutated_notes_raise_only_value_error(pos: int, cut: int, insert: str) -> None:
    mutated = VALID_NOTE[:pos] + insert + VALID_NOTE[pos + cut :]
    try:
        opened = open_note(mutated, VERIFIERS)
    except ValueError:
        return
    # Whatever still verifies must be byte-identical signed text.
    assert opened.text == VALID_NOTE.split("\n\n")[0] + "\n"
    parse_checkpoint(opened.text)


@settings(max_examples=300, deadline=None, database=None)
@given(st.text())
def test_fuzz_key_parsers_raise_only_value_error(text: str) -> None:
    for parser in (parse_verifier_key, parse_signer_key):
        with contextlib.suppress(ValueError):
            parser(text)
