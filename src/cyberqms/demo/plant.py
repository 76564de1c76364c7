"""Synthetic plant: a seeded generator of plant and QMS security events.

Two sites (Basel drug substance, Dublin fill & finish) with their GxP systems, people on
shift patterns and network zones. Every event is the raw line its system would send
(RFC 5424 or RFC 3164 syslog, CEF, LEEF, JSON lines for the QMS's own security events)
with metadata: time, source, format, and a ``label`` (``None`` for normal traffic, the
scenario id for attack traffic). Labelled attack scenarios and benign near misses live in
``synthetic_scenarios``.

``generate(seed, start, duration, scenarios=...)`` streams events in time order: one
generator per system, hour by hour, merged with a heap, so memory stays flat however long
the simulated period. The same seed gives the same lines. ``python -m
cyberqms.demo.plant`` measures the generation rate. Pure Python, no Django.
"""

from __future__ import annotations

import heapq
import json
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from .scenarios import Injection, Scenario, ScenarioInstance, Schedule

FORMATS: Final = ("rfc5424", "rfc3164", "cef", "leef", "jsonl")
PEN: Final = 32473  # the documentation enterprise number (RFC 5612) names our SD-IDs
SD_ID: Final = f"gxp@{PEN}"
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
HOUR_MS: Final = 3_600_000
DAY_MS: Final = 24 * HOUR_MS
_MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def seeded_rng(*parts: object) -> random.Random:
    """A generator seeded from a string, so streams are independent and reproducible."""
    # Not for secrets: a reproducible simulation needs a seeded PRNG.
    return random.Random("/".join(str(p) for p in parts))  # noqa: S311  # see above


def to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("synthetic plant times must be timezone-aware")
    return (moment - EPOCH) // timedelta(milliseconds=1)


def from_ms(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


# ---------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class SyntheticEvent:
    """One raw line as a system would send it, with the generator's ground truth."""

    ms: int  # epoch milliseconds, UTC; the line carries the same instant
    source: str  # source id, e.g. "BSL-LIMS"
    system: str  # system kind: lims, mes, cds, dc, firewall, scada, plc, qms
    site: str
    format: str  # one of FORMATS
    line: str
    label: str | None = None  # scenario id for attack traffic
    instance: str | None = None  # "brute_force_qms#2": which injected instance
    near_miss: str | None = None  # benign scenario id: must not alert

    @property
    def time(self) -> datetime:
        return from_ms(self.ms)

    def as_dict(self) -> dict[str, object]:
        return {"time": self.time.isoformat(), "source": self.source, "system": self.system,
                "site": self.site, "format": self.format, "line": self.line,
                "label": self.label, "instance": self.instance, "near_miss": self.near_miss}


# ----------------------------------------------------------------------------- plant


@dataclass(frozen=True, slots=True)
class Site:
    code: str
    name: str
    tz: ZoneInfo
    net: dict[str, str]  # zone -> first two octets: office, lab, ot, server, vpn


@dataclass(frozen=True, slots=True)
class Person:
    username: str
    name: str
    site: str
    role: str  # operator, qc_analyst, qa, engineer, manager, admin, security, service
    host: str  # usual workstation or HMI
    ip: str
    zone: str
    shift: int | None = None  # operators: shift group, rotating weekly
    departed: bool = False  # left the company; account disabled


@dataclass(frozen=True, slots=True)
class Source:
    id: str
    kind: str
    site: Site
    vendor: str
    product: str
    version: str
    host: str
    ip: str
    format: str
    app: str = ""
    procid: int = 0


@dataclass(frozen=True)
class Plant:
    sites: dict[str, Site]
    people: tuple[Person, ...]
    sources: dict[str, Source]
    user: dict[str, Person] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "user", {p.username: p for p in self.people})

    def staff(self, site: str | None = None, *roles: str) -> list[Person]:
        """Current (not departed) people, optionally of one site and some roles."""
        return [p for p in self.people if not p.departed
                and (site is None or p.site == site) and (not roles or p.role in roles)]

    @property
    def departed(self) -> list[Person]:
        return [p for p in self.people if p.departed]


