"""Speed of Sigma detection (no database): the shipped GxP pack over generated events.

Run with `make bench`. Prints a table; figures are for comparison between runs on one
machine, never asserted in tests. The events are OCSF-shaped dicts in a plant-like mix
(logons, record reads and edits, file activity, account and configuration changes,
findings), with a few attack bursts so that correlations do real work.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from cyberqms.security.detect.detection import SHIPPED_RULES_DIR, Engine, load_rules

EVENTS = 100_000
USERS = [f"user{i:03d}" for i in range(200)]
HOSTS = [f"10.{i // 250}.{i % 250}.{i % 7 + 1}" for i in range(300)]


def generate(count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    t = 1_795_000_000_000
    for _ in range(count):
        t += rng.randint(1, 20)
        user = rng.choice(USERS)
        base: dict[str, Any] = {
            "time": t,
            "actor": {"user": {"name": user}},
            "src_endpoint": {"ip": rng.choice(HOSTS)},
            "metadata": {"product": {"name": rng.choice(["cyberqms", "wincc", "lims"])}},
            "gxp": {"site": "basel", "system": "LIMS-1", "hour": (t // 3_600_000) % 24,
                    "weekday": rng.randint(1, 7)},
        }
        roll = rng.random()
        if roll < 0.35:
            base.update(class_uid=3002, activity_id=1, status="Success", message="logon ok")
        elif roll < 0.40:
            base.update(class_uid=3002, activity_id=1, status="Failure",
                        message="logon failed: bad password")
        elif roll < 0.65:
            base.update(class_uid=6003, activity_id=2, api={"operation": "records.read"},
                        message="read record")
            base["gxp"]["record_type"] = "batch_record"
        elif roll < 0.80:
            base.update(class_uid=6003, activity_id=3, api={"operation": "records.update"},
                        message="update record")
            base["gxp"]["record_type"] = "batch_record"
        elif roll < 0.95:
            base.update(class_uid=1001, activity_id=rng.choice([1, 2, 3, 4]),
                        file={"name": f"/data/run{rng.randint(1, 999)}.raw"}, message="file")
        elif roll < 0.97:
            base.update(class_uid=3001, activity_id=rng.choice([1, 3, 7]),
                        user={"name": rng.choice(USERS), "type": "User"},
                        privileges=[rng.choice(["reader", "author", "admin"])])
        elif roll < 0.99:
            base.update(class_uid=5019, message="parameter write")
            base["gxp"].update(system_kind=rng.choice(["PLC", "SCADA", "HMI"]),
                               change_ref=rng.choice([None, "CC-2026-0001"]))
        else:
            base.update(class_uid=2004, finding_info={"title": "Audit trail checkpoint verified",
                                                      "uid": "trail.check"})
        out.append(base)
    return out


def main() -> None:
    started = time.perf_counter()
    rules = load_rules([SHIPPED_RULES_DIR])
    loaded = time.perf_counter()
    engine = Engine(rules)
    compiled = time.perf_counter()
    events = generate(EVENTS)

    evaluate = engine.evaluate
    began = time.perf_counter()
    matches = 0
    for event in events:
        matches += len(evaluate(event))
    elapsed = time.perf_counter() - began

    fresh = Engine(rules)
    empty = {"class_uid": 0}
    began_empty = time.perf_counter()
    for _ in range(EVENTS):
        fresh.evaluate(empty)
    elapsed_empty = time.perf_counter() - began_empty

    rows = [
        ("rules loaded (pySigma)", f"{len(rules.rules)}", f"{(loaded - started) * 1000:.0f} ms"),
        ("rules compiled", f"{len(engine.rules)}", f"{(compiled - loaded) * 1000:.1f} ms"),
        ("evaluate, plant mix", f"{EVENTS:,} events", f"{EVENTS / elapsed:,.0f} events/s"),
        ("  per event", "", f"{elapsed / EVENTS * 1e6:.2f} µs"),
        ("  matches", f"{matches:,}", ""),
        ("evaluate, event no rule wants", f"{EVENTS:,} events",
         f"{EVENTS / elapsed_empty:,.0f} events/s"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"Sigma detection, {sys.version.split()[0]}, one core")
    for name, size, figure in rows:
        print(f"  {name:<{width}}  {size:>16}  {figure:>18}")


if __name__ == "__main__":
    main()
