"""Evidence files for the demo's attachments."""

from __future__ import annotations

import datetime as dt
import random


def evidence_file(kind: str, values: dict[str, str], when: dt.datetime,
                  rng: random.Random) -> bytes:
    """A small, plausible evidence file (CSV, text or JSON) for an attachment."""
    if kind == "temperature":
        rows = ["timestamp_utc,probe,temperature_c"]
        t = when - dt.timedelta(days=2)
        for k in range(96):
            spike = 1.9 if 40 <= k < 44 else 0.0
            rows.append(f"{(t + dt.timedelta(minutes=15 * k)):%Y-%m-%dT%H:%M:%SZ},"
                        f"CR{values['room']}-P1,{5.0 + rng.uniform(-0.6, 0.6) + spike * 2.2:.2f}")
        return ("\n".join(rows) + "\n").encode()
    if kind == "sessions":
        rows = ["signed_in_utc,account,workstation,source_ip"]
        for k in range(12):
            rows.append(f"{(when - dt.timedelta(hours=30 - k * 2)):%Y-%m-%dT%H:%M:%SZ},qc_lab,"
                        f"QC-WS-{rng.randint(10, 40)},10.20.{rng.randint(1, 9)}."
                        f"{rng.randint(10, 250)}")
        return ("\n".join(rows) + "\n").encode()
    if kind == "edr":
        return (f'{{"alert": "{values["ref"]}", "host": "ENG-WS-{values["n"]}", '
                f'"detection": "Ransom:Win64/Generic", "action": "quarantined", '
                f'"detected_at": "{when:%Y-%m-%dT%H:%M:%SZ}"}}\n').encode()
    return (f"CDS configuration export, HPLC-{values['room']}\n"
            f"exported: {when:%Y-%m-%d %H:%M} UTC\n"
            "AuditTrail.Enabled = False   (changed by svc_vendor during patch 7.4.2)\n"
            "AuditTrail.ReasonForChange = Required\n").encode()
