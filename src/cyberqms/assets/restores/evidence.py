"""What a restore test of cyberqms's own shows: each step, its result in words and its
seconds, the records printed to PDF, and the time to restore against the RTO."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cyberqms.platform.core.moments import duration_text


def duration_words(seconds: float | None) -> str:
    return duration_text(dt.timedelta(seconds=seconds)) if seconds is not None else "—"


def shown(test: Any) -> dict[str, Any]:
    evidence = dict(test.evidence or {})
    steps = [{**step, "took": duration_words(step.get("seconds"))}
             for step in evidence.get("steps", [])]
    rto = test.rto
    took = test.time_to_restore
    return {**evidence, "steps": steps,
            "time_words": duration_words(took.total_seconds()) if took is not None else "—",
            "rto": f"{test.system.rto_hours} h" if rto is not None else "",
            "rto_met": test.rto_met}


def evidence_sections(test: Any) -> list[Any]:
    from cyberqms.platform.kit.record_export import Section

    found = shown(test)
    sections = []
    if found["steps"]:
        sections.append(Section("Steps of the restore test", ["Step", "Result", "Took",
                                                              "What was found"],
                                [[s["label"], "pass" if s["ok"] else "FAIL", s["took"],
                                  s["detail"]] for s in found["steps"]]))
    if found.get("pdfs"):
        sections.append(Section("Records printed from the restored copy",
                                ["Kind", "Record", "PDF bytes"],
                                [[p["kind"], p["number"], f"{p['bytes']:,}"]
                                 for p in found["pdfs"]]))
    if found.get("manifest"):
        m = found["manifest"]
        sections.append(Section("Backup", ["Item", "Value"], [
            ["File", m.get("file", "")], ["Taken", m.get("created_at", "")],
            ["Made by", f"cyberqms {m.get('cyberqms', '')} ({m.get('engine', '')})"],
            ["Checkpoint", f"{m.get('checkpoint_size') or 0:,} entries"],
            ["SHA-256 of the file", m.get("sha256", "")]]))
    return sections
