"""Identity and access rules of the foundation, through services and HTTP."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.test import Client, override_settings
from django.utils import timezone

from cyberqms.conftest import PASSWORD, totp_code
from cyberqms.platform.accounts import services
from cyberqms.platform.accounts.models import ApiToken, RoleAssignment, UndeletableError, User
from cyberqms.platform.core.access import authorize
from cyberqms.platform.core.context import RequestContext, acting_context
from cyberqms.platform.core.models import AccessDecision, SecurityEvent

pytestmark = pytest.mark.django_db


def sign_in(client: Client, username: str, password: str) -> Any:
    return client.post("/accounts/login/", {"login": username, "password": password})


def test_user_id_is_never_reused_p11_21(personas: dict[str, Any]) -> None:
    """P11-21: users cannot be deleted, and a username (any case) is never reassigned."""
    admin, author = personas["admin"], personas["author"]
    with pytest.raises(UndeletableError):
        author.delete()
    services.user_deactivate(author, actor=admin, reason="leaver")
    with pytest.raises(ValidationError) as raised:
        services.user_create(actor=admin, username="AUTHOR", full_name="Other", email="o@x.test",
                             reason="rehire")
    assert raised.value.message_dict == {
        "username": ["This username exists or existed and cannot be reused."]
    }
    with pytest.raises(IntegrityError):
        User.objects.create(username="Author", full_name="Bypass")


def test_passwords_hashed_with_argon2_and_policy_enforced() -> None:
    from django.contrib.auth.password_validation import validate_password

    assert make_password("x" * 20, hasher="argon2").startswith("argon2$argon2id$")
    from cyberqms import settings as production  # the test settings swap in a fast hasher

    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    with pytest.raises(ValidationError):
        validate_password("short-pw-1")
    with pytest.raises(ValidationError):
        validate_password("password1234")  # common
    assert validate_password("granite-otter-lantern-91") is None


def test_bad_credentials_do_not_reveal_whether_user_exists(personas: dict[str, Any]) -> None:
    known = sign_in(Client(), "author", "wrong password value")
    unknown = sign_in(Client(), "nobody_here", "wrong password value")
    assert known.status_code == unknown.status_code == 200

    def page(response: Any, username: str) -> str:
        text = re.sub(r'value="[A-Za-z0-9]{64}"', "CSRF", response.content.decode())
        return text.replace(username, "X")

    assert page(known, "author") == page(unknown, "nobody_here")


@override_settings(AXES_FAILURE_LIMIT=3)
def test_lockout_after_failures_emits_event_and_admin_unlocks_p11_33(
    personas: dict[str, Any],
) -> None:
    """P11-33: lockout after N failures, a security event at once, unlock by an admin."""
    client = Client()
    for _ in range(3):
        sign_in(client, "author", "wrong password value")
    assert SecurityEvent.objects.filter(kind="auth.lockout", username="author").count() == 1
    locked = sign_in(client, "author", PASSWORD)
    assert locked.status_code == 429
    assert b"locked" in locked.content
    assert SecurityEvent.objects.filter(kind="auth.login.failure").count() == 4
    services.user_unlock("author", actor=personas["admin"], reason="Called the user back")
    response = sign_in(Client(), "author", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_totp_required_at_sign_in_for_enrolled_user_a11_19(personas: dict[str, Any]) -> None:
    client = Client()
    first = sign_in(client, "qa_manager", PASSWORD)
    assert first["Location"] == "/accounts/2fa/authenticate/"
    assert client.get("/").status_code == 302  # not signed in yet
    done = client.post("/accounts/2fa/authenticate/", {"code": totp_code()})
    assert done["Location"] == "/"
    assert client.get("/").status_code == 200


def test_privileged_role_without_mfa_must_enrol_a11_19(make_user: Any) -> None:
    """A11-19: privileged roles are sent to TOTP enrolment and can do nothing else."""
    user = make_user("sec_new", "it_security", mfa=False)
    client = Client()
    client.force_login(
        user, backend="cyberqms.platform.accounts.backends.AuthenticationBackend")
    response = client.get("/security/events/")
    assert response["Location"] == "/accounts/2fa/totp/activate/"
    with acting_context(RequestContext(channel="api")):
        decision = authorize(user, "security.event.view")
    assert (decision.allowed, decision.reason) == (False, "MFA enrolment required")


def test_first_login_requires_password_change_p11_28(personas: dict[str, Any]) -> None:
    """P11-28: an administrator's reset forces a change before anything else."""
    issued = services.user_reset_password(personas["author"], actor=personas["admin"],
                                          reason="forgotten")
    client = Client()
    signed_in = sign_in(client, "author", issued.password)
    assert signed_in.status_code == 302, signed_in.content.decode()[-3000:]
    assert client.get("/")["Location"] == "/accounts/password/change/"
    changed = client.post("/accounts/password/change/", {
        "oldpassword": issued.password, "password1": "granite-otter-lantern-91",
        "password2": "granite-otter-lantern-91",
    })
    assert changed.status_code == 302
    assert client.get("/").status_code == 200
    assert User.objects.get(username="author").must_change_password is False


def test_deactivation_ends_session_and_tokens_at_once_p11_05(
    personas: dict[str, Any], login: Any
) -> None:
    """P11-05: a deactivated user's session and tokens stop working on the next request."""
    author = personas["author"]
    browser = login(author)
    issued = services.token_create(actor=author, owner=author, name="script",
                                   scopes=["account.self"], days=5)
    api = Client(headers={"Authorization": f"Bearer {issued.secret}"})
    assert api.get("/api/v1/me").status_code == 200
    services.user_deactivate(author, actor=personas["admin"], reason="leaver")
    assert browser.get("/")["Location"].startswith("/accounts/login/")
    refused = api.get("/api/v1/me")
    assert refused.status_code == 401
    assert refused["Content-Type"] == "application/problem+json"
    assert ApiToken.objects.get(pk=issued.token.pk).status == "revoked"


