"""Labelled attack scenarios and benign near misses for the synthetic plant.

Each scenario builds its ground-truth events at a start time: attack events carry
``label=<scenario id>``; near-miss events carry ``label=None`` and ``near_miss=<id>`` so
false-positive rates can be measured. ``DETECTIONS`` names the rule families of the GxP
rule pack (issue 5, deliverable 4) that each attack scenario should trigger.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from .plant import (
    DAY_MS,
    Clock,
    Person,
    Plant,
    Source,
    SyntheticEvent,
    batch_id,
    dc_line,
    eng_station,
    from_ms,
    fw_line,
    gxp_line,
    ot_line,
    qms_json,
    seeded_rng,
    to_ms,
)

DETECTIONS: Final = {
    "brute_force": "Brute force: many failed sign-ins for one account",
    "password_spraying": "Password spraying: failed sign-ins for many accounts from one source",
    "privilege_escalation": "Privilege escalation or role change outside change control",
    "gxp_record_offhours": "GxP record modification off-hours or from an unusual host",
    "mass_modification": "Mass modification or deletion (ransomware-like)",
    "audit_trail_failure": "Audit-trail verification failure",
    "disabled_user_activity": "Activity by a disabled or departed user",
    "bulk_export": "Bulk export of GxP data",
    "new_admin_account": "New administrator account",
    "plc_change_without_cc": "PLC or SCADA configuration change without approved change control",
}


@dataclass
class ScenarioContext:
    """What a scenario builder gets: the plant, its own seeded generator, and ``emit``."""

    plant: Plant
    scenario: Scenario
    instance: str
    rng: random.Random
    events: list[SyntheticEvent] = field(default_factory=list)
    clock: Clock = field(default_factory=Clock)

    def src(self, source_id: str) -> Source:
        return self.plant.sources[source_id]

    def emit(self, source: Source, ms: int, line: str) -> None:
        benign = self.scenario.benign
        self.events.append(SyntheticEvent(
            ms, source.id, source.kind, source.site.code, source.format, line,
            label=None if benign else self.scenario.id, instance=self.instance,
            near_miss=self.scenario.id if benign else None))


Builder = Callable[[ScenarioContext, int], None]


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    description: str
    detection: str | None  # key of DETECTIONS; None for a benign near miss
    attack: tuple[str, ...]  # MITRE ATT&CK (Enterprise / ICS) technique ids
    site: str  # whose local clock ``hours`` refers to
    hours: tuple[int, int]  # local start hours [from, to) when scheduled
    span_ms: int  # how long its events last at most
    build: Builder
    nightly: bool = False  # near misses that happen every night (backup job)

    @property
    def benign(self) -> bool:
        return self.detection is None


@dataclass(frozen=True)
class ScenarioInstance:
    scenario: Scenario
    id: str  # "<scenario id>#<n>"
    start: datetime
    events: tuple[SyntheticEvent, ...]


@dataclass(frozen=True)
class Injection:
    """One scenario at a given time."""

    scenario: str
    at: datetime


@dataclass(frozen=True)
class Schedule:
    """``per_day`` instances per simulated day at random times, cycling through
    ``scenarios`` (all attack or all near-miss scenarios by default) in a seeded order."""

    per_day: int
    scenarios: tuple[str, ...] | None = None
    nightly: bool = False  # also the nightly near misses (backup export)


# ------------------------------------------------------------------------ builders

MIN: Final = 60_000
EXTERNAL: Final = "203.0.113.77"


def _jitter(c: ScenarioContext, lo: int, hi: int) -> int:
    return int(c.rng.randrange(lo, hi))


def _brute_force_qms(c: ScenarioContext, t: int) -> None:
    victim = c.rng.choice(c.plant.staff("BSL", "qa", "qc_analyst"))
    qms = c.src("QMS")
    for _ in range(30):
        c.emit(qms, t, qms_json(c.clock, t, "auth.login.failure", "low", victim.username,
                                EXTERNAL, f"Failed sign-in for {victim.username}"))
        t += _jitter(c, 2000, 8000)
    c.emit(qms, t, qms_json(c.clock, t, "auth.lockout", "high", victim.username, EXTERNAL,
                            f"Account {victim.username} locked after repeated failures"))


def _brute_force_dc(c: ScenarioContext, t: int) -> None:
    victim = c.plant.user["dkeller"]
    dc = c.src("BSL-DC")
    host, ip = "BSL-WS-0193", "10.10.20.193"
    for _ in range(40):
        c.emit(dc, t, dc_line(dc, c.clock, t, "4625", victim.username, ip, host,
                              logonType="3", status="0xC000006A",
                              msg="An account failed to log on"))
        t += _jitter(c, 500, 3000)
    c.emit(dc, t, dc_line(dc, c.clock, t, "4624", victim.username, ip, host, logonType="3",
                          status="0x0", msg="An account was successfully logged on"))


def _password_spraying(c: ScenarioContext, t: int) -> None:
    dc = c.src("DUB-DC")
    host, ip = "DUB-WS-0077", "10.20.20.77"
    targets = c.rng.sample(c.plant.staff("DUB"), 20)
    for p in targets:
        c.emit(dc, t, dc_line(dc, c.clock, t, "4625", p.username, ip, host, logonType="3",
                              status="0xC000006A", msg="An account failed to log on"))
        t += _jitter(c, 5000, 30000)


def _privilege_escalation_qms(c: ScenarioContext, t: int) -> None:
    actor, subject = c.plant.user["mbianchi"], c.plant.user["jweber"]
    qms = c.src("QMS")
    c.emit(qms, t, qms_json(c.clock, t, "account.role_granted", "low", actor.username, actor.ip,
                            f"{actor.username} granted qa_manager to {subject.username}: urgent",
                            {"subject": subject.username, "role": "qa_manager", "site": "BSL",
                             "reason": "urgent"}))


def _privilege_escalation_dc(c: ScenarioContext, t: int) -> None:
    actor = c.rng.choice(c.plant.staff("BSL", "qc_analyst"))
    dc = c.src("BSL-DC")
    c.emit(dc, t, dc_line(dc, c.clock, t, "4728", actor.username, actor.ip, actor.host,
                          targetUser=actor.username, groupName="GxP-LIMS-Administrators",
                          msg="A member was added to a security-enabled global group"))


def _gxp_record_offhours(c: ScenarioContext, t: int) -> None:
    p = c.rng.choice(c.plant.staff("BSL", "qc_analyst"))
    lims = c.src("BSL-LIMS")
    host, ip = "VPN-CLIENT", "172.16.8.23"
    c.emit(lims, t, gxp_line(lims, c.clock, t, "auth.login", p.username, host, ip,
                             f"User {p.username} signed in"))
    for _ in range(c.rng.randrange(3, 7)):
        t += _jitter(c, 30_000, 180_000)
        sample = f"S-2026-{c.rng.randrange(1, 60000):06d}"
        c.emit(lims, t, gxp_line(lims, c.clock, t, "result.modify", p.username, host, ip,
                                 f"Result Assay HPLC for {sample} modified",
                                 record_type="result", record=sample, reason="correction"))


def _mass_deletion_cds(c: ScenarioContext, t: int) -> None:
    p = c.rng.choice(c.plant.staff("BSL", "qc_analyst"))
    cds = c.src("BSL-CDS")
    host, ip = p.host, p.ip
    for i in range(400):
        result = f"RS-{40000 + i}"
        c.emit(cds, t, gxp_line(cds, c.clock, t, "result.delete", p.username, host, ip,
                                f"Result set {result} deleted", project="QC_Release_2026",
                                record_type="result_set", record=result, severity=4))
        t += _jitter(c, 50, 400)


def _mass_modification_mes(c: ScenarioContext, t: int) -> None:
    mes = c.src("DUB-MES")
    p = c.rng.choice(c.plant.staff("DUB", "engineer"))
    for _ in range(250):
        batch = batch_id("DUB", c.rng)
        c.emit(mes, t, gxp_line(mes, c.clock, t, "batch.record.delete", p.username, p.host,
                                p.ip, f"Batch record {batch} deleted", batch=batch,
                                record_type="batch_record", record=batch, severity=4))
        t += _jitter(c, 100, 600)


def _audit_trail_failure(c: ScenarioContext, t: int) -> None:
    qms = c.src("QMS")
    seq = c.rng.randrange(10_000, 90_000)
    c.emit(qms, t, qms_json(
        c.clock, t, "trail.integrity.failure", "critical", "", None,
        f"Audit-trail verification failed: entry {seq} hash does not match its content",
        {"problems": 1, "new_flags": 1,
         "first": {"seq": seq, "kind": "entry_hash", "message": "hash mismatch"}},
        channel="system"))


def _departed_user(c: ScenarioContext, t: int) -> None:
    p = c.plant.user["kfischer"]
    dc, lims = c.src("BSL-DC"), c.src("BSL-LIMS")
    admin = c.plant.user["slindqvist"]
    c.emit(dc, t, dc_line(dc, c.clock, t, "4725", admin.username, admin.ip, admin.host,
                          targetUser=p.username, msg="A user account was disabled"))
    t += _jitter(c, 60 * MIN, 180 * MIN)
    host, ip = "BSL-WS-0231", "10.10.20.231"  # an office PC she never used
    c.emit(dc, t, dc_line(dc, c.clock, t, "4625", p.username, ip, host, logonType="2",
                          status="0xC0000072", msg="An account failed to log on"))
    t += _jitter(c, 20_000, 90_000)
    # LIMS kept a local account for her: it still works
    c.emit(lims, t, gxp_line(lims, c.clock, t, "auth.login", p.username, host, ip,
                             f"User {p.username} signed in"))
    for _ in range(4):
        t += _jitter(c, 20_000, 120_000)
        sample = f"S-2026-{c.rng.randrange(1, 60000):06d}"
        c.emit(lims, t, gxp_line(lims, c.clock, t, "record.view", p.username, host, ip,
                                 f"Record view {sample}", record_type="result", record=sample))


def _bulk_export(c: ScenarioContext, t: int) -> None:
    p = c.rng.choice(c.plant.staff("BSL", "qc_analyst"))
    lims, fw = c.src("BSL-LIMS"), c.src("BSL-FW")
    c.emit(lims, t, gxp_line(lims, c.clock, t, "data.export", p.username, p.host, p.ip,
                             "Query export: all stability results 2019-2026",
                             record_type="result", record="QUERY-STAB-ALL", count="48213",
                             destination="csv"))
    t += _jitter(c, 60_000, 300_000)
    c.emit(fw, t, fw_line(fw, t, p.ip, "198.51.100.23", 443, "allow", "lab-to-internet-web",
                          ("lab", "untrust"), 50123, 2_143_000_000, 58_000, app="file-sharing"))


def _new_admin_dc(c: ScenarioContext, t: int) -> None:
    actor = c.plant.user["ddoyle"]
    dc = c.src("DUB-DC")
    host, ip = "DUB-WS-0142", "10.20.20.142"
    c.emit(dc, t, dc_line(dc, c.clock, t, "4720", actor.username, ip, host,
                          targetUser="adm_support2", msg="A user account was created"))
    t += _jitter(c, 5000, 40_000)
    c.emit(dc, t, dc_line(dc, c.clock, t, "4722", actor.username, ip, host,
                          targetUser="adm_support2", msg="A user account was enabled"))
    t += _jitter(c, 5000, 40_000)
    c.emit(dc, t, dc_line(dc, c.clock, t, "4728", actor.username, ip, host,
                          targetUser="adm_support2", groupName="Domain Admins",
                          msg="A member was added to a security-enabled global group"))


def _new_admin_qms(c: ScenarioContext, t: int) -> None:
    actor = c.plant.user["slindqvist"]
    qms = c.src("QMS")
    c.emit(qms, t, qms_json(c.clock, t, "account.created", "info", actor.username, EXTERNAL,
                            f"Account qms_maint created by {actor.username}: maintenance",
                            {"subject": "qms_maint", "kind": "generic", "reason": "maintenance"}))
    t += _jitter(c, 10_000, 60_000)
    c.emit(qms, t, qms_json(c.clock, t, "account.role_granted", "high", actor.username, EXTERNAL,
                            f"{actor.username} granted administrator to qms_maint: maintenance",
                            {"subject": "qms_maint", "role": "administrator", "site": None,
                             "reason": "maintenance"}))


def _plc_change(c: ScenarioContext, t: int, *, change_ref: str | None, source: str) -> None:
    """A program download to a PLC; with a change reference it is a planned change."""
    plc = c.src(source)
    engineer: Person = c.rng.choice(c.plant.staff(plc.site.code, "engineer"))
    host, ip = eng_station(plc.site)
    if change_ref is None:
        host, ip = f"{plc.site.code}-WS-0088", f"{plc.site.net['office']}.20.88"
    refs = {"ChangeRef": change_ref} if change_ref else {}
    c.emit(plc, t, ot_line(plc, t, "CONN_OPEN", "Connection established", 2, engineer.username,
                           ip, host, "Engineering connection (TIA Portal)"))
    t += _jitter(c, 30_000, 120_000)
    c.emit(plc, t, ot_line(plc, t, "PROGRAM_DOWNLOAD", "Program block download", 8,
                           engineer.username, ip, host, "Block FB12 downloaded to CPU",
                           **refs, Block="FB12", Project=f"{plc.site.code}_Process_2026"))
    t += _jitter(c, 5000, 30_000)
    c.emit(plc, t, ot_line(plc, t, "CPU_STATE", "CPU state change", 5, engineer.username, ip,
                           host, "CPU STOP -> RUN after download"))


def _scada_config_change(c: ScenarioContext, t: int) -> None:
    scada = c.src("DUB-SCADA-L2")
    p = c.rng.choice(c.plant.staff("DUB", "operator"))
    c.emit(scada, t, ot_line(scada, t, "CONFIG_CHANGE", "Alarm limit changed", 7, p.username,
                             p.ip, p.host, "High-pressure alarm limit raised 2.5 -> 4.0 bar",
                             Line="L2", Tag="FILL_L2.PUMP3.PRESSURE_HI", OldValue="2.5",
                             NewValue="4.0"))


# Near misses ----------------------------------------------------------------

def _password_typo(c: ScenarioContext, t: int) -> None:
    p = c.rng.choice(c.plant.staff("BSL", "qc_analyst", "qa"))
    dc = c.src("BSL-DC")
    for _ in range(2):
        c.emit(dc, t, dc_line(dc, c.clock, t, "4625", p.username, p.ip, p.host, logonType="2",
                              status="0xC000006A", msg="An account failed to log on"))
        t += _jitter(c, 5000, 20_000)
    c.emit(dc, t, dc_line(dc, c.clock, t, "4624", p.username, p.ip, p.host, logonType="2",
                          status="0x0", msg="An account was successfully logged on"))


def _night_shift(c: ScenarioContext, t: int) -> None:
    mes = c.src("DUB-MES")
    p = c.rng.choice(c.plant.staff("DUB", "operator"))
    batch = batch_id("DUB", c.rng)
    for step in ("Filling start", "In-process sampling", "Yield check"):
        c.emit(mes, t, gxp_line(mes, c.clock, t, "batch.step.execute", p.username, p.host,
                                p.ip, f"{step} on FILL-L2", batch=batch, equipment="FILL-L2",
                                record_type="batch_record", record=batch))
        t += _jitter(c, 60_000, 300_000)
    c.emit(mes, t, gxp_line(mes, c.clock, t, "batch.record.correct", p.username, p.host, p.ip,
                            f"Batch record entry corrected in {batch}", batch=batch,
                            record_type="batch_record", record=batch,
                            reason="entry corrected per SOP-MFG-017, second person verified"))


def _approved_role_change(c: ScenarioContext, t: int) -> None:
    admin, subject = c.plant.user["slindqvist"], c.rng.choice(c.plant.staff("BSL", "qa"))
    qms, dc = c.src("QMS"), c.src("BSL-DC")
    ref = f"CC-2026-{c.rng.randrange(20, 400):04d}"
    c.emit(dc, t, dc_line(dc, c.clock, t, "4728", admin.username, admin.ip, admin.host,
                          targetUser=subject.username, groupName="GxP-LIMS-Reviewers",
                          changeRef=ref,
                          msg="A member was added to a security-enabled global group"))
    t += _jitter(c, 60_000, 600_000)
    c.emit(qms, t, qms_json(c.clock, t, "account.role_granted", "low", admin.username, admin.ip,
                            f"{admin.username} granted qa_reviewer to {subject.username}: "
                            f"{ref} access request approved",
                            {"subject": subject.username, "role": "qa_reviewer", "site": "BSL",
                             "reason": f"{ref} access request approved"}))


def _nightly_backup(c: ScenarioContext, t: int) -> None:
    lims = c.src("BSL-LIMS")
    host, ip = "BSL-SRV-BKP01", "10.13.9.40"
    c.emit(lims, t, gxp_line(lims, c.clock, t, "data.export", "svc_backup", host, ip,
                             "Scheduled database export for backup (job NIGHTLY-LIMS)",
                             record_type="database", record="LIMSPROD",
                             count=str(c.rng.randrange(1_200_000, 1_400_000)),
                             destination="backup", job="NIGHTLY-LIMS"))


def _planned_plc(c: ScenarioContext, t: int) -> None:
    _plc_change(c, t, change_ref="CC-2026-0014", source="DUB-PLC-L2")


def _unplanned_plc(c: ScenarioContext, t: int) -> None:
    _plc_change(c, t, change_ref=None, source="DUB-PLC-L2")


def _unplanned_plc_bsl(c: ScenarioContext, t: int) -> None:
    _plc_change(c, t, change_ref=None, source="BSL-PLC")


ANY, NIGHT, DAY = (0, 24), (1, 5), (9, 16)
_S = Scenario
SCENARIO_LIST: Final = (
    _S("brute_force_qms", "Brute force on the QMS sign-in",
       "30 failed QMS sign-ins for one QA/QC account from an external address in ~3 minutes, "
       "then a lockout.", "brute_force", ("T1110.001",), "BSL", ANY, 5 * MIN, _brute_force_qms),
    _S("brute_force_dc", "Brute force on an administrator account",
       "40 failed domain logons (4625) for an IT administrator from one office PC, then a "
       "success (4624).", "brute_force", ("T1110.001", "T1078.002"), "BSL", ANY, 3 * MIN,
       _brute_force_dc),
    _S("password_spraying", "Password spraying from a workstation",
       "One Dublin office PC fails one logon each for 20 different accounts within ~10 min.",
       "password_spraying", ("T1110.003",), "DUB", ANY, 12 * MIN, _password_spraying),
    _S("privilege_escalation_qms", "QMS role granted without change control",
       "The LIMS system owner grants qa_manager to a process engineer in the QMS at night; "
       "reason 'urgent', no change reference.", "privilege_escalation", ("T1098",), "BSL",
       NIGHT, MIN, _privilege_escalation_qms),
    _S("privilege_escalation_dc", "Self-added to the LIMS administrators group",
       "A QC analyst's account adds itself to GxP-LIMS-Administrators (4728), no change "
       "reference.", "privilege_escalation", ("T1098", "T1078.002"), "BSL", ANY, MIN,
       _privilege_escalation_dc),
    _S("gxp_record_offhours", "LIMS results modified at night over VPN",
       "A QC analyst (day shift) signs in to LIMS at 01:00-05:00 from a VPN address and "
       "modifies 3-6 results.", "gxp_record_offhours", ("T1565.001",), "BSL", NIGHT,
       20 * MIN, _gxp_record_offhours),
    _S("mass_deletion_cds", "Mass deletion of chromatography result sets",
       "400 Empower result sets deleted by one account within ~1 minute.",
       "mass_modification", ("T1485", "T1565.001"), "BSL", ANY, 3 * MIN, _mass_deletion_cds),
    _S("mass_modification_mes", "Mass deletion of MES batch records",
       "250 PAS-X batch records deleted by one engineer account within ~1.5 minutes.",
       "mass_modification", ("T1485",), "DUB", ANY, 3 * MIN, _mass_modification_mes),
    _S("audit_trail_failure", "Audit-trail verification failure",
       "cyberqms reports trail.integrity.failure (critical): an entry's hash no longer "
       "matches.", "audit_trail_failure", ("T1565.001", "T1070"), "BSL", ANY, MIN,
       _audit_trail_failure),
    _S("departed_user_activity", "Departed analyst still active in LIMS",
       "kfischer's directory account is disabled (4725); hours later a logon fails (disabled, "
       "0xC0000072) but her LIMS local account signs in and views records.",
       "disabled_user_activity", ("T1078",), "BSL", DAY, 200 * MIN, _departed_user),
    _S("bulk_export", "Bulk export of stability data and upload",
       "A QC analyst exports 48 213 LIMS results to CSV, then 2.1 GB leave the lab zone to "
       "an internet file-sharing host.", "bulk_export", ("T1213", "T1567.002"), "BSL", ANY,
       6 * MIN, _bulk_export),
    _S("new_admin_dc", "New domain administrator",
       "Account adm_support2 created (4720), enabled (4722) and added to Domain Admins "
       "(4728).", "new_admin_account", ("T1136.002", "T1098"), "DUB", ANY, 2 * MIN,
       _new_admin_dc),
    _S("new_admin_qms", "New QMS administrator from an external address",
       "A generic QMS account qms_maint is created and granted administrator from an "
       "external address.", "new_admin_account", ("T1136.001", "T1098"), "BSL", ANY, 2 * MIN,
       _new_admin_qms),
    _S("plc_change_without_cc", "PLC program download without change control",
       "A program block is downloaded to a Dublin line 2 S7 PLC from an office PC, no "
       "change reference.", "plc_change_without_cc", ("T0843", "T0821"), "DUB", ANY,
       3 * MIN, _unplanned_plc),
    _S("plc_change_without_cc_bsl", "Bioreactor PLC download without change control",
       "A program block is downloaded to a Basel bioreactor S7 PLC from an office PC, no "
       "change reference.", "plc_change_without_cc", ("T0843", "T0821"), "BSL", ANY,
       3 * MIN, _unplanned_plc_bsl),
    _S("scada_config_change_without_cc", "SCADA alarm limit raised without change control",
       "An operator raises a fill-line pressure alarm limit in WinCC (CONFIG_CHANGE), no "
       "change reference.", "plc_change_without_cc", ("T0836",), "DUB", ANY, MIN,
       _scada_config_change),
    # Benign near misses: must not alert.
    _S("password_typo", "Password mistyped twice",
       "A QC/QA user fails a domain logon twice, then signs in.", None, (), "BSL", DAY,
       MIN, _password_typo),
    _S("planned_plc_change", "Planned PLC change under CC-2026-0014",
       "A Dublin automation engineer downloads a block to the line 2 PLC from the "
       "engineering station with change reference CC-2026-0014.", None, (), "DUB", DAY,
       3 * MIN, _planned_plc),
    _S("night_shift_operations", "Night-shift operators at work",
       "A Dublin operator executes batch steps and corrects an entry (with reason, per SOP) "
       "at night from the line HMI.", None, (), "DUB", NIGHT, 20 * MIN, _night_shift),
    _S("approved_role_change", "Role change with an approved change reference",
       "An administrator adds a QA specialist to GxP-LIMS-Reviewers and grants qa_reviewer "
       "in the QMS, citing CC-2026-nnnn.", None, (), "BSL", DAY, 11 * MIN,
       _approved_role_change),
    _S("nightly_backup_export", "Nightly LIMS backup export",
       "svc_backup exports the LIMS database (1.2-1.4 M rows) for backup at 01:30 Basel time "
       "every night.", None, (), "BSL", (1, 2), MIN, _nightly_backup, nightly=True),
)
SCENARIOS: Final = {s.id: s for s in SCENARIO_LIST}


# ------------------------------------------------------------------------ planning


def build_instance(plant: Plant, seed: object, scenario: Scenario, n: int, at_ms: int
                   ) -> ScenarioInstance:
    instance = f"{scenario.id}#{n}"
    ctx = ScenarioContext(plant, scenario, instance, seeded_rng(seed, "scenario", instance))
    scenario.build(ctx, at_ms)
    ctx.events.sort(key=lambda e: e.ms)
    return ScenarioInstance(scenario, instance, from_ms(at_ms), tuple(ctx.events))


def _pick_time(plant: Plant, scenario: Scenario, rng: random.Random, lo: int, hi: int
               ) -> int | None:
    """A random start in [lo, hi) whose local hour fits the scenario and whose events end
    before ``hi``; None when the window has no such time."""
    tz = plant.sites[scenario.site].tz
    latest = hi - scenario.span_ms
    if latest <= lo:
        return None
    for _ in range(200):
        t = rng.randrange(lo, latest)
        if scenario.hours[0] <= from_ms(t).astimezone(tz).hour < scenario.hours[1]:
            return t
    return None


def _nightly(plant: Plant, scenario: Scenario, start_ms: int, end_ms: int) -> list[int]:
    """hh:30 local (hh the scenario's first hour) each night in the window."""
    tz = plant.sites[scenario.site].tz
    first = from_ms(start_ms).astimezone(tz).date()
    times = []
    for k in range((end_ms - start_ms) // DAY_MS + 2):
        d = first + timedelta(days=k)
        t = to_ms(datetime(d.year, d.month, d.day, scenario.hours[0], 30, tzinfo=tz))
        if start_ms <= t and t + scenario.span_ms <= end_ms:
            times.append(t)
    return times


def plan(plant: Plant, seed: object, start_ms: int, end_ms: int,
         spec: Schedule | Sequence[Injection | str] | None, *, benign: bool
         ) -> list[ScenarioInstance]:
    """Instances of attack (``benign=False``) or near-miss scenarios for a run."""
    if spec is None:
        return []
    rng = seeded_rng(seed, "plan", "benign" if benign else "attack")
    counter: dict[str, int] = {}
    instances: list[ScenarioInstance] = []

    def add(scenario: Scenario, at: int) -> None:
        counter[scenario.id] = counter.get(scenario.id, 0) + 1
        instance = build_instance(plant, seed, scenario, counter[scenario.id], at)
        events = tuple(e for e in instance.events if start_ms <= e.ms < end_ms)
        if events:
            instances.append(ScenarioInstance(scenario, instance.id, instance.start, events))

    if isinstance(spec, Schedule):
        ids = spec.scenarios or tuple(s.id for s in SCENARIO_LIST
                                      if s.benign == benign and not s.nightly)
        for sid in ids:
            _known(sid)
        order = list(ids)
        rng.shuffle(order)
        k = 0
        day = start_ms
        while day < end_ms and spec.per_day > 0:
            for _ in range(spec.per_day):
                scenario = SCENARIOS[order[k % len(order)]]
                k += 1
                t = _pick_time(plant, scenario, rng, day, min(day + DAY_MS, end_ms))
                if t is not None:
                    add(scenario, t)
            day += DAY_MS
        if spec.nightly:
            for scenario in SCENARIO_LIST:
                if scenario.nightly and scenario.benign == benign:
                    for t in _nightly(plant, scenario, start_ms, end_ms):
                        add(scenario, t)
    else:
        for item in spec:
            if isinstance(item, Injection):
                add(_known(item.scenario), to_ms(item.at))
            else:
                scenario = _known(item)
                t = _pick_time(plant, scenario, rng, start_ms, end_ms)
                if t is None:
                    raise ValueError(f"no time for scenario {item!r} in the window")
                add(scenario, t)
    instances.sort(key=lambda i: (i.start, i.id))
    return instances


def _known(scenario_id: str) -> Scenario:
    try:
        return SCENARIOS[scenario_id]
    except KeyError:
        raise ValueError(f"unknown scenario {scenario_id!r}; known: "
                         f"{', '.join(SCENARIOS)}") from None
