"""The workflow engine: declared transitions only, the gate, segregation of duties, guards,
signatures bound to the signed content, all-or-nothing (P11-10, P11-11, P11-20, A11-23)."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest
from axes.models import AccessAttempt
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache
from django.test import RequestFactory

from cyberqms.conftest import PASSWORD, TOTP_SECRET
from cyberqms.platform.accounts import services as account_services
from cyberqms.platform.accounts.enums import Role
from cyberqms.platform.accounts.roles import ROLE_GRANTS
from cyberqms.platform.core.access import AccessDenied
from cyberqms.platform.core.models import Signature
from cyberqms.platform.core.tests.sample.models import Sample
from cyberqms.platform.kit.signatures import (
    SignatureRequest,
    SigningError,
    commitment_accept,
    manifestation,
)
from cyberqms.platform.kit.workflow import (
    GuardFailed,
    SegregationOfDuties,
    Transition,
    TransitionNotAllowed,
    Workflow,
    mermaid,
)
from cyberqms.platform.trail.models import AuditEntry

pytestmark = pytest.mark.django_db


def checked(sample: Sample, actor: Any) -> str | None:
    return None if sample.checked else "The sample must be checked first."


FLOW = Workflow(Sample, "sample.sample", [
    Transition("submit", "draft", "submitted", "sample.submit"),
    Transition("approve", "submitted", "approved", "sample.approve", sign="Approved",
               guards=(checked,), not_by=("owner",)),
    Transition("reject", "submitted", "draft", "sample.approve", reason=True, not_by=("owner",)),
    Transition("close", ("approved", "draft"), "closed", "sample.approve", sign="Closed",
               reason=True),
])


@pytest.fixture
def people(personas: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setitem(ROLE_GRANTS, Role.QA_MANAGER, (*ROLE_GRANTS[Role.QA_MANAGER], "sample.*"))
    monkeypatch.setitem(ROLE_GRANTS, Role.AUTHOR, (*ROLE_GRANTS[Role.AUTHOR], "sample.view",
                                                   "sample.submit"))
    for user in personas.values():
        user.forget_access_cache()
    manager = personas["qa_manager"]
    account_services.user_verify_identity(manager, actor=personas["admin"], method="Passport")
    commitment_accept(manager)
    cache.clear()
    return personas


def _sign(otp: bool = True) -> SignatureRequest:
    request = RequestFactory().post("/x", REMOTE_ADDR="10.0.0.9")
    request.session = SessionStore()
    return SignatureRequest(password=PASSWORD, otp=pyotp.TOTP(TOTP_SECRET).now() if otp else "",
                            request=request)


def _sample(owner: Any, state: str = "draft", checked: bool = True) -> Sample:
    return Sample.objects.create(title="Batch 42 assay", owner=owner, state=state, checked=checked)


def test_every_state_action_pair_is_either_declared_or_409_p11_10(people: dict[str, Any]) -> None:
    manager = people["qa_manager"]
    actions = {t.action for t in FLOW.transitions}
    for state in FLOW.states():
        for action in sorted(actions):
            sample = _sample(people["author"], state=state)
            declared = FLOW.transition(action, state)
            if declared is None:
                with pytest.raises(TransitionNotAllowed) as refused:
                    FLOW.run(sample, action, actor=manager, reason="r", signature=_sign())
                assert refused.value.allowed == [t.action for t in FLOW.actions_from(state)]
                sample.refresh_from_db()
                assert sample.state == state
            else:
                cache.clear()
                done = FLOW.run(sample, action, actor=manager, reason="because",
                                signature=_sign())
                assert done.state == declared.target


def test_submit_and_approve_with_signature_and_audit(
    people: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    author, manager = people["author"], people["qa_manager"]
    sample = _sample(author)
    FLOW.run(sample, "submit", actor=author)
    first = _sign()
    with django_capture_on_commit_callbacks(execute=True):
        approved = FLOW.run(sample, "approve", actor=manager, signature=first,
                            expected_hash=FLOW.content_hash(sample))
    assert approved.state == "approved"
    signature = Signature.objects.get(record_type="sample.sample", record_id=str(sample.pk))
    assert (signature.meaning, signature.action, signature.components) == (
        "Approved", "sample.sample.approve", "password+totp"
    )
    assert signature.record_hash == FLOW.content_hash(approved)
    entry = AuditEntry.objects.filter(object_type="sample.sample").order_by("-seq").first()
    assert entry is not None
    assert (entry.action, entry.signature_id) == ("sample.sample.approve", str(signature.pk))
    assert entry.changes["state"] == ["submitted", "approved"]
    # the signature stays valid through a later state change, not through a content change
    later = SignatureRequest(password=PASSWORD, request=first.request)  # same session
    closed = FLOW.run(approved, "close", actor=manager, reason="done", signature=later)
    assert Signature.objects.get(meaning="Closed").components == "password"
    assert manifestation(signature, current_hash=FLOW.content_hash(closed))["superseded"] is False
    closed.title = "Batch 43 assay"
    closed.save()
    assert manifestation(signature, current_hash=FLOW.content_hash(closed))["superseded"] is True


def test_originator_never_approves_their_own_record_p11_11(people: dict[str, Any]) -> None:
    manager = people["qa_manager"]
    own = _sample(manager, state="submitted")
    with pytest.raises(SegregationOfDuties) as barred:
        FLOW.run(own, "approve", actor=manager, signature=_sign())
    assert "owner" in barred.value.text
    refusals = {t.action: why for t, why in FLOW.available(own, manager)}
    assert refusals["approve"] is not None
    assert "owner" in refusals["approve"]
    assert Signature.objects.count() == 0


def test_gate_guard_reason_and_signature_failures_change_nothing(people: dict[str, Any]) -> None:
    author, manager = people["author"], people["qa_manager"]
    sample = _sample(author, state="submitted", checked=False)
    entries = AuditEntry.objects.count()
    with pytest.raises(AccessDenied):
        FLOW.run(sample, "approve", actor=author, signature=_sign())
    with pytest.raises(GuardFailed) as guard:
        FLOW.run(sample, "approve", actor=manager, signature=_sign())
    assert guard.value.text == "The sample must be checked first."
    with pytest.raises(GuardFailed) as reason:
        FLOW.run(sample, "reject", actor=manager, reason="  ")
    assert reason.value.field == "reason"
    sample.checked = True
    sample.save()
    entries = AuditEntry.objects.count()
    with pytest.raises(SigningError):
        FLOW.run(sample, "approve", actor=manager,
                 signature=SignatureRequest(password="wrong password!", otp="000000"))
    sample.refresh_from_db()
    assert sample.state == "submitted"
    assert AuditEntry.objects.count() == entries
    assert Signature.objects.count() == 0


def test_a_signed_step_whose_table_requires_a_reason_refuses_an_empty_one_a11_16(
    people: dict[str, Any],
) -> None:
    """A11-16, P11-24: `close` is signed and its table requires a reason: with the right
    password and code but a blank reason nothing is signed, and the refusal of the input
    does not count as a failed signature toward the lockout."""
    sample = _sample(people["author"], state="approved")
    with pytest.raises(GuardFailed) as refused:
        FLOW.run(sample, "close", actor=people["qa_manager"], reason=" \n ", signature=_sign())
    assert (refused.value.field, refused.value.text) == ("reason", "A reason is required.")
    sample.refresh_from_db()
    assert (sample.state, Signature.objects.count(), AccessAttempt.objects.count()) == (
        "approved", 0, 0)


def test_side_effects_see_the_new_state(people: dict[str, Any]) -> None:
    seen: list[str] = []
    sample = _sample(people["author"])
    FLOW.run(sample, "submit", actor=people["author"],
             effects=[lambda record, actor: seen.append(f"{record.state} by {actor}")])
    assert seen == ["submitted by Author"]


def test_a_failing_side_effect_undoes_the_step(people: dict[str, Any]) -> None:
    """Side effects (notices, queued work) commit with the step or not at all."""

    def failing(record: Any, actor: Any) -> None:
        raise RuntimeError("the notice could not be written")

    sample = _sample(people["author"])
    entries = AuditEntry.objects.count()
    with pytest.raises(RuntimeError):
        FLOW.run(sample, "submit", actor=people["author"], effects=[failing])
    assert (Sample.objects.get(pk=sample.pk).state, AuditEntry.objects.count()) == (
        "draft", entries)


def test_mermaid_lists_every_transition() -> None:
    text = mermaid(FLOW)
    assert text.splitlines()[0] == "stateDiagram-v2"
    assert "    submitted --> approved: approve [sample.approve] (signed: Approved; not by owner)" \
        in text
    assert text.count("-->") == 5  # close has two sources


def test_a_record_changed_since_it_was_opened_is_not_signed(people: dict[str, Any]) -> None:
    """What you see is what you sign: a stale content hash gets 409 and no signature."""
    manager = people["qa_manager"]
    sample = _sample(people["author"], state="submitted")
    seen = FLOW.content_hash(sample)
    Sample.objects.filter(pk=sample.pk).update(title="Batch 42 assay (edited)")
    with pytest.raises(TransitionNotAllowed) as stale:
        FLOW.run(sample, "approve", actor=manager, signature=_sign(), expected_hash=seen)
    assert "changed since you opened it" in str(stale.value)
    assert Signature.objects.count() == 0
