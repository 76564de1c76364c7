"""Electronic signatures (21 CFR Part 11 §11.50, §11.70, §11.100, §11.200; Annex 11 §14).

Signing re-authenticates the signer in the same request. The first signature of a
continuous session needs every component (password, plus the TOTP code where the user
has enrolled one); later signatures in that session need at least the password. The
session's continuity is a timestamp in the session, so it ends with the idle timeout or
sign-out, which both discard the session (P11-24, P11-25).

Refused outright: integrations and generic accounts (P11-27), users whose identity was
not verified (P11-22), users who have not acknowledged the accountability statement
(P11-14), and anyone locked out. A wrong password or code counts toward the lockout like
a failed sign-in, in the same django-axes counter, and raises an `esig.failure` security
event (P11-33); the refusal says how many attempts are left before that lockout.

`verify_signer` checks credentials and changes nothing; `record_signature` writes the
immutable `Signature` inside the caller's transaction. The workflow engine calls both.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from cyberqms.platform.core.context import current_context
from cyberqms.platform.core.events import emit_security_event
from cyberqms.platform.core.models import Severity, Signature, SignatureCommitment

STATEMENT_VERSION = 1
ACCOUNTABILITY_STATEMENT = (
    "I understand and agree that my electronic signature in cyberqms is the legally "
    "binding equivalent of my handwritten signature (21 CFR 11.100(c), EU GMP Annex 11 "
    "§14). I will not share my password or second factor, and I am accountable for every "
    "record I sign."
)
SESSION_KEY = "cyberqms_signing_since"


def statement_sha256() -> str:
    return hashlib.sha256(ACCOUNTABILITY_STATEMENT.encode("utf-8")).hexdigest()


class SigningError(PermissionDenied):
    """Signing refused; `field` names the input at fault (answered as 403).

    `attempts_left` is set where the refusal counted toward the lockout (or the account is
    locked): the failed attempts the signer still has before it, 0 when locked."""

    def __init__(
        self, message: str, *, field: str = "password", attempts_left: int | None = None
    ) -> None:
        super().__init__(message)
        self.field = field
        self.text = message
        self.attempts_left = attempts_left


@dataclass
class SignatureRequest:
    """What a signer supplies with a signed action: secrets are never stored or logged."""

    password: str = field(repr=False)
    otp: str = field(default="", repr=False)
    request: HttpRequest | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class VerifiedSigner:
    user: Any
    components: str


def has_commitment(user: Any) -> bool:
    return SignatureCommitment.objects.filter(user=user, version=STATEMENT_VERSION).exists()


def signing_state(request: Any, actor: Any) -> dict[str, Any]:
    """What a signing form asks of `actor` in this request, each answered when a template
    first asks (a query each): the accountability statement the first time they sign, and
    the authenticator code for the first signature of a continuous session (P11-25)."""
    from functools import cache

    return {
        "needs_statement": cache(lambda: not has_commitment(actor)),
        "statement": ACCOUNTABILITY_STATEMENT,
        "needs_otp": cache(lambda: bool(getattr(actor, "has_mfa", lambda: False)())
                           and not getattr(request, "session", {}).get(SESSION_KEY)),
    }


def commitment_accept(user: Any, *, source_ip: str | None = None) -> SignatureCommitment:
    """Record the user's acknowledgement of the current accountability statement (P11-14).

    Side effects: audit entry `esig.commitment.accept`.
    """
    from cyberqms.platform.trail.record import audit_record

    with transaction.atomic():
        existing = SignatureCommitment.objects.filter(
            user=user, version=STATEMENT_VERSION
        ).first()
        if existing is not None:
            return existing
        commitment = SignatureCommitment.objects.create(
            user=user, version=STATEMENT_VERSION, statement_sha256=statement_sha256(),
            accepted_at=timezone.now(), source_ip=source_ip,
        )
        audit_record(
            "esig.commitment.accept", actor=user, object_type="esig.commitment",
            object_id=commitment.pk,
            label=f"Signature accountability statement v{STATEMENT_VERSION}",
            changes={"version": [None, STATEMENT_VERSION],
                     "statement_sha256": [None, commitment.statement_sha256]},
        )
    return commitment


def _session(sig: SignatureRequest) -> Any:
    request = sig.request
    if request is None or current_context().token_id is not None:
        return None  # API tokens and non-web callers have no continuous signing session
    return getattr(request, "session", None)


def attempts_left(request: HttpRequest, username: str) -> int:
    """Failed sign-ins or signatures `username` may still make before the lockout: the
    django-axes limit less the failures axes holds against the account (within the
    cool-off window where one is set), read the way axes decides `is_locked`."""
    from axes.handlers.proxy import AxesProxyHandler
    from axes.helpers import get_failure_limit

    credentials = {"username": username}
    limit = int(get_failure_limit(request, credentials))
    return max(limit - int(AxesProxyHandler.get_failures(request, credentials)), 0)


def _lockout_words(left: int) -> str:
    if left == 0:
        if settings.AXES_COOLOFF_TIME:
            return "The account is now locked; try again later."
        return "The account is now locked; ask an administrator to unlock it."
    return f"{left} attempt{'s' if left != 1 else ''} left before the account is locked."


def _fail(user: Any, sig: SignatureRequest, message: str, field: str) -> SigningError:
    username = user.get_username()
    left = None
    if sig.request is not None:
        # django-axes counts this like a failed sign-in (lockout, P11-33).
        user_login_failed.send(
            sender=__name__, credentials={"username": username}, request=sig.request
        )
        left = attempts_left(sig.request, username)
    emit_security_event(
        "esig.failure", severity=Severity.MEDIUM,
        message=f"Failed e-signature attempt by {username}: {message}",
        actor_id=user.pk, username=username,
    )
    text = f"Not signed: {message}." + ("" if left is None else f" {_lockout_words(left)}")
    return SigningError(text, field=field, attempts_left=left)


def _locked_out(user: Any, sig: SignatureRequest) -> bool:
    if sig.request is None:
        return False
    from axes.handlers.proxy import AxesProxyHandler

    return bool(AxesProxyHandler.is_locked(sig.request, {"username": user.get_username()}))


def _totp_ok(user: Any, code: str) -> bool:
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP

    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    return authenticator is not None and TOTP(authenticator).validate_code(code.strip())


def verify_signer(user: Any, sig: SignatureRequest | None) -> VerifiedSigner:
    """Re-authenticate `user` for one signature. Must run outside the caller's transaction
    so that the failure records (lockout counter, security event) survive the refusal.

    :raises SigningError: refused; nothing was changed except the failure records.
    """
    if sig is None:
        raise SigningError("This action needs your electronic signature.", field="password")
    ctx = current_context()
    if getattr(user, "kind", "person") != "person" or not user.is_active:
        raise SigningError("Only a named, active person can sign.", field="signer")
    if ctx.token_id is not None and not sig.password:
        raise SigningError("An API token cannot sign: supply your password (and code).")
    if getattr(user, "identity_verified_at", None) is None:
        raise SigningError(
            "Your identity has not been verified yet; ask an administrator.",
            field="signer",
        )
    if not has_commitment(user):
        raise SigningError(
            "Acknowledge the signature accountability statement before your first signature.",
            field="statement",
        )
    if sig.request is None and ctx.channel in ("web", "api"):
        # Without the request, failures could not count toward the lockout.
        raise SigningError("Signing needs the request it is made in.", field="password")
    if _locked_out(user, sig):
        raise SigningError("The account is locked after failed attempts.", field="password",
                           attempts_left=0)
    # check_password without a setter: signing never rewrites the stored hash.
    if not sig.password or not user.check_password(sig.password):
        raise _fail(user, sig, "wrong password", "password")
    session = _session(sig)
    continuing = session is not None and session.get(SESSION_KEY) is not None
    components = "password"
    if user.has_mfa():
        if not continuing:
            if not sig.otp:
                raise SigningError(
                    "Enter the code from your authenticator app for the first signature of "
                    "this session.",
                    field="otp",
                )
            if not _totp_ok(user, sig.otp):
                raise _fail(user, sig, "wrong or reused authenticator code", "otp")
            components = "password+totp"
        elif sig.otp:
            if not _totp_ok(user, sig.otp):
                raise _fail(user, sig, "wrong or reused authenticator code", "otp")
            components = "password+totp"
    return VerifiedSigner(user, components)


def signature_from_post(request: HttpRequest) -> SignatureRequest:
    """The signer's password and code from a page's form (`core/_signing.html`); the
    accountability statement accepted first when they have never signed.

    :raises SigningError: the statement was not ticked for a first signature.
    """
    from cyberqms.platform.core.client_address import request_client_address

    if not has_commitment(request.user):
        if request.POST.get("accept_statement") != "yes":
            raise SigningError("Tick the accountability statement to sign for the first time.",
                               field="statement")
        commitment_accept(request.user, source_ip=request_client_address(request) or None)
    return SignatureRequest(password=request.POST.get("password", ""),
                            otp=request.POST.get("otp", ""), request=request)


def mark_signing_session(sig: SignatureRequest) -> None:
    """Start (or extend) the continuous signing session once a signature is recorded."""
    session = _session(sig)
    if session is not None:
        session[SESSION_KEY] = timezone.now().timestamp()


def record_signature(
    signer: VerifiedSigner,
    *,
    record_type: str,
    record_id: str | int,
    record_label: str,
    record_hash: str,
    action: str,
    meaning: str,
    reason: str = "",
) -> Signature:
    """Write the immutable signature row (inside the caller's transaction), and its own
    audit entry `core.signature.create` with its full content: the signature is inside the
    trail's proof, and verification reconciles every signature row against it (an edited,
    deleted or added row is reported, naming the signature and its record)."""
    from cyberqms.platform.trail.record import audit_record

    ctx = current_context()
    user = signer.user
    row = Signature.objects.create(
        record_type=record_type,
        record_id=str(record_id),
        record_label=record_label[:200],
        record_hash=record_hash,
        action=action,
        meaning=meaning,
        reason=reason[:1000],
        signer=user,
        printed_name=(getattr(user, "full_name", "") or user.get_username())[:200],
        username=user.get_username(),
        signed_at=timezone.now(),
        components=signer.components,
        channel=ctx.channel,
        source_ip=ctx.source_ip or None,
        correlation_id=ctx.correlation_id,
    )
    audit_record("core.signature.create", row, actor=user, created=True)
    return row


def manifestation(signature: Signature, *, current_hash: str | None = None) -> dict[str, Any]:
    """The signature as shown on pages, in the API and in PDFs (P11-18, P11-19)."""
    local = timezone.localtime(signature.signed_at)
    superseded = current_hash is not None and current_hash != signature.record_hash
    return {
        "id": signature.pk,
        "printed_name": signature.printed_name,
        "username": signature.username,
        "meaning": signature.meaning,
        "signed_at": signature.signed_at,
        "signed_at_display": local.strftime("%Y-%m-%d %H:%M:%S %Z (UTC%z)"),
        "reason": signature.reason,
        "record_hash": signature.record_hash,
        "components": signature.components,
        "superseded": superseded,
        "text": (
            f"{signature.meaning} by {signature.printed_name} on "
            f"{local.strftime('%Y-%m-%d %H:%M:%S %Z')}"
            + (" (superseded: the record changed after signing)" if superseded else "")
        ),
    }
