"""`cyberqms demo`: a realistic demo organization, one user per role, printed logins.

Idempotent: a second run keeps the data and issues fresh one-time passwords, because the
first ones were (or should have been) changed at first sign-in.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from cyberqms.accounts import services
from cyberqms.accounts.bootstrap import bootstrap_administrator
from cyberqms.accounts.enums import IntegrationKind, Role
from cyberqms.accounts.models import Department, Integration, Site, User
from cyberqms.core.context import RequestContext, acting_context
from cyberqms.trail.record import audit_record, snapshot

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

INTEGRATIONS = [
    ("LabWare LIMS BSL", IntegrationKind.LIMS, "LabWare LIMS 8", "BSL", ["127.0.0.0/8"]),
    ("Werum MES DUB", IntegrationKind.MES, "PAS-X MES 3.3", "DUB", ["127.0.0.0/8"]),
    ("SCADA Fill Line 2", IntegrationKind.SCADA, "WinCC SCADA Line 2", "DUB", ["127.0.0.0/8"]),
    ("Domain controllers", IntegrationKind.DIRECTORY, "Active Directory", None, []),
]


class Command(BaseCommand):
    help = "Load the demo organization and print one-time demo logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quiet-passwords", action="store_true",
                            help="Do not print passwords (for scripted checks).")

    def handle(self, *args: Any, **options: Any) -> None:
        with acting_context(RequestContext(channel="cli")):
            logins = self._load()
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("Demo logins (one-time passwords; you will be "
                                             "asked to choose a new password):"))
        width = max(len(u) for u, _, _ in logins)
        for username, role, password in logins:
            shown = "(hidden)" if options["quiet_passwords"] else password
            self.stdout.write(f"  {username.ljust(width)}  {shown}  {role}")
        self.stdout.write("Privileged roles (administrator, QA manager, IT security, system "
                          "owner) enrol an authenticator app at first sign-in.")

    def _step(self, text: str) -> None:
        self.stdout.write(f"  · {text}")

    def _load(self) -> list[tuple[str, str, str]]:
        logins: list[tuple[str, str, str]] = []
        self.stdout.write("Loading the demo organization")
        admin = User.objects.filter(username=ADMIN[0]).first()
        if admin is None:
            issued = bootstrap_administrator(
                username=ADMIN[0], full_name=ADMIN[1], email=f"{ADMIN[0]}@example.com"
            )
            admin = issued.user
            _demo_update(admin, title=ADMIN[2])
            admin_password = issued.password
            self._step("administrator created")
        else:
            admin_password = ""
        sites: dict[str, Site] = {}
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
                valid_until = (
                    timezone.now() + timedelta(days=14) if role == Role.AUDITOR else None
                )
                services.role_grant(user, role, actor=admin, reason="Demo organization",
                                    valid_until=valid_until)
                password = issued.password
            else:
                password = services.user_reset_password(
                    user, actor=admin, reason="Demo logins reissued"
                ).password
            logins.append((username, Role(role).label, password))
        self._step(f"{len(PEOPLE)} people, one per role")

        for name, kind, system, site_code, addresses in INTEGRATIONS:
            if not Integration.objects.filter(name=name).exists():
                services.integration_create(
                    actor=admin, name=name, kind=kind, system=system,
                    site=sites[site_code] if site_code else None, allowed_addresses=addresses,
                    description="Demo plant system",
                )
        self._step(f"{len(INTEGRATIONS)} registered plant integrations")

        if not admin_password:
            admin_password = _reissue_admin(admin)
        logins.insert(0, (admin.username, Role.ADMINISTRATOR.label, admin_password))
        return logins


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
