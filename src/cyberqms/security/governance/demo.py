"""Access governance in the demo organization, over its 18 months:

- go-live: five more people join (a QA specialist in Dublin, a QC analyst, a production
  supervisor, a packaging technician, an external supplier auditor); everyone gets a
  manager, and every role is linked to the change control that approved the go-live;
- a QA specialist is lent the LIMS system-owner role for a project and never uses it;
- an external auditor's 21-day access ends, and nobody deactivates the account;
- a Basel access review: the unused system-owner role revoked, the rest kept, each
  reviewer's decisions signed, the campaign closed; the QA head's missing manager accepted;
- a packaging technician leaves: the scheduler disables the account 45 s after the date;
- the production supervisor is made QA manager at Basel for a leave, without a change
  record: a segregation-of-duties conflict;
- the QC analyst stops using the system (dormant); the Dublin QA specialist never
  approves anything (an unused approval right);
- a Dublin access review is launched ten days before today, waiting for the QA head;
- IT security imports the LabWare LIMS user list (a shared QC login, the account of a QC
  analyst who left, an analyst who stopped signing in) and launches the review of its
  accounts, waiting for the LIMS owner.

The findings are the drift scan's, from the access-decision log the 18 months wrote.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from cyberqms.platform.accounts import employment
from cyberqms.platform.accounts import services as accounts
from cyberqms.platform.accounts.enums import Role
from cyberqms.platform.accounts.models import RoleAssignment
from cyberqms.platform.kit.record_services import record_create
from cyberqms.platform.kit.records import kind_by_slug

# username, full name, title, home site, department, role (at the home site)
JOINERS = (
    ("lmoreau", "Luc Moreau", "QA Specialist", "DUB", "QA", Role.QA_REVIEWER),
    ("kschmid", "Karin Schmid", "QC Analyst", "BSL", "QC", Role.AUTHOR),
    ("rfischer", "Ralf Fischer", "Production Supervisor", "BSL", "PROD", Role.PROCESS_OWNER),
    ("ncosta", "Nuno Costa", "Packaging Technician", "DUB", "PACK", Role.AUTHOR),
    ("gmartin", "Gabriel Martin", "Supplier Auditor (external)", "", "", None),
)
# person → manager; the QA head reports to the site director, who has no account.
MANAGERS = {"treyes": "hbrandt", "pnatarajan": "hbrandt", "aokafor": "hbrandt",
            "slindqvist": "aokafor",
            "mbianchi": "hbrandt", "lmoreau": "hbrandt", "jweber": "pnatarajan",
            "kschmid": "pnatarajan", "rfischer": "pnatarajan", "ncosta": "mbianchi"}


# Joiners who work in cyberqms like the cast (they settle in, read and take the quiz); the
# QC analyst, the packaging technician and the supplier auditor do not.
WORKING = ("lmoreau", "rfischer")


def schedule(loader: Any) -> int:
    """The joiners join at the start (so that training counts them among its readers),
    the rest of the story runs on the timeline."""
    rng = random.Random("cyberqms demo access governance")  # noqa: S311  # demo data
    start = loader.clock.current
    cast, admin = loader.cast, loader.cast.admin
    for i, (username, name, title, site, department, role) in enumerate(JOINERS):
        home = cast.sites[site] if site else None
        person = accounts.user_create(
            actor=admin, username=username, full_name=name, email=f"{username}@example.com",
            title=title, site=home, department=cast.department(site, department) if site
            else None, reason="Joined (HR onboarding)").user
        accounts.user_verify_identity(person, actor=admin, method="Photo ID checked by HR")
        if role is not None:
            accounts.role_grant(person, role, actor=admin, site=home,
                                reason="Joined: role of the position")
        if username in WORKING:
            cast.people[username] = person
            loader.timeline.start(loader.office(start + dt.timedelta(days=1, hours=2 + i),
                                                rng), settle_in(loader, person, rng),
                                  f"settling in {username}")
    loader.timeline.start(loader.office(start + dt.timedelta(days=1, hours=8), rng),
                          go_live(loader, rng), "access: go-live")
    return 2


def settle_in(loader: Any, person: Any, rng: random.Random) -> Iterator[dt.datetime]:
    """First sign-in: the joiner chooses a password and accepts the signature statement
    (the loader's own settling-in, with this script's random source: the other scripts'
    draws stay as they were)."""
    from cyberqms.platform.kit.signatures import commitment_accept

    chosen = f"demo-{person.username}-{rng.randint(10**8, 10**9)}"
    person.set_password(chosen)
    person.must_change_password = False
    person.save(update_fields=["password", "must_change_password"])
    accounts.user_password_changed(person)
    loader.cast.passwords[person.username] = chosen
    commitment_accept(person)
    return
    yield


def _people() -> dict[str, Any]:
    return {u.username: u for u in get_user_model()._default_manager.all()}


def go_live(loader: Any, rng: random.Random) -> Iterator[dt.datetime]:
    admin = loader.cast.admin
    people = _people()
    for username, manager in MANAGERS.items():
        employment.user_employment_set(people[username], actor=admin, manager=people[manager],
                                       reason="Organization chart at go-live")
    for person in (admin, *loader.cast.people.values()):
        person.refresh_from_db()  # the loader's own copies of them save later
    yield loader.later(1, 2, rng)
    change = _access_change(loader)
    for assignment in RoleAssignment.objects.held_on(timezone.now()).select_related("user"):
        if not assignment.approval_ref and assignment.role != Role.AUDITOR:
            employment.role_approval_link(assignment, actor=admin, approval_ref=change.number,
                                        reason="Approved with the go-live access change")
    start = loader.clock.current
    loader.timeline.start(loader.office(start + dt.timedelta(days=30), rng),
                          lent_role(loader, change.number), "access: lent role")
    loader.timeline.start(loader.office(start + dt.timedelta(days=200), rng),
                          supplier_auditor(loader, change.number), "access: auditor")
    end = loader.end
    # Within the review period of today: the scheduler launches no campaign at first start.
    loader.timeline.start(loader.office(end - dt.timedelta(days=80), rng),
                          basel_review(loader, rng), "access: Basel review")
    loader.timeline.start(loader.office(end - dt.timedelta(days=75), rng),
                          leaver(loader), "access: leaver")
    loader.timeline.start(loader.office(end - dt.timedelta(days=45), rng),
                          cover(loader), "access: cover")
    loader.timeline.start(loader.office(end - dt.timedelta(days=10), rng),
                          dublin_review(loader), "access: Dublin review")
    loader.timeline.start(loader.office(end - dt.timedelta(days=8), rng),
                          lims_accounts(loader), "access: LIMS accounts")
    loader.timeline.start(loader.office(start + dt.timedelta(days=20), rng),
                          sign_ins(loader, rng), "access: sign-ins")
    loader.timeline.start(end - dt.timedelta(hours=2), last_scan(), "access: scan")


def _access_change(loader: Any) -> Any:
    """The change control that approved the go-live's user access (QA approved, released:
    no new interface, no remote access)."""
    cast = loader.cast
    kind = kind_by_slug("changes")
    change = record_create(kind, actor=cast.author, site=cast.sites["BSL"], values={
        "title": "User access for the cyberqms go-live",
        "change_type": "computerized_system",
        "justification": "The organization starts working in cyberqms: roles per position.",
        "scope": "Roles of the people of Basel and Dublin at go-live.",
        "product_quality_impact": "None: access to the QMS only.",
        "validation_impact": "Role matrix verified in the PQ (UAT-07).",
        "regulatory_impact": "None.",
        "cyber_assessment": "Roles per the access policy; privileged roles enrol MFA.",
        "severity": 3, "probability": 1, "detectability": 1,
        "planned_implementation_date": timezone.localdate() + dt.timedelta(days=3)})
    kind.workflow.run(change, "submit", actor=cast.author)
    kind.workflow.run(change, "qa_approve", actor=cast.qa_reviewer,
                      signature=loader.sign(cast.qa_reviewer))
    kind.workflow.run(change, "release", actor=cast.qa_manager)
    return change


def lent_role(loader: Any, approval: str) -> Iterator[dt.datetime]:
    """The role change starts a mover's review (cyberqms's); the QA head keeps both roles
    for the project, and IT security closes it."""
    from .campaigns import item_decide, review_attest
    from .models import AccessReview, ReviewItem

    cast = loader.cast
    accounts.role_grant(cast.qa_reviewer, Role.SYSTEM_OWNER, actor=cast.admin,
                        site=cast.sites["BSL"], approval_ref=approval,
                        reason="LIMS upgrade project: system owner's deputy")
    review = AccessReview.objects.filter(person=cast.qa_reviewer, review_kind="mover",
                                         state="open").first()
    if review is None:
        return
    yield loader.office(loader.clock.current + dt.timedelta(days=3))
    for item in ReviewItem.objects.filter(review=review).select_related("reviewer"):
        item_decide(item, actor=item.reviewer, decision="keep",
                    reason="Deputy system owner for the LIMS upgrade project")
    for reviewer in {i.reviewer for i in ReviewItem.objects.filter(review=review)}:
        review_attest(review, actor=reviewer, signature=loader.sign(reviewer))
    yield loader.office(loader.clock.current + dt.timedelta(days=1))
    kind_by_slug("access-reviews").workflow.run(
        review, "close", actor=cast.it_security, signature=loader.sign(cast.it_security))


def supplier_auditor(loader: Any, approval: str) -> Iterator[dt.datetime]:
    auditor = _people()["gmartin"]
    accounts.role_grant(auditor, Role.AUDITOR, actor=loader.cast.admin, approval_ref=approval,
                        valid_until=timezone.now() + dt.timedelta(days=21),
                        reason="Audit of the Dublin packaging supplier interface")
    return
    yield


def _launch(loader: Any, owner: Any, site: str, title: str) -> Any:
    from cyberqms.security.access.usage import usage_fold
    from cyberqms.security.findings.scan import drift_scan

    usage_fold(lag=0)  # the hourly job, caught up for the demo's clock
    drift_scan()
    kind = kind_by_slug("access-reviews")
    review = record_create(kind, actor=owner, site=loader.cast.sites[site], values={
        "title": title, "review_kind": "scheduled",
        "description": f"Periodic review of every role in force at {site} (A11D-01)."})
    return kind.workflow.run(review, "launch", actor=owner)


def basel_review(loader: Any, rng: random.Random) -> Iterator[dt.datetime]:
    from cyberqms.security.findings.models import AccessFinding
    from cyberqms.security.findings.workflow import FINDING_WORKFLOW

    from .campaigns import item_decide, review_attest
    from .models import ReviewItem

    cast = loader.cast
    review = _launch(loader, cast.it_security, "BSL", "Access review Basel, autumn")
    unowned = AccessFinding.objects.filter(kind="no_manager", subject=cast.qa_manager,
                                           state="open").first()
    if unowned is not None:
        FINDING_WORKFLOW.run(unowned, "accept", actor=cast.it_security,
                             reason="The head of QA reports to the site director, who has "
                                    "no account: IT security reviews her access.",
                             signature=loader.sign(cast.it_security))
    items = list(ReviewItem.objects.filter(review=review).select_related("reviewer"))
    for reviewer in sorted({i.reviewer for i in items}, key=lambda p: p.username):
        yield loader.later(1, 6, rng)
        for item in (i for i in items if i.reviewer_id == reviewer.pk):
            if item.role == Role.SYSTEM_OWNER and item.person_id == cast.qa_reviewer.pk:
                item_decide(item, actor=reviewer, decision="revoke",
                            reason="LIMS upgrade done; the deputy role was never used")
            else:
                item_decide(item, actor=reviewer, decision="keep",
                            reason="Needed for the daily work of the position")
        review_attest(review, actor=reviewer, signature=loader.sign(reviewer))
    yield loader.later(1, 2, rng)
    kind_by_slug("access-reviews").workflow.run(
        review, "close", actor=cast.it_security, signature=loader.sign(cast.it_security))


def leaver(loader: Any) -> Iterator[dt.datetime]:
    person = _people()["ncosta"]
    leaves = loader.clock.current.replace(hour=16, minute=0, second=0) + dt.timedelta(days=14)
    employment.user_employment_set(person, actor=loader.cast.admin, leaver_at=leaves,
                                   reason="Resignation received by HR")
    yield leaves + dt.timedelta(seconds=45)
    employment.leavers_disable()


def cover(loader: Any) -> Iterator[dt.datetime]:
    accounts.role_grant(_people()["rfischer"], Role.QA_MANAGER, actor=loader.cast.admin,
                        site=loader.cast.sites["BSL"],
                        reason="Cover for the head of QA during her parental leave")
    return
    yield


def dublin_review(loader: Any) -> Iterator[dt.datetime]:
    _launch(loader, loader.cast.it_security, "DUB", "Access review Dublin, autumn")
    return
    yield


# The LIMS's own user list, as its export reads (last sign-ins in days before the import).
LIMS_ACCOUNTS = (
    # account, privilege, person (empty: by the account's name), name, privileged, days
    ("treyes", "QA reviewer", "", "Tomás Reyes", "no", 1),
    ("hbrandt", "QA approver", "", "Dr. Helena Brandt", "no", 3),
    ("jweber", "Analyst", "", "Jonas Weber", "no", 2),
    ("kschmid", "Analyst", "", "Karin Schmid", "no", 205),
    ("svc_lims_if", "Instrument interface", "slindqvist", "LIMS instrument interface", "no",
     0),
    ("labadmin", "System administrator", "slindqvist", "LIMS administrator", "yes", 12),
    ("qclab", "Analyst", "", "QC lab shared login", "no", 1),
    ("kfischer", "Analyst", "", "Katrin Fischer", "no", 240),
)


def lims_accounts(loader: Any) -> Iterator[dt.datetime]:
    """IT security imports the LIMS user list and launches the review of its accounts by
    the LIMS's owner (his own account goes to the QA contact)."""
    from cyberqms.assets.systems.models import System
    from cyberqms.security.access.system_accounts import accounts_import

    cast = loader.cast
    lims = System.objects.filter(title="LabWare LIMS", site__code="BSL",
                                 is_deleted=False).first()
    if lims is None:
        return
    now = timezone.now()
    rows = ["account,privilege,person,name,privileged,last_login"]
    for account, privilege, person, name, privileged, days in LIMS_ACCOUNTS:
        seen = (now - dt.timedelta(days=days, hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
        rows.append(f"{account},{privilege},{person},{name},{privileged},{seen}")
    accounts_import(lims, "\n".join(rows) + "\n", actor=cast.it_security, apply=True,
                    reason="LabWare user list exported by the LIMS administrator")

    from .models import AccessReview

    kind = kind_by_slug("access-reviews")
    review = record_create(kind, actor=cast.it_security, site=lims.site, values={
        "title": "Accounts of LabWare LIMS, autumn", "review_kind": "scheduled",
        "system": lims, "description": "Periodic review of the LIMS accounts by its "
                                       "system owner (A11D-01)."})
    assert isinstance(review, AccessReview)
    kind.workflow.run(review, "launch", actor=cast.it_security)
    return
    yield


def sign_ins(loader: Any, rng: random.Random) -> Iterator[dt.datetime]:
    """The joiners sign in every week or two (the Dublin QA specialist to read, never to
    approve); the QC analyst stops five months before today, the packaging technician
    when he leaves."""
    users = get_user_model()._default_manager
    stops = loader.end - dt.timedelta(days=150)
    while loader.end - loader.clock.current > dt.timedelta(days=2):
        now = timezone.now()
        users.filter(username__in=WORKING, is_active=True).update(last_login=now)
        users.filter(username="ncosta", is_active=True).update(last_login=now)
        if now < stops:
            users.filter(username="kschmid").update(last_login=now)
        yield loader.later(5, 12, rng)


def last_scan() -> Iterator[dt.datetime]:
    """The hourly drift scan of the last morning."""
    from cyberqms.security.findings.scan import drift_scan

    drift_scan()
    return
    yield