_ROSTER: Final = {
    # site, role: (username, name) ... ; demo users first (see accounts demo command)
    ("BSL", "manager"): [("hbrandt", "Dr. Helena Brandt"), ("pnatarajan", "Priya Natarajan")],
    ("BSL", "qa"): [("treyes", "Tomás Reyes"), ("ssutter", "Sabine Sutter"),
                    ("mrossi", "Matteo Rossi"), ("cfavre", "Camille Favre")],
    ("BSL", "engineer"): [("jweber", "Jonas Weber"), ("rhuber", "Reto Huber"),
                          ("nkaufmann", "Nina Kaufmann")],
    ("BSL", "security"): [("aokafor", "Aisha Okafor")],
    ("BSL", "admin"): [("slindqvist", "Sam Lindqvist"), ("dkeller", "David Keller")],
    ("BSL", "qc_analyst"): [
        ("lmeier", "Laura Meier"), ("ybaumann", "Yannick Baumann"), ("efrei", "Elena Frei"),
        ("akovac", "Ana Kovač"), ("tschmid", "Thomas Schmid"), ("lbernasconi", "Luca Bernasconi"),
        ("jzhang", "Jing Zhang"), ("mgerber", "Martina Gerber")],
    ("BSL", "operator"): [
        ("fmueller", "Fabian Müller"), ("sbrunner", "Sandra Brunner"), ("ngashi", "Nderim Gashi"),
        ("pwyss", "Patrick Wyss"), ("cbianchi", "Chiara Bianchi"),
        ("mzimmermann", "Marc Zimmermann"),
        ("lsteiner", "Lea Steiner"), ("kberisha", "Kujtim Berisha"), ("dfischer", "Daniel Fischer"),
        ("bmarti", "Beatrice Marti"), ("rsilva", "Rui Silva"), ("ufrey", "Urs Frey"),
        ("ihoxha", "Ilir Hoxha"), ("vlehmann", "Vera Lehmann"), ("omoser", "Oliver Moser"),
        ("gromano", "Giulia Romano"), ("akunz", "Adrian Kunz"), ("tbrun", "Tanja Brun")],
    ("DUB", "qa"): [("sobrien", "Siobhán O'Brien"), ("cwalsh", "Ciarán Walsh"),
                    ("amurphy", "Aoife Murphy")],
    ("DUB", "engineer"): [("mbianchi", "Marco Bianchi"), ("ekelly", "Eoin Kelly"),
                          ("rbyrne", "Róisín Byrne"), ("pnowak", "Piotr Nowak")],
    ("DUB", "admin"): [("ddoyle", "Declan Doyle")],
    ("DUB", "operator"): [
        ("sryan", "Seán Ryan"), ("nmccarthy", "Niamh McCarthy"), ("jgallagher", "John Gallagher"),
        ("edoherty", "Emma Doherty"), ("klynch", "Kevin Lynch"), ("ckennedy", "Caoimhe Kennedy"),
        ("bquinn", "Brian Quinn"), ("omahony", "Orla Mahony"), ("mkowalski", "Marta Kowalski"),
        ("dburke", "Darragh Burke"), ("afitzgerald", "Aisling Fitzgerald"),
        ("pbrennan", "Patrick Brennan"), ("lmoran", "Laura Moran"), ("tnolan", "Tadhg Nolan"),
        ("gsantos", "Gabriela Santos")],
    ("BSL", "service"): [("svc_backup", "Backup service"),
                         ("svc_lims_if", "LIMS instrument interface")],
    ("DUB", "service"): [("svc_hist", "SCADA historian collector")],
}
# People who left: their accounts are disabled in the directory; any later activity is
# the "disabled or departed user" scenario.
_DEPARTED: Final = [("BSL", "qc_analyst", "kfischer", "Katrin Fischer"),
                    ("BSL", "engineer", "lgarcia", "Luis García"),
                    ("DUB", "operator", "dmurphy", "Dermot Murphy")]

_ZONE_OF_ROLE: Final = {"operator": "ot", "qc_analyst": "lab", "service": "server"}
_HOST_PREFIX: Final = {"office": "WS", "lab": "LAB-WS", "ot": "HMI", "server": "SRV"}


