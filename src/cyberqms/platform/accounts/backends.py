"""allauth's authentication backend, with the read of the signed-in person that every
request makes compiled once (core.compiled, issue 14). Signing in is allauth's own.

A session names the backend that signed it in; Django restores the person only while that
backend is configured, so the sessions open when this backend replaced allauth's (at most
the idle timeout old, 15 minutes by default) signed in again once."""

from __future__ import annotations

from typing import Any

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.db import models

from cyberqms.platform.core.compiled import Compiled, Param

from .models import User

_USER_BY_PK: Compiled[User] = Compiled(
    lambda: User.objects.filter(pk=Param("pk", models.BigIntegerField())).order_by())


class AuthenticationBackend(AllauthBackend):
    def get_user(self, user_id: Any) -> User | None:
        try:
            user = _USER_BY_PK.first(pk=int(user_id))
        except (TypeError, ValueError):
            return None
        return user if user is not None and self.user_can_authenticate(user) else None
