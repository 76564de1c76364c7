"""Shared fixtures: named personas, one per role, created through the services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from cyberqms.platform.core.context import RequestContext, acting_context

PASSWORD = "correct horse battery staple 42"

PERSONAS: dict[str, str | None] = {
    "admin": "administrator",
    "qa_manager": "qa_manager",
    "qa_approver": "qa_reviewer",
    "process_owner": "process_owner",
    "author": "author",
    "it_security": "it_security",
    "system_owner": "system_owner",
    "auditor": "auditor",
    "outsider": None,
}


# Fixtures through which a test reaches the database (directly or through another fixture:
# `item.fixturenames` is the whole closure).
DATABASE_FIXTURES = frozenset({"db", "transactional_db", "django_db_reset_sequences",
                               "django_db_serialized_rollback", "live_server"})


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database-tests-only", action="store_true",
        help="Run only the tests that use the database (the second pass of `make test`, on "
             "PostgreSQL: a test that never touches the database behaves the same on "
             "either, and ran in the first pass).")


def uses_database(item: pytest.Item) -> bool:
    return bool(item.get_closest_marker("django_db")
                or DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--database-tests-only"):
        config.hook.pytest_deselected(items=[i for i in items if not uses_database(i)])
        items[:] = [i for i in items if uses_database(i)]
    # The slow tests first (a stable sort keeps the rest in order): parallel workers take
    # them at the start, so that no worker is left with a minute-long test at the end while
    # the other waits.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True)
def _trail_numbers_follow_the_entries(request: pytest.FixtureRequest) -> None:
    """PostgreSQL draws audit-entry numbers from a sequence (trail/record.py), which neither
    a test's rollback nor a flush resets: each test that uses the database starts it after
    the entries that database holds, as a fresh installation would."""
    from django.db import connection

    if connection.vendor != "postgresql" or not uses_database(request.node):
        return
    request.getfixturevalue("_django_db_helper")
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval('trail_entry_seq', "
                       "COALESCE((SELECT MAX(seq) FROM trail_auditentry), 0) + 1, false)")


@pytest.fixture(autouse=True)
def _fresh_baselines() -> None:
    """Behaviour baselines are learned per process: each test starts with none (the next
    ingest warms them from that test's database)."""
    from cyberqms.security.monitoring.baseline_store import reset_baselines
    from cyberqms.security.monitoring.detector import reset_detector

    reset_baselines()
    reset_detector()


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Each test starts with an empty cache: allauth remembers used TOTP codes there, and
    every persona shares one secret, so a code used by an earlier test in the same 30 s
    step would otherwise be refused as a replay."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def make_user(db: Any) -> Callable[..., Any]:
    """Create a user with a known password and optional role, past first-login steps
    (``create_person``)."""
    from cyberqms.platform.accounts.models import User

    # The administrator who grants the personas' roles, looked up once per test: the same
    # object keeps its access profile (its roles) cached across the grants.
    granters: list[User] = []

    def granter_for(username: str) -> User:
        if granters and granters[0].username != username:
            return granters[0]
        granters[:] = [_granter(username)]
        return granters[0]

    def make(username: str, role: str | None = None, **options: Any) -> User:
        return create_person(username, role, granter_for=granter_for, **options)

    return make


def create_person(
    username: str,
    role: str | None = None,
    *,
    kind: str = "person",
    mfa: bool | None = None,
    site: Any = None,
    granter_for: Callable[[str], Any] | None = None,
) -> Any:
    """A user with the password ``PASSWORD``, the role granted through the service (so the
    grant history is real) and, for privileged roles, the authenticator ``TOTP_SECRET``;
    past the first-login steps. Also used to set up a database served by real processes
    (``web/tests/browser/served.py``)."""
    from cyberqms.platform.accounts.bootstrap import bootstrap_administrator
    from cyberqms.platform.accounts.models import RoleAssignment
    from cyberqms.platform.accounts.services import role_grant, user_password_changed
    from cyberqms.platform.accounts.tests.factories import UserFactory

    with acting_context(RequestContext(channel="cli")):
        if role == "administrator" and not RoleAssignment.objects.filter(
            role="administrator"
        ).exists():
            user = bootstrap_administrator(
                username=username, full_name=username.title(), email=f"{username}@x.test"
            ).user
        else:
            user = UserFactory.create(username=username, kind=kind)
            if role:
                granter = (granter_for or _granter)(username)
                valid_until = timezone.now() + timedelta(days=7) if role == "auditor" else None
                role_grant(user, role, actor=granter, reason="test persona", site=site,
                           valid_until=valid_until)
    user.set_password(PASSWORD)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    # The persona chose PASSWORD as if through the password-change page: audited, so
    # verification and reconciliation see personas like any other user.
    user_password_changed(user)
    if mfa or (mfa is None and role in {"administrator", "qa_manager", "it_security",
                                          "system_owner"}):
        enrol_totp(user)
    user.forget_access_cache()
    return user


def _granter(username: str) -> Any:
    from cyberqms.platform.accounts.bootstrap import bootstrap_administrator
    from cyberqms.platform.accounts.models import RoleAssignment

    existing = RoleAssignment.objects.filter(role="administrator", revoked_at__isnull=True).first()
    if existing is not None and existing.user.username != username:
        return existing.user
    return bootstrap_administrator(
        username="root_admin", full_name="Root Admin", email="root@x.test"
    ).user


TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def enrol_totp(user: Any, secret: str = TOTP_SECRET) -> None:
    from allauth.mfa.totp.internal.auth import TOTP

    TOTP.activate(user, secret)


def totp_code(secret: str = TOTP_SECRET) -> str:
    """The current code (accepted for one 30-second step either side: MFA_TOTP_TOLERANCE,
    so one read as its step ends still signs)."""
    import pyotp

    return str(pyotp.TOTP(secret).now())


@pytest.fixture
def personas(make_user: Callable[..., Any]) -> dict[str, Any]:
    return {name: make_user(name, role) for name, role in PERSONAS.items()}


@pytest.fixture
def login() -> Callable[[Any], Client]:
    """A Django test client signed in as the user (session through the real backends)."""

    def sign_in(user: Any) -> Client:
        client = Client()
        client.force_login(
            user, backend="cyberqms.platform.accounts.backends.AuthenticationBackend")
        return client

    return sign_in