def build_plant() -> Plant:
    """The fixed plant model: sites, systems, people, hosts. Deterministic, no seed."""
    sites = {
        "BSL": Site("BSL", "Basel Biologics Plant", ZoneInfo("Europe/Zurich"),
                    {"office": "10.10", "lab": "10.11", "ot": "10.12", "server": "10.13",
                     "vpn": "172.16"}),
        "DUB": Site("DUB", "Dublin Fill & Finish", ZoneInfo("Europe/Dublin"),
                    {"office": "10.20", "lab": "10.21", "ot": "10.22", "server": "10.23",
                     "vpn": "172.17"}),
    }
    people: list[Person] = []
    seats: dict[tuple[str, str], int] = {}  # next free workstation per site and zone
    for (site, role), names in _ROSTER.items():
        zone = _ZONE_OF_ROLE.get(role, "office")
        for i, (username, name) in enumerate(names):
            seat = seats[site, zone] = seats.get((site, zone), -1) + 1
            host, ip = person_host(sites[site], zone, i if zone == "ot" else seat)
            shift = i % 3 if role == "operator" else None
            people.append(Person(username, name, site, role, host, ip, zone, shift))
    for i, (site, role, username, name) in enumerate(_DEPARTED):
        zone = _ZONE_OF_ROLE.get(role, "office")
        host, ip = person_host(sites[site], zone, 40 + i)
        people.append(Person(username, name, site, role, host, ip, zone, departed=True))

    def src(id_: str, kind: str, site: str, vendor: str, product: str, version: str,
            host: str, octet: int, fmt: str, app: str = "", procid: int = 0) -> Source:
        ip = f"{sites[site].net['ot' if kind in ('scada', 'plc') else 'server']}.0.{octet}"
        return Source(id_, kind, sites[site], vendor, product, version, host, ip, fmt, app,
                      procid)

    sources = [
        src("BSL-LIMS", "lims", "BSL", "LabWare", "LabWare LIMS", "8.1", "bsl-lims01", 21,
            "rfc5424", "LabWareLIMS", 4312),
        src("BSL-MES", "mes", "BSL", "Koerber", "Werum PAS-X MES", "3.3", "bsl-mes01", 31,
            "rfc5424", "PAS-X", 2207),
        src("DUB-MES", "mes", "DUB", "Koerber", "Werum PAS-X MES", "3.3", "dub-mes01", 31,
            "rfc5424", "PAS-X", 1876),
        src("BSL-CDS", "cds", "BSL", "Waters", "Empower CDS", "3.8", "bsl-cds01", 41,
            "rfc3164", "Empower", 2210),
        src("BSL-DC", "dc", "BSL", "Microsoft", "Windows Security Auditing", "10.0",
            "bsl-dc01", 10, "leef"),
        src("DUB-DC", "dc", "DUB", "Microsoft", "Windows Security Auditing", "10.0",
            "dub-dc01", 10, "leef"),
        src("BSL-FW", "firewall", "BSL", "Palo Alto Networks", "PAN-OS", "10.2.4", "bsl-fw01",
            1, "cef"),
        src("DUB-FW", "firewall", "DUB", "Palo Alto Networks", "PAN-OS", "10.2.4", "dub-fw01",
            1, "cef"),
        src("DUB-SCADA-L2", "scada", "DUB", "Siemens", "WinCC SCADA Line 2", "7.5",
            "dub-scada-l2", 20, "cef"),
        src("BSL-PLC", "plc", "BSL", "Siemens", "SIMATIC S7-1500", "2.9", "bsl-plc-br", 30,
            "cef"),
        src("DUB-PLC-L2", "plc", "DUB", "Siemens", "SIMATIC S7-1500", "2.9", "dub-plc-l2", 30,
            "cef"),
        src("QMS", "qms", "BSL", "cyberqms", "cyberqms", "1.0", "qms", 50, "jsonl"),
    ]
    return Plant(sites, tuple(people), {s.id: s for s in sources})


