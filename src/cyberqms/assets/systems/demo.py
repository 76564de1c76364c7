"""The demo organization's inventory of computerized systems: about 25 at Basel and Dublin,
the plant's own (LIMS, MES, SCADA, chromatography, historian, environmental and building
monitoring, ERP, document management, cyberqms itself …), each with its four people, its
supplier, interfaces, validation deliverables and posture entries, released as validated by
QA with an e-signature. The plant's event sources report on them (`system_for_source`), so
the demo's alerts land on named systems."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

from cyberqms.platform.kit.record_rows import row_add, rows_of_kind
from cyberqms.platform.kit.record_services import record_create, record_update
from cyberqms.platform.kit.records import kind_by_slug

# name, site, GAMP, criticality, hosting, version, supplier, GxP functions, records held,
# RTO and RPO hours, fate (validated | in_validation | planned | retired), posture
# (current | stale: the entered facts are older than their age)
SYSTEMS: tuple[tuple[Any, ...], ...] = (
    ("LabWare LIMS", "BSL", "4", "high", "on_premises", "8.1.2", "LabWare Ltd",
     "QC sample login, results, review and approval, certificates of analysis",
     "QC results, specifications, CoA, audit trail", 24, 4, "validated", "current"),
    ("Werum PAS-X MES", "BSL", "4", "high", "on_premises", "3.3.1",
     "Körber Pharma Software", "Electronic batch records, weighing and dispensing",
     "Electronic batch records, material genealogy", 8, 1, "validated", "current"),
    ("Werum PAS-X MES Dublin", "DUB", "4", "high", "on_premises", "3.3.1",
     "Körber Pharma Software", "Electronic batch records for fill and finish",
     "Electronic batch records", 8, 1, "validated", "current"),
    ("Empower chromatography data system", "BSL", "4", "high", "on_premises", "3.8",
     "Waters Corporation", "HPLC acquisition, processing and reporting",
     "Raw data, processing methods, results", 24, 4, "validated", "current"),
    ("SCADA/HMI bioreactor suite", "BSL", "4", "high", "on_premises", "7.5 SP2",
     "Siemens AG Digital Industries", "Control and recording of the bioreactor runs",
     "Process parameters, alarms, batch trends", 4, 1, "validated", "stale"),
    ("SCADA Line 2 (WinCC)", "DUB", "4", "high", "on_premises", "7.5 SP2",
     "Siemens AG Digital Industries", "Filling line control, alarms, batch reports",
     "Process parameters, alarms, audit trail", 4, 1, "validated", "stale"),
    ("PLC bioreactor control (S7-1500)", "BSL", "5", "high", "on_premises", "2.9",
     "Siemens AG Digital Industries", "Bioreactor control logic",
     "None (runs the process; records go to the SCADA)", 4, 24, "validated", "current"),
    ("PLC Line 2 (S7-1500)", "DUB", "5", "high", "on_premises", "2.9",
     "Siemens AG Digital Industries", "Filling line control logic",
     "None (records go to the SCADA)", 4, 24, "validated", "current"),
    ("PI System historian", "DUB", "4", "medium", "on_premises", "2023 SP1",
     "AVEVA Group", "Long-term storage of process data from both sites",
     "Process data archives", 48, 8, "validated", "current"),
    ("SAP S/4HANA ERP", "DUB", "4", "high", "cloud", "2023 FPS02", "SAP SE",
     "Batch release status, inventory, supplier approval status",
     "Batch disposition, material master", 24, 2, "validated", "current"),
    ("Document management (SharePoint GxP)", "DUB", "4", "medium", "saas", "SPO 2025",
     "Microsoft Ireland Operations", "Storage of controlled copies and training evidence",
     "Controlled document copies", 48, 24, "validated", "current"),
    ("cyberqms eQMS", "BSL", "4", "high", "on_premises", "1.0",
     "", "Deviations, CAPA, change control, documents, training, audit trail",
     "Quality records, e-signatures, audit trail", 8, 1, "validated", "current"),
    ("viewLinc environmental monitoring", "BSL", "4", "high", "on_premises", "5.1",
     "Vaisala Oyj", "Temperature and humidity of warehouses, cold rooms and clean rooms",
     "Environmental data, alarms, calibration records", 8, 1, "validated", "current"),
    ("viewLinc environmental monitoring Dublin", "DUB", "4", "high", "on_premises", "5.1",
     "Vaisala Oyj", "Cold room and clean-room monitoring", "Environmental data, alarms",
     8, 1, "validated", "current"),
    ("Building management system", "BSL", "3", "medium", "on_premises", "4.2",
     "Honeywell Building Solutions", "HVAC control of the clean rooms (pressure cascade)",
     "HVAC trends (non-GxP copy)", 24, 24, "validated", "current"),
    ("Building management system Dublin", "DUB", "3", "medium", "on_premises", "4.2",
     "Honeywell Building Solutions", "HVAC control of the fill and finish suite",
     "HVAC trends", 24, 24, "validated", "current"),
    ("Active Directory (GxP domain)", "BSL", "1", "high", "on_premises",
     "Windows Server 2022", "", "Identity and access for the GxP systems at Basel",
     "Accounts, group memberships", 4, 1, "validated", "current"),
    ("Active Directory (GxP domain) Dublin", "DUB", "1", "high", "on_premises",
     "Windows Server 2022", "", "Identity and access for the GxP systems at Dublin",
     "Accounts, group memberships", 4, 1, "validated", "current"),
    ("OT firewall Basel", "BSL", "1", "high", "on_premises", "PAN-OS 10.2.4", "",
     "Segmentation between plant, lab and office networks", "Firewall logs", 4, 24,
     "validated", "current"),
    ("OT firewall Dublin", "DUB", "1", "high", "on_premises", "PAN-OS 10.2.4", "",
     "Segmentation between plant and office networks", "Firewall logs", 4, 24,
     "validated", "current"),
    ("Backup and restore platform", "DUB", "1", "high", "on_premises", "12.3",
     "Iron Mountain", "Backups of the GxP servers of both sites, off-site media",
     "Backup sets", 24, 24, "validated", "current"),
    ("Serialization reporting portal", "DUB", "4", "medium", "saas", "2.4",
     "DataSafe Hosting s.r.o.", "Reporting serial numbers to the national verification "
     "systems", "Serialization reports", 48, 24, "validated", "current"),
    ("Label printing (NiceLabel)", "DUB", "3", "medium", "on_premises", "10.1", "",
     "Printing of carton and vial labels from approved templates", "Label print logs",
     24, 8, "in_validation", "current"),
    ("Electronic logbooks", "BSL", "4", "medium", "saas", "1.2", "",
     "Equipment and room logbooks replacing paper", "Logbook entries", 48, 8, "planned",
     "current"),
    ("SampleManager LIMS 10 (legacy)", "BSL", "4", "high", "on_premises", "10.2", "",
     "QC results before 2024, read-only archive", "Historical QC results", 72, 24,
     "retired", "current"),
)

# The plant's event sources (demo.plant, the command's relay) and the system each reports on.
SOURCE_SYSTEMS: dict[str, tuple[str, str]] = {
    "BSL-LIMS": ("BSL", "LabWare LIMS"),
    "BSL-MES": ("BSL", "Werum PAS-X MES"),
    "DUB-MES": ("DUB", "Werum PAS-X MES Dublin"),
    "BSL-CDS": ("BSL", "Empower chromatography data system"),
    "BSL-DC": ("BSL", "Active Directory (GxP domain)"),
    "DUB-DC": ("DUB", "Active Directory (GxP domain) Dublin"),
    "BSL-FW": ("BSL", "OT firewall Basel"),
    "DUB-FW": ("DUB", "OT firewall Dublin"),
    "DUB-SCADA-L2": ("DUB", "SCADA Line 2 (WinCC)"),
    "BSL-PLC": ("BSL", "PLC bioreactor control (S7-1500)"),
    "DUB-PLC-L2": ("DUB", "PLC Line 2 (S7-1500)"),
    "QMS": ("BSL", "cyberqms eQMS"),
    "cyberqms": ("BSL", "cyberqms eQMS"),
    "SCADA syslog relay BSL (demo)": ("BSL", "SCADA/HMI bioreactor suite"),
    "Firewall DUB (demo)": ("DUB", "OT firewall Dublin"),
}
# Interfaces: (from system, direction, to system, data and protocol).
INTERFACES: tuple[tuple[str, str, str, str], ...] = (
    ("Empower chromatography data system", "sends", "LabWare LIMS",
     "Reportable results (LIMS interface service)"),
    ("LabWare LIMS", "sends", "SAP S/4HANA ERP", "Batch QC status (IDoc)"),
    ("Werum PAS-X MES", "exchanges", "SAP S/4HANA ERP", "Process orders and goods movements"),
    ("SCADA/HMI bioreactor suite", "sends", "Werum PAS-X MES", "Batch parameters (OPC UA)"),
    ("SCADA Line 2 (WinCC)", "sends", "PI System historian", "Process data (PI interface)"),
    ("viewLinc environmental monitoring", "sends", "cyberqms eQMS",
     "Excursion alarms (syslog)"),
)
# Entered posture items and the age (days before today) of the current and stale facts.
POSTURE: tuple[tuple[str, str, str, int, int], ...] = (
    ("patch_level", "Monthly security updates applied", "Patch report", 20, 140),
    ("vulnerability_scan", "No critical findings; 3 medium accepted", "Scan report", 35, 120),
    ("penetration_test", "Tested by an external firm; findings closed", "Pen-test report",
     200, 420),
    ("network_zone", "Level 3 (site operations), behind the OT firewall", "Zone model",
     90, 90),
    ("access_review", "Quarterly review completed; 2 accounts removed", "Review record",
     60, 250),
    ("restore_test", "Full restore to the test server verified", "Restore test record",
     100, 400),
)


def schedule(loader: Any) -> int:
    """Put the systems on the loader's timeline, after the suppliers; returns how many."""
    rng = random.Random("cyberqms demo systems")  # noqa: S311  # demo data, not secrets
    n = len(SYSTEMS) if loader.scale >= 1 else max(4, round(len(SYSTEMS) * loader.scale))
    chosen = SYSTEMS[:n]
    for i, spec in enumerate(chosen):
        when = loader.office(loader.clock.current + dt.timedelta(days=9 + i * 0.4), rng)
        loader.timeline.start(when, system(loader, rng, spec), f"system {i + 1}")
    when = loader.office(loader.clock.current + dt.timedelta(days=9 + n * 0.4 + 6), rng)
    loader.timeline.start(when, connect(loader, chosen), "system interfaces")
    return len(chosen)


