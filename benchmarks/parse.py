"""Speed of the monitoring parsers and OCSF normalization (no database): prints a table.

For each input format, 10^5 synthetic lines (seeded) are parsed, then parsed and
normalized; figures are events per second on one core, plus the TCP frame decoder's rate.
Run with `make bench` or `python benchmarks/parse.py [count]`. Figures compare runs on one
machine and are never asserted in tests.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from cyberqms.security.detect.ocsf import SourceInfo, normalize
from cyberqms.security.detect.parsers import Format, FrameDecoder, parse_line

RECEIVED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
USERS = ["ana", "bob", "carol", "dmitri", "eve", "jdoe", "qa.lead", "eng2"]


def ip(rng: random.Random) -> str:
    return f"10.{rng.randrange(8)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def rfc5424(rng: random.Random, i: int) -> str:
    user, action = rng.choice(USERS), rng.choice(["batch_record.update", "result.view", "login"])
    return (
        f"<166>1 2026-03-01T10:{i // 60 % 60:02d}:{i % 60:02d}.{i % 1000:03d}Z lims01 lims 77 "
        f'{action.upper().replace(".", "_")} [gxp@32473 site="BSL" user="{user}" '
        f'action="{action}" outcome="success" src_ip="{ip(rng)}" batch="B-{i % 977}"] '
        f"Record {i} {action}"
    )


def rfc3164(rng: random.Random, i: int) -> str:
    if i % 3:
        return (
            f"<38>Mar  1 10:{i // 60 % 60:02d}:{i % 60:02d} bastion sshd[{1000 + i % 9000}]: "
            f"Failed password for {rng.choice(USERS)} from {ip(rng)} port {1024 + i % 60000} ssh2"
        )
    return (
        f"<13>Mar  1 10:00:{i % 60:02d} eng-ws1 TIA[1]: PLC configuration downloaded to "
        f"PLC-{i % 9} by {rng.choice(USERS)}"
    )


def cef(rng: random.Random, i: int) -> str:
    return (
        f"CEF:0|Siemens|S7 Monitor|2.1|CFG-DL|Configuration download|7|rt={1772359200000 + i} "
        f"dvchost=scada1 suser={rng.choice(USERS)} src={ip(rng)} shost=eng-ws{i % 7} "
        f"cs1Label=Equipment cs1=PLC-{i % 9} cs2Label=Batch cs2=B-{i % 977} msg=Program download"
    )


def leef(rng: random.Random, i: int) -> str:
    return (
        f"LEEF:1.0|Microsoft|Windows|10|4625|devTime={1772359200000 + i}\tdvchost=dc1\t"
        f"cat=Logon\tsev=4\tsite=BSL\tusrName={rng.choice(USERS)}\tsrc={ip(rng)}\t"
        f"srcHost=ws{i % 50}\toutcome=failure\tdomain=PHARMA"
    )


def qms_json(rng: random.Random, i: int) -> str:
    kind = rng.choice(
        [
            "auth.login.failure",
            "auth.login.success",
            "account.role_granted",
            "esig.failure",
            "trail.export.create",
        ]
    )
    return json.dumps({
        "created_at": f"2026-03-01T10:00:{i % 60:02d}Z", "kind": kind, "severity": "medium",
        "username": rng.choice(USERS), "source_ip": ip(rng), "channel": "web",
        "message": f"event {i}", "data": {"subject": rng.choice(USERS)},
    })  # fmt: skip


FORMATS: list[tuple[str, Format, Callable[[random.Random, int], str]]] = [
    ("syslog RFC 5424 (gxp SD)", "syslog", rfc5424),
    ("syslog RFC 3164 (sshd, PLC)", "syslog", rfc3164),
    ("CEF", "cef", cef),
    ("LEEF 1.0", "leef", leef),
    ("JSON lines (QMS events)", "jsonl", qms_json),
]


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s"


def main(count: int) -> None:
    source = SourceInfo(name="bench", kind="bench", site="BSL", system="bench")
    print(f"{count:,} lines per format, one core")
    print(f"{'format':30} {'parse':>12} {'parse+normalize':>16} {'µs/event':>9}")
    for label, fmt, make in FORMATS:
        rng = random.Random(f"bench-{fmt}-{label}")
        lines = [make(rng, i).encode() for i in range(count)]
        started = time.perf_counter()
        for line in lines:
            parse_line(line, fmt, received_at=RECEIVED)
        parse_s = time.perf_counter() - started
        started = time.perf_counter()
        for line in lines:
            normalize(
                parse_line(line, fmt, received_at=RECEIVED),
                source=source,
                received_at=RECEIVED,
            )
        both_s = time.perf_counter() - started
        print(
            f"{label:30} {rate(count, parse_s):>12} {rate(count, both_s):>16} "
            f"{both_s / count * 1e6:>9.1f}"
        )
    rng = random.Random("bench-framing")
    frames = [rfc5424(rng, i).encode() for i in range(count)]
    octet = b"".join(b"%d %s" % (len(f), f) for f in frames)
    newline = b"\n".join(frames) + b"\n"
    for label, stream in (("frame decoder, octet-counted", octet), ("frame decoder, LF", newline)):
        decoder = FrameDecoder()
        started = time.perf_counter()
        total = 0
        for i in range(0, len(stream), 65536):
            total += len(decoder.feed(stream[i : i + 65536]))
        elapsed = time.perf_counter() - started
        assert total == count
        print(f"{label:30} {rate(count, elapsed):>12}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
