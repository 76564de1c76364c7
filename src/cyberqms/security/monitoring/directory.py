"""The cyberqms accounts as the detection library's user directory (the Django side of
`cyberqms.security.detect.enrich.UserDirectory`)."""

from __future__ import annotations

from cyberqms.security.detect.enrich import ACTIVE, DEPARTED, DISABLED, user_key


class DjangoUserDirectory:
    """The cyberqms accounts as a directory: ``is_active`` → ``active``; inactive with
    ``deactivated_at`` → ``departed`` (deactivation is how cyberqms records a leaver);
    inactive without it → ``disabled``. The working pattern is the account's
    ``work_pattern`` (day, shift, service); generic (shared) accounts count as ``service``.

    One query loads every account when first asked; ``refresh()`` reloads (call it when
    accounts change, or periodically from the ingest worker). Django is imported lazily.
    """

    def __init__(self) -> None:
        self._statuses: dict[str, str] | None = None
        self._schedules: dict[str, str] = {}

    def refresh(self) -> None:
        from django.contrib.auth import get_user_model

        statuses: dict[str, str] = {}
        schedules: dict[str, str] = {}
        rows = get_user_model().objects.values_list(
            "username", "is_active", "deactivated_at", "kind", "work_pattern"
        )
        for username, is_active, deactivated_at, kind, pattern in rows:
            key = user_key(username)
            if is_active:
                statuses[key] = ACTIVE
            else:
                statuses[key] = DEPARTED if deactivated_at is not None else DISABLED
            schedules[key] = "service" if kind == "generic" else pattern
        self._statuses, self._schedules = statuses, schedules

    def status(self, username: str) -> str | None:
        if self._statuses is None:
            self.refresh()
        assert self._statuses is not None
        return self._statuses.get(user_key(username))

    def schedule(self, username: str) -> str | None:
        if self._statuses is None:
            self.refresh()
        return self._schedules.get(user_key(username))
