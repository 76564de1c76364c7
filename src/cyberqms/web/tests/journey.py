"""The cast and the texts of the end-to-end journey of issue 4 (deviation → CAPA → closure),
shared by the browser journey (browser/test_journey_browser.py) and the API journey
(test_journey_api.py).

Segregation of duties, as the transition tables want it:

* ``it_security`` (IT security) opened the security incident behind the deviation;
* ``author`` (author) records the deviation, owns and investigates it, spawns the CAPA;
* ``qa_approver`` (QA reviewer) names the incident on the deviation (an author may not see
  incidents), triages the deviation, approves the CAPA plan (signed "Approved") and
  records the effectiveness check (signed "Verified");
* ``qa_manager`` (QA manager, TOTP) approves the deviation (signed "Approved"), closes the
  CAPA (signed "Closed") and the deviation (signed "Closed");
* ``process_owner`` (process owner) owns the CAPA: sets its effectiveness criteria, plans,
  submits and implements the actions.

Nobody approves or closes what they originated or own; the CAPA's owner never verifies it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from cyberqms.platform.core.context import RequestContext, acting_context

CAST: dict[str, str] = {
    "admin": "administrator",
    "author": "author",
    "qa_approver": "qa_reviewer",
    "qa_manager": "qa_manager",
    "process_owner": "process_owner",
    "it_security": "it_security",
}
SIGNERS = ("qa_approver", "qa_manager")

SITE_CODE = "MUC"
TITLE = "Unauthorised remote session on the LIMS server"
DESCRIPTION = (
    "The SOC saw an RDP session on LIMS-01 from an unmanaged laptop outside any change "
    "window; audit-trail review of the LIMS is pending."
)
INCIDENT_TITLE = "RDP session on LIMS-01 from an unmanaged laptop"
INVESTIGATION_SUMMARY = (
    "Vendor support account left enabled after the last upgrade; it was used from a "
    "personal laptop. No GxP data changed (LIMS audit trail reviewed)."
)
ROOT_CAUSE = "Vendor account not disabled at the end of the upgrade change (no offboarding step)."
CAPA_TITLE = "Disable dormant vendor accounts on GxP systems"
CRITERIA = "No vendor account active outside an approved change window for 3 months."
ACTIONS = (
    ("corrective", "Disable the vendor account on LIMS-01 and rotate its credentials."),
    ("preventive", "Add a vendor-account offboarding step to the change-control checklist."),
)
EVIDENCE = "Quarterly account review AR-2026-Q2: no active vendor accounts outside changes."

# How a signature's date and time is shown: "2026-05-04 13:02:11 UTC (UTC+0000)".
SIGNED_AT = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \S+ \(UTC[+-]\d{4}\)$")

# The audit actions each record's history must list, in the order they happen.
DEVIATION_STEPS = (
    "deviations.deviation.create",
    "deviations.deviation.submit",
    "deviations.deviation.update",  # QA classifies (a reason: past draft)
    "deviations.deviation.triage",
    "deviations.deviation.update",  # the investigation is written up
    "deviations.deviation.complete_investigation",
    "deviations.deviation.approve",
    "core.link.add",  # the CAPA is spawned
    "deviations.deviation.close",
)
CAPA_STEPS = (
    "capa.capa.create",
    "core.link.add",
    "capa.capa.edit",  # effectiveness criteria and date, in draft
    "capa.action.add",
    "capa.action.add",
    "capa.capa.submit",
    "capa.capa.approve_plan",
    "capa.action.complete",
    "capa.action.complete",
    "capa.capa.complete_implementation",
    "capa.capa.verify",
    "capa.capa.close",
)


def make_cast(make_user: Callable[..., Any]) -> tuple[dict[str, Any], Any]:
    """The personas (through the services), the site and IT security's incident there; the
    signers' identity verified by the administrator (P11-22). Nobody has accepted the signature statement yet: each
    signer does so at their first signature."""
    from cyberqms.platform.accounts.services import user_verify_identity
    from cyberqms.platform.accounts.tests.factories import SiteFactory

    people = {name: make_user(name, role) for name, role in CAST.items()}
    with acting_context(RequestContext(channel="cli")):
        site = SiteFactory.create(code=SITE_CODE, name="Munich plant")
        for name in SIGNERS:
            user_verify_identity(people[name], actor=people["admin"], method="Passport")
            people[name].refresh_from_db()
    for user in people.values():
        user.forget_access_cache()
    from cyberqms.platform.kit.record_services import record_create
    from cyberqms.platform.kit.records import kind_by_slug

    record_create(kind_by_slug("incidents"), actor=people["it_security"], site=site, values={
        "title": INCIDENT_TITLE, "description": "Reported by the SOC."})
    return people, site


def security_reference() -> str:
    """The number of the security incident the deviation names."""
    from cyberqms.security.incidents.models import Incident

    return Incident.objects.get(title=INCIDENT_TITLE).number


def in_order(seen: list[str], expected: tuple[str, ...]) -> list[str]:
    """The expected actions missing from `seen` as an ordered subsequence (oldest first)."""
    missing: list[str] = []
    position = 0
    for action in expected:
        try:
            position = seen.index(action, position) + 1
        except ValueError:
            missing.append(action)
    return missing
