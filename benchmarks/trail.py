"""Speed of the audit trail on a real database: verification, write overhead, proofs.

Runs against a fresh SQLite database in a temporary directory, set up by the production
settings module (`cyberqms.settings`: WAL, IMMEDIATE transactions, synchronous=FULL unless
CYBERQMS_SQLITE_SYNCHRONOUS or --synchronous says NORMAL; all migrations, so the
append-only triggers too), plus a benchmark-only app
(`benchmarks/benchapp`) and django-simple-history for comparison. Prints one table;
figures are for comparison between runs on one machine, never asserted in tests.

1. Full verification (`check_trail(reconcile=False)`) of entries written through
   `audit_record` and sealed every 1000 entries, against the in-process ceiling:
   canonicalize + leaf-hash the same entries held in memory.
2. Write-path overhead of one create / one update per transaction: plain model vs the
   same model audited through a service vs the same model with simple-history.
3. Inclusion and consistency proofs at 10**4, 10**5 and 10**6 entries, served from the
   database with the TreeNode cache the sealer wrote. Entries beyond those written in
   step 1 are synthetic: valid rows (canonical body, its leaf hash and authenticator,
   matching columns) bulk-inserted with raw SQL, then sealed. Median and p99 of the wall
   time, and of each proof's own time: the wall time less the time it waited for a CPU
   another process held (on Linux), the scheduler slices that make the wall-clock tail of
   a sub-millisecond call on a loaded machine.

    .venv/bin/python benchmarks/trail.py            # default, about 2-3 minutes
    .venv/bin/python benchmarks/trail.py --quick    # about 30 seconds, proofs up to 10**5
    .venv/bin/python benchmarks/trail.py --profile  # plus cProfile of the hot paths
    .venv/bin/python benchmarks/trail.py --writes --synchronous NORMAL  # step 2 only
    .venv/bin/python benchmarks/trail.py --proofs   # step 3 only, up to 10**6, ~2-3 minutes
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import decimal
import gc
import hashlib
import io
import json
import os
import platform
import pstats
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))  # benchapp

SEAL_EVERY = 1000  # entries per transaction and per checkpoint: ~per-second sealing
WORDS = (
    "deviation", "temperature", "excursion", "cold", "room", "batch", "release", "label",
    "mix-up", "calibration", "overdue", "supplier", "audit", "finding", "root", "cause",
    "analysis", "corrective", "action", "effectiveness", "check", "training", "record",
    "cleaning", "validation", "out", "of", "specification", "result", "sterility",
    "environmental", "monitoring", "alert", "limit", "exceeded", "filter", "integrity", "test",
    "failed",
)
STATES = ("draft", "open", "investigating", "pending_approval", "implemented", "closed")
OWNERS = ("Dr. Helena Brandt", "Jonas Weber", "Aylin Kaya", "Marta Nowak", "Pierre Martin")
REASONS = (
    "Investigation completed, root cause confirmed",
    "Corrected after QA review",
    "Due date moved: supplier delay documented in CC-2026-0142",
    "Effectiveness check passed",
    "Quantity recounted on the floor",
)


# --- setup ---------------------------------------------------------------------------------


def setup_django(data_dir: Path) -> None:
    """Production settings on a fresh data directory, plus the benchmark apps."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "cyberqms.settings"
    os.environ["CYBERQMS_DATA_DIR"] = str(data_dir)
    os.environ["CYBERQMS_ENV"] = "development"
    for name in ("DATABASE_URL", "CYBERQMS_TRAIL_KEY_FILE", "CYBERQMS_SECRET_KEY"):
        os.environ.pop(name, None)
    import django
    from django.conf import settings

    settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "simple_history", "benchapp"]
    django.setup()
    from django.core.management import call_command

    call_command("migrate", run_syncdb=True, verbosity=0)


