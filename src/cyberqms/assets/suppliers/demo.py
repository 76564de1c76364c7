"""Suppliers of the demo organization: the software vendors behind its validated systems,
a SaaS and hosting provider, service providers and a material supplier, each qualified by
an assessment and approved by QA; one is re-assessed late (overdue now), one conditionally
approved, one disqualified after a failed security audit, one agreement expiring soon."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

from cyberqms.platform.kit.record_rows import row_add, rows_of_kind
from cyberqms.platform.kit.record_services import record_create, record_update
from cyberqms.platform.kit.records import kind_by_slug

# name, scope, site, GxP-critical, what it supplies, contact, fate
# fate: approved | conditional | disqualified | overdue (approved, re-assessment late) |
#       expiring (approved, its quality agreement expires within weeks)
SUPPLIERS: tuple[tuple[str, str, str, bool, str, str, str], ...] = (
    ("LabWare Ltd", "software", "BSL", True, "LabWare LIMS licences, configuration, support",
     "Quality office, quality@labware.example", "approved"),
    ("Körber Pharma Software", "software", "BSL", True,
     "Werum PAS-X MES, electronic batch records, support", "Key account QA", "approved"),
    ("Siemens AG Digital Industries", "software", "DUB", True,
     "SIMATIC WinCC SCADA, S7 PLC firmware, OT support", "Service desk Erlangen",
     "approved"),
    ("Waters Corporation", "software", "BSL", True, "Empower chromatography data system",
     "Compliance services", "approved"),
    ("SAP SE", "software", "DUB", True, "SAP S/4HANA ERP (batch release, inventory)",
     "Customer success", "approved"),
    ("AVEVA Group", "software", "DUB", True, "PI System historian",
     "Partner support", "conditional"),
    ("Microsoft Ireland Operations", "saas", "DUB", True,
     "Azure hosting and Microsoft 365 for the document management system",
     "Enterprise agreement desk", "approved"),
    ("Vaisala Oyj", "software", "BSL", True,
     "viewLinc environmental monitoring, data loggers and calibration",
     "Life science services", "overdue"),
    ("Honeywell Building Solutions", "service", "BSL", True,
     "Building management system service and HVAC controls", "Field service Basel",
     "approved"),
    ("Iron Mountain", "service", "DUB", True,
     "Off-site storage of backup media and paper archives", "Account manager Dublin",
     "expiring"),
    ("DataSafe Hosting s.r.o.", "saas", "DUB", True,
     "Hosting of the serialization reporting portal", "support@datasafe.example",
     "disqualified"),
    ("Merck Life Science", "material", "BSL", True,
     "Sterile filters and single-use bioreactor bags", "Quality agreements team",
     "approved"),
)


def schedule(loader: Any) -> int:
    """Put the suppliers on the loader's timeline, in the first weeks; returns how many."""
    rng = random.Random("cyberqms demo suppliers")  # noqa: S311  # demo data, not secrets
    n = max(3, round(len(SUPPLIERS) * loader.scale)) if loader.scale < 1 else len(SUPPLIERS)
    chosen = SUPPLIERS[:n] if n < len(SUPPLIERS) else SUPPLIERS
    for i, spec in enumerate(chosen):
        when = loader.office(loader.clock.current + dt.timedelta(days=1 + i * 0.5), rng)
        loader.timeline.start(when, supplier(loader, rng, spec), f"supplier {i + 1}")
    return len(chosen)


def _assess(loader: Any, record: Any, rng: random.Random, *, outcome: str, months: int,
            method: str, summary: str, score: int | None = None) -> None:
    today = loader.clock.current.date()
    row_add(record, rows_of_kind(kind_by_slug("suppliers"), "assessments"),
            actor=loader.cast.qa_reviewer, values={
                "method": method, "assessed_on": today,
                "score": score if score is not None else rng.randint(78, 94),
                "outcome": outcome, "next_due": today + dt.timedelta(days=30 * months),
                "summary": summary, "reference": f"SQA-{today:%Y}-{rng.randint(100, 999)}"})


def supplier(loader: Any, rng: random.Random,
             spec: tuple[str, str, str, bool, str, str, str]) -> Iterator[dt.datetime]:
    kind, cast = kind_by_slug("suppliers"), loader.cast
    name, scope, site, critical, supplies, contact, fate = spec
    owner = cast.system_owner if scope in ("software", "saas") else cast.qa_reviewer
    record = record_create(kind, actor=cast.qa_reviewer, site=cast.sites[site], values={
        "title": name, "scope": scope, "gxp_critical": critical, "supplies": supplies,
        "contact": contact, "owner": owner,
        "description": f"{supplies}. Qualified under the supplier management SOP."})
    yield loader.later(2, 6, rng)
    method = "onsite_audit" if scope in ("software", "saas") else "questionnaire"
    if fate == "conditional":
        _assess(loader, record, rng, outcome="conditional", months=12, method=method,
                score=68, summary="Release notes lack the validation impact of each fix; "
                                  "quality system otherwise sound.")
        record_update(record, actor=cast.qa_manager, reason="Conditions of approval", changes={
            "conditions": "Each release comes with a validation impact statement; "
                          "re-audit within 12 months."})
        kind.workflow.run(record, "approve_conditionally", actor=cast.qa_manager,
                          signature=loader.sign(cast.qa_manager))
        # The re-audit within the year finds the condition met: approved, due in two years.
        yield loader.office(loader.clock.current + dt.timedelta(days=320 + rng.randint(0, 20)),
                            rng)
        _assess(loader, record, rng, outcome="approved", months=24, method=method,
                summary="Validation impact statements delivered with every release since "
                        "the last audit.")
        kind.workflow.run(record, "approve", actor=cast.qa_manager,
                          signature=loader.sign(cast.qa_manager))
    else:
        # The overdue supplier was last assessed for 16 months: due before today.
        months = 16 if fate == "overdue" else 24
        _assess(loader, record, rng, outcome="approved", months=months, method=method,
                summary="Quality management system and security controls adequate for "
                        "the GxP use.")
        kind.workflow.run(record, "approve", actor=cast.qa_manager,
                          signature=loader.sign(cast.qa_manager))
    today = loader.clock.current.date()
    agreements = rows_of_kind(kind, "agreements")
    # The quality agreement; the expiring one ends a few weeks after the demo's today.
    ends = (loader.end.date() + dt.timedelta(days=25) if fate == "expiring"
            else today + dt.timedelta(days=365 * 3))
    row_add(record, agreements, actor=owner, values={
        "kind": "quality", "reference": f"QAG-{today:%Y}-{rng.randint(10, 99)}",
        "starts_on": today, "expires_on": ends})
    if scope in ("software", "saas", "service"):
        row_add(record, agreements, actor=owner, values={
            "kind": "security", "reference": f"SEC-{today:%Y}-{rng.randint(10, 99)}",
            "starts_on": today, "expires_on": today + dt.timedelta(days=365 * 3)})
    if fate == "disqualified":
        # A year on, the security audit finds unpatched servers and no tested restore.
        yield loader.office(loader.clock.current + dt.timedelta(days=300 + rng.randint(0, 30)),
                            rng)
        _assess(loader, record, rng, outcome="rejected", months=6, method="remote_audit",
                score=41, summary="Hosting servers two years unpatched; backups never "
                                  "restored; no incident notification clause honoured.")
        kind.workflow.run(record, "disqualify", actor=cast.qa_manager,
                          signature=loader.sign(cast.qa_manager),
                          reason="Failed security audit: unpatched hosts, untested backups.")