def test_token_scopes_limit_and_revocation_is_immediate_p11_32(personas: dict[str, Any]) -> None:
    it_sec = personas["it_security"]
    issued = services.token_create(actor=it_sec, owner=it_sec, name="siem",
                                   scopes=["security.event.view"], days=5)
    api = Client(headers={"Authorization": f"Bearer {issued.secret}"})
    assert api.get("/api/v1/security-events").status_code == 200
    denied = api.get("/api/v1/access-decisions")
    assert denied.status_code == 403
    assert denied.json()["detail"] == "Not allowed: outside the token's scopes."
    services.token_revoke(issued.token, actor=it_sec, reason="lost laptop")
    assert api.get("/api/v1/security-events").status_code == 401
    stored = ApiToken.objects.get(pk=issued.token.pk).token_hash
    assert stored == hashlib.sha256(issued.secret.encode()).hexdigest()


def test_expired_token_is_refused_and_recorded(personas: dict[str, Any]) -> None:
    author = personas["author"]
    issued = services.token_create(actor=author, owner=author, name="old",
                                   scopes=["account.self"], days=1)
    ApiToken.objects.filter(pk=issued.token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = Client(headers={"Authorization": f"Bearer {issued.secret}"}).get("/api/v1/me")
    assert response.status_code == 401
    event = SecurityEvent.objects.get(kind="auth.token.rejected")
    assert event.message == "expired API token presented"


def test_administrators_never_hold_gxp_roles_di_01(personas: dict[str, Any], make_user: Any) -> None:
    admin = personas["admin"]
    with pytest.raises(ValidationError) as raised:
        services.role_grant(personas["author"], "administrator", actor=admin, reason="x")
    assert raised.value.message_dict == {
        "role": ["Administrators cannot hold a role that creates GxP records."]
    }
    second_admin = make_user("admin2", "administrator", mfa=True)
    with pytest.raises(ValidationError):
        services.role_grant(second_admin, "author", actor=admin, reason="x")


def test_generic_accounts_hold_no_gxp_rights_di_02_p11_30(
    personas: dict[str, Any], make_user: Any
) -> None:
    kiosk = make_user("lab_kiosk", None, kind="generic")
    with pytest.raises(ValidationError) as raised:
        services.role_grant(kiosk, "author", actor=personas["admin"], reason="shared PC")
    assert raised.value.message_dict == {"role": ["Generic accounts cannot hold GxP roles."]}


def test_role_history_reproduces_rights_on_a_past_date_a11_20(personas: dict[str, Any]) -> None:
    """A11-20: who granted and revoked what, when and why; rights on any date."""
    admin, author = personas["admin"], personas["author"]
    before = timezone.now()
    assignment = services.role_grant(author, "process_owner", actor=admin,
                                     reason="Acting lead during leave")
    during = timezone.now()
    services.role_revoke(assignment, actor=admin, reason="Lead back from leave")
    after = timezone.now()
    held = RoleAssignment.objects.held_on
    assert set(held(before).filter(user=author).values_list("role", flat=True)) == {"author"}
    assert set(held(during).filter(user=author).values_list("role", flat=True)) == {
        "author", "process_owner"}
    assert set(held(after).filter(user=author).values_list("role", flat=True)) == {"author"}
    row = RoleAssignment.objects.get(pk=assignment.pk)
    assert (row.granted_by, row.grant_reason, row.revoked_by, row.revoke_reason) == (
        admin, "Acting lead during leave", admin, "Lead back from leave")


def test_auditor_access_is_time_boxed_al_09(personas: dict[str, Any], make_user: Any) -> None:
    inspector = make_user("inspector", None)
    with pytest.raises(ValidationError) as raised:
        services.role_grant(inspector, "auditor", actor=personas["admin"], reason="FDA visit")
    assert list(raised.value.message_dict) == ["valid_until"]
    grant = services.role_grant(inspector, "auditor", actor=personas["admin"],
                                reason="FDA visit", valid_until=timezone.now() + timedelta(days=3))
    assert grant.is_current
    RoleAssignment.objects.filter(pk=grant.pk).update(
        valid_until=timezone.now() - timedelta(seconds=1))
    inspector.forget_access_cache()
    assert authorize(inspector, "security.event.view").allowed is False


def test_every_decision_is_recorded_cyb_01(personas: dict[str, Any], login: Any) -> None:
    client = login(personas["author"])
    client.get("/security/events/", REMOTE_ADDR="10.1.2.3")
    decision = AccessDecision.objects.filter(action="security.event.view").get()
    assert (decision.allowed, decision.actor_username, decision.reason, decision.channel,
            decision.source_ip) == (False, "author", "no role grants this action", "web",
                                    "10.1.2.3")
    assert len(decision.session_ref) == 16


def test_undeclared_action_is_denied() -> None:
    assert authorize(None, "no.such.action").reason == "undeclared action"


def test_idle_session_times_out(personas: dict[str, Any], login: Any) -> None:
    client = login(personas["author"])
    assert client.get("/").status_code == 200
    session = client.session
    session["cyberqms_last_seen"] = timezone.now().timestamp() - 16 * 60
    session.save()
    response = client.get("/")
    assert response["Location"].startswith("/accounts/login/")
    assert SecurityEvent.objects.filter(kind="auth.session.idle_timeout").count() == 1