def person_host(site: Site, zone: str, index: int) -> tuple[str, str]:
    """The usual host of a person: shared HMIs for operators (three per line)."""
    n = index % 3 + 1 if zone == "ot" else index + 7
    subnet = {"office": 20, "lab": 3, "ot": 3, "server": 9}[zone]
    return f"{site.code}-{_HOST_PREFIX[zone]}-{n:02d}", f"{site.net[zone]}.{subnet}.{n + 10}"


# ---------------------------------------------------------------------------- lines


class Clock:
    """Formats timestamps, caching the per-second part (events come in time order)."""

    __slots__ = ("_bsd", "_iso", "_sec")

    def __init__(self) -> None:
        self._sec = -1
        self._iso = ""
        self._bsd = ""

    def _set(self, sec: int) -> None:
        tm = time.gmtime(sec)
        self._sec = sec
        self._iso = time.strftime("%Y-%m-%dT%H:%M:%S", tm)
        self._bsd = (f"{_MONTHS[tm.tm_mon - 1]} {tm.tm_mday:>2} "
                     f"{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d}")

    def iso(self, ms: int) -> str:
        sec, rem = divmod(ms, 1000)
        if sec != self._sec:
            self._set(sec)
        return f"{self._iso}.{rem:03d}Z"

    def bsd(self, ms: int) -> str:
        """RFC 3164 ``Mmm dd hh:mm:ss``; the plant's syslog senders run on UTC."""
        sec = ms // 1000
        if sec != self._sec:
            self._set(sec)
        return self._bsd


_SD_ESCAPE: Final = str.maketrans({'"': '\\"', "\\": "\\\\", "]": "\\]"})
_CEF_HEADER_ESCAPE: Final = str.maketrans({"|": "\\|", "\\": "\\\\"})
_CEF_ESCAPE: Final = str.maketrans({"=": "\\=", "\\": "\\\\", "\n": "\\n", "\r": "\\r"})
_LEEF_CLEAN: Final = str.maketrans({"\t": " ", "\n": " ", "\r": " "})
_SD_SPECIAL: Final = frozenset('"\\]')
_LEEF_SPECIAL: Final = frozenset("\t\n\r")


def _needs(value: str, special: frozenset[str]) -> bool:
    """Escaping is rare: test before translating (translate costs ~1 us a value)."""
    return not special.isdisjoint(value)


def syslog5424(src: Source, clock: Clock, ms: int, msgid: str, sd: dict[str, str], msg: str,
               *, severity: int = 6) -> str:
    """``<PRI>1 TIMESTAMP HOST APP PROCID MSGID [gxp@32473 k="v" ...] MSG``, facility local4."""
    params = " ".join(
        f'{k}="{v.translate(_SD_ESCAPE) if _needs(v, _SD_SPECIAL) else v}"'
        for k, v in sd.items())
    return (f"<{160 + severity}>1 {clock.iso(ms)} {src.host} {src.app} {src.procid} {msgid} "
            f"[{SD_ID} {params}] {msg}")


def syslog3164(src: Source, clock: Clock, ms: int, kv: dict[str, str], msg: str,
               *, severity: int = 6) -> str:
    """``<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: k=v ... msg="..."``, facility local0, UTC."""
    pairs = " ".join(f"{k}={v}" for k, v in kv.items())
    quoted = msg.replace("\\", "\\\\").replace('"', '\\"')
    return (f"<{128 + severity}>{clock.bsd(ms)} {src.host} {src.app}[{src.procid}]: "
            f'{pairs} msg="{quoted}"')


def _cef_value(v: str) -> str:
    if "=" in v or "\\" in v or "\n" in v or "\r" in v:
        return v.translate(_CEF_ESCAPE)
    return v


_CEF_HEADS: dict[tuple[str, str, str, int], str] = {}


