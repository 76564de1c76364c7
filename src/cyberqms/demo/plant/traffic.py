"""Normal traffic of each kind of system: what its users and the system itself do in an
hour, and how each event is rendered as a line."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from .catalogue import _HOST_PREFIX, Person, Plant, Site, Source
from .lines import Clock, dc_line, fw_line, gxp_line, ot_line, qms_json

# ----------------------------------------------------------------- normal traffic

Emit = Callable[[tuple[int, str]], None]
Renderer = Callable[
    [random.Random, Plant, Source, Clock, int, "Person | None", Emit], None]


@dataclass(frozen=True, slots=True)
class Traffic:
    """Normal traffic of one system kind: events per hour per fully active person of each
    role, events per hour from the system itself and service accounts, and a renderer."""

    per_hour: dict[str, float]
    background: float
    render: Renderer


def _pick(table: tuple[tuple[str, ...], tuple[int, ...]], rng: random.Random) -> str:
    return rng.choices(table[0], cum_weights=table[1])[0]


def _table(*pairs: tuple[str, int]) -> tuple[tuple[str, ...], tuple[int, ...]]:
    names, cum, total = [], [], 0
    for name, weight in pairs:
        total += weight
        names.append(name)
        cum.append(total)
    return tuple(names), tuple(cum)


def eng_station(site: Site) -> tuple[str, str]:
    """The site's engineering workstation in the OT zone (TIA Portal, WinCC config)."""
    return f"{site.code}-ENG-02", f"{site.net['ot']}.5.10"


def batch_id(site: str, rng: random.Random) -> str:
    return f"{'DS' if site == 'BSL' else 'FF'}-26-{rng.randrange(400, 1400):04d}"


_LIMS = {
    "qc_analyst": _table(("result.enter", 40), ("sample.login", 15), ("result.review", 15),
                         ("record.view", 15), ("auth.login", 6), ("auth.logout", 5),
                         ("result.modify", 3), ("report.export", 1)),
    "qa": _table(("result.approve", 40), ("record.view", 40), ("audit_trail.review", 10),
                 ("auth.login", 5), ("auth.logout", 5)),
    "manager": _table(("record.view", 60), ("result.approve", 20), ("auth.login", 10),
                      ("auth.logout", 10)),
    "engineer": _table(("record.view", 70), ("auth.login", 15), ("auth.logout", 15)),
}
_REASONS: Final = ("transcription error, see lab notebook p. 42", "wrong dilution factor entered",
                   "unit corrected (mg/mL)", "reintegration approved by reviewer")
_TESTS: Final = ("Assay HPLC", "pH", "Bioburden", "Endotoxin LAL", "SEC purity", "Osmolality")


def _app_login(rng: random.Random, src: Source, clock: Clock, ms: int, p: Person,
               emit: Emit) -> None:
    """An application sign-in; 2 % of people mistype their password once first."""
    u, host, ip = p.username, p.host, p.ip
    if rng.random() < 0.02:
        emit((ms, gxp_line(src, clock, ms, "auth.login", u, host, ip,
                           f"User {u} failed to sign in", outcome="failure", severity=4)))
        ms += rng.randrange(4000, 15000)
    emit((ms, gxp_line(src, clock, ms, "auth.login", u, host, ip, f"User {u} signed in")))


def _render_lims(rng: random.Random, plant: Plant, src: Source, clock: Clock, ms: int,
                 p: Person | None, emit: Emit) -> None:
    sample = f"S-2026-{rng.randrange(1, 60000):06d}"
    if p is None:
        host, ip = f"{src.site.code}-SRV-09", f"{src.site.net['server']}.9.19"
        emit((ms, gxp_line(src, clock, ms, "result.enter", "svc_lims_if", host, ip,
                           f"Instrument result received for {sample}",
                           record_type="result", record=sample)))
        return
    action = _pick(_LIMS[p.role], rng)
    u, host, ip = p.username, p.host, p.ip
    if action == "auth.login":
        _app_login(rng, src, clock, ms, p, emit)
    elif action == "auth.logout":
        emit((ms, gxp_line(src, clock, ms, action, u, host, ip, f"User {u} signed out")))
    elif action == "result.modify":
        test = rng.choice(_TESTS)
        emit((ms, gxp_line(src, clock, ms, action, u, host, ip,
                           f"Result {test} for {sample} modified",
                           record_type="result", record=sample, reason=rng.choice(_REASONS))))
    elif action == "report.export":
        emit((ms, gxp_line(src, clock, ms, "data.export", u, host, ip,
                           f"Certificate of analysis exported for {sample}",
                           record_type="report", record=sample,
                           count=str(rng.randrange(1, 40)), destination="pdf")))
    else:
        what = f"{action.replace('.', ' ').capitalize()} {sample} ({rng.choice(_TESTS)})"
        emit((ms, gxp_line(src, clock, ms, action, u, host, ip, what,
                           record_type="sample" if action == "sample.login" else "result",
                           record=sample)))