def _found(model: Any, site: Any, title: str) -> Any:
    return model._default_manager.filter(site=site, title=title, is_deleted=False).first()


def system(loader: Any, rng: random.Random, spec: tuple[Any, ...]) -> Iterator[dt.datetime]:
    kind, cast = kind_by_slug("systems"), loader.cast
    (name, site, gamp, criticality, hosting, version, supplier_name, functions, held,
     rto, rpo, fate, posture) = spec
    supplier = None
    if supplier_name:
        supplier = kind_by_slug("suppliers").model._default_manager.filter(
            title=supplier_name).first()
    owner = cast.system_owner if site == "DUB" or gamp in ("1", "5") else cast.author
    record = record_create(kind, actor=cast.author, site=cast.sites[site], values={
        "title": name, "gamp_category": gamp, "criticality": criticality,
        "hosting": hosting, "version": version, "supplier": supplier,
        "gxp_functions": functions, "records_held": held, "rto_hours": rto,
        "rpo_hours": rpo, "data_integrity_relevant": gamp != "1" or criticality == "high",
        "description": f"{name}: {functions.lower()}.", "owner": owner,
        "process_owner": cast.process_owner, "qa_contact": cast.qa_reviewer,
        "security_contact": cast.it_security,
        "continuity_plan": f"BCP-IT-{rng.randint(10, 99):04d}: manual fallback on paper "
                           "records, entered within 48 hours of recovery.",
    })
    if fate == "planned":
        return
    yield loader.later(1, 4, rng)
    kind.workflow.run(record, "start_validation", actor=owner)
    if fate == "in_validation":
        return
    yield loader.later(10, 30, rng)
    deliverables = rows_of_kind(kind, "deliverables")
    today = loader.clock.current.date()
    for deliverable in ("plan", "urs", "risk", "iq", "oq", "pq", "report"):
        row_add(record, deliverables, actor=owner, values={
            "kind": deliverable, "system_version": version, "approved_on": today,
            "reference": f"VAL-{site}-{record.number[-4:]}-{deliverable.upper()}"})
    kind.workflow.run(record, "validate", actor=cast.qa_reviewer,
                      signature=loader.sign(cast.qa_reviewer))
    if fate == "retired":
        yield loader.later(40, 80, rng)
        kind.workflow.run(record, "retire", actor=cast.qa_manager,
                          signature=loader.sign(cast.qa_manager),
                          reason="Replaced by LabWare LIMS; data migrated and verified.")
        return
    validated_on = loader.clock.current.date()
    end = loader.end
    # A year on, critical systems are evaluated (A11-18); the neglected bioreactor SCADA
    # (its posture stale too) is not, and its evaluation is overdue today.
    due = record.due_date
    if criticality == "high" and posture != "stale" and due is not None and (
            due < end.date() - dt.timedelta(days=10)):
        yield loader.office(dt.datetime.combine(due - dt.timedelta(days=rng.randint(5, 20)),
                                                dt.time(9), tzinfo=dt.UTC), rng)
        evaluate(loader, rng, record, validated_on)
    # The posture facts, entered near the end so that their age reads as it would today.
    yield loader.office(end - dt.timedelta(days=5 + rng.randint(0, 3)), rng)
    entries = rows_of_kind(kind, "posture")
    for item, value, evidence, fresh, stale in POSTURE:
        if item == "penetration_test" and criticality != "high":
            continue
        age = stale if posture == "stale" else fresh
        row_add(record, entries, actor=owner, values={
            "item": item, "value": value, "evidence": f"{evidence} {record.number}",
            "assessed_on": end.date() - dt.timedelta(days=age)})