def cef(src: Source, ms: int, signature: str, name: str, severity: int,
        ext: dict[str, str]) -> str:
    """``CEF:0|vendor|product|version|signature|name|severity|rt=… dvchost=… …``."""
    key = (src.id, signature, name, severity)
    head = _CEF_HEADS.get(key)
    if head is None:
        fields = "|".join(x.translate(_CEF_HEADER_ESCAPE) for x in
                          (src.vendor, src.product, src.version, signature, name))
        head = _CEF_HEADS[key] = f"CEF:0|{fields}|{severity}|"
    body = " ".join(f"{k}={_cef_value(v)}" for k, v in ext.items())
    return f"{head}rt={ms} dvchost={src.host} {body}"


def leef(src: Source, clock: Clock, ms: int, event_id: str, attrs: dict[str, str]) -> str:
    """LEEF 1.0, tab-delimited attributes, ISO 8601 ``devTime``."""
    body = "\t".join(f"{k}={v.translate(_LEEF_CLEAN) if _needs(v, _LEEF_SPECIAL) else v}"
                     for k, v in attrs.items())
    return (f"LEEF:1.0|{src.vendor}|{src.product}|{src.version}|{event_id}|"
            f"devTime={clock.iso(ms)}\tdevTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSX\t"
            f"dvchost={src.host}\t{body}")


def qms_json(clock: Clock, ms: int, kind: str, severity: str, username: str,
             source_ip: str | None, message: str, data: dict[str, object] | None = None,
             *, channel: str = "web") -> str:
    """A cyberqms security event (``core.models.SecurityEvent``) as one JSON line."""
    return json.dumps({"created_at": clock.iso(ms), "kind": kind, "severity": severity,
                       "username": username, "source_ip": source_ip, "channel": channel,
                       "message": message, "data": data or {}},
                      separators=(",", ":"), ensure_ascii=False)


# Domain-specific line builders shared by normal traffic and the scenarios.

def gxp_line(src: Source, clock: Clock, ms: int, action: str, user: str, host: str, ip: str,
             msg: str, *, outcome: str = "success", severity: int = 6, **extra: str) -> str:
    """LIMS and MES (RFC 5424) and CDS (RFC 3164) application events."""
    fields = {"site": src.site.code, "user": user, "action": action, "outcome": outcome,
              "src_ip": ip, "src_host": host, **extra}
    if src.format == "rfc3164":
        return syslog3164(src, clock, ms, fields, msg, severity=severity)
    return syslog5424(src, clock, ms, action.upper().replace(".", "_")[:32], fields, msg,
                      severity=severity)


_DC_CAT: Final = {"4624": ("Logon", 1), "4625": ("Logon", 4), "4634": ("Logoff", 1),
                  "4768": ("Kerberos Authentication Service", 1),
                  "4740": ("User Account Management", 6), "4720": ("User Account Management", 5),
                  "4722": ("User Account Management", 4), "4725": ("User Account Management", 5),
                  "4738": ("User Account Management", 3),
                  "4728": ("Security Group Management", 6),
                  "4732": ("Security Group Management", 6)}


def dc_line(src: Source, clock: Clock, ms: int, event_id: str, user: str, ip: str, host: str,
            **extra: str) -> str:
    """A Windows Security event as the DC forwards it. ``usrName`` is the subject (the
    signing-in user, or the administrator making an account change); ``targetUser`` the
    account changed."""
    cat, sev = _DC_CAT[event_id]
    outcome = "failure" if event_id == "4625" else "success"
    attrs = {"cat": cat, "sev": str(sev), "site": src.site.code, "domain": "PHARMA",
             "usrName": user, "src": ip, "srcHost": host, "outcome": outcome, **extra}
    return leef(src, clock, ms, event_id, attrs)


def ot_line(src: Source, ms: int, signature: str, name: str, severity: int, user: str,
            ip: str, host: str, msg: str, **labelled: str) -> str:
    """SCADA and PLC events (CEF); ``labelled`` become csN/csNLabel pairs."""
    ext = {"suser": user, "src": ip, "shost": host} if user else {"src": ip, "shost": host}
    if src.kind == "plc":
        ext["dvc"] = src.ip
    for i, (label, value) in enumerate(labelled.items(), start=1):
        ext[f"cs{i}Label"] = label
        ext[f"cs{i}"] = value
    ext["msg"] = msg
    return cef(src, ms, signature, name, severity, ext)


