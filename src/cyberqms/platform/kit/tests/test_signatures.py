"""Electronic signatures: two components, session continuity, refusals, lockout counting,
the record link and the manifestation (P11-14, P11-18…P11-20, P11-22, P11-24, P11-25,
P11-27, A11-23)."""

from __future__ import annotations

import time
from typing import Any

import pyotp
import pytest
from axes.models import AccessAttempt
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache
from django.db import transaction
from django.test import RequestFactory

from cyberqms.conftest import PASSWORD, TOTP_SECRET
from cyberqms.platform.accounts import services as account_services
from cyberqms.platform.core.context import RequestContext, acting_context
from cyberqms.platform.core.models import SecurityEvent, Signature
from cyberqms.platform.kit.signatures import (
    SESSION_KEY,
    SignatureRequest,
    SigningError,
    commitment_accept,
    manifestation,
    mark_signing_session,
    record_signature,
    verify_signer,
)
from cyberqms.platform.trail.models import AuditEntry

pytestmark = pytest.mark.django_db


def _request(session: SessionStore | None = None) -> Any:
    request = RequestFactory().post("/sign", REMOTE_ADDR="10.1.2.3")
    request.session = session if session is not None else SessionStore()
    return request


@pytest.fixture
def signer(personas: dict[str, Any]) -> Any:
    """The QA manager (TOTP enrolled), identity verified and committed."""
    user = personas["qa_manager"]
    account_services.user_verify_identity(user, actor=personas["admin"], method="Passport")
    commitment_accept(user)
    cache.clear()  # TOTP codes are single-use through the cache
    return user


def test_first_signature_needs_password_and_code_p11_24(signer: Any) -> None:
    request = _request()
    with pytest.raises(SigningError) as missing:
        verify_signer(signer, SignatureRequest(password=PASSWORD, request=request))
    assert missing.value.field == "otp"
    verified = verify_signer(
        signer, SignatureRequest(password=PASSWORD, otp=pyotp.TOTP(TOTP_SECRET).now(),
                                 request=request)
    )
    assert verified.components == "password+totp"
    # continuity starts only once a signature is recorded (the engine calls this on commit)
    assert request.session.get(SESSION_KEY) is None
    mark_signing_session(SignatureRequest(password="", request=request))
    assert request.session.get(SESSION_KEY) is not None


def test_later_signatures_in_the_session_need_the_password_only_p11_25(signer: Any) -> None:
    request = _request()
    verify_signer(signer, SignatureRequest(password=PASSWORD, otp=pyotp.TOTP(TOTP_SECRET).now(),
                                           request=request))
    mark_signing_session(SignatureRequest(password="", request=request))
    again = verify_signer(signer, SignatureRequest(password=PASSWORD, request=request))
    assert again.components == "password"
    # a new session (after sign-out or idle timeout) starts again with every component
    with pytest.raises(SigningError) as fresh:
        verify_signer(signer, SignatureRequest(password=PASSWORD, request=_request()))
    assert fresh.value.field == "otp"


def test_a_reused_code_is_refused(signer: Any) -> None:
    code = pyotp.TOTP(TOTP_SECRET).now()
    verify_signer(signer, SignatureRequest(password=PASSWORD, otp=code, request=_request()))
    with pytest.raises(SigningError) as reused:
        verify_signer(signer, SignatureRequest(password=PASSWORD, otp=code, request=_request()))
    assert reused.value.field == "otp"


def test_a_code_from_the_step_before_still_signs(signer: Any) -> None:
    late = pyotp.TOTP(TOTP_SECRET).at(time.time() - 30)
    verified = verify_signer(signer, SignatureRequest(password=PASSWORD, otp=late,
                                                      request=_request()))
    assert verified.components == "password+totp"


def test_a_code_two_steps_old_is_refused(signer: Any) -> None:
    totp, now = pyotp.TOTP(TOTP_SECRET), time.time()
    valid = {totp.at(now + step) for step in (-30, 0, 30)}
    # the first old code that no step in the window happens to share (10^-6 per step)
    stale = next(code for code in (totp.at(now - 61 - 30 * k) for k in range(5))
                 if code not in valid)
    with pytest.raises(SigningError) as old:
        verify_signer(signer, SignatureRequest(password=PASSWORD, otp=stale, request=_request()))
    assert old.value.field == "otp"


