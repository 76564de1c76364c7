"""Risk assessments of the demo organization: cyber, data-integrity and quality risks of its
systems and processes in one register; most accepted by QA until a date, one whose
acceptance expired (back in review), one awaiting its approver, one still a draft."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

from cyberqms.platform.kit.record_rows import row_add, rows_of_kind
from cyberqms.platform.kit.record_services import record_create, record_update
from cyberqms.platform.kit.records import kind_by_slug

# (category, hazard, cause, asset, effect, S, O, D, controls, actions, rS, rO, rD)
Risk = tuple[str, str, str, str, str, int, int, int, str, str, int, int, int]
# title, site, system (title) or process, method, fate (accepted | expired | review |
# draft), risks
ASSESSMENTS: tuple[tuple[str, str, str, str, str, tuple[Risk, ...]], ...] = (
    ("Remote vendor access to SCADA Line 2", "DUB", "SCADA Line 2 (WinCC)", "fmea",
     "accepted", (
         ("cyber", "Vendor account used by an attacker", "Shared vendor password",
          "SCADA Line 2 HMI", "Recipe changed outside change control", 5, 3, 4,
          "Jump host with MFA; sessions approved per call", "Session recording", 5, 1, 2),
         ("quality", "Vendor changes a parameter during production", "No change window",
          "", "Batch filled out of specification", 5, 2, 3,
          "Access only outside production; line clearance after support", "", 5, 1, 2),
     )),
    ("LIMS audit trail and result review", "BSL", "LabWare LIMS", "fmea", "accepted", (
        ("data_integrity", "Result changed without a reason", "Audit trail reason optional",
         "", "Undetected manipulation of QC results", 5, 2, 3,
         "Reason mandatory; second-person review of changed results",
         "Monthly audit-trail review", 5, 1, 2),
        ("cyber", "Analyst account brute-forced", "Password-only sign-in",
         "LIMS application server", "Results entered under another identity", 4, 3, 3,
         "Account lockout; SSO with MFA", "Brute-force alerting in cyberqms", 4, 1, 2),
    )),
    ("Bioreactor SCADA and PLC network", "BSL", "SCADA/HMI bioreactor suite", "fmea",
     "expired", (
        ("cyber", "Ransomware reaches the HMIs", "Flat OT network to the office zone",
         "Bioreactor HMIs and historian node", "Batch records lost; run aborted", 5, 3, 3,
         "OT firewall zones; offline backups", "Quarterly restore test", 5, 2, 3),
        ("data_integrity", "Trend data gaps after an HMI restart", "Local buffer too small",
         "", "Incomplete batch record", 4, 3, 2, "Historian store-and-forward", "", 3, 2, 2),
    )),
    ("Backups of the GxP servers", "DUB", "Backup and restore platform", "matrix",
     "review", (
        ("cyber", "Backups encrypted with the production data", "Backup server in the "
         "domain", "Backup repository", "No restore after ransomware", 5, 3, 0,
         "Immutable off-site copy (Iron Mountain)", "Separate backup domain", 5, 2, 0),
    )),
    ("Cold-chain shipments to distributors", "DUB", "", "matrix", "accepted", (
        ("quality", "Temperature excursion in transit", "Carrier delay in summer",
         "", "Product shipped out of its storage condition", 4, 3, 0,
         "Qualified shippers; loggers read on receipt", "", 4, 1, 0),
    )),
    ("Electronic batch records in PAS-X", "BSL", "Werum PAS-X MES", "fmea", "draft", (
        ("data_integrity", "Weighing entered by hand when the scale is offline",
         "Manual fallback without second check", "", "Wrong quantity dispensed", 4, 2, 3,
         "Fallback documented in the SOP", "Second-person verification in the MES",
         4, 1, 2),
    )),
)


def schedule(loader: Any) -> int:
    rng = random.Random("cyberqms demo risks")  # noqa: S311  # demo data, not secrets
    chosen = ASSESSMENTS if loader.scale >= 1 else ASSESSMENTS[:3]
    for i, spec in enumerate(chosen):
        # After the inventory is validated (its systems are named), over the year.
        when = loader.office(loader.clock.current + dt.timedelta(days=80 + 45 * i), rng)
        loader.timeline.start(when, assessment(loader, rng, spec), f"risk assessment {i + 1}")
    return len(chosen)


def assessment(loader: Any, rng: random.Random,
               spec: tuple[str, str, str, str, str, tuple[Risk, ...]]) -> Iterator[dt.datetime]:
    kind, cast = kind_by_slug("risks"), loader.cast
    title, site, subject, method, fate, risks = spec
    system = kind_by_slug("systems").model._default_manager.filter(
        site__code=site, title=subject).first() if subject else None
    owner = cast.system_owner if site == "DUB" else cast.author
    record = record_create(kind, actor=owner, site=cast.sites[site], values={
        "title": title, "method": method, "owner": owner, "approver": cast.qa_manager,
        "subject": "system" if system is not None else "process", "system": system,
        "process": "" if system is not None else title,
        "description": f"ICH Q9(R1) assessment: {title.lower()}."})
    table = rows_of_kind(kind, "risks")
    for (category, hazard, cause, asset, effect, s, o, d, controls, actions, rs, ro,
         rd) in risks:
        row_add(record, table, actor=owner, values={
            "category": category, "hazard": hazard, "cause": cause, "asset": asset,
            "effect": effect, "severity": s, "occurrence": o,
            "detectability": d or None, "controls": controls, "actions": actions,
            "residual_severity": rs, "residual_occurrence": ro,
            "residual_detectability": rd or None})
    if fate == "draft":
        return
    yield loader.later(2, 6, rng)
    kind.workflow.run(record, "submit", actor=owner)
    if fate == "review":
        return
    yield loader.later(3, 10, rng)
    # The expired acceptance ran out three weeks before today; the others run a year on.
    expires = (loader.end.date() - dt.timedelta(days=21) if fate == "expired"
               else loader.clock.current.date() + dt.timedelta(days=365 + rng.randint(0, 90)))
    record_update(record, actor=cast.qa_manager, reason="Acceptance", changes={
        "acceptance_rationale": "Residual risks low or medium with the controls in place; "
                                "actions tracked to completion.",
        "acceptance_expires": expires})
    kind.workflow.run(record, "accept", actor=cast.qa_manager,
                      signature=loader.sign(cast.qa_manager))
    if fate == "expired":
        # cyberqms takes it back to review on the date (the scheduler's daily job).
        yield loader.office(dt.datetime.combine(expires, dt.time(6), tzinfo=dt.UTC), rng)
        kind.workflow.run(record, "expire", actor=None,
                          reason=f"Acceptance expired on {expires}")
