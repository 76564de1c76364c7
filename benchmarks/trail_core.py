"""Speed of the audit trail's cryptographic core (no database): prints a table.

Run with `make bench`. Figures are for comparison between runs on one machine, never
asserted in tests.
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from cyberqms.platform.trail.canonical import canonical_json
from cyberqms.platform.trail.merkle import (
    CompactRange,
    DictSubtreeCache,
    MemoryStore,
    TreeHasher,
    leaf_hash,
)


def entry(seq: int) -> dict[str, object]:
    return {
        "seq": seq, "ts": "2026-11-21T10:00:00.123456Z", "actor_id": 7,
        "actor_name": "Dr. Helena Brandt", "action": "capa.capa.close",
        "object_type": "capa.capa", "object_id": str(seq), "object_label": f"CAPA-2026-{seq:04d}",
        "changes": {"state": ["verifying", "closed"]}, "reason": "Effectiveness check passed",
        "correlation_id": "9f1c2d3e4a5b6c7d8e9f0a1b2c3d4e5f", "signature_id": seq,
    }


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s"


def main() -> None:
    sizes = [10**4, 10**5, 10**6] if os.environ.get("BENCH_FULL") else [10**4, 10**5]
    entries = [entry(i) for i in range(1, 100_001)]
    started = time.perf_counter()
    leaves = [leaf_hash(canonical_json(e)) for e in entries]
    print(f"{'canonicalize + leaf hash':40} {rate(len(entries), time.perf_counter() - started)}")
    print(f"{'proof size':>12} {'append rate':>14} {'inclusion ms':>14} {'consistency ms':>16}")
    for size in sizes:
        hashes = (leaves * (size // len(leaves) + 1))[:size]
        cache = DictSubtreeCache()
        tree = CompactRange()
        started = time.perf_counter()
        tree.extend(hashes, cache=cache)
        append = rate(size, time.perf_counter() - started)
        hasher = TreeHasher(MemoryStore(hashes), cache)
        picks = random.Random(1).sample(range(size), 200)
        started = time.perf_counter()
        for index in picks:
            hasher.inclusion_proof(index, size)
        inclusion = (time.perf_counter() - started) / len(picks) * 1000
        started = time.perf_counter()
        for index in picks:
            hasher.consistency_proof(max(1, index), size)
        consistency = (time.perf_counter() - started) / len(picks) * 1000
        print(f"{size:>12,} {append:>14} {inclusion:>14.3f} {consistency:>16.3f}")


if __name__ == "__main__":
    main()