def fw_line(src: Source, ms: int, ip: str, dst: str, dport: int, action: str, rule: str,
            zones: tuple[str, str], sport: int, bytes_out: int, bytes_in: int,
            app: str = "ssl") -> str:
    """A PAN-OS traffic log in CEF. Every value is an address, a number or a fixed name
    without CEF specials, so the line is built directly (the firewall is the loudest
    source)."""
    allow = action == "allow"
    head = "CEF:0|Palo Alto Networks|PAN-OS|10.2.4|" + (
        "TRAFFIC|traffic end|1|" if allow else "DENY|traffic end|4|")
    return (f"{head}rt={ms} dvchost={src.host} src={ip} dst={dst} spt={sport} dpt={dport} "
            f"proto=TCP act={action} app={app} cs1Label=Rule cs1={rule} cs2Label=FromZone "
            f"cs2={zones[0]} cs3Label=ToZone cs3={zones[1]} out={bytes_out} in={bytes_in} "
            f"deviceExternalId={src.site.code}")


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

# ------------------------------------------------------------------------ streams


def activity(person: Person, local_hour: int, weekday: int, week: int) -> float:
    """How busy a person is in a local hour (0..1): 3 shifts in manufacturing rotating
    weekly with a quieter night shift; day work 07-17 for QA/QC, engineers, managers;
    weekends quieter; administrators and security on call at night."""
    role = person.role
    if role == "service":
        return 1.0
    if role == "operator":
        shift = 0 if 6 <= local_hour < 14 else 1 if 14 <= local_hour < 22 else 2
        if ((person.shift or 0) + week) % 3 != shift:
            return 0.0
        return (0.7 if shift == 2 else 1.0) * (0.5 if weekday >= 5 else 1.0)
    busy = 1.0 if 7 <= local_hour < 17 else 0.3 if local_hour in (6, 17, 18) else 0.0
    if weekday >= 5:
        busy *= 0.04
    if busy == 0.0 and role in ("admin", "security"):
        return 0.01
    return busy


