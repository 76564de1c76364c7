"""Deviations in any state, made through the services (reuse them in other apps' tests).

    from cyberqms.quality.deviations.tests.factories import deviation_in_state
    dev = deviation_in_state(personas, "approved", classification="critical")

`people` is the `personas` fixture: "author" originates and owns the deviation,
"qa_approver" triages and returns, "qa_manager" approves, closes and cancels (its
identity is verified and the accountability statement accepted on first use).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache
from django.test import RequestFactory
from django.utils import timezone

from cyberqms.conftest import PASSWORD, totp_code
from cyberqms.platform.accounts.models import Site
from cyberqms.platform.accounts.tests.factories import SiteFactory
from cyberqms.platform.kit.signatures import SignatureRequest, commitment_accept, has_commitment
from cyberqms.quality.deviations import services
from cyberqms.quality.deviations.family import EDITABLE
from cyberqms.quality.deviations.models import Deviation
from cyberqms.quality.deviations.workflow import DEVIATION_WORKFLOW

# The order a deviation passes through its states on the happy path.
PATH = ("draft", "open", "investigation", "qa_review", "approved", "closed")


def a_site(code: str = "MUC") -> Site:
    site: Site = SiteFactory.create(code=code, name=f"Site {code}")
    return site


def ready_to_sign(user: Any, admin: Any) -> Any:
    """Verify the identity (P11-22) and accept the statement, once."""
    from cyberqms.platform.accounts.services import user_verify_identity

    if user.identity_verified_at is None:
        user_verify_identity(user, actor=admin, method="Passport")
    if not has_commitment(user):
        commitment_accept(user)
    return user


def signature(user: Any = None) -> SignatureRequest:
    """A fresh signature request (password and a new TOTP code, counted per request).

    Tests do not commit, so no signing session continues; the cache is cleared so the
    same time-step code is accepted again."""
    cache.clear()
    request = RequestFactory().post("/x", REMOTE_ADDR="10.0.0.9")
    request.session = SessionStore()
    return SignatureRequest(password=PASSWORD, otp=totp_code() if user is None or
                            user.has_mfa() else "", request=request)


def draft_values(**fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "title": "Temperature excursion in cold room 3",
        "description": "Logger showed 9.4 °C for 40 minutes during the night shift.",
        "event_at": timezone.now() - dt.timedelta(hours=2),
        "due_date": timezone.localdate() + dt.timedelta(days=30),
        "area": "Warehouse",
        "product_reference": "Batch 24-0117",
    }
    values.update(fields)
    return values


INVESTIGATION = {
    "investigation_summary": "Door sensor failed; alarm not escalated.",
    "root_cause_category": "equipment",
    "root_cause": "Worn door seal and a faulty sensor.",
}


def deviation_in_state(
    people: dict[str, Any], state: str = "draft", *, site: Site | None = None,
    investigated: bool = False, originator: str = "author", **fields: Any,
) -> Deviation:
    """A deviation brought to `state` through the workflow (every step audited).

    `fields` go to `deviation_create`; investigation fields (summary, root cause…) are
    filled with defaults before `complete_investigation` unless given (and, with
    `investigated`, already for a deviation left in investigation). `originator` names
    the persona who records it ("it_security" to name a security incident or alert, which
    an author may not see); "author" owns it either way.
    """
    author, reviewer, manager = people[originator], people["qa_approver"], people["qa_manager"]
    site = site or a_site()
    investigation = {k: fields.pop(k) for k in list(fields) if k in EDITABLE[
        "investigation"] and k not in EDITABLE["draft"]}
    values = draft_values(**fields)
    values.setdefault("owner", people["author"])
    values.setdefault("classification", "major")
    d = services.deviation_create(actor=author, site=site, **values)
    if state == "draft":
        return d
    if state == "cancelled":
        return DEVIATION_WORKFLOW.run(d, "cancel", actor=manager, reason="Entered twice")
    DEVIATION_WORKFLOW.run(d, "submit", actor=author)
    if state == "open":
        return d
    DEVIATION_WORKFLOW.run(d, "triage", actor=reviewer)
    if state == "investigation" and not investigated:
        return d
    services.deviation_update(d, actor=d.owner, changes={**INVESTIGATION, **investigation},
                              reason="Investigation findings")
    if state == "investigation":
        return d
    DEVIATION_WORKFLOW.run(d, "complete_investigation", actor=d.owner)
    if state == "qa_review":
        return d
    ready_to_sign(manager, people["admin"])
    DEVIATION_WORKFLOW.run(d, "approve", actor=manager, signature=signature(manager))
    if state == "approved":
        return d
    DEVIATION_WORKFLOW.run(d, "close", actor=manager, signature=signature(manager))
    if state == "closed":
        return d
    raise ValueError(f"no such deviation state {state!r}")


def security_incident(people: dict[str, Any], site: Site, **fields: Any) -> Any:
    """A security incident at `site`, opened by IT security through the kit."""
    from cyberqms.platform.kit.record_services import record_create
    from cyberqms.platform.kit.records import kind_by_slug

    values: dict[str, Any] = {
        "title": "Ransomware on engineering workstation ENG-WS-4",
        "description": "Endpoint protection quarantined ransomware on ENG-WS-4.",
        "due_date": timezone.localdate() + dt.timedelta(days=14),
    }
    values.update(fields)
    return record_create(kind_by_slug("incidents"), actor=people["it_security"], site=site,
                         values=values)


def security_alert(site: Site, number: str = "ALERT-2026-0042", **fields: Any) -> Any:
    """A security alert at `site` as detection leaves it (the monitoring pipeline's row)."""
    from cyberqms.security.monitoring.models import Alert

    seen = timezone.now() - dt.timedelta(hours=3)
    values: dict[str, Any] = {
        "number": number, "rule_id": "brute-force", "title": "Brute force against one account",
        "level": "high", "site": site, "first_seen": seen, "last_seen": seen,
        "created_at": seen,
    }
    values.update(fields)
    return Alert.objects.create(**values)
