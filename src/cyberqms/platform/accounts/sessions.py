"""Django's database sessions, with the one read every signed-in request makes (the
session by its key) compiled once (core.compiled, issue 14): the same table, keys and
expiry as `django.contrib.sessions.backends.db`, so sessions carry over either way."""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db import models
from django.utils import timezone

from cyberqms.platform.core.compiled import Compiled, Param

_LIVE_SESSION: Compiled[Session] = Compiled(lambda: Session.objects.filter(
    session_key=Param("key", models.CharField()),
    expire_date__gt=Param("now", models.DateTimeField()),
).order_by())


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Any:
        key = self.session_key
        found = _LIVE_SESSION.first(key=key, now=timezone.now()) if key else None
        if found is None:
            self._session_key = None
        return found