_MES = {
    "operator": _table(("batch.step.execute", 50), ("batch.esign", 20),
                       ("equipment.status.change", 10), ("batch.record.view", 10),
                       ("auth.login", 4), ("auth.logout", 4), ("batch.record.correct", 2)),
    "engineer": _table(("equipment.status.change", 40), ("batch.record.view", 40),
                       ("auth.login", 10), ("auth.logout", 10)),
    "qa": _table(("batch.record.review", 50), ("batch.record.view", 30), ("auth.login", 10),
                 ("auth.logout", 10)),
    "manager": _table(("batch.record.view", 70), ("auth.login", 15), ("auth.logout", 15)),
}
_EQUIPMENT: Final = {"BSL": ("BR-2000-01", "BR-2000-02", "CHROM-01", "UF-DF-01"),
                     "DUB": ("FILL-L2", "LYO-02", "CAPPER-L2", "INSPECT-L2")}
_STEPS: Final = ("Line clearance", "Weigh & dispense", "Buffer preparation", "Inoculation",
                 "In-process sampling", "Filter integrity test", "Filling start", "Yield check")


def _render_mes(rng: random.Random, plant: Plant, src: Source, clock: Clock, ms: int,
                p: Person | None, emit: Emit) -> None:
    site = src.site.code
    batch, equipment = batch_id(site, rng), rng.choice(_EQUIPMENT[site])
    if p is None:
        emit((ms, gxp_line(src, clock, ms, "equipment.status.change", "PASX-SYSTEM",
                           src.host, src.ip, f"Equipment {equipment} status: in use",
                           equipment=equipment, record_type="equipment", record=equipment)))
        return
    action = _pick(_MES[p.role], rng)
    u, host, ip = p.username, p.host, p.ip
    if action == "auth.login":
        _app_login(rng, src, clock, ms, p, emit)
    elif action == "auth.logout":
        emit((ms, gxp_line(src, clock, ms, action, u, host, ip, f"User {u} signed out")))
    elif action == "batch.record.correct":
        emit((ms, gxp_line(src, clock, ms, action, u, host, ip,
                           f"Batch record entry corrected in {batch}", batch=batch,
                           record_type="batch_record", record=batch,
                           reason="entry corrected per SOP-MFG-017, second person verified")))
    else:
        step = rng.choice(_STEPS)
        emit((ms, gxp_line(src, clock, ms, action, u, host, ip, f"{step} on {equipment}",
                           batch=batch, equipment=equipment, record_type="batch_record",
                           record=batch)))


_CDS = _table(("result.process", 30), ("result.review", 20), ("sample_set.create", 10),
              ("result.sign", 10), ("audit_trail.view", 5), ("auth.login", 8),
              ("auth.logout", 7))


def _render_cds(rng: random.Random, plant: Plant, src: Source, clock: Clock, ms: int,
                p: Person | None, emit: Emit) -> None:
    result = f"RS-{rng.randrange(10000, 99999)}"
    project = "QC_Release_2026" if rng.random() < 0.7 else "QC_Stability_2026"
    if p is None:
        n = rng.randrange(1, 9)
        host, ip = f"BSL-LAB-HPLC{n:02d}", f"{src.site.net['lab']}.4.{20 + n}"
        emit((ms, gxp_line(src, clock, ms, "injection.acquire", "system", host, ip,
                           f"Injection acquired on HPLC{n:02d}", project=project,
                           record_type="raw_data", record=f"INJ-{rng.randrange(10**6):06d}")))
        return
    action = _pick(_CDS, rng) if p.role == "qc_analyst" else "result.review"
    u, host, ip = p.username, p.host, p.ip
    if action == "auth.login":
        _app_login(rng, src, clock, ms, p, emit)
    else:
        emit((ms, gxp_line(src, clock, ms, action, u, host, ip,
                           f"{action.replace('.', ' ').capitalize()} {result}",
                           project=project, record_type="result_set", record=result)))


_DC = _table(("4624", 60), ("4768", 25), ("4634", 15))


