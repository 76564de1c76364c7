"""Every URL pattern × every role × anonymous, against a declared expectation (CYB-01, P11-05,
P11-11).

The table below is written by hand, not derived from the grants table, so a change of
rights shows up here as a failing cell. A URL pattern that the table does not declare
fails `test_every_url_pattern_is_declared`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from cyberqms.platform.core.tests.matrix import (
    ADMIN,
    DECISION_VIEWERS,
    EVENT_VIEWERS,
    EVERYONE,
    INTEGRATION_VIEWERS,
    MFA_ENROLLED,
    NOBODY,
    PUBLIC,
    RECORD_USERS,
    ROLES,
    SELF,
    TRAIL_PROOFS,
    TRAIL_READERS,
    TRAIL_RESOLVERS,
    TRAIL_REVIEWERS,
    TRAIL_STATUS,
    TRAIL_VERIFIERS,
    USER_VIEWERS,
    Expect,
    app_expectations,
)

EXPECTATIONS: dict[str, Expect] = {
    "healthz": PUBLIC,
    "favicon": PUBLIC,
    "web:home": SELF,
    # allauth: sign-in pages are public (a signed-in user is sent on to the home page)
    "account_login": Expect(EVERYONE, ok=302, anonymous=200),
    "account_logout": Expect(EVERYONE, ok=200, anonymous=302),
    "account_inactive": PUBLIC,
    "account_signup": Expect(EVERYONE, ok=302, anonymous=200),
    "account_reset_password": PUBLIC,
    "account_reset_password_done": PUBLIC,
    "account_reset_password_from_key": Expect(
        EVERYONE, anonymous=200, kwargs={"uidb36": "1", "key": "bad-key"}
    ),
    "account_reset_password_from_key_done": PUBLIC,
    "account_confirm_email": Expect(EVERYONE, anonymous=200, kwargs={"key": "x"}),
    "account_email_verification_sent": PUBLIC,
    # login by e-mailed code is disabled: its view is declared to nobody
    "account_confirm_login_code": Expect(NOBODY, anonymous=403),
    "mfa_authenticate": Expect(EVERYONE, ok=302, anonymous=302),
    "account_change_password": SELF,
    "account_set_password": Expect(EVERYONE, ok=302),
    "account_email": SELF,
    "account_reauthenticate": SELF,
    # re-authentication by an e-mailed code is switched off: refused to everyone signed in
    "account_request_reauthentication_code": Expect(NOBODY, anonymous=403),
    "account_confirm_reauthentication_code": Expect(NOBODY, anonymous=403),
    # allauth's MFA pages: enrolled users (privileged personas) and others differ
    "mfa_reauthenticate": Expect(MFA_ENROLLED, denied=302),
    "mfa_index": SELF,
    # enrolment and changes first ask for the password again (allauth reauthentication)
    "mfa_activate_totp": Expect(EVERYONE, ok=302),
    "mfa_deactivate_totp": Expect(MFA_ENROLLED, ok=302, denied=404),
    "mfa_generate_recovery_codes": Expect(EVERYONE, ok=302),
    # none of the personas has recovery codes yet
    "mfa_view_recovery_codes": Expect(EVERYONE, ok=404),
    "mfa_download_recovery_codes": Expect(EVERYONE, ok=404),
    # our pages
    "accounts:profile": SELF,
    "accounts:profile_time_zone": Expect(EVERYONE, ok=405),
    "accounts:token_create": SELF,
    "accounts:token_revoke": Expect(EVERYONE, ok=405, kwargs={"token_id": 999999}),
    "accounts:user_list": Expect(USER_VIEWERS),
    "accounts:user_create": Expect(ADMIN),
    "accounts:user_detail": Expect(USER_VIEWERS, kwargs={"user_id": "self"}),
    "accounts:user_operation": Expect(
        ADMIN, ok=405, kwargs={"user_id": "self", "operation": "deactivate"}
    ),
    "accounts:role_revoke": Expect(ADMIN, ok=405, kwargs={"assignment_id": 999999}),
    "accounts:role_approval": Expect(ADMIN, ok=405, kwargs={"assignment_id": 999999}),
    "accounts:site_list": Expect(ADMIN),
    "accounts:integration_list": Expect(INTEGRATION_VIEWERS),
    "accounts:security_events": Expect(EVENT_VIEWERS),
    "accounts:access_decisions": Expect(DECISION_VIEWERS),
    # API: anonymous gets 401 problem+json
    "api:api-root": Expect(NOBODY, denied=404, anonymous=404),
    "api:openapi-json": PUBLIC,  # the schema holds no data
    "api:openapi-view": PUBLIC,  # documentation of the schema, no data
    "api:health": PUBLIC,
    "api:me_detail": Expect(EVERYONE, anonymous=401),
    "api:user_list": Expect(USER_VIEWERS, anonymous=401),
    "api:user_detail": Expect(USER_VIEWERS, anonymous=401, kwargs={"user_id": "self"}),
    "api:user_deactivate": Expect(
        ADMIN, ok=404, anonymous=401, method="post", kwargs={"user_id": 999999},
        body={"reason": "matrix"},
    ),
    "api:role_grant": Expect(
        ADMIN, ok=404, anonymous=401, method="post", kwargs={"user_id": 999999},
        body={"role": "author", "reason": "matrix"},
    ),
    "api:role_revoke": Expect(
        ADMIN, ok=404, anonymous=401, method="post", kwargs={"assignment_id": 999999},
        body={"reason": "matrix"},
    ),
    "api:site_list": Expect(EVERYONE, anonymous=401),
    "api:token_list": Expect(EVERYONE, anonymous=401),
    "api:token_revoke": Expect(
        EVERYONE, ok=404, anonymous=401, method="post", kwargs={"token_id": 999999},
        body={"reason": "matrix"},
    ),
    "api:security_event_list": Expect(EVENT_VIEWERS, anonymous=401),
    "api:access_decision_list": Expect(DECISION_VIEWERS, anonymous=401),
    # audit trail API (no checkpoint is sealed in this fixture: proofs answer 422/404 to
    # those the gate lets through)
    "api:trail_entries": Expect(TRAIL_READERS, anonymous=401),
    "api:trail_entry": Expect(TRAIL_READERS, anonymous=401, kwargs={"seq": 1}),
    # a record one may not see answers like a missing one; without any history right
    # (the role-less outsider) the gate refuses first
    "api:trail_history": Expect(
        USER_VIEWERS, denied=404, anonymous=401, overrides={"outsider": 403},
        kwargs={"object_type": "accounts.user", "object_id": "self"},
    ),
    "api:trail_checkpoints": Expect(TRAIL_PROOFS, anonymous=401),
    "api:trail_checkpoint_latest": Expect(TRAIL_PROOFS, ok=404, anonymous=401),
    "api:trail_inclusion_proof": Expect(TRAIL_PROOFS, ok=422, anonymous=401,
                                        kwargs={"seq": 1}),
    "api:trail_consistency_proof": Expect(TRAIL_PROOFS, ok=422, anonymous=401),
    "api:trail_keys": Expect(TRAIL_PROOFS, anonymous=401),
    "api:trail_export": Expect(TRAIL_READERS, anonymous=401),
    "api:trail_status": Expect(TRAIL_STATUS, anonymous=401),
    "api:trail_verifications": Expect(TRAIL_STATUS, anonymous=401),
    "api:trail_flags": Expect(TRAIL_STATUS, anonymous=401),
    "api:trail_flag_resolve": Expect(
        TRAIL_RESOLVERS, ok=404, anonymous=401, method="post", kwargs={"flag_id": 999},
        body={"reason": "matrix"},
    ),
    "api:trail_reviews": Expect(TRAIL_READERS, anonymous=401),
    # audit trail pages
    "trail:entries": Expect(TRAIL_READERS),
    "trail:export_csv": Expect(TRAIL_READERS),
    "trail:export_json": Expect(TRAIL_READERS),
    # everyone with a role may read histories; the record's own view action decides next,
    # and a record one may not see answers like a missing one
    "trail:history": Expect(
        USER_VIEWERS, overrides={"author": 404},
        kwargs={"object_type": "accounts.user", "object_id": "self"},
    ),
    "trail:status": Expect(TRAIL_STATUS),
    "trail:verify": Expect(TRAIL_VERIFIERS, ok=405),
    "trail:checkpoint": Expect(TRAIL_VERIFIERS, ok=405),
    "trail:flag_resolve": Expect(TRAIL_RESOLVERS, ok=405, kwargs={"flag_id": 999999}),
    "trail:reviews": Expect(TRAIL_READERS),
    "trail:review_create": Expect(TRAIL_REVIEWERS),
    # shared parts of quality records: the gate admits record users, then a record that
    # does not exist (or is not visible) answers 404; POST-only pages answer GET with 405
    **{
        f"records:{name}": Expect(
            RECORD_USERS, ok=405, kwargs={"slug": "deviations", "pk": 999999, **extra}
        )
        for name, extra in (
            ("transition", {"action": "submit"}), ("attachment_add", {}),
            ("attachment_remove", {"attachment_id": 1}), ("comment_add", {}),
            ("link_add", {}), ("link_remove", {"link_id": 1}),
            ("extension_request", {}), ("extension_decide", {"extension_id": 1}),
            ("delete", {}),
        )
    },
    **{
        f"records:{name}": Expect(
            RECORD_USERS, ok=404, kwargs={"slug": "deviations", "pk": 999999, **extra}
        )
        for name, extra in (
            ("attachment_download", {"attachment_id": 1}), ("pdf", {}), ("json", {}),
        )
    },
    **{
        f"api:{name}": Expect(
            RECORD_USERS, ok=404, anonymous=401, method=method,
            kwargs={"slug": "deviations", "record_id": 999999, **extra}, body=body,
        )
        for name, method, extra, body in (
            ("record_detail", "get", {}, None),
            ("record_transition", "post", {"action": "submit"}, {"reason": "matrix"}),
            ("attachment_list", "get", {}, None),
            ("attachment_download", "get", {"attachment_id": 1}, None),
            ("comment_create", "post", {}, {"body": "matrix"}),
            ("link_create", "post", {}, {"target": "DEV-2026-0001"}),
            ("link_delete", "post", {"link_id": 1}, {"reason": "matrix"}),
            ("extension_create", "post", {},
             {"requested_due": "2030-01-01", "justification": "matrix"}),
            ("extension_decide", "post", {"extension_id": 1}, {"approve": True}),
            ("record_delete", "post", {}, {"reason": "matrix"}),
            ("record_pdf", "get", {}, None),
            ("record_export", "get", {}, None),
        )
    },
    # multipart only: the JSON body of the matrix fails validation, after the gate
    "api:attachment_create": Expect(
        RECORD_USERS, ok=422, anonymous=401, method="post",
        kwargs={"slug": "deviations", "record_id": 999999}, body={},
    ),
}

# Several API operations share one path; the matrix drives the first (GET) one, and the
# POST operations on those paths are covered here with a valid body.
SHARED_PATH_OPERATIONS = {
    "api:trail_checkpoint_create": Expect(
        TRAIL_VERIFIERS, ok=201, anonymous=401, method="post", body={},
    ),
    "api:trail_verify_now": Expect(
        TRAIL_VERIFIERS, ok=201, anonymous=401, method="post", body={"reconcile": False},
    ),
    # the gate lets reviewers through; an empty date range is then refused (422)
    "api:trail_review_create": Expect(
        TRAIL_REVIEWERS, ok=422, anonymous=401, method="post",
        body={"scope": "range", "date_from": "2020-01-01", "date_to": "2020-01-02",
              "outcome": "no_findings"},
    ),
    "api:user_create": Expect(
        ADMIN, ok=201, anonymous=401, method="post",
        body={"username": "{role}_new", "full_name": "New Person", "email": "n@x.test",
              "reason": "matrix"},
    ),
    "api:token_create": Expect(
        EVERYONE, ok=201, anonymous=401, method="post",
        body={"name": "matrix", "scopes": ["account.self"], "days": 1},
    ),
}


_APP_EXPECTATIONS, _APP_SHARED = app_expectations()
EXPECTATIONS.update(_APP_EXPECTATIONS)
SHARED_PATH_OPERATIONS.update(_APP_SHARED)


def url_patterns() -> Iterator[tuple[str, str]]:
    def walk(patterns: list[Any], prefix: str, namespace: str | None) -> Iterator[tuple[str, str]]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                ns = namespace
                if pattern.namespace:
                    ns = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
            elif isinstance(pattern, URLPattern):
                name = pattern.name or ""
                yield (f"{namespace}:{name}" if namespace and name else name), (
                    prefix + str(pattern.pattern)
                )

    yield from walk(get_resolver().url_patterns, "", None)


def test_every_url_pattern_is_declared() -> None:
    """A new URL without a declared expectation fails here (default deny is tested too)."""
    names = {name for name, _route in url_patterns()}
    undeclared = sorted(names - set(EXPECTATIONS) - set(SHARED_PATH_OPERATIONS))
    assert undeclared == []
    stale = sorted(set(EXPECTATIONS) - names)
    assert stale == []


def _url(name: str, expect: Expect, user: Any) -> str:
    from django.urls import reverse

    kwargs = {k: (user.pk if v == "self" and user is not None else v)
              for k, v in expect.kwargs.items()}
    if any(v == "self" for v in kwargs.values()):
        kwargs = {k: (1 if v == "self" else v) for k, v in kwargs.items()}
    return reverse(name, kwargs=kwargs or None)


CELLS = [
    (name, role)
    for name in sorted({*EXPECTATIONS, *SHARED_PATH_OPERATIONS})
    for role in ROLES
]


@pytest.fixture
def matrix_client(make_user: Any, login: Any) -> Any:
    """A client signed in as the cell's persona, made alone (a cell needs one person, not
    the nine personas: the matrix has two thousand cells)."""

    def client_for(role: str) -> tuple[Any, Any]:
        from django.test import Client

        from cyberqms.conftest import PERSONAS

        if role == "anonymous":
            return Client(), None
        user = make_user(role, PERSONAS[role])
        return login(user), user

    return client_for


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "role"), CELLS)
def test_matrix_cell(name: str, role: str, matrix_client: Any) -> None:
    expect = EXPECTATIONS.get(name) or SHARED_PATH_OPERATIONS[name]
    client, user = matrix_client(role)
    url = _url(name, expect, user)
    if expect.method == "post":
        body = json.loads(json.dumps(expect.body).replace("{role}", role))
        response = client.post(url, data=body, content_type="application/json")
    else:
        response = client.get(url)
    if role == "anonymous":
        wanted = expect.anonymous
    elif role in expect.overrides:
        wanted = expect.overrides[role]
    elif role in expect.allowed:
        wanted = expect.ok
    else:
        wanted = expect.denied
    assert (name, role, response.status_code) == (name, role, wanted)
    if url.startswith("/api/") and response.status_code >= 400 and name != "api:api-root":
        assert response["Content-Type"] == "application/problem+json"
    if role == "anonymous" and wanted == 302 and name != "account_logout":
        assert response["Location"].startswith("/accounts/login/")


def _wanted(expect: Expect, role: str) -> int:
    if role in expect.overrides:
        return expect.overrides[role]
    return expect.ok if role in expect.allowed else expect.denied


def _first_refused(expect: Expect) -> str | None:
    """A signed-in persona the gate refuses (403) for the operation, if any."""
    return next((role for role in ROLES[:-1] if _wanted(expect, role) == 403), None)


# Every API operation, with one persona the gate refuses: it must hear 403 whatever the
# input, never a 400 or 422 that describes what the operation expects (issue 12, item 7).
REFUSED_API_CELLS = [
    (name, role)
    for name in sorted({*EXPECTATIONS, *SHARED_PATH_OPERATIONS})
    if name.startswith("api:")
    and (EXPECTATIONS.get(name) or SHARED_PATH_OPERATIONS[name]).anonymous == 401
    and (role := _first_refused(EXPECTATIONS.get(name) or SHARED_PATH_OPERATIONS[name]))
]
INVALID_QUERY = {"limit": "x", "offset": "-x", "page": "x", "page_size": "x", "seq": "x"}


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "role"), REFUSED_API_CELLS)
def test_the_gate_refuses_before_the_input_is_validated(name: str, role: str,
                                                        matrix_client: Any) -> None:
    expect = EXPECTATIONS.get(name) or SHARED_PATH_OPERATIONS[name]
    client, user = matrix_client(role)
    url = _url(name, expect, user)
    if expect.method == "post":
        response = client.post(url, data="[]", content_type="application/json")
    else:
        response = client.get(url, INVALID_QUERY)
    assert (name, response.status_code, response["Content-Type"]) == (
        name, 403, "application/problem+json")


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "role"), [
    (name, role) for name, role in REFUSED_API_CELLS
    if (EXPECTATIONS.get(name) or SHARED_PATH_OPERATIONS[name]).method == "post"])
def test_the_gate_refuses_before_the_body_is_parsed(name: str, role: str,
                                                    matrix_client: Any) -> None:
    expect = EXPECTATIONS.get(name) or SHARED_PATH_OPERATIONS[name]
    client, user = matrix_client(role)
    response = client.post(_url(name, expect, user), data="{not json",
                           content_type="application/json")
    assert (name, response.status_code) == (name, 403)
