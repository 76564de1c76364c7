"""`cyberqms demo`: a realistic demo organization with 18 months of quality records,
one user per role, printed logins.

On a fresh database the organization is set up about 18.5 months ago and its deviations,
CAPAs and change controls are made step by step up to today, under a simulated clock
(`cyberqms.demo.records`): the audit trail, signatures and dates tell one honest,
chronological story. The auditor's time-boxed access is granted at the real time, and
the printed one-time passwords are issued at the end, at the real time too.

Idempotent: a second run keeps the data (records are not added again) and issues fresh
one-time passwords, because the first ones were (or should have been) changed at first
sign-in.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from cyberqms.platform.accounts import services
from cyberqms.platform.accounts.bootstrap import bootstrap_administrator
from cyberqms.platform.accounts.enums import IntegrationKind, Role
from cyberqms.platform.accounts.models import (
    Department,
    Integration,
    RoleAssignment,
    Site,
    User,
)
from cyberqms.platform.core.context import RequestContext, acting_context
from cyberqms.platform.trail.models import AuditEntry
from cyberqms.platform.trail.record import audit_record, snapshot

SITES = [
    ("BSL", "Basel Biologics Plant", "CH", "Europe/Zurich",
     [("QA", "Quality Assurance"), ("QC", "Quality Control"), ("PROD", "Drug Substance"),
      ("IT", "IT and OT Security")]),
    ("DUB", "Dublin Fill & Finish", "IE", "Europe/Dublin",
     [("QA", "Quality Assurance"), ("PACK", "Fill, Finish & Packaging"),
      ("ENG", "Engineering and Automation")]),
]

ADMIN = ("slindqvist", "Sam Lindqvist", "IT Service Administrator", "BSL", "IT")
PEOPLE = [
    ("hbrandt", "Dr. Helena Brandt", "Head of Quality Assurance", "BSL", "QA", Role.QA_MANAGER),
    ("treyes", "Tomás Reyes", "QA Specialist", "BSL", "QA", Role.QA_REVIEWER),
    ("pnatarajan", "Priya Natarajan", "Drug Substance Manufacturing Lead", "BSL", "PROD",
     Role.PROCESS_OWNER),
    ("jweber", "Jonas Weber", "Process Engineer", "BSL", "PROD", Role.AUTHOR),
    ("aokafor", "Aisha Okafor", "OT/IT Security Analyst", "BSL", "IT", Role.IT_SECURITY),
    ("mbianchi", "Marco Bianchi", "LIMS System Owner", "DUB", "ENG", Role.SYSTEM_OWNER),
    ("cdubois", "Claire Dubois", "GMP Inspector (external)", None, None, Role.AUDITOR),
]
AUDITOR = "cdubois"

INTEGRATIONS = [
    ("LabWare LIMS BSL", IntegrationKind.LIMS, "LabWare LIMS 8", "BSL", ["127.0.0.0/8"]),
    ("Werum MES DUB", IntegrationKind.MES, "PAS-X MES 3.3", "DUB", ["127.0.0.0/8"]),
    ("SCADA Fill Line 2", IntegrationKind.SCADA, "WinCC SCADA Line 2", "DUB", ["127.0.0.0/8"]),
    ("Domain controllers", IntegrationKind.DIRECTORY, "Active Directory", None, []),
]


# While the records are loaded: no e-mail copies of the notifications (the inbox still
# fills), and a fast password hasher, because every e-signature re-checks a password and
# argon2 costs about half a second per check. Every password is issued again with the
# configured hashers (argon2) at the end, so no fast hash remains.
_LOADING = {
    "CYBERQMS_NOTIFY_EMAIL": False,
    "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
}


@dataclass
class Organization:
    admin: User
    sites: dict[str, Site] = field(default_factory=dict)
    people: dict[str, User] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)  # those issued in this run


class Command(BaseCommand):
    help = ("Load the demo organization with 18 months of deviations, CAPAs and change "
            "controls, and print one-time demo logins.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quiet-passwords", action="store_true",
                            help="Do not print passwords (for scripted checks).")
        parser.add_argument("--scale", type=float, default=1.0,
                            help="Fraction of the default number of records (0: the "
                                 "organization only; tests use a small fraction).")

    def handle(self, *args: Any, **options: Any) -> None:
        scale = options["scale"]
        if not 0 <= scale <= 5:
            raise CommandError("--scale is between 0 and 5.")
        started = time.monotonic()
        with acting_context(RequestContext(channel="cli")):
            logins = self._load(scale)
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("Demo logins (one-time passwords; you will be "
                                             "asked to choose a new password):"))
        width = max(len(u) for u, _, _ in logins)
        for username, role, password in logins:
            shown = "(hidden)" if options["quiet_passwords"] else password
            self.stdout.write(f"  {username.ljust(width)}  {shown}  {role}")
        self.stdout.write("Privileged roles (administrator, QA manager, IT security, system "
                          "owner) enrol an authenticator app at first sign-in.")
        self.stdout.write(f"Done in {time.monotonic() - started:.1f} s.")

    def _event_sources(self, org: Any, sites: dict[str, Site]) -> None:
        """Security event sources: `logger` on this machine reaches the syslog listener as
        the Basel SCADA relay, so the demo's brute-force walkthrough works out of the box
        (and lands on the bioreactor SCADA once the inventory is loaded)."""
        from cyberqms.security.monitoring.models import EventSource
        from cyberqms.security.monitoring.services import source_create

        analyst = org.people.get("aokafor")
        if analyst is None:
            return
        made = 0
        for name, kind, system, site, fmt, addresses in _demo_sources():
            if not EventSource.objects.filter(name=name).exists():
                source_create(actor=analyst, name=name, kind=kind, system=system, format=fmt,
                              site=sites[site], addresses=addresses)
                made += 1
        self._step(f"{made} security event sources (syslog from 127.0.0.1 → the Basel SCADA "
                   "relay)")

    def _step(self, text: str) -> None:
        self.stdout.write(f"  · {text}")

    def _load(self, scale: float) -> list[tuple[str, str, str]]:
        from cyberqms.demo import records as demo_records

        self.stdout.write("Loading the demo organization")
        fresh = (not User.objects.filter(username=ADMIN[0]).exists()
                 and not AuditEntry.objects.exists())
        if not fresh:
            org = self._organization(auditor_now=True)
            if demo_records.records_loaded():
                self._step("records already loaded (kept as they are)")
            elif scale:
                self._step("records not loaded: they are made with their history from the "
                           "start, which needs a fresh database")
            return self._logins(org)
        real_now = timezone.now()
        # From midnight, so the same day gives the same records (one seed draws them all).
        start = (real_now - timedelta(days=demo_records.SIMULATED_DAYS)).replace(
            hour=0, minute=0, second=0, microsecond=0)
        clock = demo_records.SimulatedClock(start)
        self._step(f"fresh database: history starts {clock.current:%Y-%m-%d} (simulated "
                   "clock)")
        summary = None
        with override_settings(**_LOADING), demo_records.simulated_time(clock):
            org = self._organization(auditor_now=False)
            if scale:
                cast = demo_records.Cast(
                    admin=org.admin, sites=org.sites,
                    people={u: p for u, p in org.people.items() if u != AUDITOR},
                    passwords=dict(org.passwords),
                )
                loader = demo_records.RecordLoader(
                    cast, clock, real_now - timedelta(minutes=10), out=self.stdout, scale=scale)
                summary = loader.load()
        # Back to the real time: the inspector's access starts today, and the printed
        # passwords are issued now (with the configured hasher).
        auditor = org.people[AUDITOR]
        services.role_grant(auditor, Role.AUDITOR, actor=org.admin, reason="Demo organization",
                            valid_until=timezone.now() + timedelta(days=14))
        self._step("inspector access granted from today for 14 days")
        if summary is not None:
            self._summary(summary)
        for user in org.people.values():
            org.passwords[user.username] = services.user_reset_password(
                user, actor=org.admin, reason="Demo logins issued").password
        org.passwords[org.admin.username] = _reissue_admin(org.admin)
        return self._logins(org)

    def _logins(self, org: Organization) -> list[tuple[str, str, str]]:
        logins = [(org.admin.username, Role.ADMINISTRATOR.label,
                   org.passwords[org.admin.username])]
        for username, _name, _title, _site, _dept, role in PEOPLE:
            logins.append((username, Role(role).label, org.passwords[username]))
        return logins

    def _summary(self, summary: Any) -> None:
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("Demo records"))
        self.stdout.write(f"  {'Kind':<11} {'State':<28} {'Count':>5}")
        last = ""
        for kind, state, count in summary.rows:
            self.stdout.write(f"  {kind if kind != last else '':<11} {state:<28} {count:>5}")
            last = kind
        overdue = ", ".join(f"{k} {v}" for k, v in summary.overdue.items())
        cyber = ", ".join(f"{k} {v}" for k, v in summary.cyber.items())
        self.stdout.write(f"  Overdue (open, past due): {overdue}")
        self.stdout.write(f"  Cyber-related: {cyber}")
        self.stdout.write(f"  E-signatures {summary.signatures}, audit entries "
                          f"{summary.audit_entries}, {summary.steps} workflow steps in "
                          f"{summary.elapsed:.1f} s")

    def _organization(self, *, auditor_now: bool) -> Organization:
        """Sites, people and integrations; existing ones are kept, and existing people get a
        fresh one-time password. The auditor's role is granted here only at the real time
        (`auditor_now`): granted at the simulated start it would have expired long ago."""
        admin = User.objects.filter(username=ADMIN[0]).first()
        org_passwords: dict[str, str] = {}
        if admin is None:
            issued = bootstrap_administrator(
                username=ADMIN[0], full_name=ADMIN[1], email=f"{ADMIN[0]}@example.com"
            )
            admin = issued.user
            _demo_update(admin, title=ADMIN[2])
            org_passwords[admin.username] = issued.password
            self._step("administrator created")
        org = Organization(admin=admin, passwords=org_passwords)
        sites = org.sites
        for code, name, country, tz, departments in SITES:
            site = Site.objects.filter(code=code).first() or services.site_create(
                actor=admin, code=code, name=name, country=country, time_zone=tz
            )
            sites[code] = site
            for dcode, dname in departments:
                if not Department.objects.filter(site=site, code=dcode).exists():
                    services.department_create(actor=admin, site=site, code=dcode, name=dname)
        self._step(f"{len(sites)} sites with departments")
        if admin.site_id is None:
            _demo_update(
                admin,
                site=sites[ADMIN[3]],
                department=Department.objects.get(site=sites[ADMIN[3]], code=ADMIN[4]),
            )

        for username, full_name, title, site_code, dept, role in PEOPLE:
            user = User.objects.filter(username=username).first()
            if user is None:
                home = sites[site_code] if site_code else None
                department = (
                    Department.objects.get(site=home, code=dept) if home and dept else None
                )
                issued = services.user_create(
                    actor=admin, username=username, full_name=full_name,
                    email=f"{username}@example.com", title=title, site=home,
                    department=department, reason="Demo organization",
                )
                user = issued.user
                services.user_verify_identity(user, actor=admin,
                                              method="Photo ID checked by HR (demo)")
                if role != Role.AUDITOR:
                    services.role_grant(user, role, actor=admin, reason="Demo organization")
                elif auditor_now:
                    services.role_grant(user, role, actor=admin, reason="Demo organization",
                                        valid_until=timezone.now() + timedelta(days=14))
                password = issued.password
            else:
                password = services.user_reset_password(
                    user, actor=admin, reason="Demo logins reissued"
                ).password
                if role == Role.AUDITOR and auditor_now and not RoleAssignment.objects.held_on(
                        timezone.now()).filter(user=user, role=role).exists():
                    # The inspector's 14 days have run out since the first run: a new
                    # time-boxed grant from today, like a real inspection's second visit.
                    services.role_grant(user, role, actor=admin,
                                        reason="Demo organization: inspector access renewed",
                                        valid_until=timezone.now() + timedelta(days=14))
            org.people[username] = user
            org.passwords[username] = password
        self._step(f"{len(PEOPLE)} people, one per role")

        for name, kind, system, site_code, addresses in INTEGRATIONS:
            if not Integration.objects.filter(name=name).exists():
                services.integration_create(
                    actor=admin, name=name, kind=kind, system=system,
                    site=sites[site_code] if site_code else None, allowed_addresses=addresses,
                    description="Demo plant system",
                )
        self._step(f"{len(INTEGRATIONS)} registered plant integrations")
        self._event_sources(org, sites)

        if admin.username not in org.passwords:
            org.passwords[admin.username] = _reissue_admin(admin)
        return org


def _demo_sources() -> list[tuple[str, str, str, str, str, list[str]]]:
    # name, kind, system, site, format, sender addresses (the syslog listener's map)
    return [
        ("SCADA syslog relay BSL (demo)", "scada", "SIMATIC WinCC, bioreactor suite BSL",
         "BSL", "syslog", ["127.0.0.1/32"]),
        ("Firewall DUB (demo)", "firewall", "OT firewall Dublin", "DUB", "cef", []),
    ]


def _demo_update(user: User, **values: object) -> None:
    """The demo loader completes the administrator's profile, as the system, audited."""
    with transaction.atomic():
        before = snapshot(user)
        for name, value in values.items():
            setattr(user, name, value)
        user.save(update_fields=list(values))
        audit_record("accounts.user.update", user, before=before,
                     reason="Demo organization: administrator profile")


def _reissue_admin(admin: User) -> str:
    """Nobody resets their own password through the service; the demo loader may."""
    password = services.one_time_password()
    with transaction.atomic():
        before = snapshot(admin)
        admin.set_password(password)
        admin.must_change_password = True
        admin.save(update_fields=["password", "must_change_password"])
        audit_record("accounts.user.reset_password", admin, before=before,
                     reason="Demo logins reissued")
    return password
