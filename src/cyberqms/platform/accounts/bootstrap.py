"""The first administrator: the one grant no earlier administrator can make."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from cyberqms.platform.core.events import emit_security_event
from cyberqms.platform.core.models import Severity
from cyberqms.platform.trail.record import audit_record

from .enums import Role
from .models import RoleAssignment, User
from .services import IssuedPassword, ServiceError, one_time_password


def bootstrap_administrator(*, username: str, full_name: str, email: str) -> IssuedPassword:
    """Create the first administrator; refused once any administrator exists."""
    with transaction.atomic():
        if RoleAssignment.objects.held_on(timezone.now()).filter(
            role=Role.ADMINISTRATOR
        ).exists():
            raise ServiceError("An administrator exists; ask them to create accounts.")
        if User.objects.filter(username__iexact=username).exists():
            raise ServiceError("This username exists or existed.", field="username")
        password = one_time_password()
        user = User(username=username, full_name=full_name, email=email,
                    must_change_password=True)
        user.set_password(password)
        user.save()
        reason = "Initial administrator created at installation"
        audit_record("accounts.user.create", user, created=True, reason=reason)
        assignment = RoleAssignment.objects.create(
            user=user, role=Role.ADMINISTRATOR, granted_by=None, grant_reason=reason,
        )
        audit_record("accounts.role.grant", assignment, created=True, reason=reason)
    emit_security_event(
        "account.role_granted", severity=Severity.HIGH,
        message=f"Initial administrator {username} created at installation",
        username=username, data={"subject": username, "role": Role.ADMINISTRATOR},
    )
    return IssuedPassword(user, password)
