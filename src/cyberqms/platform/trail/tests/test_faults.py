"""Faults from outside the process: a killed writer, concurrent writers and sealers, and the
CLI run as an operator runs it. Each child process has its own database or key file."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection

from cyberqms.platform.trail import keys
from cyberqms.platform.trail.integrity import check_trail
from cyberqms.platform.trail.merkle import root_from_leaf_hashes
from cyberqms.platform.trail.models import AuditEntry, Checkpoint, LogHead
from cyberqms.platform.trail.note import open_checkpoint
from cyberqms.platform.trail.tests.tampering import sql
from cyberqms.platform.trail.tests.writers import CYBERQMS, PYTHON, SRC, child_env

# Processes started together on one fresh data directory would race to generate its
# secret_key file (settings.secret: exists() then O_EXCL); that is not what is under test.
_SECRET = {"CYBERQMS_SECRET_KEY": "test-only-secret-for-processes-started-together"}
WRITERS = "cyberqms.platform.trail.tests.writers"


def run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CYBERQMS), *args], env=child_env(data_dir), cwd=SRC.parent,
                          capture_output=True, text=True, timeout=60, check=False)


def _start_together(children: list[subprocess.Popen[str]], go: Path) -> None:
    """Release the children at once, after each has started up and said so."""
    for child in children:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line == "ready\n", child.communicate(timeout=30)[1]
    go.touch()


def _seqs(database: Path) -> list[int]:
    with sqlite3.connect(database) as db:
        return [row[0] for row in db.execute("SELECT seq FROM trail_auditentry ORDER BY seq")]


@pytest.mark.slow
def test_cli_process_exit_status_intact_tampered_and_usage(data_dir: Path) -> None:
    """P11-02, CYB-02: `cyberqms trail verify` as an operator runs it: exit 0 intact,
    1 naming the first bad entry after a direct database edit, 2 with a one-line message
    (never a traceback) for bad arguments."""
    seeded = subprocess.run([PYTHON, "-m", WRITERS, "seed", "6"], env=child_env(data_dir),
                            cwd=SRC.parent, capture_output=True, text=True, timeout=60,
                            check=False)
    assert (seeded.returncode, seeded.stderr) == (0, "")
    database = data_dir / "cyberqms.sqlite3"
    assert _seqs(database) == list(range(1, 9))  # administrator, its role, six sites

    intact = run(data_dir, "trail", "verify")
    assert (intact.returncode, intact.stderr) == (0, "")
    assert intact.stdout.splitlines()[-1] == "INTACT: the audit trail verifies."

    with sqlite3.connect(database) as db:
        db.execute("DROP TRIGGER trail_auditentry_no_update")
        db.execute("UPDATE trail_auditentry SET body = replace(body, 'Site 3', 'Site 8') "
                   "WHERE seq = 6")
    db.close()
    tampered = run(data_dir, "trail", "verify")
    assert tampered.returncode == 1
    assert tampered.stderr.splitlines()[0] == (
        "FAILED: first bad entry: seq 6. entry 6: content altered (hash does not match)"
    )
    assert "Traceback" not in tampered.stderr

    last = _seqs(database)[-1]
    for args, message in (
        (("prove", "0"), f"UsageError: seq must be between 1 and the tree size {last}"),
        (("export", "/nonexistent/trail.jsonl"),
         "UsageError: cannot write /nonexistent/trail.jsonl: No such file or directory"),
    ):
        bad = run(data_dir, "trail", *args)
        assert (bad.returncode, bad.stderr.strip()) == (2, message)


@pytest.mark.slow
def test_sigkill_mid_write_loses_no_acknowledged_entry(data_dir: Path) -> None:
    """AL-08, CYB-02: a writer killed at an arbitrary point leaves a trail that verifies and
    holds every entry whose transaction had committed."""
    child = subprocess.Popen([PYTHON, "-m", WRITERS, "forever", "7"], env=child_env(data_dir),
                             cwd=SRC.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    assert child.stdout is not None
    acknowledged: list[int] = []
    try:
        while len(acknowledged) < 80:
            line = child.stdout.readline()
            assert line, f"writer stopped early: {child.stderr.read() if child.stderr else ''}"
            acknowledged.append(int(line))
    finally:
        os.kill(child.pid, signal.SIGKILL)
        remaining, errors = child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert errors == ""
    acknowledged += [int(line) for line in remaining.splitlines()]

    stored = _seqs(data_dir / "cyberqms.sqlite3")
    assert stored == list(range(1, len(stored) + 1))
    assert set(acknowledged) <= set(stored)
    assert acknowledged == sorted(acknowledged)

    verified = run(data_dir, "trail", "verify", "--json")
    assert (verified.returncode, verified.stderr) == (0, "")
    report = json.loads(verified.stdout)
    assert (report["result"], report["problems"], report["to_seq"]) == (
        "passed", [], stored[-1]
    )
    assert report["checkpoints"] >= 80 // 7
    sealed = run(data_dir, "trail", "checkpoint")
    assert sealed.returncode == 0
    again = run(data_dir, "trail", "verify", "--json")
    assert (again.returncode, json.loads(again.stdout)["unsealed"]) == (0, 0)


def _database_url() -> str:
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    return f"postgresql://{user}{password}@{db['HOST']}:{db['PORT']}/{quote(db['NAME'])}"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_and_sealers_on_postgresql(settings: Any, tmp_path: Path) -> None:
    """AL-07, CYB-02: five processes writing and sealing at once produce seqs 1..N without
    gaps or duplicates and one linear chain of checkpoints that all verify."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite serializes whole transactions)")
    workers, count = 5, 120
    key = tmp_path / "trail.key"
    settings.CYBERQMS_TRAIL_KEY_FILE = key
    keys.signer()
    # No authenticator key yet: the five processes starting together must agree on one.
    mac_key = tmp_path / "trail-authenticator.key"
    settings.CYBERQMS_TRAIL_MAC_KEY_FILE = mac_key
    env = {**os.environ, "DATABASE_URL": _database_url(), "CYBERQMS_TRAIL_KEY_FILE": str(key),
           "CYBERQMS_TRAIL_MAC_KEY_FILE": str(mac_key),
           "CYBERQMS_DATA_DIR": str(tmp_path), "PYTHONPATH": str(SRC),
           "DJANGO_SETTINGS_MODULE": "cyberqms.settings_test", **_SECRET}
    go = tmp_path / "go"
    children = [
        subprocess.Popen([PYTHON, "-m", WRITERS, "burst", str(go), str(worker), str(count),
                          "15"], env=env, cwd=SRC.parent, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for worker in range(workers)
    ]
    _start_together(children, go)
    outputs = [child.communicate(timeout=300) for child in children]
    assert [(child.returncode, err) for child, (_, err) in zip(children, outputs, strict=True)] == (
        [(0, "")] * workers
    )
    written = [int(seq) for out, _ in outputs for seq in out.split()]
    total = workers * count
    assert sorted(written) == list(range(1, total + 1))
    assert list(AuditEntry.objects.values_list("seq", flat=True)) == list(range(1, total + 1))

    leaves = [bytes(row[0]) for row in sql("SELECT leaf_hash FROM trail_auditentry ORDER BY seq")]
    trusted = keys.read_verifier_keys()
    checkpoints = list(Checkpoint.objects.order_by("signed_at", "size"))
    sizes = [cp.size for cp in checkpoints]
    assert sizes == sorted(set(sizes))
    assert sizes[-1] == total
    for cp in checkpoints:
        parsed, _ = open_checkpoint(cp.note, trusted, keys.origin())
        assert (parsed.size, parsed.root_hash) == (cp.size, root_from_leaf_hashes(leaves[:cp.size]))
    assert (LogHead.objects.get().size, bytes(LogHead.objects.get().root)) == (
        total, bytes(checkpoints[-1].root)
    )
    report = check_trail()
    assert (report.ok, report.problems, report.entries) == (True, [], total)


@pytest.mark.slow
def test_processes_starting_together_create_one_signing_key(tmp_path: Path) -> None:
    """CYB-02: web workers and the scheduler starting at once on a fresh install agree on
    one key, and its public half is listed once."""
    key = tmp_path / "keys" / "trail.key"
    go = tmp_path / "go"
    env = child_env(tmp_path, CYBERQMS_TRAIL_KEY_FILE=str(key), **_SECRET)
    children = [
        subprocess.Popen([PYTHON, "-m", WRITERS, "sign", str(go)], env=env, cwd=SRC.parent,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    _start_together(children, go)
    outputs = [child.communicate(timeout=60) for child in children]
    assert [(child.returncode, err) for child, (_, err) in zip(children, outputs, strict=True)] == (
        [(0, "")] * 4
    )
    verifiers = {out for out, _ in outputs}
    assert len(verifiers) == 1
    pub = key.with_name("trail.key.pub").read_text(encoding="ascii")
    assert pub == verifiers.pop()
    assert sorted(p.name for p in key.parent.iterdir()) == ["trail.key", "trail.key.pub"]
    assert os.stat(key).st_mode & 0o777 == 0o600
