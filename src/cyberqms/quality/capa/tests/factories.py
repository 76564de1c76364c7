"""Build CAPAs in any state through the services, for tests and demo data.

    people = prepare_signers(personas)          # identity verified, statement accepted
    capa = capa_in_state("implementation", people)
    capa = capa_in_state("effectiveness_check", people, result="passed")

Roles used (all from the persona fixture): `author` originates and owns the CAPA and
its actions, `qa_approver` approves the plan and verifies effectiveness, `qa_manager`
closes, cancels and reopens. Pass `owner=` to give the CAPA another owner.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyotp
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache
from django.test import RequestFactory
from django.utils import timezone

from cyberqms.conftest import PASSWORD, TOTP_SECRET
from cyberqms.platform.accounts.tests.factories import SiteFactory
from cyberqms.platform.kit.signatures import SignatureRequest, commitment_accept, has_commitment
from cyberqms.quality.capa.workflow import CAPA_WORKFLOW

from .. import services
from ..enums import ActionKind, CapaSource, CapaState, EffectivenessResult
from ..models import Capa

SIGNERS = ("qa_manager", "qa_approver", "process_owner", "author", "it_security")

# The order in which a CAPA reaches each state on its main path.
PATH = [CapaState.DRAFT, CapaState.OPEN, CapaState.IMPLEMENTATION,
        CapaState.EFFECTIVENESS_CHECK, CapaState.CLOSED]


def prepare_signers(people: dict[str, Any], names: tuple[str, ...] = SIGNERS) -> dict[str, Any]:
    """Verify the identity of the named personas and accept the signature statement."""
    from cyberqms.platform.accounts.services import user_verify_identity

    for name in names:
        user = people[name]
        if user.identity_verified_at is None:
            user_verify_identity(user, actor=people["admin"], method="Passport")
        if not has_commitment(user):
            commitment_accept(user)
        user.refresh_from_db()
        user.forget_access_cache()
    return people


def sign(user: Any, *, password: str = PASSWORD, otp: bool | None = None) -> SignatureRequest:
    """A signature request in a fresh session (with the TOTP code where the user has one).

    Clears the cache first: a TOTP code may be used once, and tests sign often.
    """
    cache.clear()
    request = RequestFactory().post("/capa/sign", REMOTE_ADDR="10.0.0.7")
    request.session = SessionStore()
    with_otp = user.has_mfa() if otp is None else otp
    return SignatureRequest(password=password, request=request,
                            otp=pyotp.TOTP(TOTP_SECRET).now() if with_otp else "")


def site() -> Any:
    return SiteFactory.create(code="BSL", name="Basel")


def make_capa(people: dict[str, Any], **fields: Any) -> Capa:
    """A draft CAPA created by `author` (who also owns it unless `owner` is given)."""
    values: dict[str, Any] = {
        "actor": people["author"], "site": fields.pop("site", None) or site(),
        "title": "Recurring temperature excursions in cold room 3",
        "owner": people["author"], "source": CapaSource.DEVIATION,
        "problem_statement": "Cold room 3 left 2–8 °C three times in May.",
        "due_date": timezone.localdate() + dt.timedelta(days=30),
    }
    values.update(fields)
    return services.capa_create(**values)


def add_plan(capa: Capa, people: dict[str, Any], *, owner: Any = None) -> Capa:
    """One corrective and one preventive action, and the effectiveness criteria."""
    actor = people["author"]
    due = timezone.localdate() + dt.timedelta(days=20)
    for kind, text in ((ActionKind.CORRECTIVE, "Replace the door seal of cold room 3"),
                       (ActionKind.PREVENTIVE, "Add door-open alarm to monitoring")):
        services.capa_action_add(capa, actor=actor, kind=kind, description=text,
                                 owner=owner or capa.owner, due_date=due)
    capa.refresh_from_db()
    if not capa.effectiveness_criteria:
        services.capa_effectiveness_plan(
            capa, actor=actor, criteria="No excursion in 90 days of monitoring data.",
            due=timezone.localdate() + dt.timedelta(days=60),
            reason="" if capa.state == CapaState.DRAFT else "plan",
        )
    return capa


def capa_in_state(
    state: str, people: dict[str, Any], *, result: str = "", **fields: Any
) -> Capa:
    """A CAPA in `state`, walked there through the services with real signatures.

    `result` ("passed"/"failed") records the effectiveness check in effectiveness_check
    (closed implies passed). "cancelled" cancels a draft.
    """
    prepare_signers(people)
    capa = make_capa(people, **fields)
    if state == CapaState.DRAFT:
        return capa
    if state == CapaState.CANCELLED:
        return CAPA_WORKFLOW.run(capa, "cancel", actor=people["qa_manager"], reason="Raised twice")
    add_plan(capa, people)
    capa = CAPA_WORKFLOW.run(capa, "submit", actor=people["author"])
    if state == CapaState.OPEN:
        return capa
    capa = CAPA_WORKFLOW.run(capa, "approve_plan", actor=people["qa_approver"],
                                      signature=sign(people["qa_approver"]))
    if state == CapaState.IMPLEMENTATION:
        return capa
    for action in capa.actions.all():
        services.capa_action_complete(action, actor=capa.owner,
                                      evidence=f"Done: work order WO-{action.pk}")
    capa = CAPA_WORKFLOW.run(capa, "complete_implementation", actor=capa.owner)
    if state == CapaState.CLOSED:
        result = EffectivenessResult.PASSED
    if result:
        capa = services.capa_effectiveness_record(
            capa, actor=people["qa_approver"], result=result,
            evidence="Monitoring export, 90 days, no excursion.",
            signature=sign(people["qa_approver"]),
        )
    if state == CapaState.EFFECTIVENESS_CHECK:
        return capa
    return CAPA_WORKFLOW.run(capa, "close", actor=people["qa_manager"],
                               signature=sign(people["qa_manager"]))