def _render_dc(rng: random.Random, plant: Plant, src: Source, clock: Clock, ms: int,
               p: Person | None, emit: Emit) -> None:
    site = src.site
    if p is None:
        n = rng.randrange(1, 240)
        zone = "office" if n < 160 else "lab" if n < 200 else "ot"
        host = f"{site.code}-{_HOST_PREFIX[zone]}-{n:02d}"
        ip = f"{site.net[zone]}.{20 if zone == 'office' else 3}.{n % 250 + 2}"
        emit((ms, dc_line(src, clock, ms, "4624", f"{host}$", ip, host, logonType="3",
                          status="0x0", msg="An account was successfully logged on")))
        return
    event_id = _pick(_DC, rng)
    u, host, ip = p.username, p.host, p.ip
    if event_id == "4624":
        if rng.random() < 0.02:
            emit((ms, dc_line(src, clock, ms, "4625", u, ip, host, logonType="2",
                              status="0xC000006A", msg="An account failed to log on")))
            ms += rng.randrange(4000, 15000)
        emit((ms, dc_line(src, clock, ms, "4624", u, ip, host, logonType="2", status="0x0",
                          msg="An account was successfully logged on")))
    elif event_id == "4768":
        emit((ms, dc_line(src, clock, ms, "4768", u, ip, host, status="0x0",
                          msg="A Kerberos authentication ticket (TGT) was requested")))
    else:
        emit((ms, dc_line(src, clock, ms, "4634", u, ip, host, logonType="2",
                          msg="An account was logged off")))


_SERVICES: Final = ((443, "ssl", "lims"), (443, "ssl", "mes"), (443, "ssl", "qms"),
                    (88, "kerberos", "dc"), (389, "ldap", "dc"), (445, "ms-ds-smb", "dc"))


def _render_fw(rng: random.Random, plant: Plant, src: Source, clock: Clock, ms: int,
               p: Person | None, emit: Emit) -> None:
    site = src.site
    sport = rng.randrange(32768, 61000)
    if p is None:
        r = rng.random()
        if r < 0.25:
            ip = f"203.0.113.{rng.randrange(1, 255)}"
            dst = f"{site.net['vpn']}.0.1"
            emit((ms, fw_line(src, ms, ip, dst, rng.choice((22, 23, 3389, 445, 8080)), "deny",
                              "internet-deny-default", ("untrust", "dmz"), sport, 0, 74,
                              app="incomplete")))
        else:
            ip = f"{site.net['server']}.0.{rng.randrange(10, 60)}"
            dst = f"{site.net['server']}.0.{rng.randrange(10, 60)}"
            emit((ms, fw_line(src, ms, ip, dst, 443, "allow", "server-to-server",
                              ("server", "server"), sport, rng.randrange(400, 90000),
                              rng.randrange(400, 90000))))
        return
    dport, app, target = rng.choice(_SERVICES)
    if p.zone == "office" and rng.random() < 0.4:
        dst, zones, rule = (f"198.51.100.{rng.randrange(1, 255)}", (p.zone, "untrust"),
                            "office-to-internet-web")
        dport, app = 443, "ssl"
    else:
        octet = {"lims": 21, "mes": 31, "qms": 50, "dc": 10}[target]
        dst, zones, rule = f"{site.net['server']}.0.{octet}", (p.zone, "server"), \
            f"{p.zone}-to-{target}"
    emit((ms, fw_line(src, ms, p.ip, dst, dport, "allow", rule, zones, sport,
                      rng.randrange(500, 200000), rng.randrange(500, 2000000), app=app)))


_ALARMS: Final = ("FILL_L2.PUMP3.PRESSURE_HI", "FILL_L2.CONVEYOR.JAM", "LYO_02.SHELF_TEMP_DEV",
                  "FILL_L2.NEEDLE4.WEIGHT_LO", "CAPPER_L2.TORQUE_LO")
_SCADA = _table(("ALARM_ACK", 40), ("SETPOINT", 15), ("USER_LOGON", 10), ("USER_LOGOFF", 10),
                ("RECIPE_SELECT", 10), ("SCREEN_VIEW", 15))