def test_wrong_password_counts_toward_lockout_and_raises_an_event(signer: Any) -> None:
    request = _request()
    with pytest.raises(SigningError) as wrong:
        verify_signer(signer, SignatureRequest(password="not-the-password", request=request))
    assert wrong.value.field == "password"
    assert AccessAttempt.objects.get(username="qa_manager").failures_since_start == 1
    event = SecurityEvent.objects.filter(kind="esig.failure").get()
    assert (event.severity, event.username) == ("medium", "qa_manager")
    assert "not-the-password" not in event.message


def test_locked_out_user_cannot_sign(signer: Any, settings: Any) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        with pytest.raises(SigningError):
            verify_signer(signer, SignatureRequest(password="wrong-wrong", request=_request()))
    with pytest.raises(SigningError) as locked:
        verify_signer(signer, SignatureRequest(password=PASSWORD, otp=pyotp.TOTP(TOTP_SECRET).now(),
                                               request=_request()))
    assert "locked" in locked.value.text


def test_signing_needs_the_accountability_statement_p11_14(personas: dict[str, Any]) -> None:
    user = personas["qa_approver"]
    account_services.user_verify_identity(user, actor=personas["admin"], method="Passport")
    with pytest.raises(SigningError) as refused:
        verify_signer(user, SignatureRequest(password=PASSWORD, request=_request()))
    assert refused.value.field == "statement"
    commitment = commitment_accept(user)
    assert commitment_accept(user).pk == commitment.pk  # once per statement version
    entry = AuditEntry.objects.get(action="esig.commitment.accept")
    assert entry.actor_id == user.pk
    assert verify_signer(user, SignatureRequest(password=PASSWORD, request=_request())).components \
        == "password"


def test_unverified_identity_cannot_sign_p11_22(personas: dict[str, Any]) -> None:
    user = personas["author"]
    commitment_accept(user)
    with pytest.raises(SigningError) as refused:
        verify_signer(user, SignatureRequest(password=PASSWORD, request=_request()))
    assert refused.value.field == "signer"


def test_generic_accounts_and_tokens_without_secrets_cannot_sign_p11_27(
    make_user: Any, signer: Any
) -> None:
    generic = make_user("shared_lab_pc", kind="generic")
    with pytest.raises(SigningError) as refused:
        verify_signer(generic, SignatureRequest(password=PASSWORD))
    assert refused.value.field == "signer"
    with acting_context(RequestContext(channel="api", token_id=7)):
        with pytest.raises(SigningError) as token:
            verify_signer(signer, SignatureRequest(password=""))
        assert "API token" in token.value.text
        # with the secrets, an API call signs, and always as a first signature
        with pytest.raises(SigningError) as needs_code:
            verify_signer(signer, SignatureRequest(password=PASSWORD, request=_request()))
        assert needs_code.value.field == "otp"


def test_signature_links_to_the_record_version_and_shows_superseded_p11_20(signer: Any) -> None:
    verified = verify_signer(
        signer, SignatureRequest(password=PASSWORD, otp=pyotp.TOTP(TOTP_SECRET).now(),
                                 request=_request())
    )
    with transaction.atomic():
        signature = record_signature(
            verified, record_type="test.record", record_id=5, record_label="REC-5",
            record_hash="a" * 64, action="test.record.approve", meaning="Approved",
            reason="Looks right",
        )
    stored = Signature.objects.get(pk=signature.pk)
    assert (stored.printed_name, stored.meaning, stored.components) == (
        "Qa Manager", "Approved", "password+totp"
    )
    current = manifestation(stored, current_hash="a" * 64)
    assert current["superseded"] is False
    assert current["text"].startswith("Approved by Qa Manager on ")
    assert current["signed_at_display"].endswith("(UTC+0000)")
    changed = manifestation(stored, current_hash="b" * 64)
    assert changed["superseded"] is True
    assert "superseded" in changed["text"]