def system_stream(plant: Plant, src: Source, seed: object, start_ms: int, end_ms: int,
                  volume: float = 1.0) -> Iterator[SyntheticEvent]:
    """Normal traffic of one source in time order, generated an hour at a time."""
    spec = NORMAL_TRAFFIC[src.kind]
    rng = seeded_rng(seed, "normal", src.id)
    clock = Clock()
    users = [p for p in plant.staff(None if src.kind == "qms" else src.site.code)
             if spec.per_hour.get(p.role)]
    rates = [spec.per_hour[p.role] for p in users]
    sid, kind, site, fmt = src.id, src.kind, src.site.code, src.format
    carry: list[tuple[int, str]] = []
    t0 = start_ms
    while t0 < end_ms:
        t1 = min((t0 // HOUR_MS + 1) * HOUR_MS, end_ms)
        local = from_ms(t0).astimezone(src.site.tz)
        hour, weekday, week = local.hour, local.weekday(), local.isocalendar().week
        actors: list[Person | None] = [None]
        cum = [spec.background]
        total = spec.background
        for p, rate in zip(users, rates, strict=True):
            w = rate * activity(p, hour, weekday, week)
            if w > 0.0:
                total += w
                actors.append(p)
                cum.append(total)
        items = carry
        carry = []
        emit: Emit = items.append
        if total > 0.0:
            lam = total * volume / HOUR_MS
            expo, choices, render = rng.expovariate, rng.choices, spec.render
            t = t0 + expo(lam)
            while t < t1:
                render(rng, plant, src, clock, int(t), choices(actors, cum_weights=cum)[0],
                       emit)
                t += expo(lam)
        items.sort(key=itemgetter(0))
        for ms, line in items:
            if ms < t1:
                yield SyntheticEvent(ms, sid, kind, site, fmt, line)
            else:
                carry.append((ms, line))
        t0 = t1


class SyntheticRun(Iterator[SyntheticEvent]):
    """The merged event stream of one run, with the injected instances as ground truth."""

    def __init__(self, seed: object, start_ms: int, end_ms: int,
                 instances: tuple[ScenarioInstance, ...], streams: list[Iterator[SyntheticEvent]]
                 ) -> None:
        self.seed = seed
        self.start = from_ms(start_ms)
        self.end = from_ms(end_ms)
        self.instances = instances
        self._merged = heapq.merge(*streams, key=attrgetter("ms"))

    def __next__(self) -> SyntheticEvent:
        return next(self._merged)

    @property
    def attacks(self) -> tuple[ScenarioInstance, ...]:
        return tuple(i for i in self.instances if not i.scenario.benign)

    @property
    def near_misses(self) -> tuple[ScenarioInstance, ...]:
        return tuple(i for i in self.instances if i.scenario.benign)


DEFAULT_NEAR_MISSES: Final = "default"


def generate(seed: object, start: datetime, duration: timedelta, *,
             scenarios: Schedule | Sequence[Injection | str] | None = (),
             near_misses: Schedule | Sequence[Injection | str] | str | None = DEFAULT_NEAR_MISSES,
             volume: float = 1.0, plant: Plant | None = None,
             sources: Sequence[str] | None = None) -> SyntheticRun:
    """Stream the plant's events from ``start`` for ``duration`` in time order.

    ``scenarios``: attack scenarios to inject, as ``Schedule(per_day=N)`` (N instances per
    simulated day at random times), a list of ``Injection(id, at)`` or of scenario ids (each
    once at a random time). ``near_misses``: benign look-alikes, by default
    ``Schedule(per_day=4)`` plus the nightly backup export; ``None`` for none. ``volume``
    scales normal traffic. ``sources`` limits normal traffic to some source ids.
    """
    from .scenarios import Schedule, plan

    plant = plant or build_plant()
    start_ms = to_ms(start)
    end_ms = start_ms + duration // timedelta(milliseconds=1)
    if near_misses == DEFAULT_NEAR_MISSES:
        near_misses = Schedule(per_day=4, nightly=True)
    assert not isinstance(near_misses, str)
    instances = (plan(plant, seed, start_ms, end_ms, scenarios, benign=False)
                 + plan(plant, seed, start_ms, end_ms, near_misses, benign=True))
    chosen = plant.sources if sources is None else {s: plant.sources[s] for s in sources}
    streams: list[Iterator[SyntheticEvent]] = [
        system_stream(plant, src, seed, start_ms, end_ms, volume) for src in chosen.values()]
    injected = sorted((e for i in instances for e in i.events), key=attrgetter("ms"))
    streams.append(iter(injected))
    return SyntheticRun(seed, start_ms, end_ms, tuple(instances), streams)


def scenario_catalogue() -> dict[str, Scenario]:
    from .scenarios import SCENARIOS

    return dict(SCENARIOS)


def _main(argv: Sequence[str] | None = None) -> None:
    import argparse
    from collections import Counter

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", default="7")
    parser.add_argument("--per-day", type=int, default=5, help="attack instances per day")
    args = parser.parse_args(argv)
    from .scenarios import Schedule

    start = datetime(2026, 3, 2, tzinfo=UTC)
    days = args.events // 40_000 + 2  # the plant sends about 60 000 events a day
    run = generate(args.seed, start, timedelta(days=days),
                   scenarios=Schedule(per_day=args.per_day))
    formats: Counter[str] = Counter()
    labels: Counter[str] = Counter()
    began = time.perf_counter()
    n = 0
    last = start
    for n, event in enumerate(run, start=1):
        formats[event.format] += 1
        if event.label:
            labels[event.label] += 1
        if n >= args.events:
            last = event.time
            break
    elapsed = time.perf_counter() - began
    print(f"{n} events in {elapsed:.2f} s: {n / elapsed:,.0f} events/s "
          f"(simulated {start:%Y-%m-%d} to {last:%Y-%m-%d %H:%M}, seed {args.seed})")
    for fmt, count in formats.most_common():
        print(f"  {fmt:8} {count:>9}")
    print(f"  labelled attack events: {sum(labels.values())} in {len(labels)} scenarios")


if __name__ == "__main__":
    _main()
