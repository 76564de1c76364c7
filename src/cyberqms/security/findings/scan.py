"""Drift scans: what the detectors find becomes findings, and findings no longer found are
resolved by cyberqms (CYB-07).

A scan runs every hour (the scheduler), on demand (the access-governance page, `cyberqms
access scan`), and for one person as soon as their roles change, so that a grant that
creates a segregation-of-duties conflict raises its finding, and its alert, at once.
A high finding is a security event (`access.finding.raised`) that the monitoring pipeline
turns into an alert: drift enters the same loop as attacks.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from cyberqms.platform.accounts.models import Site, User
from cyberqms.platform.core.access import people_able
from cyberqms.platform.core.events import emit_security_event
from cyberqms.platform.kit.records import next_number
from cyberqms.platform.trail.record import audit_record

from .drift import Found, detect, load_world
from .enums import FindingKind, FindingSeverity, FindingState
from .models import AccessFinding
from .workflow import FINDING_WORKFLOW, TYPE

S = FindingState
logger = logging.getLogger(__name__)
EVENT = "access.finding.raised"
DUE_DAYS: dict[str, int] = {FindingSeverity.HIGH: 7, FindingSeverity.MEDIUM: 30,
                            FindingSeverity.LOW: 90}


@dataclass
class ScanResult:
    raised: list[AccessFinding] = field(default_factory=list)
    cleared: list[AccessFinding] = field(default_factory=list)
    still_open: int = 0
    unowned: list[str] = field(default_factory=list)  # found, but nobody can work it

    def __str__(self) -> str:
        return (f"{len(self.raised)} raised, {len(self.cleared)} resolved, "
                f"{self.still_open} still open"
                + (f", {len(self.unowned)} without anyone to work them"
                   if self.unowned else ""))


def scan_interval() -> float:
    return 3600.0


def drift_scan(*, people: Iterable[int] | None = None, kinds: Iterable[str] | None = None,
               now: dt.datetime | None = None) -> ScanResult:
    """Find drift in the whole organization (or for `people` only, of `kinds` only) and
    bring the findings up to date; the use of rights is counted first on a whole scan."""
    from cyberqms.security.access.usage import usage_fold

    wanted = None if people is None else list(people)
    only = None if kinds is None else set(kinds)
    if wanted is None:
        usage_fold()
    now = now or timezone.now()
    found = detect(load_world(now, people=wanted))
    current = AccessFinding.objects.filter(is_deleted=False, state__in=(S.OPEN, S.ACCEPTED))
    if wanted is not None:
        current = current.filter(subject_id__in=wanted)
    if only is not None:
        found = {fp: item for fp, item in found.items() if item.kind in only}
        current = current.filter(kind__in=only)
    known = {f.fingerprint: f for f in current.exclude(fingerprint="")}
    result = ScanResult()
    owners: dict[int | None, Any] = {}
    for fingerprint, item in found.items():
        if fingerprint not in known:
            finding = _raise(item, now, owners)
            if finding is None:
                result.unowned.append(fingerprint)
            else:
                result.raised.append(finding)
    seen = [f.pk for fp, f in known.items() if fp in found and f.state == S.OPEN]
    AccessFinding.objects.filter(pk__in=seen).update(last_seen_at=now)
    result.still_open = len(seen)
    for fingerprint, finding in known.items():
        if fingerprint not in found and finding.state == S.OPEN:
            FINDING_WORKFLOW.run(finding, "clear", actor=None,
                                 reason="No longer found by the drift scan")
            result.cleared.append(finding)
    return result


def _owner(site_id: int | None) -> Any:
    """Who works a finding at `site_id`: an IT-security holder of the right there first."""
    able = list(people_able("access_findings.work", [site_id]))
    security = [p for p in able if any(a.role == "it_security" for a in p.active_roles())]
    return (security or able or [None])[0]


def _raise(item: Found, now: dt.datetime, owners: dict[int | None, Any],
           ) -> AccessFinding | None:
    site_id = item.site_id or Site.objects.filter(is_active=True).order_by(
        "code").values_list("pk", flat=True).first()
    if site_id not in owners:
        owners[site_id] = _owner(site_id)
    owner = owners[site_id]
    if owner is None or site_id is None:
        logger.warning("access finding %s: nobody holds access_findings.work at site %s",
                       item.fingerprint, site_id)
        return None
    finding = AccessFinding(
        title=item.title[:200], kind=item.kind, severity=item.severity,
        subject_id=item.subject_id, assignment_id=item.assignment_id, token_id=item.token_id,
        fingerprint=item.fingerprint[:200], evidence=item.evidence(), last_seen_at=now,
        site_id=site_id, owner=owner, originator=owner, state=S.OPEN,
        due_date=timezone.localdate() + dt.timedelta(days=DUE_DAYS[item.severity]),
        description="Found by cyberqms's drift scan from the access it keeps: roles in "
                    "force, sign-ins, second factors, tokens and the use of each right "
                    "counted from the access-decision log.")
    with transaction.atomic():
        finding.number = next_number("AF")
        finding.save()
        audit_record(f"{TYPE}.create", finding, actor=None, created=True,
                     reason="Found by the drift scan")
        if item.severity == FindingSeverity.HIGH:
            _report(finding)
    return finding


def _report(finding: AccessFinding) -> None:
    subject = User.objects.filter(pk=finding.subject_id).values_list(
        "username", flat=True).first() if finding.subject_id else ""
    # The account it is about names the event, so its alert groups by that account (not
    # by the address of whoever's request ran the scan).
    emit_security_event(
        EVENT, severity="high",
        message=f"Access finding {finding.number}: {finding.title}",
        username=subject or "", data={"finding": finding.number, "kind": finding.kind,
                                      "subject": subject or "", "site": finding.site.code})


# What a role change decides at once; the rest waits for the hourly scan.
AT_ONCE = (FindingKind.SOD_CONFLICT, FindingKind.AUDITOR_TIMEBOX)


def scan_on_role_change(sender: Any, *, user: Any, **kwargs: Any) -> None:
    """A role granted or revoked: look for the conflicts it may make or end, for that
    person, once the change has committed."""
    pk = user.pk

    def scan() -> None:
        try:
            drift_scan(people=[pk], kinds=AT_ONCE)
        except Exception:  # the grant stands; the hourly scan finds what this one missed
            logger.exception("drift scan after a role change of user %s failed", pk)

    transaction.on_commit(scan)
