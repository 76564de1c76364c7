"""The fixed plant model: sites, people on shift patterns, hosts and the systems that send
events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final
from zoneinfo import ZoneInfo

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