def make_actors() -> list[Any]:
    from cyberqms.platform.accounts.models import User

    return [
        User.objects.create(username=f"user{i}", full_name=name)
        for i, name in enumerate(OWNERS)
    ]


def sentence(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high))).capitalize()


def field_value(name: str, rng: random.Random) -> Any:
    if name == "title":
        return sentence(rng, 3, 6)
    if name == "state":
        return rng.choice(STATES)
    if name == "description":
        return sentence(rng, 8, 30)
    if name == "owner":
        return rng.choice(OWNERS)
    if name == "quantity":
        return rng.randint(0, 50_000)
    if name == "amount":
        return decimal.Decimal(rng.randint(0, 10**8)).scaleb(-2)
    if name == "due":
        return dt.date(2026, 1, 1) + dt.timedelta(days=rng.randint(0, 700))
    if name == "occurred_at":
        start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        return start + dt.timedelta(microseconds=rng.randint(0, 400 * 86_400 * 10**6))
    raise KeyError(name)


FIELDS = ("title", "state", "description", "owner", "quantity", "amount", "due", "occurred_at")
POOL_BITS = 10
OPS = ("create", "update")


class Data:
    """Record values drawn from pre-generated pools: generating them costs little time."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        size = 1 << POOL_BITS
        self.pools = {name: [field_value(name, rng) for _ in range(size)] for name in FIELDS}
        self.changes = [rng.sample(FIELDS, rng.randint(3, 6)) for _ in range(size)]

    def pick(self, name: str, pk: int) -> Any:
        value = self.pools[name][self.rng.getrandbits(POOL_BITS)]
        return f"DEV-2026-{pk:05d} {value}" if name == "title" else value

    def record(self, pk: int) -> dict[str, Any]:
        """All fields of a new record."""
        return {name: self.pick(name, pk) for name in FIELDS}

    def change(self, pk: int) -> dict[str, Any]:
        """3-6 fields of an update."""
        names = self.changes[self.rng.getrandbits(POOL_BITS)]
        return {name: self.pick(name, pk) for name in names}


def request_context(rng: random.Random) -> Any:
    from cyberqms.platform.core.context import RequestContext

    return RequestContext(
        channel="web",
        source_ip=f"10.20.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        session_ref=f"{rng.getrandbits(64):016x}",
    )


# --- 1. full verification --------------------------------------------------------------------


def write_trail(count: int, actors: list[Any], data: Data) -> float:
    """`count` entries through `audit_record` (10 % creations, the rest change 3-6 fields).

    The records are never saved: `audit_record` needs only their state, and the run
    verifies without reconciliation. Returns entries per second including the seals.
    """
    from benchapp.models import Audited
    from django.db import transaction

    from cyberqms.platform.core.context import acting_context
    from cyberqms.platform.trail.log import trail_seal
    from cyberqms.platform.trail.record import audit_record, snapshot

    rng = data.rng
    records: list[Any] = []
    started = time.perf_counter()
    done = 0
    while done < count:
        with transaction.atomic():
            for _ in range(min(SEAL_EVERY, count - done)):
                actor = rng.choice(actors)
                with acting_context(request_context(rng)):
                    if not records or rng.random() < 0.1:
                        pk = len(records) + 1
                        record = Audited(pk=pk, **data.record(pk))
                        records.append(record)
                        audit_record("bench.audited.create", record, actor=actor, created=True)
                    else:
                        record = rng.choice(records)
                        before = snapshot(record)
                        for name, value in data.change(record.pk).items():
                            setattr(record, name, value)
                        audit_record(
                            "bench.audited.update", record, actor=actor, before=before,
                            reason=rng.choice(REASONS),
                        )
                done += 1
        trail_seal()
    return count / (time.perf_counter() - started)


def time_verification(count: int, rounds: int) -> dict[str, float]:
    """Full verification against the in-process ceiling, rounds interleaved, best of each.

    ceiling: `canonical_json` + SHA-256 over the same entries, parsed and held in memory
    (re-deriving every leaf hash from the entry's fields, with no I/O and no checks).
    fetch: the bare SQLite read of the rows and columns verification reads.
    """
    from django.db import connection

    from cyberqms.platform.trail.canonical import canonical_json
    from cyberqms.platform.trail.integrity import check_trail

    with connection.cursor() as cursor:
        cursor.execute("SELECT body, leaf_hash FROM trail_auditentry ORDER BY seq")
        rows = cursor.fetchall()
    body_bytes = statistics.fmean(len(body.encode()) for body, _ in rows)
    entries = [json.loads(body) for body, _ in rows]
    sha = hashlib.sha256
    for entry, (_, stored) in zip(entries[:2000], rows, strict=False):
        if sha(b"\x00" + canonical_json(entry)).digest() != bytes(stored):
            raise SystemExit("the ceiling loop does not reproduce the stored leaf hashes")
    del rows
    # Millions of long-lived objects: keep the collector from rescanning them during
    # the timed verification rounds.
    gc.freeze()

    def verify() -> None:
        report = check_trail(reconcile=False)
        if not report.ok or report.entries != count:
            raise SystemExit(f"verification failed: {report.entries} entries, {report.first}")

    def ceiling() -> None:
        for entry in entries:
            sha(b"\x00" + canonical_json(entry)).digest()

    def fetch() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT seq, leaf_hash, body, at, actor_id, action, object_type, object_id, "
                "state_hash, correlation_id FROM trail_auditentry WHERE seq > 0 ORDER BY seq"
            )
            while cursor.fetchmany(20_000):
                pass

    best = {"verify": float("inf"), "ceiling": float("inf"), "fetch": float("inf")}
    try:
        for _ in range(rounds):
            for name, run in (("verify", verify), ("ceiling", ceiling), ("fetch", fetch)):
                started = time.perf_counter()
                run()
                best[name] = min(best[name], time.perf_counter() - started)
    finally:
        gc.unfreeze()
    rates = {name: len(entries) / seconds for name, seconds in best.items()}
    return {**rates, "body_bytes": body_bytes}


# --- 2. write path -----------------------------------------------------------------------


def time_writes(ops: int, rounds: int, actor: Any, data: Data) -> dict[str, list[float]]:
    """µs per create and per update (each its own transaction): mean per round, median over rounds.

    The three variants take turns op by op (create i of each, in an order that rotates
    with i; then update i of each), so a burst of load from elsewhere on a shared machine
    hits all three alike; in blocks of hundreds of ops per variant one variant could
    absorb a whole burst. Means, not medians, so the WAL checkpoints that SQLite runs in
    whichever commit crosses its threshold are counted. Everything runs inside one request
    context, as services do behind the middleware (without one, `current_context()` makes
    a fresh context per call).
    """
    from benchapp import services

    from cyberqms.platform.core.context import acting_context

    def plain_create(values: dict[str, Any]) -> Any:
        return services.plain_create(**values)

    def plain_update(record: Any, values: dict[str, Any], reason: str) -> Any:
        return services.plain_update(record, **values)

    def audited_create(values: dict[str, Any]) -> Any:
        return services.audited_create(actor=actor, **values)

    def audited_update(record: Any, values: dict[str, Any], reason: str) -> Any:
        return services.audited_update(record, actor=actor, reason=reason, **values)

    def historied_create(values: dict[str, Any]) -> Any:
        return services.historied_create(actor=actor, **values)

    def historied_update(record: Any, values: dict[str, Any], reason: str) -> Any:
        return services.historied_update(record, actor=actor, reason=reason, **values)

    variants: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
        "plain": (plain_create, plain_update),
        "audited": (audited_create, audited_update),
        "simple-history": (historied_create, historied_update),
    }
    names = list(variants)
    turns = [names[i:] + names[:i] for i in range(len(names))]
    samples: dict[str, list[float]] = {f"{v} {op}": [] for v in variants for op in OPS}
    clock = time.perf_counter
    with acting_context(request_context(data.rng)):
        for round_no in range(rounds + 1):  # round 0 warms up and is discarded
            creates = [data.record(i) for i in range(ops)]
            updates = [data.change(i) for i in range(ops)]
            reasons = [data.rng.choice(REASONS) for _ in range(ops)]
            spent = dict.fromkeys(samples, 0.0)
            made: dict[str, list[Any]] = {name: [] for name in names}
            for i, values in enumerate(creates):
                for name in turns[i % len(turns)]:
                    create = variants[name][0]
                    started = clock()
                    made[name].append(create(values))
                    spent[f"{name} create"] += clock() - started
            for i, (values, reason) in enumerate(zip(updates, reasons, strict=True)):
                for name in turns[i % len(turns)]:
                    update, record = variants[name][1], made[name][i]
                    started = clock()
                    update(record, values, reason)
                    spent[f"{name} update"] += clock() - started
            if round_no:
                for key, seconds in spent.items():
                    samples[key].append(seconds / ops * 1e6)
    return samples


# --- 3. proofs -----------------------------------------------------------------------------


def bulk_insert_synthetic(target: int, data: Data, chunk: int = 100_000) -> None:
    """Append valid entries up to `target` with raw INSERTs, sealing after each chunk.

    Bodies have the shape `audit_record` writes (changes drawn from the same pools) and
    the columns agree with them, so sealing accepts them and verification would pass.
    """
    from django.db import connection, transaction

    from cyberqms.platform.trail.canonical import canonical_json_prevalidated
    from cyberqms.platform.trail.log import max_seq, trail_seal
    from cyberqms.platform.trail.mac import mac_keys
    from cyberqms.platform.trail.record import ENTRY_VERSION
    from cyberqms.platform.trail.registry import to_json_value

    sql = (
        "INSERT INTO trail_auditentry (seq, at, actor_id, action, object_type, object_id, "
        "state_hash, correlation_id, leaf_hash, body, mac) VALUES (%s, %s, %s, %s, %s, %s, %s, "
        "%s, %s, %s, %s)"
    )
    authenticator = mac_keys().authenticator
    rng = data.rng
    size = 1 << POOL_BITS
    changes = [
        {name: [to_json_value(data.pick(name, 1)), to_json_value(data.pick(name, 1))]
         for name in data.changes[i]}
        for i in range(size)
    ]
    start = dt.datetime(2026, 3, 1)  # naive UTC, as Django stores datetimes in SQLite
    first = max_seq() + 1
    while first <= target:
        last = min(first + chunk - 1, target)
        rows = []
        for seq in range(first, last + 1):
            at = start + dt.timedelta(milliseconds=seq * 37)
            pk = seq % 20_000 + 1
            actor = seq % len(OWNERS)
            correlation = f"{rng.getrandbits(128):032x}"
            digest = hashlib.sha256(seq.to_bytes(8)).hexdigest()
            entry = {
                "v": ENTRY_VERSION,
                "seq": seq,
                "at": at.isoformat(timespec="microseconds") + "Z",
                "actor": {"id": actor + 1, "name": OWNERS[actor], "username": f"user{actor}"},
                "action": "bench.audited.update",
                "object": {"type": "bench.audited", "id": str(pk), "label": f"DEV-2026-{pk:05d}"},
                "changes": changes[seq % size],
                "reason": REASONS[seq % len(REASONS)],
                "correlation": correlation,
                "signature": None,
                "context": {"channel": "web", "source": "10.20.0.1", "session": None,
                            "token": None},
                "state": digest,
            }
            # Built from str/int/None only, so the domain walk of canonical_json is moot.
            body = canonical_json_prevalidated(entry)
            leaf = hashlib.sha256(b"\x00" + body).digest()
            rows.append((
                seq, str(at), actor + 1, "bench.audited.update", "bench.audited", str(pk), digest,
                correlation, leaf, body.decode(), authenticator(leaf),
            ))
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, rows)
        trail_seal()
        first = last + 1


def cpu_wait() -> float:
    """Seconds this thread has spent runnable but waiting for a CPU that another process
    held (Linux scheduler statistics; 0 where the kernel does not say)."""
    try:
        with open("/proc/thread-self/schedstat", encoding="ascii") as stats:
            return int(stats.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def time_proofs(size: int, samples: int, rng: random.Random) -> dict[str, float]:
    """Milliseconds per proof: wall time, and its own time (wall time less the time it
    waited for a CPU held by another process: on a loaded machine that wait, a whole
    scheduler slice of several ms, is what makes the wall-clock tail)."""
    from cyberqms.platform.trail.log import prove_consistency, prove_inclusion
    from cyberqms.platform.trail.merkle import verify_consistency, verify_inclusion
    from cyberqms.platform.trail.models import AuditEntry, Checkpoint

    root = bytes(Checkpoint.objects.get(size=size).root)
    # The first picks use older checkpoints' sizes, so their proofs can be verified.
    signed = {c.size: bytes(c.root) for c in Checkpoint.objects.filter(size__lt=size)}
    checked = rng.sample(sorted(signed), min(20, len(signed)))
    out: dict[str, float] = {}
    for kind in ("inclusion", "consistency"):
        times: list[float] = []
        waits: list[float] = []
        for i in range(samples):
            waited = cpu_wait()
            if kind == "inclusion":
                seq = rng.randint(1, size)
                started = time.perf_counter()
                proof = prove_inclusion(seq, size)
                times.append(time.perf_counter() - started)
                waits.append(cpu_wait() - waited)
                if i < 20:
                    leaf = bytes(AuditEntry.objects.get(seq=seq).leaf_hash)
                    if not verify_inclusion(leaf, seq - 1, size, proof, root):
                        raise SystemExit(f"inclusion proof {seq}/{size} does not verify")
            else:
                old = checked[i] if i < len(checked) else rng.randint(1, size - 1)
                started = time.perf_counter()
                proof = prove_consistency(old, size)
                times.append(time.perf_counter() - started)
                waits.append(cpu_wait() - waited)
                if i < len(checked) and not verify_consistency(
                    old, size, signed[old], root, proof
                ):
                    raise SystemExit(f"consistency proof {old}->{size} does not verify")
        own = sorted(max(0.0, t - w) for t, w in zip(times, waits, strict=True))
        times.sort()
        out[f"{kind} median"] = statistics.median(times) * 1000
        out[f"{kind} p99"] = percentile(times, 0.99) * 1000
        out[f"{kind} own median"] = statistics.median(own) * 1000
        out[f"{kind} own p99"] = percentile(own, 0.99) * 1000
        out[f"{kind} waited"] = sum(w > 1e-4 for w in waits) / samples
    return out


# --- profile and report -------------------------------------------------------------------


def profile(label: str, call: Callable[[], Any], lines: int = 14) -> None:
    profiler = cProfile.Profile()
    profiler.runcall(call)
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(lines)
    body = text.getvalue()
    print(f"\n--- cProfile: {label} (by own time) ---")
    print(body[body.find("   ncalls"):].rstrip())


def ok(passed: bool | None) -> str:
    return "-" if passed is None else ("yes" if passed else "NO")


def print_table(rows: list[tuple[str, str, str, str]]) -> None:
    header = ("metric", "value", "goal", "ok?")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    print()
    print(" | ".join(cell.ljust(w) for cell, w in zip(header, widths, strict=True)).rstrip())
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


class Phases:
    """Wall time per phase, for the footer."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._mark = time.perf_counter()

    def done(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = now - self._mark
        self._mark = now

    def __str__(self) -> str:
        parts = ", ".join(f"{name} {secs:.0f} s" for name, secs in self.seconds.items())
        return f"{parts}; total {sum(self.seconds.values()):.0f} s"


def write_rows(write_ops: int, median: dict[str, float]) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    for op in OPS:
        plain = median[f"plain {op}"]
        audited = median[f"audited {op}"]
        history = median[f"simple-history {op}"]
        rows += [
            (f"{op}: plain", f"{plain:,.0f} µs/op", "", "-"),
            (f"{op}: audited (service + audit_record)", f"{audited:,.0f} µs/op", "", "-"),
            (f"{op}: simple-history", f"{history:,.0f} µs/op", "", "-"),
            (f"{op}: audited / plain", f"{audited / plain:.2f}x", "<= 1.50x",
             ok(audited / plain <= 1.5)),
            (f"{op}: simple-history / plain", f"{history / plain:.2f}x", "", "-"),
        ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, about 30 s")
    parser.add_argument("--entries", type=int, help="entries to verify (default 200000)")
    parser.add_argument("--profile", action="store_true", help="cProfile the hot paths")
    parser.add_argument(
        "--writes", action="store_true",
        help="only the write-path comparison, after a trail of --entries (default 20000) "
        "entries; about a minute",
    )
    parser.add_argument(
        "--proofs", action="store_true",
        help="only the proofs (up to 10**5 with --quick), after a trail of --entries "
        "(default 20000) entries",
    )
    parser.add_argument(
        "--synchronous", choices=("FULL", "NORMAL"), type=str.upper,
        help="SQLite synchronous mode (default: CYBERQMS_SQLITE_SYNCHRONOUS, else FULL)",
    )
    args = parser.parse_args()
    if args.synchronous:
        os.environ["CYBERQMS_SQLITE_SYNCHRONOUS"] = args.synchronous
    synchronous = os.environ.get("CYBERQMS_SQLITE_SYNCHRONOUS", "FULL").upper()
    entries = args.entries or (20_000 if args.quick or args.writes or args.proofs else 200_000)
    write_ops, write_rounds = (500, 3) if args.quick else (800, 5)
    proof_sizes = [10**4, 10**5] if args.quick else [10**4, 10**5, 10**6]
    proof_samples = 200 if args.quick else 500
    rng = random.Random(20261121)

    phases = Phases()
    data_dir = Path(tempfile.mkdtemp(prefix="cyberqms-bench-"))
    try:
        setup_django(data_dir)
        print(
            f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
            f"{os.cpu_count()} CPUs ({platform.machine()}), load average "
            f"{os.getloadavg()[0]:.1f} at start; cyberqms.settings on a fresh WAL database "
            f"(synchronous={synchronous}) in {data_dir}"
        )
        actors = make_actors()
        data = Data(rng)
        phases.done("setup")

        write_rate = write_trail(entries, actors, data)
        phases.done("write trail")
        if not args.writes and not args.proofs:
            verification = time_verification(entries, rounds=2 if args.quick else 3)
            phases.done("verify + ceiling")
        if args.profile and not args.writes and not args.proofs:
            from cyberqms.platform.trail.integrity import check_trail

            profile("check_trail(reconcile=False)", lambda: check_trail(reconcile=False))

        if not args.proofs:
            writes = time_writes(write_ops, write_rounds, actors[0], data)
            median = {name: statistics.median(values) for name, values in writes.items()}
            phases.done("write path")
        if args.profile and not args.proofs:
            from benchapp import services

            def audited_burst() -> None:
                for i in range(write_ops):
                    record = services.audited_create(actor=actors[0], **data.record(i))
                    services.audited_update(record, actor=actors[0], reason="Profiled",
                                            **data.change(i))

            profile(f"{write_ops} audited creates + updates", audited_burst)

        if not args.writes:
            for size in proof_sizes:  # so that a checkpoint exists at every proof size
                bulk_insert_synthetic(size, data)
            synthetic = max(0, max(proof_sizes) - entries)
            phases.done("synthetic entries")
            proofs = {size: time_proofs(size, proof_samples, rng) for size in proof_sizes}
            phases.done("proofs")
        if args.profile and not args.writes:
            from cyberqms.platform.trail.log import prove_inclusion

            top = max(proof_sizes)
            profile(
                f"{proof_samples} inclusion proofs at {top:,}",
                lambda: [prove_inclusion(rng.randint(1, top), top) for _ in range(proof_samples)],
            )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)

    write_note = (
        f"\nWrite path (synchronous={synchronous}): median of {write_rounds} rounds of "
        f"{write_ops} creates and {write_ops} updates per variant, the variants taking turns "
        "op by op, each op its own transaction, same database.\n"
    )
    if args.writes:
        print_table(write_rows(write_ops, median))
        print(
            f"{write_note}After a trail of {entries:,} entries written through audit_record. "
            f"Phases: {phases}; load average {os.getloadavg()[0]:.1f} at the end."
        )
        return

    rows: list[tuple[str, str, str, str]] = [
        (f"write {entries:,} entries via audit_record, seal/1000", f"{write_rate:,.0f}/s",
         "", "-"),
    ]
    if not args.proofs:
        verify_rate, ceiling = verification["verify"], verification["ceiling"]
        ratio = verify_rate / ceiling
        rows += [
            ("mean entry body", f"{verification['body_bytes']:,.0f} bytes", "", "-"),
            ("SQLite fetch of the verified columns, no checks",
             f"{verification['fetch']:,.0f}/s", "", "-"),
            ("ceiling: canonical_json + SHA-256 in memory", f"{ceiling:,.0f}/s", "", "-"),
            (f"full verification check_trail, {entries:,} entries", f"{verify_rate:,.0f}/s",
             f">= {ceiling / 2:,.0f}/s", ok(ratio >= 0.5)),
            ("verification / ceiling", f"{ratio:.0%}", ">= 50%", ok(ratio >= 0.5)),
            *write_rows(write_ops, median),
        ]
    for size, figures in proofs.items():
        goal = size >= 10**6
        for kind in ("inclusion", "consistency"):
            mid, p99 = figures[f"{kind} median"], figures[f"{kind} p99"]
            own_mid, own_p99 = figures[f"{kind} own median"], figures[f"{kind} own p99"]
            rows += [
                (f"{kind} proof at {size:,}: median / p99, wall",
                 f"{mid:.3f} / {p99:.3f} ms ({p99 / mid:.1f}x)", "", "-"),
                ("  waited for a CPU (another process's)", f"{figures[f'{kind} waited']:.0%}",
                 "", "-"),
                ("  own time: median / p99", f"{own_mid:.3f} / {own_p99:.3f} ms",
                 "p99 <= 1 ms" if goal else "", ok(own_p99 <= 1.0) if goal else "-"),
                ("  own time: p99 / median", f"{own_p99 / own_mid:.1f}x",
                 "<= 2x" if goal else "", ok(own_p99 <= 2 * own_mid) if goal else "-"),
            ]
    print_table(rows)
    print(
        ("\n" if args.proofs else write_note)
        + f"Proofs: {proof_samples} random picks per size against the tree of that size, "
        "TreeNode cache written by sealing; own time = wall time less the time the proof "
        "waited for a CPU while another process ran (/proc/thread-self/schedstat); "
        + (
            f"entries {entries + 1:,}..{max(proof_sizes):,} are synthetic (valid rows "
            "bulk-inserted with raw SQL INSERTs, then sealed), the rest were written through "
            "audit_record.\n"
            if synthetic
            else "all entries were written through audit_record.\n"
        )
        + f"Phases: {phases}; load average {os.getloadavg()[0]:.1f} at the end."
    )


if __name__ == "__main__":
    main()