def evaluate(loader: Any, rng: random.Random, system: Any, since: dt.date) -> None:
    """The system owner's periodic evaluation of the year since `since`, approved by QA."""
    kind, cast = kind_by_slug("evaluations"), loader.cast
    owner = system.owner
    end = loader.clock.current.date() - dt.timedelta(days=1)
    evaluation = record_create(kind, actor=owner, site=system.site, values={
        "system": system, "title": f"Periodic evaluation of {system.number} {system.title}",
        "period_start": since, "period_end": end, "owner": owner,
        "due_date": loader.clock.current.date() + dt.timedelta(days=30)})
    record_update(evaluation, actor=owner, changes={
        "findings": rng.choice((
            "Used as validated. Changes in the period closed effective; no deviation "
            "questions the system; monthly audit-trail reviews without findings; patches "
            "applied monthly.",
            "Used as validated. One incident contained without GxP impact; access reviewed "
            "quarterly; backups restored successfully in the yearly test.",
        )),
        "conclusion": "remains_validated"})
    kind.workflow.run(evaluation, "submit", actor=owner)
    kind.workflow.run(evaluation, "approve", actor=cast.qa_reviewer,
                      signature=loader.sign(cast.qa_reviewer))


def connect(loader: Any, chosen: tuple[tuple[Any, ...], ...]) -> Iterator[dt.datetime]:
    """The interfaces between the systems (the event sources are pointed at their systems
    when monitoring goes live: demo.monitoring)."""
    kind, cast = kind_by_slug("systems"), loader.cast
    model = kind.model
    names = {spec[0]: spec[1] for spec in chosen}
    interfaces = rows_of_kind(kind, "interfaces")
    for source_name, direction, target_name, data in INTERFACES:
        if source_name in names and target_name in names:
            source = _found(model, cast.sites[names[source_name]], source_name)
            target = _found(model, cast.sites[names[target_name]], target_name)
            if source is not None and target is not None and source.state != "retired":
                row_add(source, interfaces, actor=source.owner, values={
                    "direction": "both" if direction == "exchanges" else direction,
                    "other": target, "data": data})
    return
    yield  # a script of one step


def system_for_source(key: str) -> Any:
    """The system of the inventory a plant event source (by its catalogue id or name)
    reports on, or None."""
    found = SOURCE_SYSTEMS.get(key)
    if found is None:
        return None
    model = kind_by_slug("systems").model
    return model._default_manager.filter(site__code=found[0], title=found[1],
                                         is_deleted=False).exclude(state="retired").first()
