"""Changes in any state, built through the services (tests and demo data).

`change_in(state, people)` walks the workflow as real users would: the author raises
and submits, QA approves (signed), IT security approves cyber-relevant changes (signed),
the owner implements and completes a task, QA writes the review and closes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache
from django.test import RequestFactory
from django.utils import timezone

from cyberqms.accounts import services as account_services
from cyberqms.accounts.tests.factories import SiteFactory
from cyberqms.conftest import PASSWORD, totp_code
from cyberqms.core.signatures import SignatureRequest, commitment_accept, has_commitment

from .. import services
from ..enums import ChangeState, ChangeType, PirOutcome
from ..models import Change

S = ChangeState

ASSESSMENT = {
    "scope": "Packaging line 3 HMI and its historian interface.",
    "product_quality_impact": "None expected: recipe parameters are unchanged.",
    "validation_impact": "OQ of the HMI alarm functions.",
    "revalidation_required": True,
    "regulatory_impact": "No filing: not a registered parameter.",
    "cyber_assessment": "New OPC UA interface to the historian, restricted to the OT zone.",
    "severity": 3, "probability": 2, "detectability": 2,
}
CYBER = {"new_interfaces": True, "data_flow_change": True}

# The path from draft to each state: (action, who takes it).
PATH: list[tuple[str, str]] = [  # reaching, in turn: assessment … closed
    ("submit", "author"),
    ("qa_approve", "qa_approver"),
    ("approve", "?"),  # security_approve (cyber) or release (QA)
    ("start_implementation", "author"),
    ("complete_implementation", "author"),
    ("close", "qa_manager"),
]


def signature(user: Any) -> SignatureRequest:
    """A fresh signing session for `user` with password and authenticator code."""
    cache.clear()  # a TOTP code is accepted once; tests sign several times a minute
    request = RequestFactory().post("/sign", REMOTE_ADDR="10.0.0.7")
    request.session = SessionStore()
    return SignatureRequest(
        password=PASSWORD, otp=totp_code() if user.has_mfa() else "", request=request
    )


def ready_to_sign(user: Any, admin: Any) -> Any:
    """Identity verified (P11-22) and the accountability statement accepted."""
    if user.identity_verified_at is None:
        account_services.user_verify_identity(user, actor=admin, method="Passport")
        user.refresh_from_db()
    if not has_commitment(user):
        commitment_accept(user)
    return user


def site() -> Any:
    return SiteFactory.create(code="BSL", name="Basel")


def change_draft(
    author: Any, *, cyber: bool = False, assessed: bool = True, where: Any = None, **fields: Any
) -> Change:
    values: dict[str, Any] = {}
    if assessed:
        values.update(ASSESSMENT)
        if cyber:
            values.update(CYBER)
    values.update(fields)
    return services.change_create(
        actor=author, site=where or site(), title=values.pop("title", "HMI upgrade on line 3"),
        change_type=values.pop("change_type", ChangeType.COMPUTERIZED_SYSTEM),
        justification=values.pop("justification", "Vendor support of HMI v7 ends."),
        **values,
    )


def change_in(state: str, people: dict[str, Any], *, cyber: bool = False, **fields: Any) -> Change:
    """A change in `state` (any state of the workflow), reached through the services."""
    change = change_draft(people["author"], cyber=cyber, **fields)
    if state == S.DRAFT:
        return change
    if state == S.CANCELLED:
        return services.change_cancel(change, actor=people["qa_manager"], reason="Not needed")
    admin = people["admin"]
    for action, who in PATH:
        if action == "qa_approve":
            approver = ready_to_sign(people["qa_approver"], admin)
            services.change_qa_approve(change, actor=approver, signature=signature(approver))
        elif action == "approve":
            if change.cyber_impact:
                security = ready_to_sign(people["it_security"], admin)
                services.change_security_approve(change, actor=security,
                                                 signature=signature(security))
            else:
                services.change_release(change, actor=people["qa_approver"])
        elif action == "complete_implementation":
            task = services.change_task_add(
                change, actor=people["author"], description="Install HMI v7",
                owner=people["author"], due_date=timezone.localdate() + dt.timedelta(days=7),
            )
            services.change_task_complete(task, actor=people["author"], note="Installed.")
            services.change_complete_implementation(change, actor=people["author"])
        elif action == "close":
            services.change_update(
                change, actor=people["qa_manager"], reason="Review done",
                changes={"post_implementation_review": "Alarms work; OQ passed.",
                         "pir_outcome": PirOutcome.EFFECTIVE},
            )
            manager = ready_to_sign(people["qa_manager"], admin)
            services.change_close(change, actor=manager, signature=signature(manager))
        else:
            getattr(services, f"change_{action}")(change, actor=people[who])
        if change.state == state:
            return change
    raise ValueError(f"no path to {state!r}")
