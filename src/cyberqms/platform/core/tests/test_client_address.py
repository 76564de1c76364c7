"""The client address behind trusted reverse proxies, and a forged X-Forwarded-For from
anyone else ignored (issue 12, item 7): the derivation, then every consumer through HTTP.

Addresses: 10.0.0.0/8 is the proxies' network; 203.0.113.7 the real client; 6.6.6.6 what
a client writes into the header itself; 198.51.100.9 someone who reaches the application
without passing the proxy.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings

from cyberqms.conftest import PASSWORD
from cyberqms.platform.core.client_address import client_address

PROXIES = ["10.0.0.0/8"]
THROUGH_PROXY = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.7"}
AROUND_PROXY = {"REMOTE_ADDR": "198.51.100.9", "HTTP_X_FORWARDED_FOR": "203.0.113.7"}


def test_without_trusted_proxies_the_header_is_never_read() -> None:
    assert client_address(THROUGH_PROXY, trusted=[], hops=0) == "10.0.0.2"


def test_a_trusted_proxy_names_the_client_it_forwarded() -> None:
    assert client_address(THROUGH_PROXY, trusted=PROXIES, hops=0) == "203.0.113.7"


def test_a_forged_header_from_an_untrusted_peer_is_ignored() -> None:
    assert client_address(AROUND_PROXY, trusted=PROXIES, hops=0) == "198.51.100.9"


def test_the_walk_passes_every_trusted_proxy_in_a_chain() -> None:
    meta = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.7, 10.0.0.3"}
    assert client_address(meta, trusted=PROXIES, hops=0) == "203.0.113.7"


def test_a_client_inside_the_proxies_network_is_the_leftmost_address() -> None:
    meta = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "10.9.9.9"}
    assert client_address(meta, trusted=PROXIES, hops=0) == "10.9.9.9"


def test_a_hop_count_takes_that_many_proxies_from_the_right() -> None:
    meta = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.7, 10.0.0.3"}
    assert client_address(meta, trusted=[], hops=2) == "203.0.113.7"


def test_a_hop_count_limits_the_trusted_networks() -> None:
    meta = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "10.9.9.9, 10.0.0.3"}
    assert client_address(meta, trusted=PROXIES, hops=1) == "10.0.0.3"


def test_a_hop_count_with_networks_still_ignores_an_untrusted_peer() -> None:
    assert client_address(AROUND_PROXY, trusted=PROXIES, hops=1) == "198.51.100.9"


def test_a_malformed_forwarded_entry_keeps_the_last_trusted_hop() -> None:
    meta = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.7, not-an-address"}
    assert client_address(meta, trusted=PROXIES, hops=0) == "10.0.0.2"


def test_an_ipv4_peer_on_an_ipv6_socket_is_matched_as_ipv4() -> None:
    meta = {"REMOTE_ADDR": "::ffff:10.0.0.2", "HTTP_X_FORWARDED_FOR": "2001:db8::7"}
    assert client_address(meta, trusted=PROXIES, hops=0) == "2001:db8::7"


def test_an_invalid_trusted_proxy_setting_is_refused_at_start(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import cyberqms.settings"],
        env={**os.environ, "CYBERQMS_DATA_DIR": str(tmp_path),
             "CYBERQMS_TRUSTED_PROXIES": "10.0.0.0/8,proxy.example"},
        capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stderr.strip().splitlines()[-1]) == (
        1, "django.core.exceptions.ImproperlyConfigured: CYBERQMS_TRUSTED_PROXIES: "
           "'proxy.example' is not an address or network (CIDR)")


# Every consumer reads the one derived address.

@pytest.mark.django_db
@override_settings(CYBERQMS_TRUSTED_PROXIES=PROXIES)
def test_access_decisions_record_the_forwarded_client(personas: dict[str, Any],
                                                      login: Any) -> None:
    from cyberqms.platform.core.models import AccessDecision

    login(personas["author"]).get("/api/v1/me", **THROUGH_PROXY)
    assert AccessDecision.objects.get(action="account.self").source_ip == "203.0.113.7"


@pytest.mark.django_db
@override_settings(CYBERQMS_TRUSTED_PROXIES=PROXIES)
def test_audit_entries_record_the_forwarded_client(personas: dict[str, Any],
                                                   login: Any) -> None:
    from cyberqms.platform.trail.models import AuditEntry

    login(personas["author"]).post(
        "/api/v1/tokens", data={"name": "laptop", "scopes": ["account.self"], "days": 1},
        content_type="application/json", **THROUGH_PROXY)
    entry = AuditEntry.objects.get(action="accounts.token.create")
    assert entry.data["context"]["source"] == "203.0.113.7"


@pytest.mark.django_db
@override_settings(CYBERQMS_TRUSTED_PROXIES=PROXIES)
def test_security_events_record_the_forwarded_client(personas: dict[str, Any]) -> None:
    from cyberqms.platform.core.models import SecurityEvent

    Client().post("/accounts/login/", {"login": "author", "password": "wrong password value"},
                  **THROUGH_PROXY)
    assert SecurityEvent.objects.get(kind="auth.login.failure").source_ip == "203.0.113.7"


@pytest.mark.django_db
@override_settings(CYBERQMS_TRUSTED_PROXIES=PROXIES)
def test_axes_counts_failures_against_the_forwarded_client(personas: dict[str, Any]) -> None:
    from axes.models import AccessAttempt, AccessFailureLog

    Client().post("/accounts/login/", {"login": "author", "password": "wrong password value"},
                  **THROUGH_PROXY)
    assert (AccessAttempt.objects.get().ip_address,
            AccessFailureLog.objects.get().ip_address) == ("203.0.113.7", "203.0.113.7")


@pytest.mark.django_db
@override_settings(CYBERQMS_TRUSTED_PROXIES=PROXIES)
def test_a_forged_header_does_not_reach_the_records(personas: dict[str, Any]) -> None:
    from cyberqms.platform.core.models import SecurityEvent

    Client().post("/accounts/login/", {"login": "author", "password": "wrong password value"},
                  **AROUND_PROXY)
    assert SecurityEvent.objects.get(kind="auth.login.failure").source_ip == "198.51.100.9"


@pytest.mark.django_db
def test_by_default_a_forwarded_header_does_not_reach_the_records(
        personas: dict[str, Any]) -> None:
    from cyberqms.platform.core.models import SecurityEvent

    Client().post("/accounts/login/", {"login": "author", "password": "wrong password value"},
                  **THROUGH_PROXY)
    assert SecurityEvent.objects.get(kind="auth.login.failure").source_ip == "10.0.0.2"


@pytest.mark.django_db
def test_a_sign_in_records_the_client_on_the_success_event(personas: dict[str, Any]) -> None:
    from cyberqms.platform.core.models import SecurityEvent

    with override_settings(CYBERQMS_TRUSTED_PROXIES=PROXIES):
        Client().post("/accounts/login/", {"login": "process_owner", "password": PASSWORD},
                      **THROUGH_PROXY)
    assert SecurityEvent.objects.get(kind="auth.login.success").source_ip == "203.0.113.7"


def _integration_token(personas: dict[str, Any], allowed: list[str]) -> str:
    from cyberqms.platform.accounts import services

    admin = personas["admin"]
    integration = services.integration_create(actor=admin, name="LIMS", kind="lims",
                                              system="LabWare LIMS", allowed_addresses=allowed)
    return services.token_create(actor=admin, name="lims", scopes=["account.self"], days=5,
                                 integration=integration).secret


@pytest.mark.django_db
@override_settings(CYBERQMS_TRUSTED_PROXIES=PROXIES)
def test_an_integration_allow_list_admits_its_client_through_the_proxy(
        personas: dict[str, Any]) -> None:
    from cyberqms.platform.accounts.models import ApiToken

    secret = _integration_token(personas, ["203.0.113.0/24"])
    response = Client().get("/api/v1/sites", HTTP_AUTHORIZATION=f"Bearer {secret}",
                            **THROUGH_PROXY)
    assert (response.status_code, ApiToken.objects.get().last_used_ip) == (200, "203.0.113.7")


@pytest.mark.django_db
@override_settings(CYBERQMS_TRUSTED_PROXIES=PROXIES)
def test_an_integration_allow_list_refuses_the_proxy_itself(personas: dict[str, Any]) -> None:
    """Reaching the proxy is not enough: the proxy's own address is not the client's."""
    secret = _integration_token(personas, ["10.0.0.0/8"])
    response = Client().get("/api/v1/sites", HTTP_AUTHORIZATION=f"Bearer {secret}",
                            **THROUGH_PROXY)
    assert response.status_code == 401


@pytest.mark.django_db
@override_settings(CYBERQMS_TRUSTED_PROXIES=PROXIES)
def test_an_integration_allow_list_refuses_a_forged_header(personas: dict[str, Any]) -> None:
    from cyberqms.platform.core.models import SecurityEvent

    secret = _integration_token(personas, ["203.0.113.0/24"])
    response = Client().get("/api/v1/sites", HTTP_AUTHORIZATION=f"Bearer {secret}",
                            **AROUND_PROXY)
    event = SecurityEvent.objects.get(kind="auth.token.rejected")
    assert (response.status_code, event.source_ip, event.message) == (
        401, "198.51.100.9",
        "API token presented from an address outside the integration's allow-list")


@pytest.mark.django_db
@override_settings(CYBERQMS_TRUSTED_PROXIES=PROXIES)
def test_a_signature_commitment_records_the_forwarded_client(
        personas: dict[str, Any], make_user: Any, login: Any) -> None:
    from cyberqms.platform.accounts.services import user_verify_identity
    from cyberqms.platform.core.models import SignatureCommitment
    from cyberqms.quality.deviations.tests.factories import (
        a_site,
        deviation_in_state,
        ready_to_sign,
    )

    for name in ("qa_manager", "qa_approver"):
        ready_to_sign(personas[name], personas["admin"])
    newcomer = make_user("reviewer2", "qa_reviewer")
    user_verify_identity(newcomer, actor=personas["admin"], method="Passport")
    d = deviation_in_state(personas, "qa_review", site=a_site("MUC"))
    login(newcomer).post(f"/api/v1/records/deviations/{d.pk}/transitions/approve",
                         data={"password": PASSWORD, "accept_statement": True},
                         content_type="application/json", **THROUGH_PROXY)
    assert SignatureCommitment.objects.get(user=newcomer).source_ip == "203.0.113.7"