def _render_scada(rng: random.Random, plant: Plant, src: Source, clock: Clock, ms: int,
                  p: Person | None, emit: Emit) -> None:
    tag = rng.choice(_ALARMS)
    if p is None:
        if rng.random() < 0.7:
            emit((ms, ot_line(src, ms, "ALARM", "Alarm raised", 3, "SYSTEM", src.ip, src.host,
                              f"Alarm {tag}", Line="L2", Tag=tag)))
        else:
            emit((ms, ot_line(src, ms, "HIST_READ", "Historian read", 1, "svc_hist",
                              f"{src.site.net['server']}.0.61", "DUB-HIST-01",
                              "Archive values read", Line="L2")))
        return
    sig = _pick(_SCADA, rng) if p.role == "operator" else "SCREEN_VIEW"
    u, host, ip = p.username, p.host, p.ip
    if sig == "SETPOINT":
        old = rng.randrange(180, 220)
        emit((ms, ot_line(src, ms, sig, "Operator setpoint change", 2, u, ip, host,
                          "Setpoint changed within validated range",
                          Line="L2", Tag="FILL_L2.PUMP3.SPEED_SP", OldValue=str(old),
                          NewValue=str(old + rng.choice((-5, 5))))))
    elif sig == "RECIPE_SELECT":
        emit((ms, ot_line(src, ms, sig, "Approved recipe selected", 2, u, ip, host,
                          "Recipe FF-2mL-v7 (approved) loaded for batch",
                          Line="L2", Recipe="FF-2mL-v7")))
    elif sig == "ALARM_ACK":
        emit((ms, ot_line(src, ms, sig, "Alarm acknowledged", 2, u, ip, host,
                          f"Alarm {tag} acknowledged", Line="L2", Tag=tag)))
    else:
        emit((ms, ot_line(src, ms, sig, sig.replace("_", " ").capitalize(), 1, u, ip, host,
                          f"{sig.replace('_', ' ').capitalize()} by {u}", Line="L2")))


def _render_plc(rng: random.Random, plant: Plant, src: Source, clock: Clock, ms: int,
                p: Person | None, emit: Emit) -> None:
    site = src.site
    if p is None:
        if rng.random() < 0.6:
            hmi = rng.randrange(1, 4)
            emit((ms, ot_line(src, ms, "CONN_OPEN", "Connection established", 1, "",
                              f"{site.net['ot']}.3.{hmi + 10}", f"{site.code}-HMI-{hmi:02d}",
                              "S7 connection from HMI (read only)")))
        else:
            emit((ms, ot_line(src, ms, "DIAG", "Diagnostic buffer entry", 1, "", src.ip,
                              src.host, "Cyclic diagnostic: CPU in RUN, no faults")))
        return
    host, ip = eng_station(site)
    emit((ms, ot_line(src, ms, "ONLINE_READ", "Engineering station online (read)", 2,
                      p.username, ip, host, "Blocks compared online, no change",
                      Project=f"{site.code}_Process_2026")))


_QMS = _table(("auth.login.success", 45), ("auth.logout", 35), ("auth.session.idle_timeout", 18),
              ("account.password_changed", 2))


def _render_qms(rng: random.Random, plant: Plant, src: Source, clock: Clock, ms: int,
                p: Person | None, emit: Emit) -> None:
    if p is None:
        return
    kind = _pick(_QMS, rng)
    u, ip = p.username, p.ip
    if kind == "auth.login.success":
        if rng.random() < 0.02:
            emit((ms, qms_json(clock, ms, "auth.login.failure", "low", u, ip,
                               f"Failed sign-in for {u}")))
            ms += rng.randrange(4000, 15000)
        emit((ms, qms_json(clock, ms, kind, "info", u, ip, f"{u} signed in")))
    elif kind == "auth.logout":
        emit((ms, qms_json(clock, ms, kind, "info", u, ip, f"{u} signed out")))
    elif kind == "auth.session.idle_timeout":
        emit((ms, qms_json(clock, ms, kind, "info", u, ip,
                           f"Session of {u} ended after inactivity")))
    else:
        emit((ms, qms_json(clock, ms, kind, "info", u, ip, f"{u} changed their password")))


_DAY_ROLES: Final = ("qa", "qc_analyst", "engineer", "manager", "admin", "security")
NORMAL_TRAFFIC: Final[dict[str, Traffic]] = {
    "lims": Traffic({"qc_analyst": 25, "qa": 5, "manager": 2, "engineer": 1}, 40, _render_lims),
    "mes": Traffic({"operator": 30, "engineer": 3, "qa": 4, "manager": 2}, 20, _render_mes),
    "cds": Traffic({"qc_analyst": 15, "qa": 2}, 24, _render_cds),
    "dc": Traffic(dict.fromkeys((*_DAY_ROLES, "operator"), 8.0), 150, _render_dc),
    "firewall": Traffic(dict.fromkeys((*_DAY_ROLES, "operator"), 15.0), 500, _render_fw),
    "scada": Traffic({"operator": 12, "engineer": 2}, 60, _render_scada),
    "plc": Traffic({"engineer": 0.5}, 30, _render_plc),
    "qms": Traffic(dict.fromkeys(_DAY_ROLES, 1.5), 0, _render_qms),
}
